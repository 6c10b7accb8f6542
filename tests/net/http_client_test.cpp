// Component tests of net/http_client against net/http_server over loopback: keep-alive and the
// pool, fairness, stale connections, deadlines by phase, limits, wire faults, downloads with
// redirects, the CONNECT proxy, metrics, and redaction of secrets.
#include "engine/metrics.hpp"
#include "engine/time.hpp"
#include "net/http_client.hpp"
#include "net/http_server.hpp"
#include "tests/net/net_test_support.hpp"
#include "tests/net/test_certs.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <boost/test/unit_test.hpp>

#include <openssl/evp.h>

#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

using namespace companion;
using namespace companion::net;
using namespace std::chrono_literals;
using engine::awaitable;

namespace {

std::string sha256_hex(const std::string& data) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (unsigned i = 0; i < len; ++i) {
        out.push_back(digits[md[i] >> 4]);
        out.push_back(digits[md[i] & 0x0F]);
    }
    return out;
}

// A test server with routes for every behaviour the client must handle.
struct test_server {
    explicit test_server(engine::executor ex, server_config cfg = {}) : server(ex, std::move(cfg)) {
        server.route(http::verb::get, "/hello", [](server_request&) -> awaitable<server_response> {
            co_return text_response(200, "hi");
        });
        server.route(http::verb::post, "/echo", [](server_request& r) -> awaitable<server_response> {
            auto resp = text_response(200, r.msg.body());
            resp.msg.set("x-content-type", r.header("Content-Type"));
            co_return resp;
        });
        server.route(http::verb::get, "/slow", [this](server_request&) -> awaitable<server_response> {
            ++in_flight;
            max_in_flight = std::max(max_in_flight, in_flight);
            co_await engine::sleep(slow_delay);
            --in_flight;
            co_return text_response(200, "slow");
        });
        server.route(http::verb::get, "/big", [this](server_request&) -> awaitable<server_response> {
            co_return text_response(200, std::string(big_size, 'x'));
        });
        server.route_prefix("/fault/", [this](server_request& r) -> awaitable<server_response> {
            auto resp = text_response(200, std::string(4000, 'y'));
            const std::string_view kind = r.path().substr(7);
            if (kind == "reset") {
                resp.fault.what = response_fault::kind::reset;
            } else if (kind == "mid") {
                resp.fault.what = response_fault::kind::reset_mid_body;
            } else if (kind == "slow") {
                resp.fault.what = response_fault::kind::slow_body;
                resp.fault.delay = slow_delay;
            } else if (kind == "garbage") {
                resp.fault.what = response_fault::kind::raw;
                resp.fault.raw_bytes = "this is not HTTP at all\r\n\r\n";
            }
            co_return resp;
        });
        server.route(http::verb::get, "/file", [this](server_request& r) -> awaitable<server_response> {
            file_auth_seen = r.header("Authorization");
            file_key_seen = r.header("x-goog-api-key");
            auto resp = text_response(200, file_body, "video/mp4");
            co_return resp;
        });
        server.route(http::verb::get, "/redirect", [this](server_request&) -> awaitable<server_response> {
            auto resp = text_response(302, "");
            resp.msg.set(http::field::location, redirect_to);
            co_return resp;
        });
        server.route(http::verb::get, "/loop", [](server_request&) -> awaitable<server_response> {
            auto resp = text_response(302, "");
            resp.msg.set(http::field::location, "/loop");
            co_return resp;
        });
        const auto seen = [this](server_request& r) -> awaitable<server_response> {
            ++seen_requests;
            // What a server parsed of the request head, field by field ("-": absent).
            const auto field = [&](http::field f) {
                const auto it = r.msg.find(f);
                return it == r.msg.end() ? std::string("-") : std::string(it->value());
            };
            const auto custom = r.msg.find("X-Custom");
            co_return text_response(
                200,
                std::string(r.msg.method_string()) + " host=" + field(http::field::host) +
                    " ua=" + field(http::field::user_agent) + " len=" + field(http::field::content_length) +
                    " x=" + (custom == r.msg.end() ? std::string("-") : std::string(custom->value())) +
                    " body=" + r.msg.body());
        };
        server.route(http::verb::get, "/seen", seen);
        server.route(http::verb::post, "/seen", seen);
        server.route(http::verb::get, "/missing", [](server_request&) -> awaitable<server_response> {
            co_return json_response(404, R"({"error":{"message":"no such video"}})");
        });
    }

