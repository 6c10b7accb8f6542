// Gemini Omni through the Interactions API as a video_provider (Google's API-key video path since
// Veo left it; contracts/gemini-omni-and-vertex-veo.md §1). No progress percentage.
#pragma once

#include "pipelines/video_provider.hpp"

#include <memory>
#include <string>
#include <vector>

namespace companion::engine {
class offload_pool;
}

namespace companion::pipelines {

struct gemini_omni_settings {
    std::string name = "gemini-omni";
    std::string base_url = "https://generativelanguage.googleapis.com"; ///< GEMINI_BASE_URL
    std::string api_version = "v1beta";
    std::string api_key{}; ///< GEMINI_API_KEY
    std::string model = "gemini-omni-1.1-flash";
    std::vector<int> allowed_seconds{3, 4, 5, 6, 7, 8, 9, 10}; ///< 1.1: 3-10 s, not guaranteed
    int width = 720;                                           ///< 9:16 at 720p
    int height = 1280;
    std::string aspect_ratio = "9:16";
    std::string resolution = "720p";
    std::string delivery = "uri";                  ///< "uri" or "inline" (base64 in the poll body)
    std::string first_frame_tag = "<FIRST_FRAME>"; ///< prefixed to the prompt to pin the image; empty: none
    int price_cents_per_second = 10;
    std::size_t max_download_bytes = 256 * 1024 * 1024;
    engine::offload_pool* offload = nullptr; ///< writes inline videos off the loop when set
};

/// `http` (and `offload`) must outlive the provider. A completed interaction without a video, a
/// failure that says blocked/safety/policy and a create 400 about safety are refusals.
std::unique_ptr<video_provider> make_gemini_omni_provider(net::http_client& http, gemini_omni_settings s);

} // namespace companion::pipelines
