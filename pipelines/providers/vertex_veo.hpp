// Veo on Vertex AI as a video_provider (contracts/gemini-omni-and-vertex-veo.md §2):
// `:predictLongRunning` with a service-account bearer token, polled with
// `:fetchPredictOperation`, the video returned inline as base64. No progress percentage.
#pragma once

#include "engine/asio.hpp"
#include "pipelines/video_provider.hpp"

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace companion::engine {
class offload_pool;
}

namespace companion::pipelines {

/// Supplies the Authorization header value ("Bearer ya29..."); tests inject a fixed one.
using authorization_source = std::function<engine::awaitable<video_result<std::string>>()>;

struct vertex_veo_settings {
    std::string name = "vertex-veo";
    std::string project{}; ///< empty: the service account's project_id
    std::string location = "us-central1";
    std::string model = "veo-3.1-fast-generate-001";
    std::string base_url{}; ///< empty: https://{location}-aiplatform.googleapis.com
    std::string api_version = "v1";
    std::filesystem::path credentials_file{}; ///< GOOGLE_APPLICATION_CREDENTIALS (a service-account key)
    std::string token_uri{};                  ///< empty: the key file's token_uri
    authorization_source authorization{};     ///< empty: service-account JWT exchange, cached
    std::vector<int> allowed_seconds{4, 6, 8};
    int width = 720;
    int height = 1280;
    std::string aspect_ratio = "9:16";
    std::string resolution = "720p";
    std::string person_generation = "allow_adult"; ///< the only value image-to-video takes
    std::string negative_prompt{};
    int price_cents_per_second = 15;         ///< Veo 3.1 Fast (third-party figure)
    engine::offload_pool* offload = nullptr; ///< writes videos off the loop when set
};

/// `http` (and `offload`) must outlive the provider. The key file is read here (a missing or bad
/// one makes every call fail with kind auth and a clear message). A 401 drops the cached token
/// and the call is tried once more with a fresh one.
std::unique_ptr<video_provider> make_vertex_veo_provider(net::http_client& http, vertex_veo_settings s);

} // namespace companion::pipelines