    std::string url(std::string_view path) const { return server.base_url() + std::string(path); }

    http_server server;
    int in_flight = 0;
    int max_in_flight = 0;
    engine::duration slow_delay = 50ms;
    std::size_t big_size = 100'000;
    std::string file_body;
    std::string file_auth_seen;
    std::string file_key_seen;
    std::string redirect_to;
    int seen_requests = 0;
};

struct fixture {
    boost::asio::io_context ioc{1};
    engine::executor ex = ioc.get_executor();
    test::log_capture logs;
};

awaitable<result<response>>
get(http_client& c, std::string url, std::optional<phase_timeouts> t = std::nullopt) {
    request r;
    r.url = std::move(url);
    r.timeouts = t;
    auto out = co_await c.send(std::move(r));
    co_return out;
}

} // namespace

BOOST_AUTO_TEST_SUITE(http_client_suite)

BOOST_FIXTURE_TEST_CASE(keep_alive_reuses_one_connection, fixture) {
    test::run_test(ioc, [&]() -> awaitable<void> {
        test_server s(ex);
        BOOST_TEST_REQUIRE(s.server.start().has_value());
        http_client c(ex, {.name = "t"});
        for (int i = 0; i < 10; ++i) {
            auto r = co_await get(c, s.url("/hello"));
            BOOST_TEST_REQUIRE(r.has_value());
            BOOST_TEST(r->status == 200U);
            BOOST_TEST(r->body == "hi");
            BOOST_TEST(r->reused_connection == (i > 0));
        }
        BOOST_TEST(c.open_connections() == 1U);
        BOOST_TEST(c.idle_connections() == 1U);
        request post;
        post.method = http::verb::post;
        post.url = s.url("/echo");
        post.headers.set(http::field::content_type, "application/json");
        post.body = R"({"a":1})";
        auto e = co_await c.send(std::move(post));
        BOOST_TEST_REQUIRE(e.has_value());
        BOOST_TEST(e->body == R"({"a":1})");
        BOOST_TEST(e->header("x-content-type") == "application/json");
        // The fixed Content-Type of a hot call goes out the same way; a header set in `headers`
        // wins over it, and one with a line break is refused before anything is written.
        const std::pair<std::string_view, std::string_view> typed[] = {{"text/plain", ""},
                                                                       {"text/plain", "application/xml"}};
        for (const auto& [fixed, explicit_type] : typed) {
            request p;
            p.method = http::verb::post;
            p.url = s.url("/echo");
            p.content_type = fixed;
            if (!explicit_type.empty()) {
                p.headers.set(http::field::content_type, explicit_type);
            }
            p.body = "x";
            auto typed_answer = co_await c.send(std::move(p));
            BOOST_TEST_REQUIRE(typed_answer.has_value());
            BOOST_TEST(typed_answer->header("x-content-type") ==
                       (explicit_type.empty() ? fixed : explicit_type));
        }
        request broken;
        broken.method = http::verb::post;
        broken.url = s.url("/echo");
        broken.content_type = "text/plain\r\nX-Injected: 1";
        broken.body = "x";
        auto refused = co_await c.send(std::move(broken));
        BOOST_TEST_REQUIRE(!refused.has_value());
        BOOST_TEST((refused.error().code == make_error_code(errc::bad_request)));
        co_await s.server.stop();
    }());
}

BOOST_FIXTURE_TEST_CASE(pool_limit_caps_connections_and_serves_waiters_in_arrival_order, fixture) {
    test::run_test(ioc, [&]() -> awaitable<void> {
        test_server s(ex);
        BOOST_TEST_REQUIRE(s.server.start().has_value());
        http_client c(ex, {.max_connections_per_origin = 2, .name = "t"});
        std::vector<int> finished;
        engine::task_group g(ex);
        for (int i = 0; i < 6; ++i) {
            BOOST_TEST(
                g.spawn([](http_client& cl, std::string u, std::vector<int>& f, int id) -> awaitable<void> {
                    auto r = co_await get(cl, u);
                    BOOST_TEST(r.has_value());
                    f.push_back(id);
                }(c, s.url("/slow"), finished, i)));
        }
        co_await g.join();
        BOOST_TEST(s.max_in_flight == 2);
        BOOST_TEST(c.open_connections() == 2U);
        BOOST_TEST_REQUIRE(finished.size() == 6U);
        // FIFO hand-off: the first two finish first, then the next two, then the last two.
        auto batch = [&](int id) { return id / 2; };
        for (std::size_t i = 1; i < finished.size(); ++i) {
            BOOST_TEST(batch(finished[i - 1]) <= batch(finished[i]));
        }
        co_await s.server.stop();
    }());
}

