// A small HTTP/1.1 server over Beast for the simulators, the webhook receiver and the admin
// endpoints: keep-alive, header and body limits, idle and request deadlines (a slow client cannot
// hold a connection forever), routing by method and path, optional TLS, graceful stop, bodies
// streamed piece by piece (server-sent events, which may stall or be cut on cue), and fault
// injection on responses (reset, slow body, raw bytes) so the simulators can misbehave on cue.
#pragma once

#include "engine/asio.hpp"
#include "engine/clock.hpp"
#include "engine/task_group.hpp"
#include "engine/time_source.hpp"
#include "net/error.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/noncopyable.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace companion::net {

namespace http = boost::beast::http;
struct server_request {
    http::request<http::string_body> msg;
    asio::ip::tcp::endpoint remote;

    std::string_view target() const { return msg.target(); }
    /// The path without the query.
    std::string_view path() const;
    /// The query without '?', or empty.
    std::string_view query() const;
    std::string header(std::string_view name) const;
};

/// How a response misbehaves on the wire (the simulators' fault knobs).
struct response_fault {
    enum class kind {
        none,
        reset,          ///< close the connection without answering (after reading the request)
        reset_mid_body, ///< send the header and part of the body, then close
        slow_body,      ///< send the body in small chunks with `delay` between them
        raw,            ///< send `raw_bytes` instead of the response, then close
    };
    kind what = kind::none;
    engine::duration delay = std::chrono::milliseconds(100);
    std::string raw_bytes{};
};

/// A body sent piece by piece as it is produced (server-sent events): chunked transfer encoding,
/// one chunk per piece (close-delimited for an HTTP/1.0 client), `delay` before every piece after
/// the first, slept on `time` (the process's real time when null; it must outlive the response).
/// `end` says how the body ends, so the simulators can stall or cut a stream on cue.
struct streamed_body {
    enum class ending {
        complete, ///< the last chunk: the body ends as it should
        hold,     ///< nothing more: the connection stays open until the client closes it (or the
                  ///< server stops), a stalled stream
        cut,      ///< the connection is closed without the last chunk: a stream cut by the network
    };
    std::vector<std::string> pieces{};
    engine::duration delay{};
    ending end = ending::complete;
    engine::time_source* time = nullptr;
};

struct server_response {
    http::response<http::string_body> msg;
    response_fault fault{};
    /// When set (and no fault is), the body is these pieces instead of `msg.body()`; the header
    /// is `msg`'s, without Content-Length.
    std::optional<streamed_body> stream{};
};

/// A JSON response with the given status.
server_response json_response(unsigned status, std::string body);
/// A plain-text response.
server_response
text_response(unsigned status, std::string body, std::string_view content_type = "text/plain");

using request_handler = std::function<engine::awaitable<server_response>(server_request&)>;

struct server_config {
    std::string address = "127.0.0.1";
    std::uint16_t port = 0; ///< 0: an ephemeral port
    std::size_t header_limit = 16 * 1024;
    std::size_t body_limit = 64 * 1024 * 1024;
    /// Waiting for (the header of) the next request
    engine::duration idle_timeout = std::chrono::seconds(60);
    engine::duration request_timeout = std::chrono::seconds(60); ///< reading a request body
    engine::duration write_timeout = std::chrono::seconds(60);
    std::string name = "http_server";
    std::shared_ptr<asio::ssl::context> tls{}; ///< serve HTTPS when set
    /// Connections served at once; 0: no cap. One accepted beyond it gets a 503 if the kernel takes
    /// it without waiting (plain HTTP only) and is closed at once, so idle connections cannot
    /// exhaust the process's file descriptors.
    std::size_t max_connections = 0;
};

/// Sans-I/O: how long the accept loop waits after a failed accept. Out of file descriptors
/// (EMFILE, ENFILE) or memory lasts until connections end, so retrying every few milliseconds
/// burns the loop and floods the log: the wait doubles from `first` to `cap`, and only the
/// streak's first failure and every 64th are logged.
class accept_backoff {
public:
    struct verdict {
        engine::duration wait{};
        bool log = false;
    };

    explicit accept_backoff(engine::duration first = std::chrono::milliseconds(10),
                            engine::duration cap = std::chrono::seconds(1))
        : first_(first), cap_(cap) {}

    /// After a failed accept.
    verdict on_failure() noexcept;
    /// After an accept that worked: the failures of the streak it ends (0: there was none).
    std::size_t on_success() noexcept;

private:
    engine::duration first_;
    engine::duration cap_;
    engine::duration next_{};
    std::size_t failures_ = 0;
};

class http_server : boost::noncopyable {
public:
    http_server(engine::executor ex, server_config cfg);
    ~http_server();

    /// Exact method and path.
    void route(http::verb method, std::string path, request_handler handler);
    /// Any method, any path starting with `prefix` (the longest matching prefix wins).
    void route_prefix(std::string prefix, request_handler handler);
    /// When nothing matches (default: 404 JSON).
    void fallback(request_handler handler);

    /// Binds and starts accepting. Returns the bound port. Errors: errc::connect_failed with the
    /// reason (address in use, ...).
    result<std::uint16_t> start();

    /// Stops accepting, cancels in-flight handlers (total, then terminal after `grace`), closes
    /// connections, and waits until every connection task has ended.
    engine::awaitable<void> stop(engine::duration grace = std::chrono::seconds(2));

    std::uint16_t port() const noexcept;
    /// "http://127.0.0.1:port" (https when TLS is on).
    std::string base_url() const;
    std::size_t connections() const noexcept;
    /// Connections closed at accept because `max_connections` were open.
    std::size_t connections_refused() const noexcept;
    std::size_t requests_served() const noexcept;

    struct impl;

private:
    std::shared_ptr<impl> impl_;
};

} // namespace companion::net
