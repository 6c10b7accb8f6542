// The retry_after oracle: a violation is a repeat of a refused request (its method and chat)
// before its retry_after elapsed, counted from the refusal. Other methods, other chats, and
// requests that were already in flight when the 429 went out are not violations. Time is a
// manual_time the simulator is given, moved by hand.
#include "engine/task_group.hpp"
#include "engine/time.hpp"
#include "engine/time_source.hpp"
#include "tests/sim/telegram_world.hpp"

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>

#include <functional>
#include <optional>
#include <ostream>
#include <string>

using namespace std::chrono_literals;

using namespace companion;
using namespace companion::test;
using engine::awaitable;

namespace {

using flood_world = timed_telegram_world;

// A JSON POST of `body` to `url`, as the Bot API takes it.
net::request json_post(std::string url, std::string body) {
    net::request req;
    req.method = net::http::verb::post;
    req.url = std::move(url);
    req.headers.set(net::http::field::content_type, "application/json");
    req.body = std::move(body);
    return req;
}

// A simulator that enforces per-chat flood control (a message a second, `burst` at once) on the
// test's manual time.
sim::telegram_simulator_config strict_config(engine::manual_time& time, double burst) {
    return {.per_chat_rate = {.rate_per_second = 1.0, .burst = burst},
            .max_poll_hold = std::chrono::milliseconds{200},
            .time = &time};
}

enum class connection { same, other };

struct repeat_case {
    std::string_view name;
    std::string_view method;  ///< of the request after the 429
    std::string_view params;  ///< its parameters
    connection via;           ///< the refused request's connection or another one
    engine::duration after;   ///< time since the refusal (its retry_after is 3 s)
    std::uint64_t violations; ///< expected
};

std::ostream& operator<<(std::ostream& os, const repeat_case& c) {
    return os << c.name;
}

constexpr std::string_view refused = R"({"chat_id":$USER,"text":"first"})";

const std::vector<repeat_case> repeats{
    {"the refused request again at once", "sendMessage", refused, connection::same, 0s, 1},
    {"the refused request again over another connection", "sendMessage", refused, connection::other, 1s, 1},
    {"the refused request again after retry_after", "sendMessage", refused, connection::same, 3s, 0},
    {"another message to the chat on the refusing connection",
     "sendMessage",
     R"({"chat_id":$USER,"text":"second"})",
     connection::same,
     1s,
     1},
    {"another message to the chat, in flight on another connection",
     "sendMessage",
     R"({"chat_id":$USER,"text":"second"})",
     connection::other,
     0s,
     0},
    {"another method in the same chat",
     "sendChatAction",
     R"({"chat_id":$USER,"action":"typing"})",
     connection::same,
     0s,
     0},
    {"the same method in another chat",
     "sendMessage",
     R"({"chat_id":$GROUP,"text":"first"})",
     connection::same,
     0s,
     0},
};

} // namespace

BOOST_AUTO_TEST_SUITE(telegram_retry_after_oracle)

BOOST_DATA_TEST_CASE_F(flood_world,
                       only_a_repeat_of_the_refused_method_and_chat_inside_retry_after_is_a_violation,
                       boost::unit_test::data::make(repeats),
                       c) {
    net::http_client other_client{ioc.get_executor(), net::client_config{.name = "other"}};
    run([&]() -> awaitable<void> {
        sim.faults.add({.match = "sendMessage", .kind = sim::fault_kind::rate_limited, .delay = 3s});
        auto first = co_await call("sendMessage", expand(std::string(refused)));
        BOOST_TEST_REQUIRE(first.status == 429U);
        BOOST_TEST(first.body.at("parameters").at("retry_after").as_int64() == 3);
        time.advance(c.after);
        auto req = json_post(api(c.method), expand(std::string(c.params)));
        // (No co_await inside a conditional expression: g++ 12 miscompiles it.)
        auto& client = c.via == connection::same ? http : other_client;
        auto second = co_await client.send(std::move(req));
        BOOST_TEST_REQUIRE(second.has_value());
        BOOST_TEST(second->status == 200U, second->body);
        BOOST_TEST(sim.counters().retry_after_violations == c.violations);
    });
}

