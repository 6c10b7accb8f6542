// The Gemini simulator: image generation (`generateContent` with real PNGs at each model's
// documented size, blocked and no-image outcomes, thought parts), Gemini Omni interactions
// (queued, in progress, completed with a video uri or inline data, completed with text only,
// failed), and Veo operations (API-key `predictLongRunning` + GET polling, Vertex
// `:fetchPredictOperation`; done omitted while running; sample uri, RAI filtered or error), with
// video downloads that require the key and redirect to a second host name that must not get it.
//
// Fault methods for `faults`: "generateContent", "interactions.create", "interactions.get",
// "predictLongRunning", "operations.get", "fetchPredictOperation", "files.download".
// Custom details: generateContent "image_safety", "text_only", "no_image", "recitation",
// "model_gone", "per_day_quota", "wrapped_error"; interactions.create "safety_400", "failed",
// "model_output_error", "inline", "model_gone"; predictLongRunning "operation_error",
// "never_finishes", "model_gone". Refusal: image prompt blocked; Omni completed with text only;
// Veo RAI filtered.
//
// Faces: every picture it draws carries a PNG tEXt "Comment" of "face:<id>". A request with input
// images (character consistency) draws the face of its first one; a request without draws a new
// face. An input image that is not a PNG, JPEG or WebP gets Google's 400. Tests read which faces
// each request sent from `image_requests()`, and a picture's face with `face_of`.
#pragma once

#include "engine/asio.hpp"
#include "engine/clock.hpp"
#include "engine/time_source.hpp"
#include "net/http_server.hpp"
#include "sim/provider_service.hpp"

#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace companion::sim {

struct gemini_sim_config {
    std::string api_key{};      ///< empty: any non-empty key; else others get 400 API_KEY_INVALID
    std::string vertex_token{}; ///< empty: any bearer token on Vertex paths; else others get 401
    engine::duration latency = std::chrono::milliseconds{0};
    std::vector<std::string> image_models{"gemini-3.1-flash-image",
                                          "gemini-3.1-flash-lite-image",
                                          "gemini-3-pro-image",
                                          "gemini-2.5-flash-image"};
    std::vector<std::string> omni_models{"gemini-omni-1.1-flash", "gemini-omni-1.2-flash"};
    std::vector<std::string> veo_models{"veo-3.1-generate-preview",
                                        "veo-3.1-fast-generate-preview",
                                        "veo-3.1-lite-generate-preview",
                                        "veo-3.1-generate-001",
                                        "veo-3.1-fast-generate-001"};
    /// Answer 404 "no longer available" (what Google does for retired ids).
    std::vector<std::string> retired_models{"gemini-2.5-flash-image-preview",
                                            "gemini-3.1-flash-image-preview",
                                            "gemini-3-pro-image-preview",
                                            "gemini-omni-1.1-flash-preview",
                                            "veo-2.0-generate-001",
                                            "veo-3.0-generate-001",
                                            "veo-3.0-fast-generate-001"};
    std::string block_marker = "[[block]]"; ///< a prompt containing it is refused (all three APIs)
    engine::duration queue_time = std::chrono::milliseconds{200}; ///< Omni: queued
    engine::duration render_time = std::chrono::seconds{3};       ///< Omni in_progress / Veo running
    int veo_polls_before_done = 2; ///< Veo answers without `done` at least this often
    bool download_redirect = true; ///< files:download answers 302 to /_storage/ on redirect_host
    std::string redirect_host = "localhost";
    bool omni_inline_on_poll = false; ///< GET returns inline `data` even for uri delivery (the docs warn)
    std::uint32_t video_fps = 24;     ///< tests lower it to make files smaller
    net::server_config server{.name = "gemini_sim"};
    /// The time video jobs progress on and latency is slept on; nullptr is the process's real
    /// time. A test passes its manual_time; it must outlive the simulator.
    engine::time_source* time = nullptr;
};

/// One accepted image generation: its prompt and the faces of its input images, in order ("" for
/// an input image with no face mark).
struct gemini_image_request {
    std::string prompt{};
    std::vector<std::string> faces{};
};

