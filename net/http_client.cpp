// The pooled HTTP/1.1 client: connection establishment (resolve, connect, proxy tunnel, TLS),
// one exchange per request with a deadline per phase, and streaming downloads.
#include "net/http_client.hpp"

#include "engine/atomic_file.hpp"
#include "engine/detail/wait_queue.hpp"
#include "engine/log.hpp"
#include "engine/offload.hpp"
#include "engine/sync.hpp"
#include "net/detail/trust_store.hpp"

#include <boost/algorithm/string/case_conv.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <array>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <optional>
#include <tuple>
#include <unordered_map>

namespace companion::net {

namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using engine::clock;
using error_code = boost::system::error_code;

namespace {

constexpr auto tuple_awaitable = asio::as_tuple(engine::use_awaitable);

// A connection's read buffer starts with this capacity. Beast reads max(512, capacity - size)
// bytes at a time and its parsers consume what they are given, so a buffer left to grow by itself
// stays at 512 bytes for ever: a 1 KB video job took three reads and a batch of updates one per
// 512 bytes. 16 KiB holds a usual response in one read; at 16 connections per origin it costs
// 256 KiB an origin.
constexpr std::size_t read_buffer_bytes = std::size_t{16} * 1024;

bool is_reset(const error_code& ec) {
    return ec == asio::error::eof || ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
           ec == http::error::end_of_stream || ec == asio::error::connection_aborted ||
           ec == asio::ssl::error::stream_truncated || ec == http::error::partial_message;
}

std::string hex(const unsigned char* data, std::size_t n) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(n * 2);
    for (std::size_t i = 0; i < n; ++i) {
        out.push_back(digits[data[i] >> 4]);
        out.push_back(digits[data[i] & 0x0F]);
    }
    return out;
}

// What a failed read of the response means, `in_body` or in the header (the request was sent,
// so the outcome is unknown to the caller).
failure read_failure(const error_code& ec, bool in_body, const std::string& host) {
    if (ec == beast::error::timeout) {
        return make_failure(in_body ? errc::body_timeout : errc::response_timeout, host, true);
    }
    if (ec == http::error::header_limit) {
        return make_failure(errc::header_too_large, host, true);
    }
    if (ec == http::error::body_limit) {
        // A Content-Length over the limit is refused as soon as the header is read.
        return make_failure(errc::body_too_large, host, true);
    }
    if (ec == asio::error::operation_aborted) {
        return make_failure(errc::cancelled, "request cancelled", true);
    }
    if (is_reset(ec)) {
        return make_failure(errc::connection_reset,
                            std::string(in_body ? "in the body: " : "before the response: ") + ec.message(),
                            true);
    }
    return make_failure(errc::bad_response, ec.message(), true);
}

// A pooled connection: a TCP stream, or a TLS stream over one.
struct connection {
    origin where;
    std::unique_ptr<beast::tcp_stream> plain;
    std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> secure;
    beast::flat_buffer buffer;
    std::string head; ///< the request head being sent, its capacity kept from one request to the next
    engine::time_point idle_since{};
    std::size_t uses = 0;

    beast::tcp_stream& lowest() { return secure ? beast::get_lowest_layer(*secure) : *plain; }
    void close() {
        error_code ignored;
        lowest().socket().close(ignored);
    }
};

// The outcome of one exchange on one connection.
struct exchange_outcome {
    result<response> r;
    bool keep_alive = false;
    bool stale = false; ///< failed before any response byte: the connection was probably dead
};

struct pool {
    pool(engine::executor ex, engine::metrics_registry& m, const std::string& client, const std::string& key)
        : waiters(std::move(ex)),
          requests(m.make_counter("http_client_requests_total",
                                  "Requests sent, by client and origin.",
                                  {{"client", client}, {"origin", key}})),
          latency(m.make_histogram("http_client_request_seconds",
                                   "Request latency, by client and origin.",
                                   engine::latency_buckets_seconds(),
                                   {{"client", client}, {"origin", key}})),
          size(m.make_gauge("http_client_pool_connections",
                            "Open pooled connections, by client and origin.",
                            {{"client", client}, {"origin", key}})),
          client_name(client),
          origin_key(key) {}

    std::vector<std::unique_ptr<connection>> idle;
    std::size_t open = 0;
    std::size_t handoffs = 0;
    engine::detail::wait_queue waiters;
    engine::counter& requests;
    engine::histogram& latency;
    engine::gauge& size;
    std::string client_name;
    std::string origin_key;
};

struct dns_entry {
    tcp::resolver::results_type results;
    engine::time_point expires;
};

} // namespace

std::string response::header(std::string_view name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string{} : std::string(it->value());
}

