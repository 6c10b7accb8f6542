// Tests of the admin endpoint (issue 15, finding 11) over real loopback sockets, on a bot wired as
// companion-bot wires it (never started: the checks run before any handler): with a token, a
// request without "Authorization: Bearer <token>" gets 401 and one with it is served; and no more
// connections are held than the cap, the rest being closed at once.
#include "app/admin.hpp"
#include "app/wiring.hpp"
#include "tests/common/temp_dir.hpp"
#include "tests/net/net_test_support.hpp"
#include "tests/net/raw_exchange.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <array>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

using namespace companion;
using engine::awaitable;
using tcp = boost::asio::ip::tcp;
using test::turns_until;
namespace http = boost::beast::http;

namespace {

struct bearer_case {
    std::string header;
    std::string token;
    bool authorized = false;
};

std::ostream& operator<<(std::ostream& os, const bearer_case& c) {
    return os << "{" << c.header << "} token {" << c.token << "} -> " << c.authorized;
}

const bearer_case bearer_cases[] = {
    {"", "", true}, // no token configured: loopback as before
    {"Bearer anything", "", true},
    {"", "s3cret", false},
    {"Bearer s3cret", "s3cret", true},
    {"bearer s3cret", "s3cret", true}, // the scheme is case-insensitive (RFC 7235)
    {"BEARER s3cret", "s3cret", true},
    {"Bearer s3cre", "s3cret", false},
    {"Bearer s3cret2", "s3cret", false},
    {"Bearer S3CRET", "s3cret", false}, // the token is not
    {"Basic s3cret", "s3cret", false},
    {"s3cret", "s3cret", false},
    {"Bearer  s3cret", "s3cret", false},
    {"Bearer", "s3cret", false},
};

constexpr const char* token = "admin-token-for-the-test-0042";

/// The bot as companion-bot wires it, on a fresh data folder; nothing is started.
struct admin_fixture {
    boost::asio::io_context ioc{1};
    engine::executor ex = ioc.get_executor();
    test::log_capture logs;
    test::temp_dir dir;
    engine::offload_pool offload{1};
    pipelines::persona_catalog personas =
        *pipelines::persona_catalog::load(COMPANION_SOURCE_DIR "/data/personas.json");
    pipelines::locale_catalog locales =
        *pipelines::locale_catalog::load(COMPANION_SOURCE_DIR "/data/locales");
    std::unique_ptr<app::bot_app> wired;

    admin_fixture() {
        app::config cfg;
        cfg.telegram.token = "123456:never-used";
        cfg.telegram.base_url = "http://127.0.0.1:9"; // nothing is called
        cfg.storage.data_dir = dir.path.string();
        wired =
            std::make_unique<app::bot_app>(ex, cfg, app::make_bot_config(cfg), personas, locales, offload);
    }

    std::unique_ptr<app::admin_server> make_admin(app::admin_options options) {
        return std::make_unique<app::admin_server>(ex,
                                                   "127.0.0.1",
                                                   0,
                                                   wired->bot(),
                                                   wired->db(),
                                                   wired->health(),
                                                   std::move(options));
    }
};

struct answer {
    tcp::socket socket; ///< still open when the server keeps it alive
    unsigned status = 0;
    std::string www_authenticate;
};

awaitable<answer> get(std::uint16_t port, std::string path, std::string authorization = {}) {
    auto ex = co_await boost::asio::this_coro::executor;
    answer a{tcp::socket(ex), 0, {}};
    co_await a.socket.async_connect({boost::asio::ip::make_address("127.0.0.1"), port},
                                    engine::use_awaitable);
    http::request<http::string_body> req{http::verb::get, path, 11};
    req.set(http::field::host, "127.0.0.1");
    if (!authorization.empty()) {
        req.set(http::field::authorization, authorization);
    }
    co_await http::async_write(a.socket, req, engine::use_awaitable);
    boost::beast::flat_buffer buffer;
    http::response<http::string_body> res;
    co_await http::async_read(a.socket, buffer, res, engine::use_awaitable);
    a.status = res.result_int();
    a.www_authenticate = std::string(res[http::field::www_authenticate]);
    co_return a;
}

/// Whatever a connection beyond the cap receives before it is closed (nothing, on a reset).
awaitable<std::string> try_get(std::uint16_t port, std::string path) {
    std::string request = "GET " + path + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                          std::string(token) + "\r\nConnection: close\r\n\r\n";
    auto answer = co_await test::try_exchange(port, std::move(request));
    co_return answer;
}

} // namespace

