// The seam between the bot and its image library (design.md §8): libvips and the ~95 shared
// libraries under it (codecs, glib, fonts) are a module the bot loads with dlopen on the first
// image it fits, on the offload pool, instead of mapping them all at start-up (about 20 MB of
// a bot's resident memory that never fits an image, and the time to load them).
#pragma once

#include "pipelines/media.hpp"

#include <filesystem>
#include <vector>

namespace companion::pipelines::detail {

using fit_result = boost::system::result<image_bytes, std::string>;

/// What the module gives the loader. Built by the same compiler in the same build as the bot, so
/// C++ types cross the seam; `abi` guards against a module left from another build.
struct media_module {
    int abi = 0;
    fit_result (*fit_photo)(std::string_view bytes,
                            std::string_view mime,
                            const photo_limits& limits) = nullptr;
    fit_result (*fit_frame)(std::string_view bytes, int width, int height) = nullptr;
};

inline constexpr int media_module_abi = 1;

/// The module's one exported symbol: `extern "C" const media_module* companion_media_module()`.
inline constexpr const char* media_module_symbol = "companion_media_module";

struct loaded_media_module {
    const media_module* api = nullptr; ///< null: none of the candidates could be loaded
    std::string path{};                ///< where it was loaded from
    std::string why{};                 ///< when api is null: what each candidate lacked
};

/// Loads the first of `candidates` that is this build's image module (dlopen; never closed).
/// Blocking file work: call it off the loop. The bot calls it once, with module_candidates().
loaded_media_module load_media_module(const std::vector<std::filesystem::path>& candidates);

/// Where the bot looks: installed beside it (<exe>/../<libdir>/companion/), then this build's.
std::vector<std::filesystem::path> media_module_candidates();

} // namespace companion::pipelines::detail
