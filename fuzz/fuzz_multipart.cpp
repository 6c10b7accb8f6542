// Fuzzes the simulator's multipart/form-data and urlencoded form parsers. The first line of the
// input is the Content-Type (its boundary is used), the rest the body; the whole input is also
// read as a form.
#include "net/multipart.hpp"

#include "fuzz/common.hpp"

namespace net = companion::net;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text = companion::fuzz::as_text(data, size);
    const std::size_t eol = text.find('\n');
    const std::string_view content_type = text.substr(0, eol);
    const std::string_view body = eol == std::string_view::npos ? std::string_view{} : text.substr(eol + 1);

    if (auto boundary = net::multipart_boundary(content_type))
        (void)net::parse_multipart(body, *boundary);
    // A fixed boundary too, so inputs without a usable first line still reach the body parser.
    (void)net::parse_multipart(text, "fuzzboundary");
    (void)net::parse_form(text);
    return 0;
}
