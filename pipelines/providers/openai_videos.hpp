// The OpenAI videos protocol as a video_provider (design.md §5): gateways that still serve
// `/v1/videos` after OpenAI's shutdown. The model, lengths, size and price are configuration.
#pragma once

#include "net/openai/videos.hpp"
#include "pipelines/video_provider.hpp"

#include <memory>
#include <string>
#include <vector>

namespace companion::engine {
class offload_pool;
}

namespace companion::pipelines {

struct openai_videos_settings {
    std::string name = "openai";                        ///< stored with each job
    std::string base_url = "https://api.openai.com/v1"; ///< VIDEO_BASE_URL (a gateway in practice)
    std::string api_key{};                              ///< VIDEO_API_KEY
    net::openai::authorization_style auth = net::openai::authorization_style::bearer;
    std::string model = "sora-2";
    std::vector<int> allowed_seconds{4, 8, 12};
    int width = 720;
    int height = 1280;
    int price_cents_per_second = 10;
    bool reports_progress = true;
    std::size_t max_download_bytes = 256 * 1024 * 1024;
};

/// `http` must outlive the provider. Errors of submit: a transport failure after the request was
/// written (or a 502/504 from the gateway) is unknown_outcome; a 404 is model_gone; a 400 that
/// mentions moderation or safety is refused. A completed job whose content is gone (404/410) is
/// expired on download.
std::unique_ptr<video_provider> make_openai_videos_provider(net::http_client& http, openai_videos_settings s);

} // namespace companion::pipelines
