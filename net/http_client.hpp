// An HTTP/1.1 client over Beast on the engine's loop: TLS with peer verification (system trust
// store or a CA file), SNI and host name checks; a keep-alive connection pool per origin with a
// fair, bounded number of connections; deadlines per phase; body limits per request; streaming
// downloads to a file with a size limit and SHA-256; streamed bodies handed to the caller piece by
// piece (server-sent events) with an idle deadline; redirects for downloads; an HTTP CONNECT
// proxy from HTTPS_PROXY / NO_PROXY. Every failure is a typed net::failure whose text is redacted.
//
// Non-2xx responses are not failures at this level: typed API clients read the status and body.
// Thread-safety: use from the loop thread only. Lifetime: the client must outlive its in-flight
// requests (its owner cancels or joins them first).
#pragma once

#include "engine/asio.hpp"
#include "engine/clock.hpp"
#include "engine/metrics.hpp"
#include "net/error.hpp"
#include "net/url.hpp"

#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/noncopyable.hpp>

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace companion::engine {
class offload_pool;
}

namespace companion::net {

namespace http = boost::beast::http;
/// One deadline per phase of an exchange.
struct phase_timeouts {
    engine::duration resolve = std::chrono::seconds(10);
    engine::duration connect = std::chrono::seconds(10);
    engine::duration tls_handshake = std::chrono::seconds(10);
    engine::duration write = std::chrono::seconds(30);
    /// A long poll's must exceed its poll timeout
    engine::duration response_header = std::chrono::seconds(60);
    engine::duration body = std::chrono::seconds(120);
};

/// An outbound proxy for HTTP CONNECT tunnels.
struct proxy_config {
    std::string host;
    std::uint16_t port = 3128;
    std::string authorization;         ///< Proxy-Authorization value (from user:pass in the URL)
    std::vector<std::string> no_proxy; ///< host suffixes (and "*") that bypass the proxy

    /// From HTTPS_PROXY / https_proxy and NO_PROXY / no_proxy; nullopt when unset or invalid.
    static std::optional<proxy_config> from_environment();
    bool bypass(std::string_view target_host) const;
};

struct tls_config {
    bool verify_peer = true; ///< never off in production; tests use a CA file instead
    std::string ca_file;     ///< PEM bundle; empty means the system trust store
};

struct client_config {
    std::size_t max_connections_per_origin = 16;
    engine::duration idle_timeout = std::chrono::seconds(30); ///< pooled connections idle longer are closed
    phase_timeouts timeouts{};
    std::size_t body_limit = 16 * 1024 * 1024; ///< default per request; Beast's 8 MB is no law
    std::size_t header_limit = 64 * 1024;
    tls_config tls{};
    std::optional<proxy_config> proxy{};
    std::string user_agent = "companion/0.1";
    std::string name = "http";               ///< metrics label
    engine::offload_pool* offload = nullptr; ///< downloads' disk writes and fsyncs off the loop, when set
};

/// Whether a request may be sent again after a failure whose outcome is unknown.
enum class replay { safe, unsafe };

struct request {
    http::verb method = http::verb::get;
    std::string url;        ///< absolute http(s) URL
    http::fields headers{}; ///< Content-Type, Authorization, ...
    /// A fixed Content-Type for the body (a literal: it must outlive the call), written into the
    /// head with no entry in `headers` to allocate; a Content-Type in `headers` wins over it.
    std::string_view content_type{};
    std::string body{};
    std::optional<phase_timeouts> timeouts{};
    std::size_t body_limit = 0;         ///< 0: the client's default
    std::optional<replay> replayable{}; ///< default: safe for GET and HEAD only
};

struct response {
    unsigned status = 0;
    http::fields headers{};
    std::string body{};
    bool reused_connection = false;

    std::string header(std::string_view name) const;
    bool ok() const noexcept { return status >= 200 && status < 300; }
};

struct download_request {
    std::string url;
    http::fields headers{};     ///< auth headers are dropped when a redirect changes host
    std::filesystem::path path; ///< written via a temporary name, fsynced, renamed
    std::size_t max_bytes = 64 * 1024 * 1024;
    int max_redirects = 5;
    std::optional<phase_timeouts> timeouts{};
};

struct download_result {
    std::filesystem::path path;
    std::size_t bytes = 0;
    std::string sha256_hex;
    std::string content_type;
    int redirects = 0;
};

class http_client : boost::noncopyable {
public:
    http_client(engine::executor ex, client_config cfg);
    ~http_client();

    /// Sends one request and reads the whole response. Retries once on a fresh connection when a
    /// pooled connection turns out stale and the request is replayable.
    engine::awaitable<result<response>> send(request req);

    /// Sends one request like send() (repeated only on a stale pooled connection, and then only
    /// when replayable or never delivered) and streams the body of a 2xx: each piece, as it
    /// arrives, goes to `on_body`, which returns false when it wants no more (the connection is
    /// then closed and the response returned as it is). The returned response has the status and
    /// headers; its body is empty for a 2xx. A non-2xx body is collected into `response::body`
    /// (within the body limit, which also caps a streamed body) and `on_body` is not called.
    /// Deadlines: the header within the request's response_header phase, then at most `idle`
    /// between two pieces and the body phase for the whole body; either one ends the call with
    /// errc::body_timeout (the text says which). Chunked, Content-Length and close-delimited
    /// bodies all work. Cancellation (terminal, as the losing side of `||` or a deadline delivers it)
    /// ends it at once with errc::cancelled and closes the connection. `on_body` runs on the loop thread and
    /// must not call back into this client for the same request; an exception from it closes the connection
    /// and propagates.
    engine::awaitable<result<response>>
    stream(request req, std::function<bool(std::string_view)> on_body, engine::duration idle);

    /// Streams a GET response body to `req.path` (2xx only; other statuses are errc::http_status
    /// with the body's first bytes), following redirects.
    engine::awaitable<result<download_result>> download(download_request req);

    /// Closes idle pooled connections.
    void close_idle();

    std::size_t open_connections() const noexcept;

    /// Whether the client has made its TLS context, which it does on its first https connection
    /// (off the loop, on `client_config::offload`): a client that speaks only plain HTTP, to a
    /// local Bot API server or model gateway, never initializes OpenSSL's TLS state.
    bool tls_ready() const noexcept;
    std::size_t idle_connections() const noexcept;
    const client_config& config() const noexcept;

    struct impl;

private:
    std::unique_ptr<impl> impl_;
};

} // namespace companion::net
