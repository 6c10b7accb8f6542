// OpenRouter's videos API on a loopback HTTP server (contracts/video-aggregators.md §2), faithful
// enough for the bot's client and for the official `@openrouter/sdk` (base URL ".../api/v1"):
//   POST /api/v1/videos                 create (202); checks the model, the numeric duration against
//                                       the model's lengths, resolution, aspect ratio and frame_images
//   GET  /api/v1/videos/{id}            pending -> in_progress -> completed (unsigned_urls,
//                                       expires_at, usage.cost) on the simulator's clock; or failed,
//                                       cancelled, expired
//   GET  /api/v1/videos/{id}/content    the MP4 (a real one of the requested size and length), or a
//                                       302 to "/_cdn/openrouter/{id}.mp4" on another host name
//   GET  /api/v1/videos/models          the video models (the SDK's listVideosModels)
//   GET  /api/v1/models                 the same models in the general model list's shape
// Errors are OpenRouter's `{"error":{"code":<status>,"message":...}}`; the key is never echoed.
//
// Fault methods for `faults`: "videos.create", "videos.retrieve", "videos.content", "models",
// "cdn". Kinds: rate_limited (429 with retry-after), server_error, the wire faults, refusal (on
// create: the job ends failed with a moderation error; with detail "at_submit": a 403 moderation
// answer at once), and custom details: "quota" (402 insufficient credits, any method), on create
// "model_gone" (404), "failed" (the job ends failed, not a refusal), "expired" (the job ends
// expired), "cancelled" (the job ends cancelled).
#pragma once

#include "engine/asio.hpp"
#include "engine/clock.hpp"
#include "engine/time_source.hpp"
#include "net/http_server.hpp"
#include "sim/provider_service.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace companion::sim {

/// One video model as the simulator checks requests against it.
struct openrouter_sim_model {
    std::string id;   ///< "google/veo-3.1"
    std::string name; ///< "Google: Veo 3.1"
    std::vector<int> durations{5, 10};
    std::vector<std::string> resolutions{"720p", "1080p"};
    std::vector<std::string> aspect_ratios{"16:9", "9:16"};
    bool generate_audio = false; ///< whether `generate_audio: true` is accepted
};

/// The contract's 2026-03 model list. The lengths are the simulator's assumption where the
/// contract gives none (Veo 3.1 as on fal: 4, 6, 8).
std::vector<openrouter_sim_model> default_openrouter_models();

struct openrouter_sim_config {
    std::string api_key{}; ///< empty: any key; else `Authorization: Bearer <key>` or 401
    std::vector<openrouter_sim_model> models = default_openrouter_models();
    engine::duration queue_time = std::chrono::milliseconds{200}; ///< pending
    engine::duration render_time = std::chrono::seconds{3};       ///< in_progress
    /// After completion the job stays downloadable this long, then it is expired (content 410).
    engine::duration expiry = std::chrono::seconds{3600};
    double cost_per_second_usd = 0.10;              ///< usage.cost = this x the job's seconds
    bool content_redirect = false;                  ///< /content answers 302 to a "CDN" path on redirect_host
    std::string redirect_host = "localhost";        ///< differs from 127.0.0.1 on purpose
    std::size_t max_frame_bytes = 10 * 1024 * 1024; ///< a larger first frame is a 413
    std::uint32_t video_fps = 24;                   ///< tests lower it to make files smaller
    std::string refusal_marker = "[[refuse]]";      ///< a prompt containing it ends failed (moderation)
    net::server_config server{.name = "openrouter_sim"};
    engine::time_source* time = nullptr; ///< nullptr: real time; else it must outlive the simulator
};

/// One accepted `POST /api/v1/videos`.
struct openrouter_video_create {
    std::string id{};
    std::string prompt{};
    std::string model{};
    std::string duration{}; ///< the JSON text as sent ("5"; a string would have been refused)
    std::string resolution{};
    std::string aspect_ratio{};
    std::string frame_mime{}; ///< the first frame's type; empty without one
    std::optional<bool> generate_audio{};
};

class openrouter_simulator final : public provider_service<openrouter_video_create> {
public:
    openrouter_simulator(engine::executor ex, openrouter_sim_config cfg);
    /// "http://127.0.0.1:port/api/v1": what OPENROUTER_BASE_URL points at.
    std::string base_url() const;

    using video_create = openrouter_video_create;
    std::size_t retrieve_requests() const noexcept { return retrieve_requests_; }
    std::size_t content_requests() const noexcept { return content_requests_; }
    std::size_t cdn_requests() const noexcept { return cdn_requests_; }
    std::size_t cdn_requests_with_authorization() const noexcept { return cdn_with_auth_; }

private:
    enum class ending { video, refused, failed, cancelled, expired };
    struct job {
        video_create create;
        engine::time_point started{};
        std::int64_t created_unix = 0; ///< wall time of the create, unix seconds
        ending end = ending::video;
        std::uint32_t width = 720;
        std::uint32_t height = 1280;
        int seconds = 5;
        std::string content{}; ///< the MP4, made on first download
    };
    enum class phase { pending, in_progress, completed, failed, cancelled, expired };

    engine::awaitable<net::server_response> handle(net::server_request& req);
    engine::awaitable<net::server_response> handle_cdn(net::server_request& req);
    net::server_response create(net::server_request& req, std::string& id_out);
    net::server_response retrieve(std::string_view id);
    net::server_response content(std::string_view id, net::server_request& req, bool via_cdn);
    net::server_response video_models() const;
    net::server_response model_list() const;
    std::optional<net::server_response> check_key(const net::server_request& req) const;
    phase phase_of(const job& j) const;
    std::string job_json(const job& j) const;

    openrouter_sim_config cfg_;
    std::map<std::string, job, std::less<>> jobs_{};
    std::size_t next_id_ = 1;
    std::size_t retrieve_requests_ = 0;
    std::size_t content_requests_ = 0;
    std::size_t cdn_requests_ = 0;
    std::size_t cdn_with_auth_ = 0;
};

} // namespace companion::sim
