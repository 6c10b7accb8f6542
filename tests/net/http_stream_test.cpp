// Component tests of http_client::stream against http_server's streamed bodies over loopback:
// pieces handed over as they arrive, the idle and overall deadlines, a caller that stops early, a
// non-2xx body, a cut, cancellation by a racing timer, connection reuse, the three body framings,
// and the server's wire form of a streamed body.
#include "engine/time.hpp"
#include "engine/time_source.hpp"
#include "net/http_client.hpp"
#include "net/http_server.hpp"
#include "tests/net/net_test_support.hpp"
#include "tests/net/raw_exchange.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

using namespace companion;
using namespace companion::net;
using namespace std::chrono_literals;
using engine::awaitable;

namespace {

// A server whose "/stream" answers with `body` (200 unless `status` says otherwise) and whose
// other routes answer with `fixed`.
struct stream_server {
    explicit stream_server(engine::executor ex) : server(ex, server_config{.name = "stream"}) {
        server.route(http::verb::get, "/stream", [this](server_request&) -> awaitable<server_response> {
            ++requests;
            auto r = text_response(status, "", "text/event-stream");
            r.stream = body;
            co_return r;
        });
        server.route(http::verb::get, "/fixed", [this](server_request&) -> awaitable<server_response> {
            ++requests;
            co_return fixed;
        });
    }

    std::string url(std::string_view path) const { return server.base_url() + std::string(path); }

    http_server server;
    unsigned status = 200;
    streamed_body body{};
    server_response fixed{};
    int requests = 0;
};

struct fixture {
    boost::asio::io_context ioc{1};
    engine::executor ex = ioc.get_executor();
    test::log_capture logs;
};

// The pieces a stream handed over, in order.
struct pieces {
    std::vector<std::string> got;
    std::string text() const {
        std::string all;
        for (const auto& p : got) {
            all += p;
        }
        return all;
    }
};

request get_request(std::string url, engine::duration body = 5s) {
    request r;
    r.url = std::move(url);
    r.timeouts = phase_timeouts{.response_header = 5s, .body = body};
    return r;
}

bool is(const result<response>& r, errc e) {
    return !r.has_value() && r.error().code == make_error_code(e);
}

} // namespace

BOOST_AUTO_TEST_SUITE(http_stream_suite)

namespace {

awaitable<void> stream_and_mark(http_client& c,
                                request req,
                                std::function<bool(std::string_view)> on_body,
                                std::optional<result<response>>& outcome,
                                bool& finished) {
    auto r = co_await c.stream(std::move(req), std::move(on_body), 5s);
    outcome = std::move(r);
    finished = true;
}

} // namespace

BOOST_FIXTURE_TEST_CASE(pieces_are_handed_over_as_they_arrive, fixture) {
    using namespace boost::asio::experimental::awaitable_operators;
    test::run_test(ioc, [&]() -> awaitable<void> {
        // The server sends each piece after the first only once virtual time has moved past its
        // delay, and time moves only after the body handler took the piece before: had the
        // handler not been called while the body was still coming, the server could not finish.
        engine::manual_time time;
        stream_server s(ex);
        s.body = {.pieces = {"data: a\n\n", "data: b\n\n", "data: c\n\n"}, .delay = 1s, .time = &time};
        BOOST_TEST_REQUIRE(s.server.start().has_value());
        http_client c(ex, {.name = "t"});
        pieces p;
        std::vector<engine::time_point> seen_at;
        bool may_advance = false;
        bool finished = false;
        auto on_body = [&](std::string_view piece) {
            p.got.emplace_back(piece);
            seen_at.push_back(time.now());
            may_advance = true;
            return true;
        };
        std::optional<result<response>> r;
        auto streaming = stream_and_mark(c, get_request(s.url("/stream")), on_body, r, finished);
        auto pacing = test::pace(time, may_advance, finished);
        co_await (std::move(streaming) && std::move(pacing));
        BOOST_TEST_REQUIRE(r.has_value());
        BOOST_TEST_REQUIRE(r->has_value());
        BOOST_TEST((*r)->status == 200U);
        BOOST_TEST((*r)->body.empty());
        BOOST_TEST((*r)->header("Transfer-Encoding") == "chunked");
        BOOST_TEST(p.got == (std::vector<std::string>{"data: a\n\n", "data: b\n\n", "data: c\n\n"}),
                   boost::test_tools::per_element());
        BOOST_TEST_REQUIRE(seen_at.size() == 3U);
        BOOST_TEST((seen_at[1] - seen_at[0] == 1s));
        BOOST_TEST((seen_at[2] - seen_at[1] == 1s));
        co_await s.server.stop();
    }());
}

