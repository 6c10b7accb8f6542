// OpenRouter's videos API as a video_provider (contracts/video-aggregators.md §2): Veo 3.1, Wan
// 2.6/2.7 and Seedance through one Bearer key. The model, its lengths, resolution, aspect ratio,
// audio and price are configuration, never code.
//
// The provider's job id is OpenRouter's own ("gen-vid-..."), so a job is polled and downloaded
// after a restart from its stored id alone. OpenRouter reports no percentage; it reports what the
// job cost (`usage.cost`), which the poll of a completed job passes on as video_poll::cost_usd.
#pragma once

#include "pipelines/video_provider.hpp"

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace companion::pipelines {

struct openrouter_videos_settings {
    std::string name = "openrouter";                       ///< stored with each job
    std::string base_url = "https://openrouter.ai/api/v1"; ///< OPENROUTER_BASE_URL
    std::string api_key{};                                 ///< OPENROUTER_API_KEY
    std::string model = "google/veo-3.1";
    std::vector<int> allowed_seconds{4, 6, 8}; ///< what the model takes (Veo 3.1: 4, 6, 8)
    int width = 720;                           ///< of the first frame the bot fits
    int height = 1280;
    std::string resolution = "720p";      ///< sent as `resolution`
    std::string aspect_ratio = "9:16";    ///< sent as `aspect_ratio`
    std::optional<bool> generate_audio{}; ///< unset: the model's default
    int price_cents_per_second = 10;      ///< the estimate before the job; the reported cost replaces it
    std::size_t max_download_bytes = 256 * 1024 * 1024;
};

/// `http` must outlive the provider. Submit: a transport failure after the request was written,
/// an unreadable 2xx or a 502/504 is unknown_outcome (never created twice); a 404 is model_gone;
/// a 402 is quota; a 429 is rate_limited with the server's wait. Poll: pending is queued,
/// in_progress running, completed completed with the reported cost; failed is refused when the
/// reason mentions moderation, safety or policy, else failed; cancelled and expired are failed
/// (the message says which). Download: a job past its life (404/410) is expired.
std::unique_ptr<video_provider> make_openrouter_videos_provider(net::http_client& http,
                                                                openrouter_videos_settings s);

} // namespace companion::pipelines
