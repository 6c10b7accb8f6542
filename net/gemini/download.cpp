// Keyed file downloads for the Google video clients.
#include "net/gemini/detail/download.hpp"

#include "net/detail/client_support.hpp"
#include "net/url.hpp"

namespace companion::net::gemini {

engine::awaitable<result<net::download_result>>
download_file(net::http_client& http, const file_download& how, std::string uri, std::filesystem::path path) {
    auto target = net::parse_url(uri);
    auto base = net::parse_url(how.base_url);
    if (!target || !base || target->where.host != base->where.host) {
        co_return net::invalid_request("gemini", {}, "video uri is not on the configured API host");
    }
    if (uri.find("alt=media") == std::string::npos) {
        uri += (uri.find('?') == std::string::npos ? "?" : "&");
        uri += "alt=media";
    }
    net::download_request d;
    d.url = std::move(uri);
    d.headers.set("x-goog-api-key", how.api_key);
    d.path = std::move(path);
    d.max_bytes = how.max_bytes;
    d.timeouts = detail::call_timeouts(how.connect_timeout, how.response_timeout, how.body_timeout);
    auto got = co_await http.download(std::move(d));
    if (!got) {
        co_return from_failure(got.error());
    }
    co_return std::move(*got);
}

} // namespace companion::net::gemini