BOOST_FIXTURE_TEST_CASE(stale_pooled_connection_is_retried_once_for_a_safe_request, fixture) {
    test::run_test(ioc, [&]() -> awaitable<void> {
        test_server s(ex, {.idle_timeout = 30ms, .name = "closer"});
        BOOST_TEST_REQUIRE(s.server.start().has_value());
        http_client c(ex, {.idle_timeout = 60s, .name = "t"});
        auto first = co_await get(c, s.url("/hello"));
        BOOST_TEST_REQUIRE(first.has_value());
        co_await engine::sleep(120ms); // the server closes the idle connection
        auto second = co_await get(c, s.url("/hello"));
        BOOST_TEST_REQUIRE(second.has_value());
        BOOST_TEST(second->body == "hi");
        BOOST_TEST(!second->reused_connection); // served on a fresh connection after the retry

        co_await engine::sleep(120ms);
        request post;
        post.method = http::verb::post;
        post.url = s.url("/echo");
        post.body = "sendMessage";
        auto third = co_await c.send(std::move(post)); // not replayable: no silent resend
        if (!third.has_value()) {
            BOOST_TEST((third.error().code == make_error_code(errc::connection_reset)));
        }
        co_await s.server.stop();
    }());
}

BOOST_FIXTURE_TEST_CASE(a_retry_on_a_fresh_connection_at_the_pool_limit_takes_an_idle_ones_place, fixture) {
    test::run_test(ioc, [&]() -> awaitable<void> {
        test_server s(ex, {.idle_timeout = 30ms, .name = "closer"});
        BOOST_TEST_REQUIRE(s.server.start().has_value());
        http_client c(ex, {.max_connections_per_origin = 1, .idle_timeout = 60s, .name = "t"});
        auto first = co_await get(c, s.url("/hello"));
        BOOST_TEST_REQUIRE(first.has_value());
        co_await engine::sleep(120ms); // the server closes the idle connection
        // The first request meets the stale connection and must retry on a fresh one; the second
        // waits for the one slot, gets it from the first's failure, and leaves its connection idle
        // in the pool. The retry then finds the slot held by an idle connection: it takes its
        // place (it used to wait for a release that never came, and everything queued behind it).
        std::vector<std::string> bodies;
        engine::task_group g(ex);
        for (const char* path : {"/hello", "/slow"}) {
            BOOST_TEST(
                g.spawn([](http_client& cl, std::string u, std::vector<std::string>& out) -> awaitable<void> {
                    auto r = co_await get(cl, u);
                    BOOST_TEST_REQUIRE(r.has_value());
                    out.push_back(r->body);
                }(c, s.url(path), bodies)));
        }
        co_await g.join();
        BOOST_TEST(bodies.size() == 2U);
        BOOST_TEST(c.open_connections() == 1U);
        auto after = co_await get(c, s.url("/hello")); // the pool still serves
        BOOST_TEST(after.has_value());
        co_await s.server.stop();
    }());
}

BOOST_FIXTURE_TEST_CASE(each_phase_has_its_own_typed_deadline, fixture) {
    test::run_test(ioc, [&]() -> awaitable<void> {
        test_server s(ex);
        s.slow_delay = 300ms;
        BOOST_TEST_REQUIRE(s.server.start().has_value());
        http_client c(ex, {.name = "t"});
        phase_timeouts header_tight{};
        header_tight.response_header = 50ms;
        auto r = co_await get(c, s.url("/slow"), header_tight);
        BOOST_TEST_REQUIRE(!r.has_value());
        BOOST_TEST((r.error().code == make_error_code(errc::response_timeout)));
        BOOST_TEST(r.error().request_sent);

        s.slow_delay = 100ms;
        phase_timeouts body_tight{};
        body_tight.body = 150ms;
        auto b = co_await get(c, s.url("/fault/slow"), body_tight);
        BOOST_TEST_REQUIRE(!b.has_value());
        BOOST_TEST((b.error().code == make_error_code(errc::body_timeout)));

        s.slow_delay = 5ms;
        auto ok = co_await get(c, s.url("/fault/slow"));
        BOOST_TEST_REQUIRE(ok.has_value());
        BOOST_TEST(ok->body == std::string(4000, 'y'));
        co_await s.server.stop();
    }());
}

