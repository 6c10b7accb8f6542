// Tests of net/http_server: routing, header and body limits, idle deadlines against slow
// clients, keep-alive, and a graceful stop that cancels long handlers.
#include "engine/sync.hpp"
#include "engine/time.hpp"
#include "net/http_client.hpp"
#include "net/http_server.hpp"
#include "tests/net/net_test_support.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/test/unit_test.hpp>

#include <string>

using namespace companion;
using namespace companion::net;
using namespace std::chrono_literals;
using engine::awaitable;

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

} // namespace

BOOST_AUTO_TEST_SUITE(http_server_suite)

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