/// The face a simulated picture shows ("face:<id>" in its PNG text), or nullopt for any other image.
std::optional<std::string> face_of(std::string_view image_bytes);

/// One accepted Omni interaction or Veo operation.
struct gemini_video_create {
    std::string api; ///< "omni" or "veo"
    std::string id;  ///< interaction id or operation name
    std::string model{};
    std::string prompt{};
    std::uint32_t width = 0;
    std::uint32_t height = 0;
    int seconds = 0;
    bool with_image = false;
};

class gemini_simulator final : public provider_service<gemini_video_create> {
public:
    gemini_simulator(engine::executor ex, gemini_sim_config cfg);
    /// "http://127.0.0.1:port" (GEMINI_BASE_URL; the API version is the client's).
    std::string base_url() const;

    using video_create = gemini_video_create;
    const std::vector<std::string>& image_prompts() const noexcept { return image_prompts_; }
    const std::vector<gemini_image_request>& image_requests() const noexcept { return image_requests_; }
    std::size_t storage_requests() const noexcept { return storage_requests_; }
    std::size_t storage_requests_with_key() const noexcept { return storage_with_key_; }
    std::size_t operation_polls() const noexcept { return operation_polls_; }

private:
    enum class video_end { video, refused, failed, model_output_error, operation_error, never };
    struct video_job {
        video_create create{};
        engine::time_point started{};
        video_end end = video_end::video;
        bool inline_delivery = false;
        bool vertex = false;
        int polls = 0;
        std::string file_id{};
    };
    struct stored_video {
        std::uint32_t width = 0;
        std::uint32_t height = 0;
        int seconds = 0;
        std::uint64_t seed = 0;
        std::string bytes{};
    };

    engine::awaitable<net::server_response> handle_models(net::server_request& req);
    engine::awaitable<net::server_response> handle_interactions(net::server_request& req);
    engine::awaitable<net::server_response> handle_files(net::server_request& req);
    engine::awaitable<net::server_response> handle_storage(net::server_request& req);

    net::server_response
    generate_image(std::string_view model, const net::server_request& req, const fault* f);
    net::server_response create_interaction(const net::server_request& req, const fault* f);
    net::server_response get_interaction(std::string_view id);
    net::server_response
    predict(std::string_view model, bool vertex, const net::server_request& req, const fault* f);
    net::server_response operation(std::string_view name, bool vertex);

    std::optional<net::server_response> check_key(const net::server_request& req) const;
    std::optional<net::server_response> check_bearer(const net::server_request& req) const;
    std::optional<net::server_response> check_model(std::string_view model,
                                                    const std::vector<std::string>& known) const;
    /// check_model, then the request's body as a JSON object into `body` (a malformed body gets
    /// Google's 400 INVALID_ARGUMENT).
    std::optional<net::server_response> check_request(std::string_view model,
                                                      const std::vector<std::string>& known,
                                                      const net::server_request& req,
                                                      boost::json::object& body) const;
    const std::string& video_bytes(const std::string& file_id);
    std::string file_uri(const std::string& file_id) const;
    std::string new_file(const video_create& c);

    gemini_sim_config cfg_;
    std::vector<std::string> image_prompts_{};
    std::vector<gemini_image_request> image_requests_{};
    std::map<std::string, video_job, std::less<>> jobs_{}; ///< interactions and operations by id/name
    std::map<std::string, stored_video, std::less<>> files_{};
    std::size_t next_id_ = 1;
    std::size_t storage_requests_ = 0;
    std::size_t storage_with_key_ = 0;
    std::size_t operation_polls_ = 0;
};

/// The size Gemini returns for `model` at `aspect_ratio` and `image_size` ("", "512", "1K", "2K",
/// "4K"); nullopt when the model does not offer it.
struct gemini_image_size {
    std::uint32_t width = 0;
    std::uint32_t height = 0;
};
std::optional<gemini_image_size>
gemini_output_size(std::string_view model, std::string_view aspect_ratio, std::string_view image_size);

} // namespace companion::sim
