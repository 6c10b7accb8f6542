// fal's queue as a video_provider (contracts/video-aggregators.md §1): one backend for the many
// image-to-video models fal serves (Kling, MiniMax, Veo 3.1, Gemini Omni, Wan, Pika...). What
// differs per model (the image field, how the duration is written, the aspect field, extra
// fields, the lengths and the price) is a request template from configuration, never code.
//
// The provider's job id is the queue ticket (the URLs submit returned) as compact JSON, so a job
// is polled, read and downloaded after a restart from its stored id alone. fal reports no
// percentage: progress shows stage and elapsed time.
#pragma once

#include "net/fal/queue.hpp"
#include "pipelines/video_provider.hpp"

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace companion::pipelines {

using fal_duration_format = net::fal::duration_format;
using fal_request_template = net::fal::request_template;

struct fal_queue_settings {
    std::string name = "fal";
    std::string base_url = "https://queue.fal.run";                      ///< FAL_QUEUE_URL
    std::string api_key{};                                               ///< FAL_KEY
    std::string model = "fal-ai/kling-video/v3/standard/image-to-video"; ///< the endpoint id
    fal_request_template request{};
    std::vector<int> allowed_seconds{5, 10};
    int width = 720;
    int height = 1280;
    int price_cents_per_second = 10;
    std::size_t max_download_bytes = 256 * 1024 * 1024;
};

/// `http` must outlive the provider. A job that ends COMPLETED but whose result is an error is
/// failed (refused when fal's content checker flagged it: the message names the flagged inputs);
/// a 404 at submit is model_gone; an output gone from fal's CDN (403/404/410) is expired.
std::unique_ptr<video_provider> make_fal_queue_provider(net::http_client& http, fal_queue_settings s);

} // namespace companion::pipelines