namespace {

// A compliant client: sends, and on a 429 waits exactly retry_after (on the simulator's time) before
// sending the same request again. `waiting` counts the clients asleep in such a wait.
awaitable<void> send_honouring_retry_after(engine::time_source& time,
                                           net::http_client& http,
                                           std::string url,
                                           std::string body,
                                           int& waiting,
                                           int& finished) {
    for (;;) {
        auto req = json_post(url, body);
        auto r = co_await http.send(std::move(req));
        BOOST_TEST_REQUIRE(r.has_value());
        if (r->status != 429U) {
            BOOST_TEST(r->status == 200U);
            ++finished;
            co_return;
        }
        const auto wait = json::parse(r->body).at("parameters").at("retry_after").as_int64();
        ++waiting;
        co_await time.sleep(std::chrono::seconds(wait));
        --waiting;
    }
}

// Moves the time a second at a time, only while every unfinished client sleeps.
awaitable<void>
tick_while_all_wait(engine::manual_time& time, const int& waiting, const int& finished, int clients) {
    while (finished < clients) {
        if (waiting > 0 && waiting == clients - finished) {
            time.advance(1s);
        }
        co_await engine::yield();
    }
}

} // namespace

BOOST_FIXTURE_TEST_CASE(a_client_honouring_every_retry_after_has_no_violation_even_with_requests_in_flight,
                        manual_clock) {
    // Five messages to one chat at the same instant, each on its own connection (a pool), against a
    // burst of 3: two are refused while the others are in flight, and each waits its own
    // retry_after. (The oracle used to count the second refused one as an early repeat.)
    boost::asio::io_context ioc{1};
    sim::telegram_simulator strict(ioc.get_executor(), strict_config(time, 3.0));
    BOOST_REQUIRE(strict.start());
    const auto user = strict.add_user({});
    constexpr int clients = 5;
    std::vector<std::unique_ptr<net::http_client>> pool;
    for (int i = 0; i < clients; ++i) {
        pool.push_back(std::make_unique<net::http_client>(ioc.get_executor(), net::client_config{}));
    }
    int waiting = 0;
    int finished = 0;
    engine::task_group senders(ioc.get_executor(), engine::task_group::config{.name = "senders"});
    run_test(ioc, [&]() -> awaitable<void> {
        for (int i = 0; i < clients; ++i) {
            const bool started = senders.spawn(send_honouring_retry_after(
                time,
                *pool[static_cast<std::size_t>(i)],
                strict.base_url() + "/bot" + world_token + "/sendMessage",
                R"({"chat_id":)" + std::to_string(user) + R"(,"text":"m)" + std::to_string(i) + R"("})",
                waiting,
                finished));
            BOOST_TEST_REQUIRE(started);
        }
        co_await tick_while_all_wait(time, waiting, finished, clients);
        co_await senders.join();
        co_await strict.stop();
    }());
    BOOST_TEST(finished == clients);
    BOOST_TEST(strict.counters().rate_limited >= 2U); // the case really had refusals in flight
    BOOST_TEST(strict.counters().retry_after_violations == 0U);
    BOOST_TEST(strict.sent_to(user).size() == static_cast<std::size_t>(clients));
}

namespace {

// One getUpdates; its answer's result count goes to `results` (-1 until it came).
awaitable<void> poll_once(net::http_client& http, std::string url, std::string body, int& results) {
    auto req = json_post(std::move(url), std::move(body));
    auto r = co_await http.send(std::move(req));
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(r->status == 200U);
    results = static_cast<int>(json::parse(r->body).at("result").as_array().size());
}

// Lets the loop run (the poll's request travels over loopback) until `done()`, a bounded number
// of turns: virtual time does not move meanwhile.
awaitable<bool> turns_until(const std::function<bool()>& done) {
    for (int turn = 0; turn < 100'000 && !done(); ++turn) {
        co_await engine::yield();
    }
    co_return done();
}

} // namespace