std::optional<proxy_config> proxy_config::from_environment() {
    const char* raw = std::getenv("HTTPS_PROXY");
    if (raw == nullptr || *raw == '\0') {
        raw = std::getenv("https_proxy");
    }
    if (raw == nullptr || *raw == '\0') {
        return std::nullopt;
    }
    std::string text = raw;
    if (text.find("://") == std::string::npos) {
        text = "http://" + text;
    }
    auto u = boost::urls::parse_uri(text);
    if (!u || u->encoded_host().empty()) {
        engine::log().warn("http.proxy_ignored", {{"reason", "HTTPS_PROXY is not a valid URL"}});
        return std::nullopt;
    }
    proxy_config p;
    p.host = std::string(u->encoded_host_address());
    p.port = u->has_port() ? u->port_number() : 3128;
    if (u->has_userinfo()) {
        // Basic credentials; never logged (the redactor learns them).
        const std::string userinfo = std::string(u->userinfo());
        engine::secrets().add_secret(userinfo);
        std::string encoded(4 * ((userinfo.size() + 2) / 3), '\0');
        const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(encoded.data()),
                                      reinterpret_cast<const unsigned char*>(userinfo.data()),
                                      static_cast<int>(userinfo.size()));
        encoded.resize(static_cast<std::size_t>(n));
        p.authorization = "Basic " + encoded;
        engine::secrets().add_secret(encoded);
    }
    const char* np = std::getenv("NO_PROXY");
    if (np == nullptr) {
        np = std::getenv("no_proxy");
    }
    if (np != nullptr) {
        std::string_view list = np;
        while (!list.empty()) {
            auto comma = list.find(',');
            auto item = list.substr(0, comma);
            list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
            while (!item.empty() && item.front() == ' ') {
                item.remove_prefix(1);
            }
            while (!item.empty() && item.back() == ' ') {
                item.remove_suffix(1);
            }
            if (!item.empty()) {
                p.no_proxy.push_back(boost::algorithm::to_lower_copy(std::string(item)));
            }
        }
    }
    return p;
}

bool proxy_config::bypass(std::string_view target_host) const {
    const std::string h = boost::algorithm::to_lower_copy(std::string(target_host));
    for (const auto& entry : no_proxy) {
        if (entry == "*") {
            return true;
        }
        std::string_view e = entry;
        if (!e.empty() && e.front() == '.') {
            e.remove_prefix(1);
        }
        if (h == e) {
            return true;
        }
        if (h.size() > e.size() && h.compare(h.size() - e.size(), e.size(), e) == 0 &&
            h[h.size() - e.size() - 1] == '.') {
            return true;
        }
    }
    return false;
}

namespace {

// The client's TLS context: the trusted roots and the verification mode. Making the first one
// in a process initializes OpenSSL (its configuration file, its providers): about 3 ms of CPU and
// 2.7 MB of RSS, which is why a client makes it on its first https connection, off the loop.
std::unique_ptr<asio::ssl::context> make_tls_context(const client_config& cfg) {
    auto ssl = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
    ssl->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                     asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                     asio::ssl::context::no_tlsv1_1);
    if (!cfg.tls.verify_peer) {
        ssl->set_verify_mode(asio::ssl::verify_none);
        return ssl;
    }
    ssl->set_verify_mode(asio::ssl::verify_peer);
    error_code ec;
    if (cfg.tls.ca_file.empty()) {
        const auto trust = detail::system_trust();
        if (trust.how == detail::trust_source::kind::hashed_directory) {
            ssl->add_verify_path(trust.path, ec); // lazy: a handshake reads the root it needs
        } else {
            ssl->set_default_verify_paths(ec);
        }
    } else {
        ssl->load_verify_file(cfg.tls.ca_file, ec);
    }
    if (ec) {
        // Not fatal here: every handshake then fails verification with a typed error.
        engine::log().error("http.ca_load_failed", {{"client", cfg.name}, {"error", ec.message()}});
    }
    return ssl;
}

} // namespace

struct http_client::impl {
    impl(engine::executor e, client_config c)
        : ex(std::move(e)), cfg(std::move(c)), tls_made(ex), resolver(ex) {}

    /// The TLS context, made once on the first https connection: on the offload pool when the
    /// client has one, and the connections that ask meanwhile wait for that one. Making it fails
    /// only when OpenSSL does (out of memory); the next connection then tries again.
    engine::awaitable<result<asio::ssl::context*>> tls_context() {
        if (ssl) {
            co_return ssl.get();
        }
        if (making_tls) {
            try {
                co_await tls_made.wait();
            } catch (const boost::system::system_error&) {
                co_return make_failure(errc::cancelled, "cancelled while the TLS context was made");
            }
        } else {
            making_tls = true;
            try {
                if (cfg.offload != nullptr) {
                    // Named: g++ 12 miscompiles a temporary with members in an awaited call's arguments.
                    auto make = [c = cfg] { return make_tls_context(c); };
                    ssl = co_await cfg.offload->run(std::move(make));
                } else {
                    ssl = make_tls_context(cfg);
                }
            } catch (const std::exception& e) {
                engine::log().error("http.tls_context_failed", {{"client", cfg.name}, {"error", e.what()}});
            }
            making_tls = false;
            tls_made.set(); // wakes the waiters, who read `ssl`
            tls_made.reset();
        }
        if (!ssl) {
            co_return make_failure(errc::tls_failed, "no TLS context: OpenSSL could not make one");
        }
        co_return ssl.get();
    }

    pool& pool_for(const origin& o) {
        const std::string key = o.key();
        auto it = pools.find(key);
        if (it == pools.end()) {
            it = pools.emplace(key, std::make_unique<pool>(ex, engine::metrics(), cfg.name, key)).first;
        }
        return *it->second;
    }

    void count_error(pool& p, const failure& f) {
        engine::metrics()
            .make_counter("http_client_errors_total",
                          "Failed requests, by client, origin and kind.",
                          {{"client", p.client_name},
                           {"origin", p.origin_key},
                           {"kind", std::string(kind_label(f.code))}})
            .inc();
    }

    std::unique_ptr<connection> take_idle(pool& p) {
        const auto now = clock::now();
        while (!p.idle.empty()) {
            auto c = std::move(p.idle.back());
            p.idle.pop_back();
            if (now - c->idle_since < cfg.idle_timeout && c->lowest().socket().is_open()) {
                return c;
            }
            c->close();
            --p.open;
        }
        return nullptr;
    }