BOOST_FIXTURE_TEST_CASE(connection_refused_and_bad_urls_are_typed, fixture) {
    test::run_test(ioc, [&]() -> awaitable<void> {
        std::uint16_t closed_port = 0;
        {
            boost::asio::ip::tcp::acceptor a(ex, {boost::asio::ip::make_address("127.0.0.1"), 0});
            closed_port = a.local_endpoint().port();
        }
        http_client c(ex, {.name = "t"});
        auto r = co_await get(c, "http://127.0.0.1:" + std::to_string(closed_port) + "/x");
        BOOST_TEST_REQUIRE(!r.has_value());
        BOOST_TEST((r.error().code == make_error_code(errc::connect_refused)));
        auto bad = co_await get(c, "gopher://x/");
        BOOST_TEST_REQUIRE(!bad.has_value());
        BOOST_TEST((bad.error().code == make_error_code(errc::bad_url)));
        auto unresolvable = co_await get(c, "http://no-such-host.invalid/");
        BOOST_TEST_REQUIRE(!unresolvable.has_value());
        BOOST_TEST((unresolvable.error().code == make_error_code(errc::resolve_failed)));
        BOOST_TEST(c.open_connections() == 0U); // failed connects give their slots back
    }());
}

BOOST_FIXTURE_TEST_CASE(the_request_head_is_what_a_server_parses_and_a_line_break_in_a_header_is_refused,
                        fixture) {
    test::run_test(ioc, [&]() -> awaitable<void> {
        test_server srv(ex);
        BOOST_TEST_REQUIRE(srv.server.start().has_value());
        http_client c(ex, {.user_agent = "companion/test", .name = "t"});
        const auto host = srv.url("").substr(std::string_view("http://").size());
        struct row {
            http::verb method;
            std::string user_agent; ///< empty: the client's own
            std::string body;
            std::string expected;
        };
        const std::vector<row> rows{
            {http::verb::get, "", "", "GET host=" + host + " ua=companion/test len=- x=42 body="},
            {http::verb::get, "curl/8", "", "GET host=" + host + " ua=curl/8 len=- x=42 body="},
            {http::verb::post, "", "", "POST host=" + host + " ua=companion/test len=0 x=42 body="},
            {http::verb::post,
             "",
             "a body",
             "POST host=" + host + " ua=companion/test len=6 x=42 body=a body"},
        };
        for (const auto& r : rows) {
            request req;
            req.method = r.method;
            req.url = srv.url("/seen");
            req.headers.set("X-Custom", "42");
            req.headers.set(http::field::host, "elsewhere.example"); // the URL says the host
            req.headers.set(http::field::content_length, "999");     // the body says its length
            if (!r.user_agent.empty()) {
                req.headers.set(http::field::user_agent, r.user_agent);
            }
            req.body = r.body;
            auto got = co_await c.send(std::move(req));
            BOOST_TEST_REQUIRE(got.has_value());
            BOOST_TEST(got->body == r.expected);
        }
        // Twice on one keep-alive connection: the head's buffer is reused, not appended to.
        BOOST_TEST(c.open_connections() == 1U);

        const int before = srv.seen_requests;
        for (const std::string& bad :
             std::vector<std::string>{"1\r\nX-Evil: 1", "1\nX", std::string("1\0", 2)}) {
            request req;
            req.url = srv.url("/seen");
            req.headers.set("X-Custom", bad);
            auto refused = co_await c.send(std::move(req));
            BOOST_TEST_REQUIRE(!refused.has_value());
            BOOST_TEST((refused.error().code == make_error_code(errc::bad_request)));
            BOOST_TEST(!refused.error().request_sent);
        }
        BOOST_TEST(srv.seen_requests == before); // nothing of them reached the server
        co_await srv.server.stop();
    }());
}

