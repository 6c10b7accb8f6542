// Fuzzes the video parsers of Google's providers: Gemini Omni interactions and Veo long-running
// operations (Gemini API and Vertex forms).
#include "net/gemini/omni.hpp"
#include "net/gemini/veo.hpp"

#include "fuzz/common.hpp"

namespace gemini = companion::net::gemini;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view body = companion::fuzz::as_text(data, size);
    for (unsigned status : companion::fuzz::statuses) {
        (void)gemini::parse_interaction(status, body);
        (void)gemini::parse_operation(status, body);
    }
    return 0;
}