    // Returns an idle connection, or nullptr with a slot reserved for a new one. Waits in FIFO
    // order when the origin is at its limit. Throws on cancellation.
    engine::awaitable<std::unique_ptr<connection>> acquire(pool& p, bool fresh) {
        // Others already wait (or hold a hand-off): queue behind them.
        bool queued = !p.waiters.empty() || p.handoffs != 0;
        for (;;) {
            if (queued) {
                co_await p.waiters.async_wait(engine::use_awaitable);
                --p.handoffs;
            }
            queued = true;
            if (!fresh) {
                if (auto c = take_idle(p)) {
                    co_return c;
                }
            }
            if (p.open < cfg.max_connections_per_origin) {
                ++p.open;
                p.size.set(static_cast<double>(p.open));
                co_return nullptr;
            }
            if (fresh && !p.idle.empty()) {
                // Every slot is open and some are idle: the oldest idle connection gives its slot
                // to this one. Waiting instead would wait for a release that an idle pool never
                // makes, and every later request would queue behind the wait.
                p.idle.front()->close();
                p.idle.erase(p.idle.begin());
                co_return nullptr;
            }
        }
    }

    // A connection to `o` from its pool: an idle one (unless `fresh`) or a new one. A failed
    // connect gives the slot back and is counted.
    engine::awaitable<result<std::unique_ptr<connection>>>
    checkout(pool& p, const origin& o, const phase_timeouts& t, bool fresh) {
        std::unique_ptr<connection> c;
        try {
            c = co_await acquire(p, fresh);
        } catch (const boost::system::system_error&) {
            co_return make_failure(errc::cancelled, "cancelled while waiting for a connection");
        }
        if (c) {
            co_return std::move(c);
        }
        auto made = co_await connect(o, t);
        if (!made) {
            release(p, nullptr);
            count_error(p, made.error());
        }
        co_return made;
    }

    // Gives a connection back (kept alive) or its slot (nullptr: closed).
    void release(pool& p, std::unique_ptr<connection> c) {
        if (c) {
            c->idle_since = clock::now();
            p.idle.push_back(std::move(c));
        } else {
            --p.open;
            p.size.set(static_cast<double>(p.open));
        }
        if (!p.waiters.empty()) {
            ++p.handoffs;
            p.waiters.notify_one();
        }
    }

    engine::awaitable<result<tcp::resolver::results_type>>
    resolve(const std::string& host, std::uint16_t port, engine::duration timeout) {
        const std::string key = host + ":" + std::to_string(port);
        const auto now = clock::now();
        if (auto it = dns.find(key); it != dns.end() && it->second.expires > now) {
            co_return it->second.results;
        }
        engine::timer t(ex, timeout);
        bool timed_out = false;
        t.async_wait([this, &timed_out](error_code ec) {
            if (!ec) {
                timed_out = true;
                resolver.cancel();
            }
        });
        auto [ec, results] = co_await resolver.async_resolve(host, std::to_string(port), tuple_awaitable);
        t.cancel();
        if (timed_out) {
            co_return make_failure(errc::resolve_timeout, host);
        }
        if (ec == asio::error::operation_aborted) {
            co_return make_failure(errc::cancelled, "resolve cancelled");
        }
        if (ec) {
            co_return make_failure(errc::resolve_failed, host + ": " + ec.message());
        }
        dns[key] = dns_entry{results, now + std::chrono::seconds(60)};
        co_return results;
    }

    engine::awaitable<result<void>> tunnel(beast::tcp_stream& s, const origin& o, const phase_timeouts& t) {
        const std::string authority = o.host + ":" + std::to_string(o.port);
        http::request<http::empty_body> req{http::verb::connect, authority, 11};
        req.set(http::field::host, authority);
        if (!cfg.proxy->authorization.empty()) {
            req.set(http::field::proxy_authorization, cfg.proxy->authorization);
        }
        s.expires_after(t.connect);
        auto [wec, wn] = co_await http::async_write(s, req, tuple_awaitable);
        (void)wn;
        if (wec) {
            co_return make_failure(errc::proxy_failed, "CONNECT write: " + wec.message());
        }
        beast::flat_buffer buf;
        http::response_parser<http::empty_body> parser;
        parser.skip(true); // a 200 to CONNECT has no body: the tunnel follows
        auto [rec, rn] = co_await http::async_read_header(s, buf, parser, tuple_awaitable);
        (void)rn;
        if (rec) {
            co_return make_failure(errc::proxy_failed, "CONNECT response: " + rec.message());
        }
        if (parser.get().result_int() != 200) {
            co_return make_failure(errc::proxy_failed,
                                   "proxy answered " + std::to_string(parser.get().result_int()) +
                                       " to CONNECT");
        }
        if (buf.size() != 0) {
            co_return make_failure(errc::proxy_failed, "proxy sent bytes after the CONNECT response");
        }
        co_return result<void>{};
    }

