// Fuzzes the Gemini image (generateContent) response parser, inline base64 data included.
#include "net/gemini/error.hpp"
#include "net/gemini/image.hpp"

#include "fuzz/common.hpp"

namespace gemini = companion::net::gemini;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view body = companion::fuzz::as_text(data, size);
    for (unsigned status : companion::fuzz::statuses)
        (void)gemini::parse_image_response(status, body);
    (void)gemini::parse_proto_duration(body);
    return 0;
}
