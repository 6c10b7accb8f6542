// A typed client for the OpenAI videos protocol as gateways still serve it (OpenAI's own API shut
// down 2026-09-24): create a job (multipart, `seconds` and `size` as strings, optional
// `input_reference` image), retrieve it with gateway status words normalized, and download its
// content to a file. Model ids, allowed lengths and sizes are configuration, never constants.
#pragma once

#include "engine/asio.hpp"
#include "engine/enum_text.hpp"
#include "net/http_client.hpp"
#include "net/openai/error.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace companion::net::openai {

/// How the key is presented: `Bearer <key>` (OpenAI, most gateways) or the bare key (old APIYI).
enum class authorization_style { bearer, bare };

struct videos_config {
    std::string base_url = "https://api.openai.com/v1"; ///< VIDEO_BASE_URL (a gateway in practice)
    std::string api_key{};                              ///< VIDEO_API_KEY; registered for redaction
    authorization_style auth = authorization_style::bearer;
    std::string model = "sora-2";
    std::vector<int> allowed_seconds{4, 8, 12};                     ///< what this gateway's model takes
    std::vector<std::string> allowed_sizes{"720x1280", "1280x720"}; ///< "WxH"
    std::chrono::milliseconds connect_timeout = std::chrono::seconds(10);
    /// Create uploads an image; polls are quick
    std::chrono::milliseconds response_timeout = std::chrono::seconds(60);
    std::chrono::milliseconds body_timeout = std::chrono::seconds(30);
    std::chrono::milliseconds download_timeout = std::chrono::seconds(300); ///< the whole MP4 body
    std::size_t max_download_bytes = 256 * 1024 * 1024;
};

enum class video_status { queued, in_progress, completed, failed };
BOOST_DESCRIBE_ENUM(video_status, queued, in_progress, completed, failed)
using engine::operator<<; // to_string and printing of the described enums
using engine::to_string;

/// Gateway status words onto the four states: submitted/processing/pending are in progress,
/// succeeded is completed, error/cancelled/expired are failed; an unknown word is failed when it
/// mentions fail/error/cancel/expire, else still in progress.
video_status normalize_video_status(std::string_view word) noexcept;

struct video_job_error {
    std::string code{};    ///< "moderation_blocked", ... (gateway-specific)
    std::string message{}; ///< redacted; show to users only after sanitising
};

struct video_job {
    std::string id{};
    video_status status = video_status::queued;
    std::string raw_status{};
    std::optional<int> progress{}; ///< 0..100 when the gateway reports it
    std::string model{};
    std::string seconds{}; ///< as echoed (string or number on the wire)
    std::string size{};
    std::optional<std::int64_t> created_at{};
    std::optional<std::int64_t> completed_at{};
    std::optional<std::int64_t> expires_at{}; ///< download before this (unix seconds)
    std::optional<video_job_error> error{};
};

struct reference_image {
    std::string mime_type{}; ///< image/jpeg, image/png or image/webp
    std::string bytes{};     ///< exactly `size` pixels, or the gateway answers 400
    std::string filename = "reference";
};

struct create_video_request {
    std::string prompt{};
    std::chrono::seconds seconds{8}; ///< must be one of allowed_seconds
    std::string size = "720x1280";
    std::optional<reference_image> reference{};
    std::string model{}; ///< empty: the configured model
};

/// Reads a video object (sans-I/O; exposed for tests).
result<video_job>
parse_video_job(unsigned status, std::string_view body, const boost::beast::http::fields& headers);

class videos_client {
public:
    /// `http` must outlive the client and its calls.
    videos_client(net::http_client& http, videos_config cfg);

    /// Submits a job. Checks seconds and size against the configuration first (bad_request,
    /// nothing sent). Never retried here: a second create is a second bill.
    engine::awaitable<result<video_job>> create(create_video_request req);
    /// Polls a job.
    engine::awaitable<result<video_job>> retrieve(std::string id);
    /// Streams `/videos/{id}/content` to `path` (SHA-256, size limit, redirects followed without
    /// the key when the host changes).
    engine::awaitable<result<net::download_result>> download(std::string id, std::filesystem::path path);

    const videos_config& config() const noexcept { return cfg_; }

private:
    net::request make_request(http::verb method, std::string url) const;

    net::http_client& http_;
    videos_config cfg_;
};

} // namespace companion::net::openai
