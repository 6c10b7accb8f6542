// A typed client for Veo's long-running `predictLongRunning` shape, in two flavours: the Gemini
// API (x-goog-api-key, poll with GET {base}/{version}/{operation name}, samples as file URIs) and
// Vertex AI (a bearer token supplied by the caller, poll with POST :fetchPredictOperation,
// samples as inline base64). `done` absent means running; done ends in an error, samples, or an
// RAI-filtered refusal.
#pragma once

#include "engine/asio.hpp"
#include "engine/enum_text.hpp"
#include "net/gemini/error.hpp"
#include "net/gemini/image.hpp"
#include "net/http_client.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace companion::net::gemini {

enum class veo_flavour { gemini_api, vertex };

struct veo_config {
    veo_flavour flavour = veo_flavour::gemini_api;
    std::string base_url =
        "https://generativelanguage.googleapis.com"; ///< Vertex: https://{LOC}-aiplatform.googleapis.com
    std::string api_version = "v1beta";              ///< Vertex: "v1"
    std::string api_key{};                           ///< gemini_api: x-goog-api-key; registered for redaction
    std::string authorization{}; ///< vertex: "Bearer ya29..." (minting it is the caller's job); redacted
    /// Vertex only: "projects/{P}/locations/{LOC}/publishers/google/models/"; the model id follows.
    std::string vertex_model_path{};
    std::string model = "veo-3.1-fast-generate-preview";
    std::string aspect_ratio = "9:16";
    std::string resolution = "720p";
    std::string person_generation = "allow_adult"; ///< the only value image-to-video accepts
    std::vector<int> allowed_seconds{4, 6, 8};
    std::chrono::milliseconds connect_timeout = std::chrono::seconds(10);
    std::chrono::milliseconds response_timeout = std::chrono::seconds(60);
    /// Vertex polls carry the video inline
    std::chrono::milliseconds body_timeout = std::chrono::seconds(120);
    std::chrono::milliseconds download_timeout = std::chrono::seconds(300);
    std::size_t body_limit = 128 * 1024 * 1024;
    std::size_t max_download_bytes = 256 * 1024 * 1024;
};

struct veo_create_request {
    std::string prompt{};
    std::optional<inline_image> first_frame{}; ///< sent as bytesBase64Encoded + mimeType
    std::chrono::seconds duration{8};          ///< one of allowed_seconds; sent as an integer
    std::string negative_prompt{};
};

enum class veo_state {
    running,  ///< `done` absent or false
    video,    ///< `samples` is not empty
    filtered, ///< safety block: rai_filtered_reasons says why (not billed)
    failed,   ///< `error` (a google.rpc.Status code, normally gRPC's)
};
BOOST_DESCRIBE_ENUM(veo_state, running, video, filtered, failed)
using engine::operator<<; // to_string and printing of the described enums
using engine::to_string;

struct veo_sample {
    std::optional<std::string> uri{};   ///< Gemini API: download with `download`
    std::optional<std::string> bytes{}; ///< Vertex: the decoded MP4
    std::string mime_type = "video/mp4";
};

struct veo_operation {
    std::string name{};
    veo_state state = veo_state::running;
    std::vector<veo_sample> samples{};
    int rai_filtered_count = 0;
    std::vector<std::string> rai_filtered_reasons{};
    std::optional<std::int64_t> error_code{};
    std::string error_message{};
};

std::string build_veo_body(const veo_config& cfg, const veo_create_request& req);
result<veo_operation> parse_operation(unsigned status, std::string_view body);

class veo_client {
public:
    veo_client(net::http_client& http, veo_config cfg);

    /// Submits a job and returns the operation name (persist it verbatim). Never retried here.
    engine::awaitable<result<std::string>> create(veo_create_request req);
    /// One poll, in the configured flavour.
    engine::awaitable<result<veo_operation>> poll(std::string operation_name);
    /// Downloads a sample `uri` with the key (only on the API host), redirects without it.
    engine::awaitable<result<net::download_result>> download(std::string uri, std::filesystem::path path);

    const veo_config& config() const noexcept { return cfg_; }

private:
    net::request make_request(http::verb method, std::string url) const;
    std::string model_url(std::string_view method) const;

    net::http_client& http_;
    veo_config cfg_;
};

} // namespace companion::net::gemini
