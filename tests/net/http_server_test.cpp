// Tests of net/http_server: routing, header and body limits, idle deadlines against slow
// clients, keep-alive, a graceful stop that cancels long handlers, the connection cap, and the
// accept loop's back-off when the process is out of descriptors.
#include "engine/sync.hpp"
#include "engine/time.hpp"
#include "net/http_client.hpp"
#include "net/http_server.hpp"
#include "tests/net/net_test_support.hpp"
#include "tests/net/raw_exchange.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <ostream>
#include <string>
#include <vector>

using namespace companion;
using namespace companion::net;
using namespace std::chrono_literals;
using engine::awaitable;
using test::try_exchange;
using test::turns_until;

namespace {

struct fixture {
    boost::asio::io_context ioc{1};
    engine::executor ex = ioc.get_executor();
    test::log_capture logs;
};

// Sends raw bytes on a fresh connection and returns everything read until the server closes.
awaitable<std::string> raw_exchange(std::uint16_t port, std::string bytes, engine::duration wait_close) {
    auto ex = co_await boost::asio::this_coro::executor;
    boost::asio::ip::tcp::socket sock(ex);
    co_await sock.async_connect({boost::asio::ip::make_address("127.0.0.1"), port}, engine::use_awaitable);
    co_await boost::asio::async_write(sock, boost::asio::buffer(bytes), engine::use_awaitable);
    std::string out;
    std::array<char, 4096> buf{};
    engine::timer guard(ex, wait_close);
    guard.async_wait([&sock](boost::system::error_code ec) {
        if (!ec) {
            boost::system::error_code ignored;
            sock.close(ignored);
        }
    });
    for (;;) {
        auto [ec, n] = co_await sock.async_read_some(boost::asio::buffer(buf),
                                                     boost::asio::as_tuple(engine::use_awaitable));
        out.append(buf.data(), n);
        if (ec) {
            break;
        }
    }
    guard.cancel();
    co_return out;
}

using tcp = boost::asio::ip::tcp;

// A keep-alive connection that has had one GET of `path` answered, so the server holds it as a
// session: its status is in `status`.
struct served_connection {
    tcp::socket socket;
    unsigned status = 0;
};

awaitable<served_connection> open_served(std::uint16_t port, std::string path) {
    auto ex = co_await boost::asio::this_coro::executor;
    served_connection c{tcp::socket(ex), 0};
    co_await c.socket.async_connect({boost::asio::ip::make_address("127.0.0.1"), port},
                                    engine::use_awaitable);
    http::request<http::string_body> req{http::verb::get, path, 11};
    req.set(http::field::host, "x");
    co_await http::async_write(c.socket, req, engine::use_awaitable);
    boost::beast::flat_buffer buffer;
    http::response<http::string_body> res;
    co_await http::async_read(c.socket, buffer, res, engine::use_awaitable);
    c.status = res.result_int();
    co_return c;
}

struct backoff_step {
    int failure = 0; ///< 1-based, within one streak
    std::chrono::milliseconds wait{};
    bool logged = false;
};

std::ostream& operator<<(std::ostream& os, const backoff_step& s) {
    return os << "failure " << s.failure << " -> " << s.wait.count() << "ms" << (s.logged ? " logged" : "");
}

// 10 ms doubling to the 1 s cap; the first failure and every 64th are logged, not every one.
const backoff_step backoff_steps[] = {
    {1, 10ms, true},
    {2, 20ms, false},
    {3, 40ms, false},
    {7, 640ms, false},
    {8, 1000ms, false},
    {9, 1000ms, false},
    {63, 1000ms, false},
    {64, 1000ms, true},
    {128, 1000ms, true},
};

} // namespace

BOOST_AUTO_TEST_SUITE(http_server_suite)

BOOST_DATA_TEST_CASE(accept_failures_back_off_doubling_to_a_cap_and_log_rarely,
                     boost::unit_test::data::make(backoff_steps),
                     step) {
    accept_backoff backoff;
    accept_backoff::verdict v;
    for (int i = 0; i < step.failure; ++i) {
        v = backoff.on_failure();
    }
    BOOST_TEST((v.wait == step.wait));
    BOOST_TEST(v.log == step.logged);
}

