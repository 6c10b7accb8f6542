// A typed client for fal's queue API (contracts/video-aggregators.md §1): submit a model's JSON
// input to `POST {base}/{endpoint_id}`, then poll, fetch the result and cancel on the URLs that
// submit returned. Those URLs (the queue ticket) are the job's identity at fal: they use only the
// endpoint's `{owner}/{alias}`, so they are never rebuilt from the endpoint id, and they are
// persisted with the job. The key travels as `Authorization: Key <FAL_KEY>`, and only to the
// configured queue origin: a ticket naming another host is refused, and output files on fal's
// CDN are fetched without it.
//
// Pitfall the classifier handles: a job that failed also ends `COMPLETED`; its error appears only
// at the result fetch (4xx/5xx with `{"detail": ...}`), and a content-checker refusal is a 422
// whose `detail` list names the flagged input fields.
#pragma once

#include "engine/asio.hpp"
#include "engine/enum_text.hpp"
#include "net/api_error.hpp"
#include "net/http_client.hpp"

#include <boost/beast/http/fields.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace companion::net::fal {

template <class T>
using result = net::api_result<T>;

struct queue_config {
    std::string base_url = "https://queue.fal.run"; ///< FAL_QUEUE_URL (a simulator in tests)
    std::string api_key{};                          ///< FAL_KEY; registered for redaction
    std::chrono::milliseconds connect_timeout = std::chrono::seconds(10);
    /// Submit carries the first frame as a data URI; status and result answers are small
    std::chrono::milliseconds response_timeout = std::chrono::seconds(60);
    std::chrono::milliseconds body_timeout = std::chrono::seconds(30);
    std::chrono::milliseconds download_timeout = std::chrono::seconds(300); ///< the whole MP4 body
    std::size_t body_limit = 4 * 1024 * 1024;                               ///< JSON answers
    std::size_t max_download_bytes = 256 * 1024 * 1024;
    /// Asks fal to keep the output this long (`x-fal-object-lifecycle-preference`); 0: fal's default.
    std::chrono::seconds output_retention = std::chrono::hours(1);
};

/// What submit returned: where the job is polled, read and cancelled.
struct queue_ticket {
    std::string request_id{};
    std::string status_url{};
    std::string response_url{};
    std::string cancel_url{};
    bool operator==(const queue_ticket&) const = default;
};

/// The ticket as one compact JSON text (what is stored as the job's provider id) and back.
std::string to_text(const queue_ticket& t);
result<queue_ticket> ticket_from_text(std::string_view text);

enum class queue_state { in_queue, in_progress, completed };
BOOST_DESCRIBE_ENUM(queue_state, in_queue, in_progress, completed)
using engine::operator<<;
using engine::to_string;

struct queue_status {
    queue_state state = queue_state::in_queue;
    std::optional<int> queue_position{};
    std::string raw{}; ///< the status word as sent
};

/// A video model's output (`{"video": {"url", "content_type", "file_size"}}`).
struct video_output {
    std::string url{};
    std::string content_type{};
    std::optional<std::int64_t> file_size{};
};

// ---- a model's request shape ----------------------------------------------------------------

/// How a model wants the duration: `"5"` (Kling, Wan), `5` (MiniMax H3, Gemini Omni, Pika) or
/// `"5s"` (Veo 3.1, Luma Ray).
enum class duration_format { string, number, string_seconds };
BOOST_DESCRIBE_ENUM(duration_format, string, number, string_seconds)

/// One model's request shape on fal's queue.
struct request_template {
    std::string image_field = "image_url"; ///< or start_image_url, first_frame_url
    std::string duration_field = "duration";
    duration_format duration = duration_format::string;
    std::string aspect_field{}; ///< "aspect_ratio" when the model takes one; empty: follows the image
    std::string aspect_ratio = "9:16";
    std::string extra_json{}; ///< a JSON object merged into every request (generate_audio, ...)
    bool operator==(const request_template&) const = default;
};

/// The template's JSON fields for one request, or why the template is unusable (extra_json not a
/// JSON object, or it sets a field the template writes itself). Sans-I/O; config validation and
/// submit both use it.
boost::system::result<std::string, std::string> request_body(const request_template& t,
                                                             std::string_view prompt,
                                                             std::string_view image_data_uri,
                                                             int seconds);

// ---- sans-I/O readers (exposed for tests and fuzzing) -------------------------------------------

/// A non-2xx answer: `{"detail": "text"}` or `{"detail": [{"loc", "msg", "type"}]}`. 401/403 are
/// unauthorized, except a locked account or an exhausted balance (quota_exhausted); 404
/// not_found; 429 rate_limited with `retry-after`; 5xx, 408 and 409 server; a 422 from the content
/// checker is bad_request with code "content_policy_violation" and a detail naming the flagged
/// fields ("flagged by a content checker: prompt, image_url"); other 4xx bad_request.
api_error parse_error(unsigned status, std::string_view body, const boost::beast::http::fields& headers);

/// The input fields a 422 body's `detail` list flags (`loc`'s last element), in order.
std::vector<std::string> flagged_fields(std::string_view body);

/// A submit answer. Every URL must be on `queue_origin` (scheme, host and port), or the answer is
/// malformed: the key is never sent elsewhere.
result<queue_ticket> parse_submit(unsigned status,
                                  std::string_view body,
                                  const boost::beast::http::fields& headers,
                                  std::string_view queue_base_url);
/// A status answer (200, or 202 while not completed: both carry a status body).
result<queue_status>
parse_status(unsigned status, std::string_view body, const boost::beast::http::fields& headers);
/// A result answer of a video model.
result<video_output>
parse_video_output(unsigned status, std::string_view body, const boost::beast::http::fields& headers);

class queue_client {
public:
    /// `http` must outlive the client and its calls.
    queue_client(net::http_client& http, queue_config cfg);

    /// Submits `input_json` (a JSON object: the model's input) to `endpoint_id`
    /// ("fal-ai/kling-video/v3/standard/image-to-video"). Never retried here: a second submit is
    /// a second bill; a transport failure after the write is outcome_unknown.
    engine::awaitable<result<queue_ticket>> submit(std::string endpoint_id, std::string input_json);
    engine::awaitable<result<queue_status>> status(const queue_ticket& t);
    /// The result of a COMPLETED job: its output, or the error the job ended with.
    engine::awaitable<result<video_output>> output(const queue_ticket& t);
    /// A job-less check of the queue and the key: the status of a request id that cannot exist,
    /// under `endpoint_id`'s owner/alias. fal's "request not found" (404) is success; 401/403,
    /// a locked account and transport failures are the errors.
    engine::awaitable<result<void>> probe(std::string endpoint_id);
    /// Asks fal to cancel; true when it accepted, false when the job had already completed.
    engine::awaitable<result<bool>> cancel(const queue_ticket& t);
    /// Streams an output file to `path` (SHA-256, size limit, redirects), without the key.
    engine::awaitable<result<net::download_result>> download(const video_output& out,
                                                             std::filesystem::path path);

    const queue_config& config() const noexcept { return cfg_; }

private:
    net::request make_request(http::verb method, std::string url) const;
    bool on_queue_origin(std::string_view url) const;

    net::http_client& http_;
    queue_config cfg_;
};

} // namespace companion::net::fal
