// fal's queue API on a loopback HTTP server (contracts/video-aggregators.md §1), faithful enough
// for the bot's queue client and for the official `@fal-ai/client`:
//   POST /{endpoint_id}                         submit; validates the model's input schema
//   GET  /{owner}/{alias}/requests/{id}/status  IN_QUEUE (202) / IN_PROGRESS (202) / COMPLETED (200)
//   GET  /{owner}/{alias}/requests/{id}         the output, or the error the job ended with
//   PUT  /{owner}/{alias}/requests/{id}/cancel  202 CANCELLATION_REQUESTED / 400 ALREADY_COMPLETED
//   GET  /_cdn/fal/{id}.mp4                      the MP4 (a real one of the image's size and the
//                                               requested length) on another host name
// The status, result and cancel URLs use only `{owner}/{alias}`, as fal's do. The submit answer is
// the first status (IN_QUEUE), every status carries request_id and the three URLs, and every answer
// about a request names it in `x-fal-request-id`. A failed job ends COMPLETED too; its result
// answers 422 (content checker, naming the flagged field) or 500.
//
// Fault methods for `faults`: "queue.submit", "queue.status", "queue.result", "queue.cancel",
// "cdn". Kinds: rate_limited (429 with retry-after), server_error, the wire faults, refusal (on
// submit: the job ends flagged on its image; with detail "at_submit": a 422 at once), and custom
// details on submit: "model_gone" (404), "failed" (the job ends with a 500 result), "locked"
// (403 exhausted balance), "expired" (the output is gone from the CDN as soon as it is done).
#pragma once

#include "engine/asio.hpp"
#include "engine/clock.hpp"
#include "engine/time_source.hpp"
#include "net/http_server.hpp"
#include "sim/provider_service.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace companion::sim {

/// One model's input schema, as far as the simulator checks it.
struct fal_sim_model {
    std::string endpoint;                  ///< "fal-ai/kling-video/v3/standard/image-to-video"
    std::string image_field = "image_url"; ///< required
    std::string duration_type = "string";  ///< "string" ("5"), "number" (5), "string_seconds" ("5s")
    std::vector<int> allowed_seconds{5, 10};
    std::string aspect_field{}; ///< checked when set: one of 9:16, 16:9, 1:1
};

/// The five models the example configuration ships templates for.
std::vector<fal_sim_model> default_fal_models();

struct fal_sim_config {
    std::string api_key{}; ///< empty: any key; else `Authorization: Key <key>` or 401
    std::vector<fal_sim_model> models = default_fal_models();
    engine::duration queue_time = std::chrono::milliseconds{200}; ///< IN_QUEUE
    engine::duration render_time = std::chrono::seconds{3};       ///< IN_PROGRESS
    engine::duration expiry = std::chrono::seconds{3600}; ///< the CDN file is gone this long after completion
    std::string cdn_host = "localhost";                   ///< differs from 127.0.0.1 on purpose
    std::uint32_t video_fps = 24;
    std::string refusal_marker = "[[refuse]]"; ///< a prompt containing it is flagged at the result
    net::server_config server{.name = "fal_sim"};
    engine::time_source* time = nullptr; ///< nullptr: real time
};

/// One accepted submit.
struct fal_video_create {
    std::string request_id{};
    std::string endpoint{};
    std::string prompt{};
    std::string duration{}; ///< the JSON text as sent: "\"5\"", "5", "\"5s\""
    std::string image_mime{};
    std::string body{}; ///< the whole input, for tests that check extra fields
};

class fal_simulator final : public provider_service<fal_video_create> {
public:
    fal_simulator(engine::executor ex, fal_sim_config cfg);
    /// "http://127.0.0.1:port": what FAL_QUEUE_URL points at.
    std::string base_url() const;

    using video_create = fal_video_create;
    std::size_t status_requests() const noexcept { return status_requests_; }
    std::size_t result_requests() const noexcept { return result_requests_; }
    std::size_t cancels() const noexcept { return cancels_; }
    std::size_t cdn_requests() const noexcept { return cdn_requests_; }
    std::size_t cdn_requests_with_authorization() const noexcept { return cdn_with_auth_; }

private:
    enum class ending { video, flagged_prompt, flagged_image, failed };
    struct job {
        video_create create;
        std::string alias_path; ///< "/fal-ai/kling-video"
        engine::time_point started{};
        ending end = ending::video;
        bool cancelled = false;
        bool expire_at_once = false;
        std::uint32_t width = 720;
        std::uint32_t height = 1280;
        int seconds = 5;
        std::string content{}; ///< made on first download
    };

    engine::awaitable<net::server_response> handle(net::server_request& req);
    net::server_response submit(const fal_sim_model& model, net::server_request& req, std::string& id_out);
    net::server_response status(job& j, bool logs);
    net::server_response result(job& j);
    net::server_response cancel(job& j);
    net::server_response cdn(std::string_view id, net::server_request& req);
    bool completed(const job& j) const;
    std::string cdn_url(const job& j) const;
    std::string request_url(const job& j) const;

    fal_sim_config cfg_;
    std::map<std::string, job, std::less<>> jobs_{};
    std::size_t next_id_ = 1;
    std::size_t status_requests_ = 0;
    std::size_t result_requests_ = 0;
    std::size_t cancels_ = 0;
    std::size_t cdn_requests_ = 0;
    std::size_t cdn_with_auth_ = 0;
};

} // namespace companion::sim
