// A typed client for OpenRouter's videos API (contracts/video-aggregators.md §2), the closest live
// relative of the OpenAI videos shape: `POST {base}/videos` with a JSON body (the duration a
// number, `resolution` and `aspect_ratio` instead of `size`, the first frame in `frame_images`),
// `GET {base}/videos/{id}` for the job (pending, in_progress, completed, failed, cancelled,
// expired; `usage.cost` once completed), and `GET {base}/videos/{id}/content?index=0` for the
// MP4, possibly through a redirect (the key is dropped when it changes host). Errors come in
// OpenRouter's shape `{"error":{"code":402,"message":...}}`, read by openai::parse_error.
//
// Documented as alpha by OpenRouter: an unknown status word is a malformed answer (the poll is
// tried again), never guessed at.
#pragma once

#include "engine/asio.hpp"
#include "engine/enum_text.hpp"
#include "net/http_client.hpp"
#include "net/openai/error.hpp"

#include <boost/beast/http/fields.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace companion::net::openai {

struct openrouter_videos_config {
    std::string base_url = "https://openrouter.ai/api/v1"; ///< OPENROUTER_BASE_URL (a simulator in tests)
    std::string api_key{}; ///< OPENROUTER_API_KEY, sent as `Bearer`; registered for redaction
    std::chrono::milliseconds connect_timeout = std::chrono::seconds(10);
    /// Create carries the first frame as a data URI; polls are small
    std::chrono::milliseconds response_timeout = std::chrono::seconds(60);
    std::chrono::milliseconds body_timeout = std::chrono::seconds(30);
    std::chrono::milliseconds download_timeout = std::chrono::seconds(300); ///< the whole MP4 body
    std::size_t body_limit = 4 * 1024 * 1024;                               ///< JSON answers
    std::size_t max_download_bytes = 256 * 1024 * 1024;
};

enum class openrouter_video_status { pending, in_progress, completed, failed, cancelled, expired };
BOOST_DESCRIBE_ENUM(openrouter_video_status, pending, in_progress, completed, failed, cancelled, expired)
using engine::operator<<; // to_string and printing of the described enums
using engine::to_string;

/// One video job as OpenRouter reports it (the create answer is the same object, pending).
struct openrouter_video {
    std::string id{}; ///< "gen-vid-<timestamp>-<20 alphanumerics>"
    openrouter_video_status status = openrouter_video_status::pending;
    std::string raw_status{};
    std::string polling_url{};                ///< informational: polls go to {base}/videos/{id}
    std::vector<std::string> unsigned_urls{}; ///< the outputs once completed
    std::optional<std::int64_t> expires_at{}; ///< unix seconds; OpenRouter's copy is gone after it
    std::string error{};                      ///< why it failed (redacted); empty otherwise
    std::optional<double> cost_usd{};         ///< `usage.cost` once completed (US dollars)
};

/// A video model from `GET {base}/videos/models` (what a configuration check compares against).
struct openrouter_video_model {
    std::string id{};
    std::string name{};
    std::vector<int> supported_durations{};
    std::vector<std::string> supported_resolutions{};
    std::vector<std::string> supported_aspect_ratios{};
    std::vector<std::string> supported_frame_images{};
    bool generate_audio = false;
};

struct openrouter_video_request {
    std::string model{}; ///< "google/veo-3.1"
    std::string prompt{};
    std::chrono::seconds duration{5}; ///< a number on the wire
    std::string resolution = "720p";
    std::string aspect_ratio = "9:16";
    std::string first_frame_url{}; ///< an https URL or a data: URI; empty: text to video
    std::optional<bool> generate_audio{};
};

// ---- sans-I/O (exposed for tests and fuzzing) ---------------------------------------------------

/// Whether `id` may go into a URL path: 1..200 characters of letters, digits, '-', '_' and '.',
/// and not "." or "..". OpenRouter's ids ("gen-vid-...") always are.
bool valid_video_id(std::string_view id) noexcept;

/// The create body: {model, prompt, duration, resolution, aspect_ratio, frame_images?,
/// generate_audio?}. Errors (nothing to send): an empty model or prompt, a duration below 1 s.
result<std::string> create_body(const openrouter_video_request& req);

/// Any error answer, as openai::parse_error reads it (OpenRouter's numeric `code`, 402 is
/// quota_exhausted, 429 with retry-after), attributed to "openrouter". A 403 about moderation or
/// flagged input is bad_request with code "moderation" (a refusal), not unauthorized.
api_error
parse_openrouter_error(unsigned status, std::string_view body, const boost::beast::http::fields& headers);

/// A video job object (the create answer and the poll answer). Non-2xx: the error; an error
/// object inside a 2xx: that error; no id, no status, an unknown status word or a body that is not
/// a JSON object: malformed_response.
result<openrouter_video>
parse_video(unsigned status, std::string_view body, const boost::beast::http::fields& headers);

/// A `{"data": [...]}` list of video models; entries without an id are skipped.
result<std::vector<openrouter_video_model>>
parse_video_models(unsigned status, std::string_view body, const boost::beast::http::fields& headers);

class openrouter_videos_client {
public:
    /// `http` must outlive the client and its calls.
    openrouter_videos_client(net::http_client& http, openrouter_videos_config cfg);

    /// Creates a job. Never retried (the request is marked unsafe to replay): a second create is a
    /// second bill, and a transport failure after the write is outcome_unknown.
    engine::awaitable<result<openrouter_video>> create(openrouter_video_request req);
    /// Polls a job. An id that fails valid_video_id is bad_request, nothing sent.
    engine::awaitable<result<openrouter_video>> retrieve(std::string id);
    /// Streams `{base}/videos/{id}/content?index=0` to `path` (SHA-256, size limit, redirects
    /// followed without the key when the host changes). A job past its life answers 404/410.
    engine::awaitable<result<net::download_result>> download(std::string id, std::filesystem::path path);
    /// The video models OpenRouter serves now.
    engine::awaitable<result<std::vector<openrouter_video_model>>> list_video_models();

    const openrouter_videos_config& config() const noexcept { return cfg_; }

private:
    net::request make_request(http::verb method, std::string url) const;

    net::http_client& http_;
    openrouter_videos_config cfg_;
};

} // namespace companion::net::openai
