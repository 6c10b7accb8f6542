// Tests of engine/due_queue: the tick rounding, the queue's order (tables), and the scheduler on
// virtual time (one sleep serves a tick, an earlier item cuts a long sleep short, workers take each
// item once, close drops what is parked and ends every wait).
#include "engine/due_queue.hpp"
#include "tests/engine/test_support.hpp"

#include <boost/asio/post.hpp>
#include <boost/test/unit_test.hpp>

#include <memory>
#include <string>
#include <vector>

using namespace companion;
using namespace companion::engine;
using namespace std::chrono_literals;

namespace {

time_point at(duration d) {
    return time_point(d);
}

/// What a worker took, and at which virtual instant (ms since the fixture's start).
struct taken {
    std::string item;
    long long ms;
    bool operator==(const taken&) const = default;
};

std::ostream& operator<<(std::ostream& os, const taken& t) {
    return os << t.item << "@" << t.ms;
}

/// Takes items until the scheduler closes; `yield`: lets the loop run between two items (as a
/// worker that sends a request does), so the other workers get their turn.
awaitable<void> worker(due_scheduler<std::string>& s,
                       manual_time& time,
                       time_point start,
                       std::vector<taken>& log,
                       bool yield = false) {
    while (auto item = co_await s.next()) {
        log.push_back(
            {*item, std::chrono::duration_cast<std::chrono::milliseconds>(time.now() - start).count()});
        if (yield) {
            co_await boost::asio::post(co_await boost::asio::this_coro::executor, use_awaitable);
        }
    }
}

struct scheduler_loop : test::virtual_time {
    due_scheduler<std::string> s{ioc.get_executor(), time, 10ms};
    time_point start = time.now();
    std::vector<taken> log;

    time_point in(duration d) const { return start + d; }
};

} // namespace

BOOST_AUTO_TEST_SUITE(due_queue_suite)

BOOST_AUTO_TEST_CASE(tick_ceil_rounds_up_to_a_whole_tick) {
    struct row {
        duration t;
        duration tick;
        duration expected;
    };
    const std::vector<row> rows{
        {0ms, 10ms, 0ms},
        {1ns, 10ms, 10ms},
        {10ms, 10ms, 10ms},
        {10ms + 1ns, 10ms, 20ms},
        {2345ms, 10ms, 2350ms},
        {-5ms, 10ms, 0ms},
        {-10ms, 10ms, -10ms},
        {-15ms, 10ms, -10ms},
        {1234567ns, 0ms, 1234567ns}, // no tick: exact
        {7ms, -1ms, 7ms},
    };
    for (const auto& r : rows) {
        BOOST_TEST_CONTEXT(r.t.count() << "ns with a tick of " << r.tick.count() << "ns") {
            BOOST_TEST(tick_ceil(at(r.t), r.tick).time_since_epoch().count() == r.expected.count());
        }
    }
}