    engine::awaitable<result<std::unique_ptr<connection>>> connect(const origin& o, const phase_timeouts& t) {
        asio::ssl::context* tls = nullptr;
        if (o.tls) {
            auto made = co_await tls_context();
            if (!made) {
                co_return made.error();
            }
            tls = *made;
        }
        const bool via_proxy = cfg.proxy && !cfg.proxy->bypass(o.host);
        const std::string& host = via_proxy ? cfg.proxy->host : o.host;
        const std::uint16_t port = via_proxy ? cfg.proxy->port : o.port;

        auto endpoints = co_await resolve(host, port, t.resolve);
        if (!endpoints) {
            co_return endpoints.error();
        }
        auto tcp_stream = std::make_unique<beast::tcp_stream>(ex);
        tcp_stream->expires_after(t.connect);
        auto [ec, ep] = co_await tcp_stream->async_connect(*endpoints, tuple_awaitable);
        (void)ep;
        if (ec == beast::error::timeout) {
            co_return make_failure(errc::connect_timeout, host + ":" + std::to_string(port));
        }
        if (ec == asio::error::connection_refused) {
            co_return make_failure(errc::connect_refused, host + ":" + std::to_string(port));
        }
        if (ec == asio::error::operation_aborted) {
            co_return make_failure(errc::cancelled, "connect cancelled");
        }
        if (ec) {
            co_return make_failure(errc::connect_failed,
                                   host + ":" + std::to_string(port) + ": " + ec.message());
        }
        tcp_stream->socket().set_option(tcp::no_delay(true));
        if (via_proxy) {
            auto tunneled = co_await tunnel(*tcp_stream, o, t);
            if (!tunneled) {
                co_return tunneled.error();
            }
        }
        auto c = std::make_unique<connection>();
        c->where = o;
        c->buffer.reserve(read_buffer_bytes);
        if (!o.tls) {
            c->plain = std::move(tcp_stream);
            co_return c;
        }
        c->secure = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(std::move(*tcp_stream), *tls);
        SSL* native = c->secure->native_handle();
        // SNI, and OpenSSL's own host name (or IP) check during chain verification.
        SSL_set_tlsext_host_name(native, o.host.c_str());
        if (cfg.tls.verify_peer) {
            error_code addr_ec;
            asio::ip::make_address(o.host, addr_ec);
            if (addr_ec) {
                SSL_set1_host(native, o.host.c_str());
            } else {
                X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(native), o.host.c_str());
            }
        }
        beast::get_lowest_layer(*c->secure).expires_after(t.tls_handshake);
        auto [hec] = co_await c->secure->async_handshake(asio::ssl::stream_base::client, tuple_awaitable);
        if (hec) {
            const long verify = SSL_get_verify_result(native);
            if (hec == beast::error::timeout) {
                co_return make_failure(errc::tls_handshake_timeout, o.host);
            }
            if (verify != X509_V_OK) {
                co_return make_failure(errc::tls_verify_failed,
                                       o.host + ": " + X509_verify_cert_error_string(verify));
            }
            co_return make_failure(errc::tls_failed, o.host + ": " + hec.message());
        }
        co_return c;
    }

    // The request head as HTTP/1.1 text, written into `head` (whose capacity a connection keeps
    // from one request to the next): the caller's headers, Host for the URL, the client's
    // User-Agent unless the caller set one, and the body's Content-Length (none for an empty GET,
    // as Beast's prepare_payload does). Written by hand: Beast's serializer cost ~20k
    // instructions a request for a few dozen bytes of text. False when a header would break the
    // framing (a CR, LF or NUL in a name or value): the request is not sent.
    bool write_head(std::string& head, const request& req, const url_parts& u) const {
        const auto clean = [](std::string_view text) {
            return text.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
        };
        head.clear();
        const auto method = http::to_string(req.method);
        head.append(method.data(), method.size()).append(" ").append(u.target).append(" HTTP/1.1\r\n");
        bool agent = false;
        bool typed = false;
        for (const auto& field : req.headers) {
            const auto name = field.name_string();
            const auto value = field.value();
            if (!clean({name.data(), name.size()}) || !clean({value.data(), value.size()})) {
                return false;
            }
            const auto known = field.name();
            if (known == http::field::host || known == http::field::content_length ||
                known == http::field::transfer_encoding) {
                continue; // the URL and the body say these
            }
            agent = agent || known == http::field::user_agent;
            typed = typed || known == http::field::content_type;
            head.append(name.data(), name.size())
                .append(": ")
                .append(value.data(), value.size())
                .append("\r\n");
        }
        if (!typed && !req.content_type.empty()) {
            if (!clean(req.content_type)) {
                return false;
            }
            head.append("Content-Type: ").append(req.content_type).append("\r\n");
        }
        head.append("Host: ").append(u.where.host_header()).append("\r\n");
        if (!agent) {
            head.append("User-Agent: ").append(cfg.user_agent).append("\r\n");
        }
        const bool sends_body = !req.body.empty() || req.method == http::verb::post ||
                                req.method == http::verb::put || req.method == http::verb::patch;
        if (sends_body) {
            head.append("Content-Length: ").append(std::to_string(req.body.size())).append("\r\n");
        }
        head.append("\r\n");
        return true;
    }

    // Writes `req` on `c`. Returns the outcome to give up with when that failed (stale when a
    // reused connection turned out dead), else nullopt.
    template <class Stream>
    engine::awaitable<std::optional<exchange_outcome>>
    write_request(Stream& s, connection& c, const request& req, const url_parts& u, const phase_timeouts& t) {
        if (!write_head(c.head, req, u)) {
            co_return exchange_outcome{
                make_failure(errc::bad_request, "a header holds a line break or a NUL", false),
                false,
                false};
        }
        c.lowest().expires_after(t.write);
        const std::array<asio::const_buffer, 2> bytes{asio::buffer(c.head), asio::buffer(req.body)};
        // The byte count is all of them when there is no error (async_write's contract).
        [[maybe_unused]] auto [wec, wn] = co_await asio::async_write(s, bytes, tuple_awaitable);
        if (!wec) {
            co_return std::nullopt;
        }
        const bool stale = c.uses > 0 && is_reset(wec);
        if (wec == beast::error::timeout) {
            co_return exchange_outcome{make_failure(errc::write_timeout, u.where.host, true), false, stale};
        }
        if (wec == asio::error::operation_aborted) {
            co_return exchange_outcome{make_failure(errc::cancelled, "request cancelled", true),
                                       false,
                                       stale};
        }
        // A failed write never delivered the whole request.
        co_return exchange_outcome{make_failure(errc::connection_reset, "write: " + wec.message(), false),
                                   false,
                                   stale};
    }

    // Reads the response header into `parser` within the header deadline. Returns the outcome to
    // give up with when that failed, else nullopt.
    template <class Stream, class Parser>
    engine::awaitable<std::optional<exchange_outcome>> read_response_header(Stream& s,
                                                                            connection& c,
                                                                            Parser& parser,
                                                                            const url_parts& u,
                                                                            const phase_timeouts& t) {
        c.lowest().expires_after(t.response_header);
        const auto buffered_before = c.buffer.size();
        auto [hec, hn] = co_await http::async_read_header(s, c.buffer, parser, tuple_awaitable);
        if (!hec) {
            co_return std::nullopt;
        }
        exchange_outcome out{read_failure(hec, false, u.where.host), false, false};
        out.stale = c.uses > 0 && buffered_before == 0 && hn == 0 && is_reset(hec);
        co_return out;
    }

    template <class Stream>
    engine::awaitable<exchange_outcome>
    exchange(Stream& s, connection& c, const request& req, const url_parts& u, const phase_timeouts& t) {
        // Every request's frame: kept under asio's recycling limit (1,020 bytes), so it is reused
        // rather than allocated. One outcome serves both early exits, and the response is built
        // by answer_of() on the stack, not in the frame.
        auto early = co_await write_request(s, c, req, u, t);
        if (early) {
            co_return std::move(*early);
        }
        http::response_parser<http::string_body> parser;
        parser.header_limit(static_cast<std::uint32_t>(cfg.header_limit));
        parser.body_limit(req.body_limit != 0 ? req.body_limit : cfg.body_limit);
        if (req.method == http::verb::head) {
            parser.skip(true);
        }
        early = co_await read_response_header(s, c, parser, u, t);
        if (early) {
            co_return std::move(*early);
        }
        c.lowest().expires_after(t.body);
        // The body's size is the parser's to check (body_limit); the byte count adds nothing.
        [[maybe_unused]] auto [bec, bn] = co_await http::async_read(s, c.buffer, parser, tuple_awaitable);
        if (bec) {
            co_return exchange_outcome{read_failure(bec, true, u.where.host), false, false};
        }
        c.lowest().expires_never();
        co_return answer_of(parser, c);
    }

    /// The response a finished parse holds, moved out of the parser.
    static exchange_outcome answer_of(http::response_parser<http::string_body>& parser, const connection& c) {
        auto& msg_in = parser.get();
        response r;
        r.status = msg_in.result_int();
        r.headers = std::move(static_cast<http::fields&>(msg_in)); // the parse is done: no copy
        r.body = std::move(msg_in.body());
        r.reused_connection = c.uses > 0;
        // The parser's answer, not the message's: a body that ended with the connection leaves
        // nothing to reuse, whatever the Connection header said.
        return exchange_outcome{std::move(r), parser.keep_alive(), false};
    }

    // stream()'s exchange: the header as exchange() reads it, then the body piece by piece, each
    // read within `idle` (a 2xx only) and all of them within the body deadline.
    template <class Stream>
    engine::awaitable<exchange_outcome> stream_exchange(Stream& s,
                                                        connection& c,
                                                        const request& req,
                                                        const url_parts& u,
                                                        const phase_timeouts& t,
                                                        const std::function<bool(std::string_view)>& on_body,
                                                        engine::duration idle) {
        auto unsent = co_await write_request(s, c, req, u, t);
        if (unsent) {
            co_return std::move(*unsent);
        }
        http::response_parser<http::buffer_body> parser;
        parser.header_limit(static_cast<std::uint32_t>(cfg.header_limit));
        parser.body_limit(req.body_limit != 0 ? req.body_limit : cfg.body_limit);
        if (req.method == http::verb::head) {
            parser.skip(true);
        }
        auto headless = co_await read_response_header(s, c, parser, u, t);
        if (headless) {
            co_return std::move(*headless);
        }
        response r;
        r.status = parser.get().result_int();
        r.headers = parser.get().base();
        r.reused_connection = c.uses > 0;
        const bool deliver = r.ok();
        // Not eager: an eager parser goes on past a chunk's data into the next chunk's header and
        // waits for it inside the read, holding back the data it already has.
        const auto body_deadline = clock::now() + t.body;
        std::array<char, 16 * 1024> piece{};
        while (!parser.is_done()) {
            parser.get().body().data = piece.data();
            parser.get().body().size = piece.size();
            const auto left = body_deadline - clock::now();
            const bool idle_first = deliver && idle < left;
            error_code ec;
            if (left > engine::duration::zero()) {
                c.lowest().expires_after(idle_first ? idle : left);
                // The count includes framing; the piece's own size is read from the body below.
                std::tie(ec, std::ignore) =
                    co_await http::async_read_some(s, c.buffer, parser, tuple_awaitable);
                if (ec == http::error::need_buffer) {
                    ec = {}; // the piece is full: hand it over, then read on
                }
            } else {
                ec = beast::error::timeout;
            }
            if (ec == beast::error::timeout) {
                const auto ms = [](engine::duration d) {
                    return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
                };
                co_return exchange_outcome{
                    make_failure(errc::body_timeout,
                                 idle_first ? u.where.host + ": no body bytes for " + ms(idle) +
                                                  " ms (the idle deadline between pieces)"
                                            : u.where.host + ": the body took longer than its " + ms(t.body) +
                                                  " ms deadline",
                                 true),
                    false,
                    false};
            }
            if (ec) {
                co_return exchange_outcome{read_failure(ec, true, u.where.host), false, false};
            }
            const std::size_t got = piece.size() - parser.get().body().size;
            if (got == 0) {
                continue; // framing only (a chunk header)
            }
            if (!deliver) {
                r.body.append(piece.data(), got);
            } else if (!on_body(std::string_view(piece.data(), got))) {
                // The caller wants no more: the rest of the body is never read, so the
                // connection cannot carry another request.
                c.lowest().expires_never();
                co_return exchange_outcome{std::move(r), false, false};
            }
        }
        c.lowest().expires_never();
        // keep_alive is false for a close-delimited body, as in exchange().
        co_return exchange_outcome{std::move(r), parser.keep_alive(), false};
    }

    engine::awaitable<exchange_outcome> stream_on(connection& c,
                                                  const request& req,
                                                  const url_parts& u,
                                                  const phase_timeouts& t,
                                                  const std::function<bool(std::string_view)>& on_body,
                                                  engine::duration idle) {
        // Not a coroutine (no frame of its own): the caller awaits the exchange at once, while
        // everything it refers to is alive.
        if (c.secure) {
            return stream_exchange(*c.secure, c, req, u, t, on_body, idle);
        }
        return stream_exchange(*c.plain, c, req, u, t, on_body, idle);
    }

    // A checked-out connection that gives its pool slot back however the exchange ends: closed
    // unless handed back to the pool with keep(). An exception (from a caller's body handler, or
    // a cancelled coroutine's next await) must not leak the slot.
    struct lease {
        impl& owner;
        pool& p;
        std::unique_ptr<connection> c;

        lease(impl& o, pool& pl, std::unique_ptr<connection> conn) : owner(o), p(pl), c(std::move(conn)) {}
        lease(const lease&) = delete;
        lease& operator=(const lease&) = delete;
        ~lease() { close(); }
        void keep() { owner.release(p, std::move(c)); }
        void close() {
            if (c) {
                c->close();
                c.reset();
                owner.release(p, nullptr);
            }
        }
    };

    /// One request's attempts: a connection from the pool, the exchange `run` makes on it, and
    /// one more on a fresh connection when a pooled one turned out stale and the request may be
    /// sent again (replayable, or certainly not delivered).
    template <class Run>
    engine::awaitable<result<response>> attempts(request req, Run run) {
        auto parts = urls.parse(req.url);
        if (!parts) {
            co_return parts.error();
        }
        const phase_timeouts t = req.timeouts.value_or(cfg.timeouts);
        pool& p = pool_for(parts->where);
        const bool replayable = req.replayable
                                    ? *req.replayable == replay::safe
                                    : (req.method == http::verb::get || req.method == http::verb::head);
        p.requests.inc();
        const auto started = clock::now();

        for (int attempt = 0;; ++attempt) {
            auto checked_out = co_await checkout(p, parts->where, t, attempt > 0);
            if (!checked_out) {
                co_return checked_out.error();
            }
            lease held(*this, p, std::move(*checked_out));
            auto out = co_await run(req, *held.c, *parts, t);
            ++held.c->uses;
            if (out.r) {
                if (out.keep_alive) {
                    held.keep();
                } else {
                    held.close();
                }
                p.latency.observe(std::chrono::duration<double>(clock::now() - started).count());
                co_return std::move(out.r);
            }
            held.close();
            const bool not_delivered = !out.r.error().request_sent;
            if (attempt == 0 && out.stale && (replayable || not_delivered)) {
                engine::log().debug("http.stale_connection_retry", {{"origin", p.origin_key}});
                continue;
            }
            count_error(p, out.r.error());
            co_return out.r.error();
        }
    }

    engine::awaitable<exchange_outcome>
    exchange_on(connection& c, const request& req, const url_parts& u, const phase_timeouts& t) {
        // Not a coroutine, as stream_on.
        if (c.secure) {
            return exchange(*c.secure, c, req, u, t);
        }
        return exchange(*c.plain, c, req, u, t);
    }

    engine::executor ex;
    client_config cfg;
    url_cache urls;
    std::unique_ptr<asio::ssl::context> ssl; ///< made by tls_context()
    bool making_tls = false;
    engine::event tls_made;
    tcp::resolver resolver;
    std::unordered_map<std::string, std::unique_ptr<pool>> pools;
    std::unordered_map<std::string, dns_entry> dns;
};

