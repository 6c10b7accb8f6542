// Tests of engine/keyed_serial and keyed_queue: per-key order, cross-key concurrency, bounds, state
// freeing, contained failures, cancellation, and data items handed to the runner in their turn.
#include "engine/keyed_serial.hpp"
#include "engine/time.hpp"
#include "tests/engine/test_support.hpp"

#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

using namespace companion;
using namespace companion::engine;
using namespace std::chrono_literals;
using companion::test::virtual_time;

namespace {

awaitable<void> record(time_source& time, std::vector<std::string>& out, std::string what, duration d) {
    out.push_back(what + ":start");
    co_await time.sleep(d);
    out.push_back(what + ":end");
}

awaitable<void> explode(time_source& time) {
    co_await time.sleep(1ms);
    throw std::runtime_error("item failed");
}

// Items reference `out`, so it lives in the fixture and outlives the queues' unwinding.
struct fixture : virtual_time {
    std::vector<std::string> out;
    ~fixture() { settle(); }
};

} // namespace

BOOST_AUTO_TEST_SUITE(keyed_serial_suite)

BOOST_FIXTURE_TEST_CASE(items_of_one_key_run_in_submission_order_one_at_a_time, fixture) {
    keyed_serial<std::int64_t> q(ioc.get_executor());
    BOOST_TEST(!q.submit(1, record(time, out, "a", 10ms)));
    BOOST_TEST(!q.submit(1, record(time, out, "b", 1ms)));
    BOOST_TEST(!q.submit(1, record(time, out, "c", 5ms)));
    advance(50ms);
    BOOST_TEST(out == (std::vector<std::string>{"a:start", "a:end", "b:start", "b:end", "c:start", "c:end"}));
}

BOOST_FIXTURE_TEST_CASE(different_keys_run_concurrently, fixture) {
    keyed_serial<std::int64_t> q(ioc.get_executor());
    BOOST_TEST(!q.submit(1, record(time, out, "slow", 1s)));
    BOOST_TEST(!q.submit(2, record(time, out, "fast", 1ms)));
    advance(10ms);
    BOOST_TEST(out == (std::vector<std::string>{"slow:start", "fast:start", "fast:end"}));
    BOOST_TEST(q.active_keys() == 1U);
}

BOOST_FIXTURE_TEST_CASE(full_key_queue_refuses_with_a_typed_error_and_state_is_freed_when_drained, fixture) {
    keyed_serial<std::int64_t> q(ioc.get_executor(), {.per_key_limit = 2, .total_limit = 100});
    BOOST_TEST(!q.submit(7, record(time, out, "running", 5ms)));
    settle();
    BOOST_TEST(!q.submit(7, record(time, out, "q1", 1ms)));
    BOOST_TEST(!q.submit(7, record(time, out, "q2", 1ms)));
    const auto ec = q.submit(7, record(time, out, "q3", 1ms));
    BOOST_TEST((ec == make_error_code(errc::queue_full)));
    BOOST_TEST(q.queued() == 2U);
    advance(20ms);
    BOOST_TEST(out.size() == 6U);
    BOOST_TEST(q.active_keys() == 0U);
    BOOST_TEST(q.queued() == 0U);
}

BOOST_FIXTURE_TEST_CASE(global_bound_refuses_new_keys_too, fixture) {
    keyed_serial<std::int64_t> q(ioc.get_executor(), {.per_key_limit = 10, .total_limit = 3});
    for (std::int64_t k = 0; k < 3; ++k) {
        BOOST_TEST(!q.submit(k, record(time, out, "x", 1s)));
    }
    BOOST_TEST((q.submit(99, record(time, out, "y", 1s)) == make_error_code(errc::queue_full)));
}

BOOST_FIXTURE_TEST_CASE(failing_item_is_contained_and_the_next_item_runs, fixture) {
    keyed_serial<std::int64_t> q(ioc.get_executor());
    BOOST_TEST(!q.submit(1, explode(time)));
    BOOST_TEST(!q.submit(1, record(time, out, "after", 1ms)));
    advance(10ms);
    BOOST_TEST(out == (std::vector<std::string>{"after:start", "after:end"}));
    BOOST_TEST(q.failed() == 1U);
}