BOOST_AUTO_TEST_CASE(takes_what_is_due_earliest_first_and_in_push_order_within_a_tick) {
    struct row {
        std::string name;
        std::vector<std::pair<duration, std::string>> pushes;
        duration now;
        std::vector<std::string> taken;
        std::optional<duration> next_due_after; ///< of what is left
    };
    const std::vector<row> rows{
        {"empty", {}, 1s, {}, std::nullopt},
        {"nothing due yet", {{20ms, "a"}}, 19ms, {}, 20ms},
        {"due exactly now", {{20ms, "a"}}, 20ms, {"a"}, std::nullopt},
        {"rounded up to the tick", {{11ms, "a"}}, 19ms, {}, 20ms},
        {"earliest first", {{30ms, "c"}, {10ms, "a"}, {20ms, "b"}}, 1s, {"a", "b", "c"}, std::nullopt},
        {"one tick, push order",
         {{15ms, "b"}, {12ms, "a"}, {20ms, "c"}},
         20ms,
         {"b", "a", "c"},
         std::nullopt},
        {"some due, some not", {{10ms, "a"}, {50ms, "late"}, {20ms, "b"}}, 25ms, {"a", "b"}, 50ms},
        {"the past is due at once", {{-1s, "old"}, {5ms, "new"}}, 0ms, {"old"}, 10ms},
    };
    for (const auto& r : rows) {
        BOOST_TEST_CONTEXT(r.name) {
            due_queue<std::string> q(10ms);
            for (const auto& [due, item] : r.pushes) {
                q.push(at(due), item);
            }
            std::vector<std::string> got;
            const auto n = q.take_due(at(r.now), [&](std::string&& s) { got.push_back(std::move(s)); });
            BOOST_TEST(n == got.size());
            BOOST_TEST(got == r.taken, boost::test_tools::per_element());
            BOOST_TEST(q.size() == r.pushes.size() - got.size());
            const auto next = q.next_due();
            BOOST_TEST(next.has_value() == r.next_due_after.has_value());
            if (next && r.next_due_after) {
                BOOST_TEST(next->time_since_epoch().count() == r.next_due_after->count());
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(clear_drops_every_item) {
    due_queue<std::unique_ptr<int>> q(1ms);
    q.push(at(1ms), std::make_unique<int>(1));
    q.push(at(2ms), std::make_unique<int>(2));
    q.clear();
    BOOST_TEST(q.empty());
    BOOST_TEST(!q.next_due().has_value());
    BOOST_TEST(q.take_due(at(1s), [](std::unique_ptr<int>&&) {}) == 0U);
}

BOOST_FIXTURE_TEST_CASE(items_reach_a_worker_at_their_tick_once_each, scheduler_loop) {
    auto dispatch = spawn(s.dispatch());
    auto w = spawn(worker(s, time, start, log));
    settle();
    BOOST_TEST(s.schedule(in(25ms), "a"));
    BOOST_TEST(s.schedule(in(21ms), "b"));
    BOOST_TEST(s.schedule(in(5ms), "c"));
    BOOST_TEST(s.schedule(in(2s), "d"));
    BOOST_TEST(s.parked() == 4U);
    BOOST_TEST(advance_until([&] { return log.size() == 4; }, 3s, 1ms));
    const std::vector<taken> expected{{"c", 10}, {"a", 30}, {"b", 30}, {"d", 2000}};
    BOOST_TEST(log == expected, boost::test_tools::per_element());
    BOOST_TEST(s.parked() == 0U);
    BOOST_TEST(s.lost() == 0U);
    s.close();
    settle();
    BOOST_TEST(dispatch->done);
    BOOST_TEST(w->done);
    BOOST_TEST(!dispatch->error);
    BOOST_TEST(!w->error);
}

BOOST_FIXTURE_TEST_CASE(an_earlier_item_cuts_a_long_sleep_short, scheduler_loop) {
    auto dispatch = spawn(s.dispatch());
    auto w = spawn(worker(s, time, start, log));
    BOOST_TEST(s.schedule(in(10s), "far"));
    settle();
    BOOST_TEST(s.early_wakes() == 1U); // "far" rang the idle wait
    advance(1s);                       // dispatch sleeps toward 10 s
    BOOST_TEST(s.schedule(in(1500ms), "near"));
    BOOST_TEST(advance_until([&] { return log.size() == 2; }, 10s, 10ms));
    const std::vector<taken> expected{{"near", 1500}, {"far", 10000}};
    BOOST_TEST(log == expected, boost::test_tools::per_element());
    BOOST_TEST(s.early_wakes() == 2U); // and "near" the wait toward "far"; nothing else rang
    s.close();
    settle();
    BOOST_TEST(dispatch->done);
    BOOST_TEST(w->done);
}

BOOST_FIXTURE_TEST_CASE(an_empty_scheduler_sleeps_on_nothing_until_an_item_comes, scheduler_loop) {
    auto dispatch = spawn(s.dispatch());
    auto w = spawn(worker(s, time, start, log));
    settle();
    BOOST_TEST(time.sleepers() == 0U); // no timer while nothing is parked
    advance(1h);
    BOOST_TEST(s.schedule(in(1h + 40ms), "x"));
    settle();
    BOOST_TEST(time.sleepers() == 1U); // one sleep, whatever the number of items
    BOOST_TEST(advance_until([&] { return log.size() == 1; }, 1s, 10ms));
    BOOST_TEST(log.front().ms == 3600040);
    s.close();
    settle();
    BOOST_TEST(dispatch->done);
}

BOOST_FIXTURE_TEST_CASE(thousands_of_items_share_one_sleep_and_each_worker_takes_distinct_ones,
                        scheduler_loop) {
    std::vector<taken> second;
    auto dispatch = spawn(s.dispatch());
    auto w1 = spawn(worker(s, time, start, log, true));
    auto w2 = spawn(worker(s, time, start, second, true));
    for (int i = 0; i < 5000; ++i) {
        BOOST_TEST_REQUIRE(s.schedule(in(std::chrono::milliseconds(1000 + i % 400)), std::to_string(i)));
    }
    settle();
    BOOST_TEST(time.sleepers() == 1U);
    BOOST_TEST(advance_until([&] { return log.size() + second.size() == 5000; }, 2s, 10ms));
    std::vector<bool> seen(5000, false);
    for (const auto* l : {&log, &second}) {
        for (const auto& t : *l) {
            const auto i = std::stoul(t.item);
            BOOST_TEST_REQUIRE(!seen[i]); // never handed out twice
            seen[i] = true;
            // Taken at the tick its due time rounds up to.
            BOOST_TEST(t.ms == (1000 + static_cast<long long>(i % 400) + 9) / 10 * 10);
        }
    }
    BOOST_TEST(!log.empty());
    BOOST_TEST(!second.empty());
    s.close();
    settle();
}

BOOST_FIXTURE_TEST_CASE(close_drops_parked_items_ends_every_wait_and_refuses_more, scheduler_loop) {
    auto dispatch = spawn(s.dispatch());
    auto w = spawn(worker(s, time, start, log));
    BOOST_TEST(s.schedule(in(1s), "parked"));
    settle();
    s.close();
    settle();
    BOOST_TEST(s.parked() == 0U);
    BOOST_TEST(dispatch->done);
    BOOST_TEST(!dispatch->error);
    BOOST_TEST(w->done);
    BOOST_TEST(!s.schedule(in(2s), "late"));
    advance(5s);
    BOOST_TEST(log.empty());
}

BOOST_AUTO_TEST_SUITE_END()