// A held getUpdates on a manual time is answered at its virtual deadline, at once when an update
// comes, and by stop(); real time passing does not end it.
BOOST_FIXTURE_TEST_CASE(a_held_poll_on_manual_time_ends_at_its_virtual_deadline_an_update_or_stop,
                        manual_clock) {
    boost::asio::io_context ioc{1};
    sim::telegram_simulator held(ioc.get_executor(), {.max_poll_hold = 50s, .time = &time});
    BOOST_REQUIRE(held.start());
    const auto user = held.add_user({});
    net::http_client http(ioc.get_executor(), net::client_config{});
    const std::string url = held.base_url() + "/bot" + world_token + "/getUpdates";
    engine::task_group polls(ioc.get_executor(), engine::task_group::config{.name = "polls"});
    run_test(ioc, [&]() -> awaitable<void> {
        int results = -1;
        const auto answered = [&results] { return results >= 0; };
        const auto held_one = [&held] { return held.counters().current_pollers == 1U; };

        BOOST_TEST_REQUIRE(polls.spawn(poll_once(http, url, R"({"timeout":30})", results)));
        BOOST_TEST_REQUIRE(co_await turns_until(held_one));
        time.advance(29s);
        BOOST_TEST(!co_await turns_until(answered)); // held: 1 s of virtual time is left
        time.advance(1s);
        BOOST_TEST_REQUIRE(co_await turns_until(answered));
        BOOST_TEST(results == 0);

        results = -1;
        BOOST_TEST_REQUIRE(polls.spawn(poll_once(http, url, R"({"timeout":30})", results)));
        BOOST_TEST_REQUIRE(co_await turns_until(held_one));
        const auto update = held.user_sends_text(user, "hello");
        BOOST_TEST_REQUIRE(co_await turns_until(answered));
        BOOST_TEST(results == 1);

        results = -1;
        const std::string confirmed = R"({"timeout":30,"offset":)" + std::to_string(update + 1) + "}";
        BOOST_TEST_REQUIRE(polls.spawn(poll_once(http, url, confirmed, results)));
        BOOST_TEST_REQUIRE(co_await turns_until(held_one));
        co_await held.stop();
        BOOST_TEST_REQUIRE(co_await turns_until(answered));
        BOOST_TEST(results == 0);
        co_await polls.join();
    }());
    BOOST_TEST(time.sleepers() == 0U); // no held poll left a sleeper behind
}

namespace {

struct cut_case {
    std::string_view name;
    std::optional<sim::fault> cut; ///< planned on the limiter's 429, if any
    bool refused_read;             ///< the client reads the 429
    std::uint64_t violations;      ///< after the same message again at once
};

std::ostream& operator<<(std::ostream& os, const cut_case& c) {
    return os << c.name;
}

const std::vector<cut_case> cuts{
    {"a 429 the client reads", std::nullopt, true, 1},
    {"a 429 cut mid-body",
     sim::fault{.match = "sendMessage", .kind = sim::fault_kind::reset_mid_body},
     false,
     0},
    {"a 429 whose connection is reset after the limiter's answer",
     sim::fault{.match = "sendMessage", .kind = sim::fault_kind::reset, .detail = "after_effect"},
     false,
     0},
};

// One sendMessage over `http`: its status, or 0 when no answer came.
awaitable<unsigned> send_text(net::http_client& http, std::string url, std::string body) {
    auto req = json_post(std::move(url), std::move(body));
    auto r = co_await http.send(std::move(req));
    co_return r ? r->status : 0U;
}

} // namespace

// The per-chat limiter's 429 binds the client only when its answer reaches it: a 429 that a fault
// cuts leaves the client nothing to honour, so the same message sent again at once is no violation.
BOOST_DATA_TEST_CASE_F(manual_clock,
                       a_limiter_429_whose_answer_a_fault_cuts_binds_no_one,
                       boost::unit_test::data::make(cuts),
                       c) {
    boost::asio::io_context ioc{1};
    sim::telegram_simulator strict(ioc.get_executor(), strict_config(time, 1.0));
    BOOST_REQUIRE(strict.start());
    const auto user = strict.add_user({});
    net::http_client http(ioc.get_executor(), net::client_config{});
    const std::string url = strict.base_url() + "/bot" + world_token + "/sendMessage";
    const std::string body = R"({"chat_id":)" + std::to_string(user) + R"(,"text":"again"})";
    run_test(ioc, [&]() -> awaitable<void> {
        BOOST_TEST_REQUIRE(co_await send_text(http, url, body) == 200U); // the chat's burst of 1
        if (c.cut) {
            strict.faults.add(*c.cut);
        }
        const auto refused = co_await send_text(http, url, body);
        BOOST_TEST(refused == (c.refused_read ? 429U : 0U));
        BOOST_TEST(strict.counters().retry_after_violations == 0U);
        const auto again = co_await send_text(http, url, body); // no virtual time has passed
        BOOST_TEST(again == 429U);
        BOOST_TEST(strict.counters().retry_after_violations == c.violations);
        co_await strict.stop();
    }());
}

BOOST_AUTO_TEST_SUITE_END()
