// fal's queue as a video_provider (contracts/video-aggregators.md §1): one backend for the many
// image-to-video models fal serves (Kling, MiniMax, Veo 3.1, Gemini Omni, Wan, Pika...). What
// differs per model (the image field, how the duration is written, the aspect field, extra
// fields, the lengths and the price) is a request template from configuration, never code.
//
// The provider's job id is the queue ticket (the URLs submit returned) as compact JSON, so a job
// is polled, read and downloaded after a restart from its stored id alone. fal reports no
// percentage: progress shows stage and elapsed time.
#pragma once

#include "engine/enum_text.hpp"
#include "pipelines/video_provider.hpp"

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace companion::pipelines {

/// How a model wants the duration: `"5"` (Kling, Wan), `5` (MiniMax H3, Gemini Omni, Pika) or
/// `"5s"` (Veo 3.1, Luma Ray).
enum class fal_duration_format { string, number, string_seconds };
BOOST_DESCRIBE_ENUM(fal_duration_format, string, number, string_seconds)

/// One model's request shape on fal's queue.
struct fal_request_template {
    std::string image_field = "image_url"; ///< or start_image_url, first_frame_url
    std::string duration_field = "duration";
    fal_duration_format duration = fal_duration_format::string;
    std::string aspect_field{}; ///< "aspect_ratio" when the model takes one; empty: follows the image
    std::string aspect_ratio = "9:16";
    std::string extra_json{}; ///< a JSON object merged into every request (generate_audio, ...)
    bool operator==(const fal_request_template&) const = default;
};

/// The template's JSON fields for one request, or why the template is unusable (extra_json not a
/// JSON object, or it sets a field the template writes itself). Sans-I/O; config validation and
/// submit both use it.
boost::system::result<std::string, std::string> fal_request_body(const fal_request_template& t,
                                                                 std::string_view prompt,
                                                                 std::string_view image_data_uri,
                                                                 int seconds);

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
