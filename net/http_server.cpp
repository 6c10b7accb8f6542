// Accept loop, per-connection sessions (plain or TLS), routing and wire-level fault injection.
#include "net/http_server.hpp"

#include "engine/log.hpp"
#include "engine/time.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/chunk_encode.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <algorithm>
#include <array>
#include <list>
#include <sstream>
#include <tuple>
#include <utility>

namespace companion::net {

namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
using namespace std::chrono_literals;

namespace {
constexpr auto tuple_awaitable = asio::as_tuple(engine::use_awaitable);
} // namespace

std::string_view server_request::path() const {
    std::string_view t = msg.target();
    auto q = t.find('?');
    return q == std::string_view::npos ? t : t.substr(0, q);
}

std::string_view server_request::query() const {
    std::string_view t = msg.target();
    auto q = t.find('?');
    return q == std::string_view::npos ? std::string_view{} : t.substr(q + 1);
}

std::string server_request::header(std::string_view name) const {
    auto it = msg.find(name);
    return it == msg.end() ? std::string{} : std::string(it->value());
}

server_response json_response(unsigned status, std::string body) {
    server_response r;
    r.msg.result(status);
    r.msg.set(http::field::content_type, "application/json");
    r.msg.body() = std::move(body);
    return r;
}

server_response text_response(unsigned status, std::string body, std::string_view content_type) {
    server_response r;
    r.msg.result(status);
    r.msg.set(http::field::content_type, content_type);
    r.msg.body() = std::move(body);
    return r;
}

accept_backoff::verdict accept_backoff::on_failure() noexcept {
    ++failures_;
    next_ = failures_ == 1 ? first_ : std::min(next_ * 2, cap_);
    return {next_, failures_ == 1 || failures_ % 64 == 0};
}

std::size_t accept_backoff::on_success() noexcept {
    next_ = {};
    return std::exchange(failures_, 0);
}

struct http_server::impl : std::enable_shared_from_this<http_server::impl> {
    impl(engine::executor e, server_config c)
        : ex(e), cfg(std::move(c)), acceptor(e), tasks(e, engine::task_group::config{.name = cfg.name}) {}

    engine::executor ex;
    server_config cfg;
    tcp::acceptor acceptor;
    engine::task_group tasks;
    std::map<std::pair<http::verb, std::string>, request_handler> exact;
    std::vector<std::pair<std::string, request_handler>> prefixes; // longest first
    request_handler fallback_handler;
    std::list<beast::tcp_stream*> live; // for stop(): cancel reads on every connection
    std::uint16_t bound_port = 0;
    std::size_t served = 0;
    std::size_t open_connections = 0; ///< sessions spawned and not yet ended (capped)
    std::size_t refused = 0;
    bool stopping = false;

    /// A session's place under the cap, given back when the session ends or is destroyed unstarted.
    struct connection_slot {
        std::shared_ptr<impl> owner;
        explicit connection_slot(std::shared_ptr<impl> o) : owner(std::move(o)) { ++owner->open_connections; }
        connection_slot(connection_slot&& other) noexcept : owner(std::move(other.owner)) {}
        connection_slot(const connection_slot&) = delete;
        connection_slot& operator=(const connection_slot&) = delete;
        connection_slot& operator=(connection_slot&&) = delete;
        ~connection_slot() { release(); }
        void release() noexcept {
            if (owner) {
                --owner->open_connections;
                owner.reset();
            }
        }
    };

    /// Over the cap: a 503 if the socket takes it at once (it never waits: the loop must not block,
    /// and a client that does not read gets nothing), then the connection is closed.
    void refuse(tcp::socket& socket) {
        ++refused;
        error_code ignored;
        if (!cfg.tls) {
            static const std::string busy = [] {
                const std::string_view body = R"({"error":"too many connections"})";
                return "HTTP/1.1 503 Service Unavailable\r\nContent-Type: "
                       "application/json\r\nContent-Length: " +
                       std::to_string(body.size()) + "\r\nRetry-After: 1\r\nConnection: close\r\n\r\n" +
                       std::string(body);
            }();
            socket.non_blocking(true, ignored);
            if (!ignored) {
                // How much of it went out changes nothing: the connection closes next.
                socket.write_some(asio::buffer(busy), ignored);
            }
        }
        socket.shutdown(tcp::socket::shutdown_both, ignored);
        socket.close(ignored);
    }