http_client::http_client(engine::executor ex, client_config cfg)
    : impl_(std::make_unique<impl>(std::move(ex), std::move(cfg))) {}

http_client::~http_client() = default;

const client_config& http_client::config() const noexcept {
    return impl_->cfg;
}

void http_client::close_idle() {
    for (auto& [key, p] : impl_->pools) {
        for (auto& c : p->idle) {
            c->close();
            --p->open;
        }
        p->idle.clear();
        p->size.set(static_cast<double>(p->open));
    }
}

bool http_client::tls_ready() const noexcept {
    return impl_->ssl != nullptr;
}

std::size_t http_client::open_connections() const noexcept {
    std::size_t n = 0;
    for (const auto& [key, p] : impl_->pools) {
        n += p->open;
    }
    return n;
}

std::size_t http_client::idle_connections() const noexcept {
    std::size_t n = 0;
    for (const auto& [key, p] : impl_->pools) {
        n += p->idle.size();
    }
    return n;
}

// send() and stream() are not coroutines: attempts() owns the request (and stream()'s handler) in
// its own frame, so a call costs no frame beyond the ones that do the work.
engine::awaitable<result<response>> http_client::send(request req) {
    auto& d = *impl_;
    auto run = [&d](const request& r, connection& c, const url_parts& u, const phase_timeouts& t) {
        return d.exchange_on(c, r, u, t);
    };
    return d.attempts(std::move(req), run);
}

