// The one translation unit that compiles Boost's separately-compiled libraries for the whole
// project (style.md rule 13): Asio, Asio SSL, Beast, JSON and URL.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
#include <boost/json/src.hpp>
#include <boost/url/src.hpp>

#include <cstddef>

// CMakeLists.txt has Asio allocate with plain operator new, which aligns to max_align_t only.
static_assert(alignof(std::max_align_t) >= BOOST_ASIO_DEFAULT_ALIGN,
              "Asio's default alignment exceeds what operator new guarantees");