BOOST_AUTO_TEST_CASE(an_accept_that_works_ends_the_streak_and_says_how_long_it_was) {
    accept_backoff backoff;
    BOOST_TEST(backoff.on_success() == 0U);
    for (int i = 0; i < 5; ++i) {
        const auto v = backoff.on_failure();
        BOOST_TEST(v.log == (i == 0));
    }
    BOOST_TEST(backoff.on_success() == 5U);
    const auto again = backoff.on_failure();
    BOOST_TEST((again.wait == 10ms)); // a new streak starts from the first wait, and is logged
    BOOST_TEST(again.log);
}

BOOST_FIXTURE_TEST_CASE(connections_beyond_the_cap_are_closed_at_once_and_a_freed_slot_serves_again,
                        fixture) {
    test::run_test(ioc, [&]() -> awaitable<void> {
        constexpr std::size_t cap = 3;
        http_server s(ex, {.max_connections = cap});
        s.route(http::verb::get, "/a", [](server_request&) -> awaitable<server_response> {
            co_return text_response(200, "a");
        });
        BOOST_TEST_REQUIRE(s.start().has_value());
        // `cap` idle keep-alive connections, each answered once: the server holds every one.
        std::vector<served_connection> idle;
        for (std::size_t i = 0; i < cap; ++i) {
            auto c = co_await open_served(s.port(), "/a");
            BOOST_TEST(c.status == 200U);
            idle.push_back(std::move(c));
        }
        BOOST_TEST(s.connections() == cap);

        // Two more: each gets the 503 or just the close, never an answer, and the server keeps
        // no more than `cap` (no descriptor is held for them).
        for (int extra = 0; extra < 2; ++extra) {
            const auto answer =
                co_await try_exchange(s.port(), "GET /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            BOOST_TEST((answer.empty() || answer.starts_with("HTTP/1.1 503")), answer);
            BOOST_TEST(answer.find("HTTP/1.1 200") == std::string::npos);
            BOOST_TEST(s.connections() == cap);
        }
        BOOST_TEST(s.connections_refused() == 2U);
        BOOST_TEST(s.requests_served() == cap);
        BOOST_TEST(logs.contains("http_server.connection_cap"));

        // One idle connection ends: its slot serves a new client.
        boost::system::error_code ignored;
        idle.front().socket.close(ignored);
        BOOST_TEST_REQUIRE(co_await turns_until([&] { return s.connections() < cap; }));
        auto fresh = co_await open_served(s.port(), "/a");
        BOOST_TEST(fresh.status == 200U);
        BOOST_TEST(s.connections_refused() == 2U);
        co_await s.stop();
    }());
}

BOOST_FIXTURE_TEST_CASE(without_a_cap_every_connection_is_served, fixture) {
    test::run_test(ioc, [&]() -> awaitable<void> {
        http_server s(ex, {});
        s.route(http::verb::get, "/a", [](server_request&) -> awaitable<server_response> {
            co_return text_response(200, "a");
        });
        BOOST_TEST_REQUIRE(s.start().has_value());
        std::vector<served_connection> idle;
        for (int i = 0; i < 70; ++i) {
            auto c = co_await open_served(s.port(), "/a");
            BOOST_TEST(c.status == 200U);
            idle.push_back(std::move(c));
        }
        BOOST_TEST(s.connections() == 70U);
        BOOST_TEST(s.connections_refused() == 0U);
        co_await s.stop();
    }());
}

BOOST_FIXTURE_TEST_CASE(routes_by_method_exact_path_and_longest_prefix, fixture) {
    test::run_test(ioc, [&]() -> awaitable<void> {
        http_server s(ex, {});
        s.route(http::verb::get, "/a", [](server_request&) -> awaitable<server_response> {
            co_return text_response(200, "a");
        });
        s.route_prefix("/p/", [](server_request&) -> awaitable<server_response> {
            co_return text_response(200, "p");
        });
        s.route_prefix("/p/deeper/", [](server_request& r) -> awaitable<server_response> {
            co_return text_response(200, "deep " + std::string(r.query()));
        });
        BOOST_TEST_REQUIRE(s.start().has_value());
        http_client c(ex, {.name = "t"});
        auto get = [&](std::string path, http::verb v = http::verb::get) -> awaitable<response> {
            request r;
            r.method = v;
            r.url = s.base_url() + path;
            auto out = co_await c.send(std::move(r));
            co_return out.value();
        };
        BOOST_TEST((co_await get("/a")).body == "a");
        BOOST_TEST((co_await get("/a", http::verb::post)).status == 404U);
        BOOST_TEST((co_await get("/p/x")).body == "p");
        BOOST_TEST((co_await get("/p/deeper/y?k=v")).body == "deep k=v");
        BOOST_TEST((co_await get("/nothing")).status == 404U);
        BOOST_TEST(s.requests_served() == 5U);
        co_await s.stop();
    }());
}

BOOST_FIXTURE_TEST_CASE(oversized_header_and_body_are_refused_with_431_and_413, fixture) {
    test::run_test(ioc, [&]() -> awaitable<void> {
        http_server s(ex, {.header_limit = 1024, .body_limit = 100});
        s.route(http::verb::post, "/u", [](server_request&) -> awaitable<server_response> {
            co_return text_response(200, "ok");
        });
        BOOST_TEST_REQUIRE(s.start().has_value());
        const std::string big_header =
            "GET /u HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(4000, 'a') + "\r\n\r\n";
        auto r1 = co_await raw_exchange(s.port(), big_header, 2s);
        BOOST_TEST(r1.find("HTTP/1.1 431") == 0U);
        const std::string big_body =
            "POST /u HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n" + std::string(1000, 'b');
        auto r2 = co_await raw_exchange(s.port(), big_body, 2s);
        BOOST_TEST(r2.find("HTTP/1.1 413") == 0U);
        co_await s.stop();
    }());
}

BOOST_FIXTURE_TEST_CASE(slow_client_cannot_hold_a_connection_past_the_idle_deadline, fixture) {
    test::run_test(ioc, [&]() -> awaitable<void> {
        http_server s(ex, {.idle_timeout = 100ms});
        BOOST_TEST_REQUIRE(s.start().has_value());
        const auto started = std::chrono::steady_clock::now();
        auto r = co_await raw_exchange(s.port(), "GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ", 5s);
        const auto took = std::chrono::steady_clock::now() - started;
        BOOST_TEST(r.empty());
        BOOST_TEST((took < 2s)); // closed by the server's deadline, not by the client's guard
        co_await s.stop();
    }());
}

BOOST_FIXTURE_TEST_CASE(stop_cancels_long_handlers_and_closes_idle_connections, fixture) {
    test::run_test(ioc, [&]() -> awaitable<void> {
        http_server s(ex, {});
        bool handler_cancelled = false;
        s.route(http::verb::get, "/poll", [&](server_request&) -> awaitable<server_response> {
            try {
                co_await engine::sleep(60s);
            } catch (const boost::system::system_error&) {
                handler_cancelled = true;
                throw;
            }
            co_return text_response(200, "late");
        });
        s.route(http::verb::get, "/a", [](server_request&) -> awaitable<server_response> {
            co_return text_response(200, "a");
        });
        BOOST_TEST_REQUIRE(s.start().has_value());
        http_client c(ex, {.name = "t"});
        request idle_req;
        idle_req.url = s.base_url() + "/a";
        auto warm = co_await c.send(std::move(idle_req)); // leaves an idle keep-alive connection
        BOOST_TEST_REQUIRE(warm.has_value());

        engine::task_group g(ex);
        std::optional<result<response>> polled;
        BOOST_TEST(g.spawn(
            [](http_client& cl, std::string url, std::optional<result<response>>& out) -> awaitable<void> {
                request r;
                r.url = std::move(url);
                out = co_await cl.send(std::move(r));
            }(c, s.base_url() + "/poll", polled)));
        co_await engine::sleep(50ms);
        const auto started = std::chrono::steady_clock::now();
        co_await s.stop(1s);
        BOOST_TEST((std::chrono::steady_clock::now() - started < 900ms));
        BOOST_TEST(handler_cancelled);
        BOOST_TEST(s.connections() == 0U);
        co_await g.join();
        BOOST_TEST_REQUIRE(polled.has_value());
        BOOST_TEST(!polled->has_value()); // the client sees the connection end, typed
    }());
}

BOOST_AUTO_TEST_SUITE_END()