BOOST_FIXTURE_TEST_CASE(cancelling_the_group_drops_queued_items_and_frees_keys, fixture) {
    keyed_serial<std::int64_t> q(ioc.get_executor());
    BOOST_TEST(!q.submit(1, record(time, out, "a", 1s)));
    BOOST_TEST(!q.submit(1, record(time, out, "b", 1s)));
    BOOST_TEST(!q.submit(1, record(time, out, "c", 1s)));
    settle();
    q.cancel();
    settle();
    BOOST_TEST(out == (std::vector<std::string>{"a:start"}));
    BOOST_TEST(q.dropped() == 2U);
    BOOST_TEST(q.active_keys() == 0U);
    BOOST_TEST((q.submit(1, record(time, out, "d", 1s)) == make_error_code(errc::shutting_down)));
}

BOOST_FIXTURE_TEST_CASE(destroying_the_queue_with_running_work_unwinds_safely, fixture) {
    {
        keyed_serial<std::int64_t> q(ioc.get_executor());
        BOOST_TEST(!q.submit(1, record(time, out, "a", 1s)));
        BOOST_TEST(!q.submit(1, record(time, out, "b", 1s)));
        settle();
    }
    advance(3s);
    BOOST_TEST(out == (std::vector<std::string>{"a:start"}));
}

BOOST_FIXTURE_TEST_CASE(data_items_reach_the_runner_in_order_and_only_when_their_turn_comes, fixture) {
    std::vector<std::string> handed; // what the runner was given, when
    keyed_queue<std::int64_t, std::string> q(ioc.get_executor(), {}, [&](std::string item) {
        handed.push_back(item);
        const auto d = item == "x" ? 5ms : 10ms;
        return record(time, out, std::move(item), d);
    });
    BOOST_TEST(!q.submit(1, "a"));
    BOOST_TEST(!q.submit(1, "b"));
    BOOST_TEST(!q.submit(2, "x"));
    settle();
    // The heads of both keys run; "b" is still data, no coroutine of it exists yet.
    BOOST_TEST(handed == (std::vector<std::string>{"a", "x"}));
    BOOST_TEST(q.queued() == 1U);
    advance(10ms);
    BOOST_TEST(handed == (std::vector<std::string>{"a", "x", "b"}));
    advance(10ms);
    BOOST_TEST(out == (std::vector<std::string>{"a:start", "x:start", "x:end", "a:end", "b:start", "b:end"}));
    BOOST_TEST(q.active_keys() == 0U);
}

BOOST_FIXTURE_TEST_CASE(an_offer_refused_leaves_the_item_to_its_caller, fixture) {
    keyed_queue<std::int64_t, std::string> q(
        ioc.get_executor(),
        {.per_key_limit = 1, .total_limit = 10},
        [&](std::string item) { return record(time, out, std::move(item), 1s); });
    std::string first = "first";
    std::string second = "second";
    std::string third = "third";
    BOOST_TEST(!q.offer(1, first));
    settle(); // "first" runs; the queue of key 1 is empty again
    BOOST_TEST(!q.offer(1, second));
    BOOST_TEST((q.offer(1, third) == make_error_code(errc::queue_full)));
    BOOST_TEST(third == "third"); // not moved from: the caller can push() it
    auto pushed = spawn(q.push(1, std::move(third)));
    settle();
    BOOST_TEST(!pushed->done); // waits for room
    advance(1s);
    BOOST_TEST(pushed->done);
    BOOST_TEST(!pushed->value.value()); // accepted
    advance(3s);
    BOOST_TEST(out == (std::vector<std::string>{"first:start",
                                                "first:end",
                                                "second:start",
                                                "second:end",
                                                "third:start",
                                                "third:end"}));
}

BOOST_AUTO_TEST_SUITE_END()