engine::awaitable<result<response>>
http_client::stream(request req, std::function<bool(std::string_view)> on_body, engine::duration idle) {
    auto& d = *impl_;
    // Only failures before any response byte are stale (attempts() retries those), so the
    // caller's handler has seen nothing of a request that is sent again.
    auto run = [&d,
                on_body = std::move(on_body),
                idle](const request& r, connection& c, const url_parts& u, const phase_timeouts& t) {
        return d.stream_on(c, r, u, t, on_body, idle);
    };
    return d.attempts(std::move(req), std::move(run));
}

namespace {

// A download's file: streamed through the engine's one crash-safe writer (engine/atomic_file.hpp:
// a temporary beside the destination, fsync, rename, folder fsync), with its SHA-256 computed on
// the way. Chunks gather in memory and are written a mebibyte at a time, so the disk writes (and
// the commit's fsyncs) can run on the offload pool instead of the loop.
class download_file {
public:
    static constexpr std::size_t flush_bytes = std::size_t{1024} * 1024;

    explicit download_file(engine::atomic_file file) : file_(std::move(file)), ctx_(EVP_MD_CTX_new()) {
        if (ctx_ == nullptr || EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr) != 1) {
            EVP_MD_CTX_free(ctx_);
            throw std::runtime_error("EVP sha256 init failed");
        }
        pending_.reserve(flush_bytes);
    }
    ~download_file() { EVP_MD_CTX_free(ctx_); }
    download_file(const download_file&) = delete;
    download_file& operator=(const download_file&) = delete;