    const request_handler* find(http::verb method, std::string_view path) const {
        if (auto it = exact.find({method, std::string(path)}); it != exact.end()) {
            return &it->second;
        }
        for (const auto& [prefix, h] : prefixes) {
            if (path.substr(0, prefix.size()) == prefix) {
                return &h;
            }
        }
        return fallback_handler ? &fallback_handler : nullptr;
    }

    engine::awaitable<server_response> dispatch(server_request& req) {
        const auto* h = find(req.msg.method(), req.path());
        if (h == nullptr) {
            co_return json_response(404, R"({"error":"not found"})");
        }
        server_response r = co_await (*h)(req);
        co_return r;
    }

    // A streamed body: the header, then each piece as its own chunk once its delay has passed,
    // then the ending the response asks for.
    template <class Stream>
    engine::awaitable<void>
    write_stream(Stream& s, beast::tcp_stream& lowest, server_response& r, bool& keep) {
        streamed_body& body = *r.stream;
        // HTTP/1.0 has no chunked encoding: the body then ends where the connection does.
        const bool chunked = r.msg.version() >= 11;
        r.msg.body().clear();
        r.msg.erase(http::field::content_length);
        r.msg.chunked(chunked);
        if (!chunked) {
            r.msg.keep_alive(false);
        }
        keep = keep && chunked && body.end == streamed_body::ending::complete;
        lowest.expires_after(cfg.write_timeout);
        http::response_serializer<http::string_body> header(r.msg);
        auto [hec, hn] = co_await http::async_write_header(s, header, tuple_awaitable);
        (void)hn;
        if (hec) {
            keep = false;
            co_return;
        }
        for (std::size_t i = 0; i < body.pieces.size(); ++i) {
            if (i != 0 && body.delay.count() > 0) {
                if (body.time != nullptr) {
                    co_await body.time->sleep(body.delay);
                } else {
                    co_await engine::sleep(body.delay);
                }
            }
            const std::string& piece = body.pieces[i];
            if (piece.empty()) {
                continue; // an empty chunk would end the body
            }
            lowest.expires_after(cfg.write_timeout);
            error_code ec;
            if (chunked) {
                std::tie(ec, std::ignore) =
                    co_await asio::async_write(s, http::make_chunk(asio::buffer(piece)), tuple_awaitable);
            } else {
                std::tie(ec, std::ignore) =
                    co_await asio::async_write(s, asio::buffer(piece), tuple_awaitable);
            }
            if (ec) {
                keep = false;
                co_return;
            }
        }
        switch (body.end) {
        case streamed_body::ending::complete:
            if (chunked) {
                lowest.expires_after(cfg.write_timeout);
                auto [lec, ln] = co_await asio::async_write(s, http::make_chunk_last(), tuple_awaitable);
                (void)ln;
                if (lec) {
                    keep = false;
                }
            }
            co_return;
        case streamed_body::ending::cut:
            co_return; // `keep` is false: the session closes the connection mid-body
        case streamed_body::ending::hold: {
            // Until the client gives up (or stop() cancels the read): whatever it sends is dropped.
            lowest.expires_never();
            std::array<char, 512> sink{};
            for (;;) {
                auto [rec, rn] = co_await s.async_read_some(asio::buffer(sink), tuple_awaitable);
                (void)rn;
                if (rec) {
                    co_return;
                }
            }
        }
        }
    }

    template <class Stream>
    engine::awaitable<void>
    write_response(Stream& s, beast::tcp_stream& lowest, server_response& r, bool& keep) {
        lowest.expires_after(cfg.write_timeout);
        using kind = response_fault::kind;
        switch (r.fault.what) {
        case kind::none: {
            if (r.stream) {
                co_await write_stream(s, lowest, r, keep);
                co_return;
            }
            auto [ec, n] = co_await http::async_write(s, r.msg, tuple_awaitable);
            (void)n;
            if (ec) {
                keep = false;
            }
            co_return;
        }
        case kind::reset:
            keep = false;
            co_return;
        case kind::raw: {
            keep = false;
            auto [ec, n] = co_await asio::async_write(s, asio::buffer(r.fault.raw_bytes), tuple_awaitable);
            (void)ec;
            (void)n;
            co_return;
        }
        case kind::reset_mid_body:
        case kind::slow_body: {
            std::ostringstream os;
            os << r.msg;
            const std::string wire = os.str();
            const auto header_end = wire.find("\r\n\r\n");
            const std::size_t body_start = header_end == std::string::npos ? 0 : header_end + 4;
            if (r.fault.what == kind::reset_mid_body) {
                keep = false;
                const std::size_t cut = body_start + (wire.size() - body_start) / 2;
                auto [ec, n] = co_await asio::async_write(s, asio::buffer(wire.data(), cut), tuple_awaitable);
                (void)ec;
                (void)n;
                co_return;
            }
            auto [hec, hn] =
                co_await asio::async_write(s, asio::buffer(wire.data(), body_start), tuple_awaitable);
            (void)hn;
            if (hec) {
                keep = false;
                co_return;
            }
            const std::size_t chunk = std::max<std::size_t>(1, (wire.size() - body_start) / 8);
            for (std::size_t off = body_start; off < wire.size(); off += chunk) {
                co_await engine::sleep(r.fault.delay);
                lowest.expires_after(cfg.write_timeout);
                auto [ec, n] = co_await asio::async_write(
                    s,
                    asio::buffer(wire.data() + off, std::min(chunk, wire.size() - off)),
                    tuple_awaitable);
                (void)n;
                if (ec) {
                    keep = false;
                    co_return;
                }
            }
            co_return;
        }
        }
    }

