// The one translation unit that compiles Boost's separately-compiled libraries for the whole
// project (style.md rule 13). Beast and JSON join here with the net layer.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