    void append(const char* data, std::size_t n) {
        if (EVP_DigestUpdate(ctx_, data, n) != 1) {
            throw std::runtime_error("EVP sha256 update failed");
        }
        pending_.append(data, n);
    }

    bool flush_due() const noexcept { return pending_.size() >= flush_bytes; }

    /// Writes what has gathered. Blocks on the disk.
    engine::file_result<void> flush() {
        auto written = file_.write(pending_);
        pending_.clear();
        return written;
    }

    /// Writes the rest, then fsync, rename and folder fsync. Blocks on the disk.
    engine::file_result<void> finish() {
        if (auto flushed = flush(); !flushed) {
            return flushed;
        }
        return file_.commit();
    }

    std::string digest_hex() {
        std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
        unsigned int len = 0;
        if (EVP_DigestFinal_ex(ctx_, md.data(), &len) != 1) {
            throw std::runtime_error("EVP sha256 final failed");
        }
        return hex(md.data(), len);
    }

private:
    engine::atomic_file file_;
    EVP_MD_CTX* ctx_;
    std::string pending_;
};

/// Runs blocking file work on `pool` when there is one (else inline) and returns its result.
template <class F>
engine::awaitable<std::invoke_result_t<F&>> run_blocking(engine::offload_pool* pool, F work) {
    if (pool == nullptr) {
        co_return work();
    }
    auto out = co_await pool->run(std::move(work));
    co_return out;
}

bool is_redirect(unsigned status) {
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

} // namespace