    template <class Stream>
    engine::awaitable<void> serve(Stream& s, beast::tcp_stream& lowest, tcp::endpoint remote) {
        beast::flat_buffer buffer;
        for (;;) {
            http::request_parser<http::string_body> parser;
            parser.header_limit(static_cast<std::uint32_t>(cfg.header_limit));
            parser.body_limit(cfg.body_limit);
            lowest.expires_after(cfg.idle_timeout);
            auto [hec, hn] = co_await http::async_read_header(s, buffer, parser, tuple_awaitable);
            (void)hn;
            if (hec) {
                if (hec == http::error::header_limit || hec == http::error::body_limit) {
                    // A Content-Length over the limit is refused as soon as the header is read.
                    auto r = hec == http::error::header_limit
                                 ? json_response(431, R"({"error":"request header too large"})")
                                 : json_response(413, R"({"error":"request body too large"})");
                    r.msg.keep_alive(false);
                    bool keep = false;
                    co_await write_response(s, lowest, r, keep);
                }
                co_return; // idle timeout, peer closed, garbage: end the connection
            }
            lowest.expires_after(cfg.request_timeout);
            auto [bec, bn] = co_await http::async_read(s, buffer, parser, tuple_awaitable);
            (void)bn;
            if (bec) {
                if (bec == http::error::body_limit) {
                    auto r = json_response(413, R"({"error":"request body too large"})");
                    r.msg.keep_alive(false);
                    bool keep = false;
                    co_await write_response(s, lowest, r, keep);
                }
                co_return;
            }
            lowest.expires_never();
            server_request req{parser.release(), remote};
            const bool client_keep = req.msg.keep_alive();
            const unsigned version = req.msg.version();
            server_response r = co_await dispatch(req);
            ++served;
            r.msg.version(version);
            r.msg.keep_alive(client_keep && !stopping);
            if (!r.stream || r.fault.what != response_fault::kind::none) {
                r.msg.prepare_payload(); // a streamed body is framed by write_stream
            }
            bool keep = r.msg.keep_alive();
            co_await write_response(s, lowest, r, keep);
            if (!keep) {
                co_return;
            }
        }
    }

    static engine::awaitable<void>
    session(std::shared_ptr<impl> self, tcp::socket socket, connection_slot slot) {
        tcp::endpoint remote;
        error_code ignored;
        remote = socket.remote_endpoint(ignored);
        beast::tcp_stream stream(std::move(socket));
        auto it = self->live.insert(self->live.end(), &stream);
        std::exception_ptr error;
        try {
            if (self->cfg.tls) {
                beast::ssl_stream<beast::tcp_stream&> tls(stream, *self->cfg.tls);
                stream.expires_after(self->cfg.idle_timeout);
                auto [ec] = co_await tls.async_handshake(asio::ssl::stream_base::server, tuple_awaitable);
                if (!ec) {
                    co_await self->serve(tls, stream, remote);
                    stream.expires_after(1s);
                    auto [sec] = co_await tls.async_shutdown(tuple_awaitable);
                    // stream_truncated and friends are expected: many clients just close.
                    (void)sec;
                }
            } else {
                co_await self->serve(stream, stream, remote);
                stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
            }
        } catch (...) {
            error = std::current_exception();
        }
        self->live.erase(it);
        stream.socket().close(ignored);
        slot.release(); // with the socket: the cap counts descriptors
        if (error) {
            std::rethrow_exception(error);
        }
    }

