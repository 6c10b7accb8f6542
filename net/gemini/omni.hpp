// A typed client for Gemini Omni video through the Interactions API (API key): create a
// background interaction from an image and a prompt, poll it, and fetch the video from its `uri`
// (with the key, redirects followed without it) or from inline base64 `data`. A completed
// interaction without a video is a refusal, not an error.
#pragma once

#include "engine/asio.hpp"
#include "engine/enum_text.hpp"
#include "net/gemini/error.hpp"
#include "net/gemini/image.hpp"
#include "net/http_client.hpp"

#include <chrono>
#include <filesystem>
#include <iosfwd>
#include <optional>
#include <string>

namespace companion::net::gemini {

struct omni_config {
    std::string base_url = "https://generativelanguage.googleapis.com";
    std::string api_version = "v1beta"; ///< every doc uses v1beta; v1 serving Omni is unconfirmed
    std::string api_key{};              ///< x-goog-api-key; registered for redaction
    std::string model = "gemini-omni-1.1-flash";
    std::string aspect_ratio = "9:16";
    std::string resolution = "720p";
    std::string delivery = "uri"; ///< "uri" or "inline"
    std::chrono::milliseconds connect_timeout = std::chrono::seconds(10);
    std::chrono::milliseconds response_timeout = std::chrono::seconds(60);
    /// Polls may carry MBs of inline base64
    std::chrono::milliseconds body_timeout = std::chrono::seconds(60);
    std::chrono::milliseconds download_timeout = std::chrono::seconds(300);
    std::size_t body_limit = 128 * 1024 * 1024;
    std::size_t max_download_bytes = 256 * 1024 * 1024;
};

struct omni_create_request {
    std::string prompt{};
    std::optional<inline_image> first_frame{}; ///< the selfie; `<FIRST_FRAME>` in the prompt pins it
    std::chrono::seconds duration{8};          ///< sent as "8s"; 3..10 for 1.1 (not guaranteed)
};

enum class omni_state {
    running,   ///< queued or in_progress (or an unknown word without fail/error/cancel/expire)
    completed, ///< `video` is set
    blocked,   ///< completed without a video: refused
    failed,    ///< failed, cancelled, incomplete, budget_exceeded, ...: `error` says why
};
BOOST_DESCRIBE_ENUM(omni_state, running, completed, blocked, failed)
using engine::operator<<; // to_string and printing of the described enums
using engine::to_string;

struct omni_video {
    std::string mime_type = "video/mp4";
    std::optional<std::string> uri{};   ///< download with `download`
    std::optional<std::string> bytes{}; ///< decoded inline data
};

struct omni_job_error {
    std::string code{}; ///< a string ("…/video_generation_failed") or a number as text
    std::string message{};
};

struct omni_interaction {
    std::string id{};
    std::string raw_status{};
    omni_state state = omni_state::running;
    std::optional<omni_video> video{};
    std::string text{}; ///< model text (the refusal's words when blocked)
    std::optional<omni_job_error> error{};
};

std::string build_omni_body(const omni_config& cfg, const omni_create_request& req);
result<omni_interaction> parse_interaction(unsigned status, std::string_view body);

class omni_client {
public:
    omni_client(net::http_client& http, omni_config cfg);

    /// Never retried here: every accepted create is billed.
    engine::awaitable<result<omni_interaction>> create(omni_create_request req);
    /// A poll. An unknown id is not_found (Google answers 400 "Invalid interaction name").
    engine::awaitable<result<omni_interaction>> poll(std::string id);
    /// Downloads a video `uri` to `path`. Only URIs on the configured base URL's host get the key
    /// (bad_request otherwise); `alt=media` is added when missing.
    engine::awaitable<result<net::download_result>> download(std::string uri, std::filesystem::path path);

    const omni_config& config() const noexcept { return cfg_; }

private:
    net::request make_request(http::verb method, std::string url) const;

    net::http_client& http_;
    omni_config cfg_;
};

} // namespace companion::net::gemini