engine::awaitable<result<download_result>> http_client::download(download_request req) {
    auto& d = *impl_;
    const phase_timeouts t = req.timeouts.value_or(d.cfg.timeouts);
    std::string url = req.url;
    http::fields headers = req.headers;
    std::optional<origin> first_origin;
    download_result out;

    for (int hop = 0;; ++hop) {
        auto parts = parse_url(url);
        if (!parts) {
            co_return parts.error();
        }
        if (!first_origin) {
            first_origin = parts->where;
        } else if (parts->where.host != first_origin->host) {
            // Credentials are for the first host only (a CDN's signed URL needs none).
            headers.erase(http::field::authorization);
            headers.erase("x-goog-api-key");
        }
        pool& p = d.pool_for(parts->where);
        p.requests.inc();
        auto checked_out = co_await d.checkout(p, parts->where, t, false);
        if (!checked_out) {
            co_return checked_out.error();
        }
        std::unique_ptr<connection> c = std::move(*checked_out);
        // Downloads read with a buffer body, so they use their own exchange.
        http::request<http::empty_body> msg{http::verb::get, parts->target, 11};
        for (const auto& field : headers) {
            msg.set(field.name_string(), field.value());
        }
        msg.set(http::field::host, parts->where.host_header());
        msg.set(http::field::user_agent, d.cfg.user_agent);
        msg.keep_alive(true);

        auto fail = [&](errc e, std::string detail) {
            c->close();
            d.release(p, nullptr);
            auto f = make_failure(e, detail, true);
            d.count_error(p, f);
            return f;
        };

        c->lowest().expires_after(t.write);
        error_code wec;
        if (c->secure) {
            std::tie(wec, std::ignore) = co_await http::async_write(*c->secure, msg, tuple_awaitable);
        } else {
            std::tie(wec, std::ignore) = co_await http::async_write(*c->plain, msg, tuple_awaitable);
        }
        if (wec) {
            co_return fail(wec == beast::error::timeout ? errc::write_timeout : errc::connection_reset,
                           wec.message());
        }

        http::response_parser<http::buffer_body> parser;
        parser.header_limit(static_cast<std::uint32_t>(d.cfg.header_limit));
        parser.body_limit(req.max_bytes);
        c->lowest().expires_after(t.response_header);
        error_code hec;
        if (c->secure) {
            std::tie(hec, std::ignore) =
                co_await http::async_read_header(*c->secure, c->buffer, parser, tuple_awaitable);
        } else {
            std::tie(hec, std::ignore) =
                co_await http::async_read_header(*c->plain, c->buffer, parser, tuple_awaitable);
        }
        if (hec == http::error::body_limit) {
            co_return fail(errc::body_too_large,
                           "download exceeds " + std::to_string(req.max_bytes) + " bytes");
        }
        if (hec) {
            co_return fail(hec == beast::error::timeout ? errc::response_timeout : errc::connection_reset,
                           hec.message());
        }
        const unsigned status = parser.get().result_int();
        const bool redirect = is_redirect(status);
        const bool success = status >= 200 && status < 300;
        std::string location = std::string(parser.get()[http::field::location]);
        out.content_type = std::string(parser.get()[http::field::content_type]);

        std::optional<download_file> file;
        if (success) {
            if (req.path.has_parent_path()) {
                std::error_code mk; // a folder that cannot be made fails the create just below
                std::filesystem::create_directories(req.path.parent_path(), mk);
            }
            auto created = engine::atomic_file::create(req.path);
            if (!created) {
                co_return fail(errc::file_error, created.error().message());
            }
            file.emplace(std::move(*created));
        }
        std::string error_body;
        std::array<char, std::size_t{64} * 1024> chunk{};
        std::size_t received = 0;
        c->lowest().expires_after(t.body); // one deadline for the whole body
        while (!parser.is_done()) {
            parser.get().body().data = chunk.data();
            parser.get().body().size = chunk.size();
            error_code rec;
            if (c->secure) {
                std::tie(rec, std::ignore) =
                    co_await http::async_read(*c->secure, c->buffer, parser, tuple_awaitable);
            } else {
                std::tie(rec, std::ignore) =
                    co_await http::async_read(*c->plain, c->buffer, parser, tuple_awaitable);
            }
            if (rec == http::error::need_buffer) {
                rec = {};
            }
            if (rec) {
                if (rec == http::error::body_limit) {
                    co_return fail(errc::body_too_large,
                                   "download exceeds " + std::to_string(req.max_bytes) + " bytes");
                }
                co_return fail(rec == beast::error::timeout ? errc::body_timeout : errc::connection_reset,
                               rec.message());
            }
            const std::size_t n = chunk.size() - parser.get().body().size;
            received += n;
            if (file) {
                file->append(chunk.data(), n);
                if (file->flush_due()) {
                    auto flush = [&f = *file] { return f.flush(); };
                    auto flushed = co_await run_blocking(d.cfg.offload, std::move(flush));
                    if (!flushed) {
                        co_return fail(errc::file_error, flushed.error().message());
                    }
                }
            } else if (error_body.size() < 4096) {
                error_body.append(chunk.data(), std::min<std::size_t>(n, 4096 - error_body.size()));
            }
        }
        c->lowest().expires_never();
        ++c->uses;
        if (parser.keep_alive()) {
            d.release(p, std::move(c));
        } else {
            c->close();
            d.release(p, nullptr);
        }

        if (redirect) {
            if (location.empty()) {
                co_return make_failure(errc::bad_response, "redirect without Location", true);
            }
            if (hop + 1 > req.max_redirects) {
                co_return make_failure(errc::too_many_redirects,
                                       std::to_string(hop + 1) + " redirects",
                                       true);
            }
            auto base = boost::urls::parse_uri(url);
            auto ref = boost::urls::parse_uri_reference(location);
            if (!base || !ref) {
                co_return make_failure(errc::bad_response, "unparsable redirect Location", true);
            }
            boost::urls::url next;
            auto resolved = boost::urls::resolve(*base, *ref, next);
            if (!resolved) {
                co_return make_failure(errc::bad_response, "unresolvable redirect Location", true);
            }
            url = std::string(next.buffer());
            ++out.redirects;
            continue;
        }
        if (!success) {
            auto f = make_failure(errc::http_status, "download", true);
            f.status = status;
            f.body = engine::secrets().redact(error_body);
            d.count_error(p, f);
            co_return f;
        }
        // The last writes, fsync, rename and folder fsync off the loop when an offload pool is
        // set: an fsync can take a second.
        auto finish = [&f = *file] { return f.finish(); };
        auto finished = co_await run_blocking(d.cfg.offload, std::move(finish));
        if (!finished) {
            co_return make_failure(errc::file_error, finished.error().message(), true);
        }
        out.sha256_hex = file->digest_hex();
        out.path = req.path;
        out.bytes = received;
        co_return out;
    }
}

} // namespace companion::net
