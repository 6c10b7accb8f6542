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

/// Errors: bad_request when `uri` is on another host (it would receive the key), the API's error
/// body on a non-2xx answer, transport otherwise.
engine::awaitable<result<net::download_result>>
download_file(net::http_client& http, const file_download& how, std::string uri, std::filesystem::path path);

} // namespace companion::net::gemini