    static engine::awaitable<void> accept_loop(std::shared_ptr<impl> self) {
        accept_backoff backoff;
        for (;;) {
            auto [ec, socket] = co_await self->acceptor.async_accept(tuple_awaitable);
            if (ec) {
                if (ec == asio::error::operation_aborted || !self->acceptor.is_open()) {
                    co_return;
                }
                // E.g. out of file descriptors: wait for connections to end, longer each time.
                const auto verdict = backoff.on_failure();
                if (verdict.log) {
                    engine::log().warn(
                        "http_server.accept_failed",
                        {{"server", self->cfg.name},
                         {"error", ec.message()},
                         {"retry_in_ms",
                          std::to_string(
                              std::chrono::duration_cast<std::chrono::milliseconds>(verdict.wait).count())}});
                }
                co_await engine::sleep(verdict.wait);
                continue;
            }
            if (const auto failures = backoff.on_success(); failures != 0) {
                engine::log().info(
                    "http_server.accept_recovered",
                    {{"server", self->cfg.name}, {"failed_accepts", std::to_string(failures)}});
            }
            if (self->cfg.max_connections != 0 && self->open_connections >= self->cfg.max_connections) {
                self->refuse(socket);
                if (self->refused == 1 || self->refused % 1000 == 0) {
                    engine::log().warn("http_server.connection_cap",
                                       {{"server", self->cfg.name},
                                        {"max_connections", std::to_string(self->cfg.max_connections)},
                                        {"refused", std::to_string(self->refused)}});
                }
                continue;
            }
            socket.set_option(tcp::no_delay(true), ec);
            if (!self->tasks.spawn(session(self, std::move(socket), connection_slot(self)))) {
                co_return;
            }
        }
    }
};

http_server::http_server(engine::executor ex, server_config cfg)
    : impl_(std::make_shared<impl>(ex, std::move(cfg))) {}

http_server::~http_server() {
    error_code ignored;
    impl_->acceptor.close(ignored);
    for (auto* s : impl_->live) {
        s->socket().close(ignored);
    }
    if (impl_->tasks.size() != 0) {
        impl_->tasks.cancel(asio::cancellation_type::terminal);
    }
}

void http_server::route(http::verb method, std::string path, request_handler handler) {
    impl_->exact[{method, std::move(path)}] = std::move(handler);
}

void http_server::route_prefix(std::string prefix, request_handler handler) {
    impl_->prefixes.emplace_back(std::move(prefix), std::move(handler));
    std::stable_sort(impl_->prefixes.begin(), impl_->prefixes.end(), [](const auto& a, const auto& b) {
        return a.first.size() > b.first.size();
    });
}

void http_server::fallback(request_handler handler) {
    impl_->fallback_handler = std::move(handler);
}

result<std::uint16_t> http_server::start() {
    auto& d = *impl_;
    error_code ec;
    const auto address = asio::ip::make_address(d.cfg.address, ec);
    if (ec) {
        return make_failure(errc::bad_url, "bad listen address " + d.cfg.address);
    }
    const tcp::endpoint ep(address, d.cfg.port);
    d.acceptor.open(ep.protocol(), ec);
    if (!ec) {
        d.acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    }
    if (!ec) {
        d.acceptor.bind(ep, ec);
    }
    if (!ec) {
        d.acceptor.listen(asio::socket_base::max_listen_connections, ec);
    }
    if (ec) {
        return make_failure(errc::connect_failed,
                            "cannot listen on " + d.cfg.address + ":" + std::to_string(d.cfg.port) + ": " +
                                ec.message());
    }
    d.bound_port = d.acceptor.local_endpoint().port();
    if (!d.tasks.spawn(impl::accept_loop(impl_))) {
        return make_failure(errc::cancelled, "server is stopping");
    }
    return d.bound_port;
}

engine::awaitable<void> http_server::stop(engine::duration grace) {
    auto self = impl_;
    self->stopping = true;
    error_code ignored;
    self->acceptor.close(ignored);
    // Idle keep-alive connections are waiting for a request: end their reads now.
    for (auto* s : self->live) {
        s->cancel();
    }
    co_await self->tasks.shutdown(grace);
}

std::uint16_t http_server::port() const noexcept {
    return impl_->bound_port;
}

std::string http_server::base_url() const {
    return std::string(impl_->cfg.tls ? "https://" : "http://") + impl_->cfg.address + ":" +
           std::to_string(impl_->bound_port);
}

std::size_t http_server::connections() const noexcept {
    return impl_->live.size();
}

std::size_t http_server::connections_refused() const noexcept {
    return impl_->refused;
}

std::size_t http_server::requests_served() const noexcept {
    return impl_->served;
}

} // namespace companion::net