BOOST_FIXTURE_TEST_CASE(a_complete_stream_leaves_its_connection_for_the_next_request, fixture) {
    test::run_test(ioc, [&]() -> awaitable<void> {
        stream_server s(ex);
        s.body = {.pieces = {"data: a\n\n", "data: [DONE]\n\n"}};
        BOOST_TEST_REQUIRE(s.server.start().has_value());
        http_client c(ex, {.name = "t"});
        for (int i = 0; i < 3; ++i) {
            pieces p;
            auto r = co_await c.stream(
                get_request(s.url("/stream")),
                [&](std::string_view piece) {
                    p.got.emplace_back(piece);
                    return true;
                },
                5s);
            BOOST_TEST_REQUIRE(r.has_value());
            BOOST_TEST(p.text() == "data: a\n\ndata: [DONE]\n\n");
            BOOST_TEST(r->reused_connection == (i > 0));
        }
        BOOST_TEST(c.open_connections() == 1U);
        BOOST_TEST(c.idle_connections() == 1U);
        co_await s.server.stop();
    }());
}

BOOST_FIXTURE_TEST_CASE(a_stalled_stream_ends_at_the_idle_deadline, fixture) {
    test::run_test(ioc, [&]() -> awaitable<void> {
        stream_server s(ex);
        s.body = {.pieces = {"data: a\n\n"}, .end = streamed_body::ending::hold};
        BOOST_TEST_REQUIRE(s.server.start().has_value());
        http_client c(ex, {.name = "t"});
        pieces p;
        auto r = co_await c.stream(
            get_request(s.url("/stream"), 10s),
            [&](std::string_view piece) {
                p.got.emplace_back(piece);
                return true;
            },
            100ms);
        BOOST_TEST_REQUIRE(is(r, errc::body_timeout));
        BOOST_TEST(r.error().detail.find("idle deadline") != std::string::npos, r.error().detail);
        BOOST_TEST(r.error().request_sent);
        BOOST_TEST(p.text() == "data: a\n\n");
        BOOST_TEST(c.open_connections() == 0U); // a broken body leaves nothing to reuse
        // The server's side ends when the client has gone.
        BOOST_TEST(co_await test::turns_until([&] { return s.server.connections() == 0U; }));
        co_await s.server.stop();
    }());
}

BOOST_FIXTURE_TEST_CASE(a_trickling_stream_ends_at_the_overall_body_deadline, fixture) {
    test::run_test(ioc, [&]() -> awaitable<void> {
        stream_server s(ex);
        // A piece every 20 ms for about two seconds: never idle for long, but too long overall.
        s.body.delay = 20ms;
        for (int i = 0; i < 100; ++i) {
            s.body.pieces.push_back("data: " + std::to_string(i) + "\n\n");
        }
        BOOST_TEST_REQUIRE(s.server.start().has_value());
        http_client c(ex, {.name = "t"});
        pieces p;
        auto r = co_await c.stream(
            get_request(s.url("/stream"), 150ms),
            [&](std::string_view piece) {
                p.got.emplace_back(piece);
                return true;
            },
            5s);
        BOOST_TEST_REQUIRE(is(r, errc::body_timeout));
        BOOST_TEST(r.error().detail.find("150 ms deadline") != std::string::npos, r.error().detail);
        BOOST_TEST(!p.got.empty());
        BOOST_TEST(p.text().find("data: 99\n\n") == std::string::npos);
        BOOST_TEST(c.open_connections() == 0U);
        co_await s.server.stop();
    }());
}

BOOST_FIXTURE_TEST_CASE(a_caller_that_wants_no_more_gets_the_response_and_the_connection_is_closed, fixture) {
    test::run_test(ioc, [&]() -> awaitable<void> {
        stream_server s(ex);
        s.body = {.pieces = {"data: a\n\n", "data: b\n\n"}, .end = streamed_body::ending::hold};
        BOOST_TEST_REQUIRE(s.server.start().has_value());
        http_client c(ex, {.name = "t"});
        int calls = 0;
        auto r = co_await c.stream(
            get_request(s.url("/stream")),
            [&](std::string_view) {
                ++calls;
                return false;
            },
            5s);
        BOOST_TEST_REQUIRE(r.has_value());
        BOOST_TEST(r->status == 200U);
        BOOST_TEST(calls == 1);
        BOOST_TEST(c.open_connections() == 0U);
        BOOST_TEST(c.idle_connections() == 0U);
        // The held stream ends on the server once the client has closed.
        BOOST_TEST(co_await test::turns_until([&] { return s.server.connections() == 0U; }));
        co_await s.server.stop();
    }());
}