BOOST_AUTO_TEST_SUITE(admin_suite)

BOOST_DATA_TEST_CASE(only_the_configured_bearer_token_is_authorized,
                     boost::unit_test::data::make(bearer_cases),
                     c) {
    BOOST_TEST(app::bearer_authorized(c.header, c.token) == c.authorized);
}

BOOST_FIXTURE_TEST_CASE(with_a_token_a_request_without_it_gets_401_and_with_it_is_served, admin_fixture) {
    test::run_test(ioc, [&]() -> awaitable<void> {
        auto admin = make_admin({.token = token});
        const auto port = admin->start();
        BOOST_TEST_REQUIRE(port.has_value());
        for (const char* path : {"/metrics", "/healthz", "/readyz", "/no-such-path"}) {
            BOOST_TEST_CONTEXT(path) {
                const auto none = co_await get(*port, path);
                BOOST_TEST(none.status == 401U);
                BOOST_TEST(none.www_authenticate.starts_with("Bearer"));
                const auto wrong = co_await get(*port, path, "Bearer not-the-token");
                BOOST_TEST(wrong.status == 401U);
            }
        }
        const auto metrics = co_await get(*port, "/metrics", std::string("Bearer ") + token);
        BOOST_TEST(metrics.status == 200U);
        const auto missing = co_await get(*port, "/no-such-path", std::string("Bearer ") + token);
        BOOST_TEST(missing.status == 404U);
        co_await admin->stop();
    }());
}

BOOST_FIXTURE_TEST_CASE(without_a_token_loopback_requests_are_served_as_before, admin_fixture) {
    test::run_test(ioc, [&]() -> awaitable<void> {
        auto admin = make_admin({});
        const auto port = admin->start();
        BOOST_TEST_REQUIRE(port.has_value());
        const auto metrics = co_await get(*port, "/metrics");
        BOOST_TEST(metrics.status == 200U);
        co_await admin->stop();
    }());
}

BOOST_FIXTURE_TEST_CASE(beyond_the_connection_cap_new_connections_are_closed_unserved, admin_fixture) {
    test::run_test(ioc, [&]() -> awaitable<void> {
        constexpr std::size_t cap = 2;
        auto admin = make_admin({.token = token, .max_connections = cap});
        const auto port = admin->start();
        BOOST_TEST_REQUIRE(port.has_value());
        // `cap` idle keep-alive connections, each answered once: the server holds them.
        std::vector<answer> idle;
        for (std::size_t i = 0; i < cap; ++i) {
            auto a = co_await get(*port, "/metrics", std::string("Bearer ") + token);
            BOOST_TEST(a.status == 200U);
            idle.push_back(std::move(a));
        }
        BOOST_TEST(admin->connections() == cap);
        // Three more, each closed at once: a 503 at most, never a served request.
        for (int extra = 0; extra < 3; ++extra) {
            const auto out = co_await try_get(*port, "/metrics");
            BOOST_TEST((out.empty() || out.starts_with("HTTP/1.1 503")), out);
            BOOST_TEST(out.find("HTTP/1.1 200") == std::string::npos);
        }
        BOOST_TEST(admin->connections() == cap);
        BOOST_TEST(admin->connections_refused() == 3U);
        // An idle one goes away: the next connection is served.
        boost::system::error_code ignored;
        idle.back().socket.close(ignored);
        BOOST_TEST_REQUIRE(co_await turns_until([&] { return admin->connections() < cap; }));
        const auto served = co_await get(*port, "/metrics", std::string("Bearer ") + token);
        BOOST_TEST(served.status == 200U);
        co_await admin->stop();
    }());
}

BOOST_AUTO_TEST_SUITE_END()