BOOST_FIXTURE_TEST_CASE(body_limits_are_per_request, fixture) {
    test::run_test(ioc, [&]() -> awaitable<void> {
        test_server s(ex);
        BOOST_TEST_REQUIRE(s.server.start().has_value());
        http_client c(ex, {.body_limit = 1000, .name = "t"});
        auto r = co_await get(c, s.url("/big"));
        BOOST_TEST_REQUIRE(!r.has_value());
        BOOST_TEST((r.error().code == make_error_code(errc::body_too_large)));
        request big;
        big.url = s.url("/big");
        big.body_limit = 200'000;
        auto ok = co_await c.send(std::move(big));
        BOOST_TEST_REQUIRE(ok.has_value());
        BOOST_TEST(ok->body.size() == 100'000U);
        co_await s.server.stop();
    }());
}

BOOST_FIXTURE_TEST_CASE(wire_faults_become_typed_errors, fixture) {
    test::run_test(ioc, [&]() -> awaitable<void> {
        test_server s(ex);
        BOOST_TEST_REQUIRE(s.server.start().has_value());
        http_client c(ex, {.name = "t"});
        request post;
        post.method = http::verb::post;
        post.url = s.url("/fault/reset");
        post.body = "x";
        auto reset = co_await c.send(std::move(post));
        BOOST_TEST_REQUIRE(!reset.has_value());
        BOOST_TEST((reset.error().code == make_error_code(errc::connection_reset)));
        BOOST_TEST(reset.error().request_sent); // the outcome is unknown: the caller decides

        auto mid = co_await get(c, s.url("/fault/mid"));
        BOOST_TEST_REQUIRE(!mid.has_value());
        BOOST_TEST((mid.error().code == make_error_code(errc::connection_reset)));

        auto garbage = co_await get(c, s.url("/fault/garbage"));
        BOOST_TEST_REQUIRE(!garbage.has_value());
        BOOST_TEST((garbage.error().code == make_error_code(errc::bad_response)));

        auto after = co_await get(c, s.url("/hello")); // the client is still healthy
        BOOST_TEST_REQUIRE(after.has_value());
        co_await s.server.stop();
    }());
}

BOOST_FIXTURE_TEST_CASE(download_follows_redirects_drops_credentials_across_hosts_and_checks_sha256,
                        fixture) {
    test::temp_dir dir;
    test::run_test(ioc, [&]() -> awaitable<void> {
        test_server s(ex);
        auto port = s.server.start();
        BOOST_TEST_REQUIRE(port.has_value());
        s.file_body = std::string(300'000, '\x42') + "tail";
        // Same server, other host name: credentials must not follow.
        s.redirect_to = "http://localhost:" + std::to_string(*port) + "/file";
        http_client c(ex, {.name = "t"});
        download_request d;
        d.url = s.url("/redirect");
        d.headers.set(http::field::authorization, "Bearer sk-secret-value-123");
        d.headers.set("x-goog-api-key", "goog-secret-value-456");
        d.path = dir.path / "videos" / "clip.mp4";
        auto r = co_await c.download(std::move(d));
        BOOST_TEST_REQUIRE(r.has_value());
        BOOST_TEST(r->bytes == s.file_body.size());
        BOOST_TEST(r->redirects == 1);
        BOOST_TEST(r->sha256_hex == sha256_hex(s.file_body));
        BOOST_TEST(r->content_type == "video/mp4");
        BOOST_TEST(s.file_auth_seen.empty());
        BOOST_TEST(s.file_key_seen.empty());
        std::ifstream in(dir.path / "videos" / "clip.mp4", std::ios::binary);
        std::string on_disk((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        BOOST_TEST((on_disk == s.file_body));

        // Same host keeps the credentials.
        download_request same;
        same.url = s.url("/file");
        same.headers.set("x-goog-api-key", "goog-secret-value-456");
        same.path = dir.path / "same.mp4";
        auto r2 = co_await c.download(std::move(same));
        BOOST_TEST_REQUIRE(r2.has_value());
        BOOST_TEST(s.file_key_seen == "goog-secret-value-456");
        co_await s.server.stop();
    }());
}

BOOST_FIXTURE_TEST_CASE(download_limits_redirect_loops_and_error_statuses_are_typed, fixture) {
    test::temp_dir dir;
    test::run_test(ioc, [&]() -> awaitable<void> {
        test_server s(ex);
        BOOST_TEST_REQUIRE(s.server.start().has_value());
        s.file_body = std::string(50'000, 'z');
        http_client c(ex, {.name = "t"});

        download_request small;
        small.url = s.url("/file");
        small.path = dir.path / "small.mp4";
        small.max_bytes = 10'000;
        auto too_big = co_await c.download(std::move(small));
        BOOST_TEST_REQUIRE(!too_big.has_value());
        BOOST_TEST((too_big.error().code == make_error_code(errc::body_too_large)));
        BOOST_TEST(!std::filesystem::exists(dir.path / "small.mp4"));
        std::size_t leftovers = 0;
        for (const auto& e : std::filesystem::directory_iterator(dir.path)) {
            (void)e;
            ++leftovers;
        }
        BOOST_TEST(leftovers == 0U); // the partial file is removed

        download_request loop;
        loop.url = s.url("/loop");
        loop.path = dir.path / "loop.mp4";
        loop.max_redirects = 3;
        auto looped = co_await c.download(std::move(loop));
        BOOST_TEST_REQUIRE(!looped.has_value());
        BOOST_TEST((looped.error().code == make_error_code(errc::too_many_redirects)));

        download_request missing;
        missing.url = s.url("/missing");
        missing.path = dir.path / "missing.mp4";
        auto nf = co_await c.download(std::move(missing));
        BOOST_TEST_REQUIRE(!nf.has_value());
        BOOST_TEST((nf.error().code == make_error_code(errc::http_status)));
        BOOST_TEST(nf.error().status == 404U);
        BOOST_TEST(nf.error().body.find("no such video") != std::string::npos);
        co_await s.server.stop();
    }());
}

BOOST_FIXTURE_TEST_CASE(metrics_count_requests_and_errors_per_origin, fixture) {
    test::run_test(ioc, [&]() -> awaitable<void> {
        test_server s(ex);
        BOOST_TEST_REQUIRE(s.server.start().has_value());
        http_client c(ex, {.body_limit = 10, .name = "metrics_test"});
        (void)co_await get(c, s.url("/hello"));
        (void)co_await get(c, s.url("/big"));
        const auto text = engine::metrics().expose();
        const std::string origin = "origin=\"http://127.0.0.1:" + std::to_string(s.server.port()) + "\"";
        BOOST_TEST(text.find("http_client_requests_total{client=\"metrics_test\"," + origin + "} 2") !=
                   std::string::npos);
        BOOST_TEST(text.find("http_client_errors_total{client=\"metrics_test\"," + origin +
                             ",kind=\"too_large\"} 1") != std::string::npos);
        BOOST_TEST(text.find("http_client_request_seconds_count{client=\"metrics_test\"," + origin + "} 1") !=
                   std::string::npos);
        co_await s.server.stop();
    }());
}

BOOST_FIXTURE_TEST_CASE(a_bot_token_never_appears_in_errors_or_logs, fixture) {
    const std::string token = "7000000001:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0";
    engine::secrets().add_secret(token);
    test::run_test(ioc, [&]() -> awaitable<void> {
        test_server s(ex);
        BOOST_TEST_REQUIRE(s.server.start().has_value());
        http_client c(ex, {.name = "t"});
        std::vector<std::string> messages;
        for (const char* path : {"/fault/reset", "/fault/mid", "/fault/garbage"}) {
            auto r = co_await get(c, s.url("/bot" + token + path));
            (void)r;
        }
        for (const char* path : {"/fault/reset", "/fault/mid", "/fault/garbage"}) {
            auto r = co_await get(c, s.url(path) + "?token=" + token);
            if (!r) {
                messages.push_back(r.error().message());
                engine::log().warn(
                    "request.failed",
                    {{"url", s.url(path) + "?token=" + token}, {"error", r.error().message()}});
            }
        }
        auto refused = co_await get(c, "http://127.0.0.1:1/bot" + token + "/getMe");
        BOOST_TEST_REQUIRE(!refused.has_value());
        messages.push_back(refused.error().message());
        for (const auto& m : messages) {
            BOOST_TEST(m.find(token) == std::string::npos);
        }
        co_await s.server.stop();
    }());
    BOOST_TEST(!logs.lines.empty());
    for (const auto& l : logs.lines) {
        BOOST_TEST(l.find(token) == std::string::npos);
        BOOST_TEST(l.find("AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0") == std::string::npos);
    }
    engine::secrets().clear();
}

BOOST_AUTO_TEST_CASE(no_proxy_rules_match_hosts_and_their_subdomains) {
    proxy_config p;
    p.host = "proxy";
    p.no_proxy = {"localhost", ".internal.example", "127.0.0.1"};
    BOOST_TEST(p.bypass("localhost"));
    BOOST_TEST(p.bypass("api.internal.example"));
    BOOST_TEST(p.bypass("internal.example"));
    BOOST_TEST(!p.bypass("notinternal.example"));
    BOOST_TEST(!p.bypass("api.telegram.org"));
    BOOST_TEST(p.bypass("127.0.0.1"));
    p.no_proxy = {"*"};
    BOOST_TEST(p.bypass("anything"));
}

BOOST_AUTO_TEST_SUITE_END()