BOOST_FIXTURE_TEST_CASE(a_non_2xx_body_is_collected_and_never_handed_to_the_caller, fixture) {
    test::run_test(ioc, [&]() -> awaitable<void> {
        stream_server s(ex);
        s.fixed = json_response(429, R"({"error":{"code":"rate_limit_exceeded"}})");
        s.status = 503;
        s.body = {.pieces = {R"({"error":)", R"("overloaded"})"}};
        BOOST_TEST_REQUIRE(s.server.start().has_value());
        http_client c(ex, {.name = "t"});
        int calls = 0;
        auto count = [&](std::string_view) {
            ++calls;
            return true;
        };
        auto fixed = co_await c.stream(get_request(s.url("/fixed")), count, 5s);
        BOOST_TEST_REQUIRE(fixed.has_value());
        BOOST_TEST(fixed->status == 429U);
        BOOST_TEST(fixed->body == R"({"error":{"code":"rate_limit_exceeded"}})");
        auto chunked = co_await c.stream(get_request(s.url("/stream")), count, 5s);
        BOOST_TEST_REQUIRE(chunked.has_value());
        BOOST_TEST(chunked->status == 503U);
        BOOST_TEST(chunked->body == R"({"error":"overloaded"})");
        BOOST_TEST(calls == 0);
        BOOST_TEST(c.idle_connections() == 1U); // both bodies were read whole
        co_await s.server.stop();
    }());
}

BOOST_FIXTURE_TEST_CASE(a_non_2xx_body_over_the_limit_is_body_too_large, fixture) {
    test::run_test(ioc, [&]() -> awaitable<void> {
        stream_server s(ex);
        s.status = 500;
        s.body = {.pieces = {std::string(600, 'x'), std::string(600, 'y')}};
        BOOST_TEST_REQUIRE(s.server.start().has_value());
        http_client c(ex, {.name = "t"});
        auto req = get_request(s.url("/stream"));
        req.body_limit = 1000;
        auto r = co_await c.stream(
            std::move(req),
            [](std::string_view) { return true; },
            5s);
        BOOST_TEST(is(r, errc::body_too_large));
        co_await s.server.stop();
    }());
}

BOOST_FIXTURE_TEST_CASE(a_stream_cut_mid_body_is_a_reset_after_the_pieces_that_came, fixture) {
    test::run_test(ioc, [&]() -> awaitable<void> {
        stream_server s(ex);
        s.body = {.pieces = {"data: a\n\n"}, .end = streamed_body::ending::cut};
        BOOST_TEST_REQUIRE(s.server.start().has_value());
        http_client c(ex, {.name = "t"});
        pieces p;
        auto r = co_await c.stream(
            get_request(s.url("/stream")),
            [&](std::string_view piece) {
                p.got.emplace_back(piece);
                return true;
            },
            5s);
        BOOST_TEST_REQUIRE(is(r, errc::connection_reset));
        BOOST_TEST(r.error().detail.find("in the body") != std::string::npos, r.error().detail);
        BOOST_TEST(p.text() == "data: a\n\n");
        BOOST_TEST(c.open_connections() == 0U);
        co_await s.server.stop();
    }());
}

namespace {

// One side of the race: the stream, its outcome kept where the test can see it.
awaitable<void>
stream_into(http_client& c, std::string url, pieces& p, std::optional<result<response>>& outcome) {
    auto r = co_await c.stream(
        get_request(std::move(url)),
        [&p](std::string_view piece) {
            p.got.emplace_back(piece);
            return true;
        },
        30s);
    outcome = std::move(r);
}

awaitable<void> sleep_for(engine::duration d) {
    co_await engine::sleep(d);
}

} // namespace

