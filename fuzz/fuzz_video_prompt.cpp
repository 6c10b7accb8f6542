// Fuzzes the parser of the LLM's structured video prompt and its shape validator, and renders
// what passes.
#include "pipelines/prompts.hpp"

#include "fuzz/common.hpp"

namespace pl = companion::pipelines;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text = companion::fuzz::as_text(data, size);
    if (auto vp = pl::parse_video_prompt(text); vp) {
        if (!pl::validate_video_prompt(*vp))
            (void)vp->render();
    }
    // The validator on raw text too: every section the same bytes.
    const pl::video_prompt raw{.style = std::string(text),
                               .scene = std::string(text),
                               .cinematography = std::string(text),
                               .actions = std::string(text),
                               .background_sound = std::string(text)};
    (void)pl::validate_video_prompt(raw);
    return 0;
}
