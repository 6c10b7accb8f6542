// Downloading a Google file URI (Omni and Veo videos): the API key goes only to the configured
// API host, `alt=media` is ensured, and redirects are followed without the key.
#pragma once

#include "engine/asio.hpp"
#include "net/gemini/error.hpp"
#include "net/http_client.hpp"

#include <chrono>
#include <filesystem>
#include <string>

namespace companion::net::gemini {

struct file_download {
    std::string base_url{}; ///< the configured API base; the URI must be on its host
    std::string api_key{};
    std::chrono::milliseconds connect_timeout{10'000};
    std::chrono::milliseconds response_timeout{60'000};
    std::chrono::milliseconds body_timeout{300'000};
    std::size_t max_bytes = 256 * 1024 * 1024;
};

/// The download settings of a client configuration (omni_config, veo_config).
template <class Config>
file_download file_download_for(const Config& cfg) {
    return {.base_url = cfg.base_url,
            .api_key = cfg.api_key,
            .connect_timeout = cfg.connect_timeout,
            .response_timeout = cfg.response_timeout,
            .body_timeout = cfg.download_timeout,
            .max_bytes = cfg.max_download_bytes};
}

/// Errors: bad_request when `uri` is on another host (it would receive the key), the API's error
/// body on a non-2xx answer, transport otherwise.
engine::awaitable<result<net::download_result>>
download_file(net::http_client& http, const file_download& how, std::string uri, std::filesystem::path path);

} // namespace companion::net::gemini
