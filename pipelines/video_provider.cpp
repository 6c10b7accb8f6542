// The provider-independent parts of the video interface: length mapping and error printing.
#include "pipelines/video_provider.hpp"

#include <boost/system/errc.hpp>
#include <boost/system/system_error.hpp>
#include <boost/throw_exception.hpp>

#include <cstdlib>
#include <ostream>

namespace companion::pipelines {

std::ostream& operator<<(std::ostream& os, const video_error& e) {
    os << e.kind << ": " << e.message;
    if (e.retry_after) {
        os << " (retry after " << e.retry_after->count() << " ms)";
    }
    return os;
}

void throw_exception_from_error(const video_error& e, const boost::source_location& loc) {
    const std::string what = std::string(to_string(e.kind)) + ": " + e.message;
    boost::throw_exception(boost::system::system_error(make_error_code(boost::system::errc::io_error), what),
                           loc);
}

} // namespace companion::pipelines