BOOST_FIXTURE_TEST_CASE(losing_a_race_cancels_the_stream_at_once_and_closes_its_connection, fixture) {
    using namespace boost::asio::experimental::awaitable_operators;
    test::run_test(
        ioc,
        [&]() -> awaitable<void> {
            stream_server s(ex);
            s.body = {.pieces = {"data: a\n\n"}, .end = streamed_body::ending::hold};
            BOOST_TEST_REQUIRE(s.server.start().has_value());
            http_client c(ex, {.name = "t"});
            pieces p;
            std::optional<result<response>> outcome;
            // The stream would wait 30 s for its next piece; the timer ends the race first.
            auto streaming = stream_into(c, s.url("/stream"), p, outcome);
            auto timer = sleep_for(100ms);
            const auto winner = co_await (std::move(streaming) || std::move(timer));
            BOOST_TEST(winner.index() == 1U);
            BOOST_TEST_REQUIRE(outcome.has_value());
            BOOST_TEST(is(*outcome, errc::cancelled));
            BOOST_TEST(p.text() == "data: a\n\n");
            BOOST_TEST(c.open_connections() == 0U);
            BOOST_TEST(c.idle_connections() == 0U);
            BOOST_TEST(co_await test::turns_until([&] { return s.server.connections() == 0U; }));
            co_await s.server.stop();
        }(),
        10s);
}

namespace {

enum class framing { chunked, content_length, close_delimited };

std::ostream& operator<<(std::ostream& os, framing f) {
    switch (f) {
    case framing::chunked:
        return os << "chunked";
    case framing::content_length:
        return os << "content_length";
    case framing::close_delimited:
        return os << "close_delimited";
    }
    return os;
}

const std::vector<framing> framings{framing::chunked, framing::content_length, framing::close_delimited};

} // namespace

BOOST_DATA_TEST_CASE(every_body_framing_streams_the_same_bytes, boost::unit_test::data::make(framings), how) {
    fixture f;
    test::run_test(f.ioc, [&]() -> awaitable<void> {
        const std::string text = "data: hello\n\ndata: [DONE]\n\n";
        stream_server s(f.ex);
        switch (how) {
        case framing::chunked:
            s.body = {.pieces = {"data: hello\n\n", "data: [DONE]\n\n"}};
            break;
        case framing::content_length:
            s.fixed = text_response(200, text, "text/event-stream");
            break;
        case framing::close_delimited:
            s.fixed.fault = {.what = response_fault::kind::raw,
                             .raw_bytes =
                                 "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n" + text};
            break;
        }
        BOOST_TEST_REQUIRE(s.server.start().has_value());
        http_client c(f.ex, {.name = "t"});
        pieces p;
        auto r = co_await c.stream(
            get_request(s.url(how == framing::chunked ? "/stream" : "/fixed")),
            [&](std::string_view piece) {
                p.got.emplace_back(piece);
                return true;
            },
            5s);
        BOOST_TEST_REQUIRE(r.has_value());
        BOOST_TEST(r->status == 200U);
        BOOST_TEST(p.text() == text);
        // A close-delimited body cannot leave its connection for another request.
        BOOST_TEST(c.idle_connections() == (how == framing::close_delimited ? 0U : 1U));
        co_await s.server.stop();
    }());
}

BOOST_FIXTURE_TEST_CASE(the_server_sends_a_streamed_body_one_chunk_per_piece, fixture) {
    test::run_test(ioc, [&]() -> awaitable<void> {
        stream_server s(ex);
        s.body = {.pieces = {"data: a\n\n", "", "data: bc\n\n"}};
        BOOST_TEST_REQUIRE(s.server.start().has_value());
        const std::string wire =
            co_await test::try_exchange(s.server.port(),
                                        "GET /stream HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        const auto body_at = wire.find("\r\n\r\n");
        BOOST_TEST_REQUIRE(body_at != std::string::npos);
        const std::string header = wire.substr(0, body_at);
        BOOST_TEST(header.find("Transfer-Encoding: chunked") != std::string::npos, header);
        BOOST_TEST(header.find("Content-Length") == std::string::npos, header);
        // An empty piece is skipped: as a chunk it would end the body.
        BOOST_TEST(wire.substr(body_at + 4) == "9\r\ndata: a\n\n\r\na\r\ndata: bc\n\n\r\n0\r\n\r\n");

        // An HTTP/1.0 client gets the pieces as they are, and the end of the connection ends them.
        const std::string old =
            co_await test::try_exchange(s.server.port(), "GET /stream HTTP/1.0\r\nHost: x\r\n\r\n");
        const auto old_body_at = old.find("\r\n\r\n");
        BOOST_TEST_REQUIRE(old_body_at != std::string::npos);
        BOOST_TEST(old.substr(0, old_body_at).find("chunked") == std::string::npos);
        BOOST_TEST(old.substr(old_body_at + 4) == "data: a\n\ndata: bc\n\n");
        co_await s.server.stop();
    }());
}

BOOST_AUTO_TEST_SUITE_END()
