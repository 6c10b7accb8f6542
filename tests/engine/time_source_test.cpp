// Tests of engine/time_source: virtual time that wakes sleepers in order, cancellation of a
// sleeper, deadlines raced on a time source, and the real source's basic contract.
#include "engine/error.hpp"
#include "engine/time_source.hpp"
#include "tests/engine/test_support.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/error.hpp>
#include <boost/system/system_error.hpp>
#include <boost/test/unit_test.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

using namespace companion;
using namespace companion::engine;
using namespace std::chrono_literals;

namespace {

struct manual_loop {
    boost::asio::io_context ioc{1};
    manual_time time;

    void settle() { test::drain(ioc); }
    void advance(duration d) {
        time.advance(d, [this] { settle(); });
    }
};

awaitable<void> sleeper(manual_time& t, duration d, std::vector<std::string>& log, std::string name) {
    co_await t.sleep(d);
    log.push_back(
        name + "@" +
        std::to_string(
            std::chrono::duration_cast<std::chrono::milliseconds>(t.now().time_since_epoch() - 1h).count()));
}

// A caller that accepts total cancellation, as the children of a task group do.
awaitable<void> accepting_total(awaitable<void> op) {
    co_await boost::asio::this_coro::reset_cancellation_state(boost::asio::enable_total_cancellation());
    co_await std::move(op);
}

awaitable<void> work(manual_time& t, duration d, bool& finished) {
    co_await t.sleep(d);
    finished = true;
}

} // namespace

BOOST_AUTO_TEST_SUITE(time_source_suite)

BOOST_FIXTURE_TEST_CASE(sleepers_wake_in_time_order_each_at_its_own_instant, manual_loop) {
    std::vector<std::string> log;
    auto a = test::spawn(ioc, sleeper(time, 300ms, log, "a"));
    auto b = test::spawn(ioc, sleeper(time, 100ms, log, "b"));
    auto c = test::spawn(ioc, sleeper(time, 200ms, log, "c"));
    settle();
    BOOST_TEST(time.sleepers() == 3U);
    advance(250ms);
    BOOST_TEST((log == std::vector<std::string>{"b@100", "c@200"}));
    BOOST_TEST(time.sleepers() == 1U);
    advance(1s);
    BOOST_TEST((log == std::vector<std::string>{"b@100", "c@200", "a@300"}));
    BOOST_TEST(a->done);
}

BOOST_FIXTURE_TEST_CASE(nothing_wakes_before_time_is_advanced, manual_loop) {
    std::vector<std::string> log;
    auto a = test::spawn(ioc, sleeper(time, 1ms, log, "a"));
    settle();
    settle();
    BOOST_TEST(!a->done);
    BOOST_TEST((time.next_wake() == std::optional<time_point>(time.now() + 1ms)));
}

BOOST_FIXTURE_TEST_CASE(a_cancelled_sleeper_leaves_the_schedule_with_operation_aborted, manual_loop) {
    std::vector<std::string> log;
    boost::asio::cancellation_signal cancel;
    bool threw = false;
    boost::asio::co_spawn(ioc,
                          sleeper(time, 1s, log, "a"),
                          boost::asio::bind_cancellation_slot(cancel.slot(), [&](std::exception_ptr e) {
                              threw = engine::code_of(e) == boost::asio::error::operation_aborted;
                          }));
    settle();
    BOOST_TEST(time.sleepers() == 1U);
    cancel.emit(boost::asio::cancellation_type::terminal); // a co_spawned coroutine filters out total
    settle();
    BOOST_TEST(threw);
    BOOST_TEST(time.sleepers() == 0U);
    advance(2s);
    BOOST_TEST(log.empty());
}

BOOST_FIXTURE_TEST_CASE(wall_time_moves_with_the_steady_time, manual_loop) {
    const auto start = time.wall();
    advance(1500ms);
    BOOST_TEST((time.wall() - start == 1500ms));
}

BOOST_FIXTURE_TEST_CASE(deadline_on_a_time_source_lets_a_quick_operation_finish, manual_loop) {
    bool finished = false;
    auto r = test::spawn(ioc, with_deadline(work(time, 10ms, finished), time.now() + 1s, time));
    advance(20ms);
    BOOST_TEST_REQUIRE(r->done);
    BOOST_TEST(!r->error);
    BOOST_TEST(finished);
    BOOST_TEST(time.sleepers() == 0U); // the deadline's own sleep is gone with it
}

BOOST_FIXTURE_TEST_CASE(deadline_on_a_time_source_cancels_a_slow_operation_with_a_timeout, manual_loop) {
    bool finished = false;
    auto r = test::spawn(ioc, with_deadline(work(time, 10s, finished), time.now() + 1s, time));
    advance(2s);
    BOOST_TEST_REQUIRE(r->done);
    BOOST_TEST(engine::code_of(r->error) == make_error_code(errc::timeout));
    BOOST_TEST(!finished);
    BOOST_TEST(time.sleepers() == 0U);
}

BOOST_FIXTURE_TEST_CASE(deadline_ends_when_its_operation_ends_after_a_total_cancellation_was_ignored,
                        manual_loop) {
    bool finished = false;
    boost::asio::cancellation_signal cancel;
    bool done = false;
    boost::asio::co_spawn(
        ioc,
        with_deadline(work(time, 10ms, finished), time.now() + 1s, time),
        boost::asio::bind_cancellation_slot(cancel.slot(), [&](std::exception_ptr) { done = true; }));
    advance(5ms);
    cancel.emit(boost::asio::cancellation_type::total);
    advance(20ms);
    BOOST_TEST(finished);
    BOOST_TEST(done);
    BOOST_TEST(time.sleepers() == 0U);
}

BOOST_FIXTURE_TEST_CASE(a_total_cancellation_of_the_caller_reaches_the_guarded_operation, manual_loop) {
    bool finished = false;
    boost::asio::cancellation_signal cancel;
    std::exception_ptr error;
    bool done = false;
    boost::asio::co_spawn(ioc,
                          accepting_total(with_deadline(work(time, 10s, finished), time.now() + 1min, time)),
                          boost::asio::bind_cancellation_slot(cancel.slot(), [&](std::exception_ptr e) {
                              done = true;
                              error = e;
                          }));
    advance(5ms);
    cancel.emit(boost::asio::cancellation_type::total);
    settle();
    BOOST_TEST(done); // at once: neither the work nor the deadline's sleep held the caller
    BOOST_TEST(!finished);
    BOOST_TEST(engine::code_of(error) == boost::asio::error::operation_aborted);
    BOOST_TEST(time.sleepers() == 0U);
}

BOOST_AUTO_TEST_CASE(the_system_time_source_reads_the_engine_clock_and_the_system_clock) {
    auto& t = system_time();
    const auto before = clock::now();
    BOOST_TEST((t.now() >= before));
    const auto wall =
        std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
    BOOST_TEST(std::chrono::abs(t.wall() - wall) < 1s);
}

BOOST_FIXTURE_TEST_CASE(an_alarm_wakes_at_its_time_or_earlier_when_rung, manual_loop) {
    auto a = time.make_alarm(ioc.get_executor());
    std::vector<std::string> log;
    const auto start = time.now();
    auto waiter = [&]() -> awaitable<void> {
        log.push_back(co_await a->wait_until(start + 100ms) ? "time" : "rung");
        log.push_back(co_await a->wait_until(start + 10s) ? "time" : "rung");
        log.push_back(co_await a->wait_until(time_point::max()) ? "time" : "rung");
        log.push_back(co_await a->wait_until(start) ? "time" : "rung"); // past: at once
    };
    auto w = test::spawn(ioc, waiter());
    settle();
    BOOST_TEST(time.sleepers() == 1U);
    advance(100ms);
    BOOST_TEST(log == std::vector<std::string>{"time"}, boost::test_tools::per_element());
    advance(1s);
    a->ring(); // 9 s early
    settle();
    BOOST_TEST(time.sleepers() == 0U); // the max wait is on no schedule
    BOOST_TEST(log.size() == 2U);
    advance(1h);
    BOOST_TEST(log.size() == 2U); // only a ring ends it
    a->ring();
    settle();
    BOOST_TEST(w->done);
    BOOST_TEST(!w->error);
    BOOST_TEST(log == (std::vector<std::string>{"time", "rung", "rung", "time"}),
               boost::test_tools::per_element());
    a->ring(); // no wait in progress: nothing
    settle();
}

BOOST_FIXTURE_TEST_CASE(a_cancelled_alarm_wait_throws_operation_aborted, manual_loop) {
    auto a = time.make_alarm(ioc.get_executor());
    boost::asio::cancellation_signal stop;
    std::exception_ptr error;
    bool finished = false;
    // Named: a coroutine lambda's captures live in the lambda object, which must outlive it.
    const auto waiter = [&]() -> awaitable<void> {
        const bool came = co_await a->wait_until(time.now() + 1s);
        finished = came;
    };
    boost::asio::co_spawn(
        ioc,
        accepting_total(waiter()),
        boost::asio::bind_cancellation_slot(stop.slot(), [&](std::exception_ptr e) { error = e; }));
    settle();
    stop.emit(boost::asio::cancellation_type::total);
    settle();
    BOOST_TEST(!finished);
    BOOST_TEST(engine::is_cancellation(error));
    BOOST_TEST(time.sleepers() == 0U);
}

BOOST_AUTO_TEST_CASE(the_system_alarm_is_rung_without_an_exception) {
    boost::asio::io_context ioc;
    auto a = system_time().make_alarm(ioc.get_executor());
    std::optional<bool> came;
    boost::asio::co_spawn(
        ioc,
        [&]() -> awaitable<void> { came = co_await a->wait_until(system_time().now() + 1h); },
        [](std::exception_ptr e) { BOOST_TEST(!e); });
    ioc.poll();
    a->ring();
    ioc.run();
    BOOST_TEST(came.has_value());
    BOOST_TEST(!came.value_or(true));
}

BOOST_FIXTURE_TEST_CASE(wait_until_answers_whether_the_time_came_or_the_wait_was_cancelled, manual_loop) {
    std::vector<std::string> log;
    boost::asio::cancellation_signal stop;
    const auto start = time.now();
    // Named: a coroutine lambda's captures live in the lambda object, which must outlive it.
    const auto waiter = [&]() -> awaitable<void> {
        log.push_back(co_await time.wait_until(start) ? "past" : "cancelled"); // at once
        log.push_back(co_await time.wait_until(start + 100ms) ? "time" : "cancelled");
        log.push_back(co_await time.wait_until(start + 10s) ? "time" : "cancelled");
        log.push_back("after");
    };
    std::exception_ptr error;
    bool done = false;
    boost::asio::co_spawn(ioc,
                          accepting_total(waiter()),
                          boost::asio::bind_cancellation_slot(stop.slot(), [&](std::exception_ptr e) {
                              done = true;
                              error = e;
                          }));
    settle();
    BOOST_TEST(log == std::vector<std::string>{"past"}, boost::test_tools::per_element());
    advance(100ms);
    BOOST_TEST(time.sleepers() == 1U);
    stop.emit(boost::asio::cancellation_type::total);
    settle();
    // The cancelled wait returns false instead of throwing: the task went on to its end.
    BOOST_TEST(done);
    BOOST_TEST(!error);
    BOOST_TEST(time.sleepers() == 0U);
    BOOST_TEST(log == (std::vector<std::string>{"past", "time", "cancelled", "after"}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(the_system_wait_until_returns_false_when_cancelled) {
    boost::asio::io_context ioc;
    boost::asio::cancellation_signal stop;
    std::optional<bool> late;
    std::optional<bool> past;
    std::exception_ptr error;
    const auto waiter = [&]() -> awaitable<void> {
        past = co_await system_time().wait_until(system_time().now() - 1s);
        late = co_await system_time().wait_until(system_time().now() + 1h);
    };
    boost::asio::co_spawn(
        ioc,
        accepting_total(waiter()),
        boost::asio::bind_cancellation_slot(stop.slot(), [&](std::exception_ptr e) { error = e; }));
    while (!past) {
        ioc.run_one();
    }
    ioc.poll();
    stop.emit(boost::asio::cancellation_type::total);
    ioc.run();
    BOOST_TEST(!error);
    BOOST_TEST(past.value_or(false));
    BOOST_TEST(late.has_value());
    BOOST_TEST(!late.value_or(true));
}

// Scheduled calls: the deadline and the heartbeat's timing without a coroutine asleep.
BOOST_FIXTURE_TEST_CASE(a_scheduled_call_runs_at_its_instant_in_order_with_the_sleepers, manual_loop) {
    std::vector<std::string> log;
    const auto stamp = [&](const std::string& name) {
        log.push_back(name + "@" +
                      std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                         time.now().time_since_epoch() - 1h)
                                         .count()));
    };
    auto late = time.call_at(ioc.get_executor(), time.now() + 300ms, [&] { stamp("late"); });
    auto s = test::spawn(ioc, sleeper(time, 200ms, log, "sleeper"));
    auto early = time.call_at(ioc.get_executor(), time.now() + 100ms, [&] { stamp("early"); });
    auto dropped = time.call_at(ioc.get_executor(), time.now() + 150ms, [&] { stamp("dropped"); });
    settle(); // the sleeper goes to sleep
    BOOST_TEST(time.sleepers() == 4U);
    dropped.reset(); // cancelled: it never runs and leaves the schedule
    BOOST_TEST(time.sleepers() == 3U);
    advance(1s);
    BOOST_TEST(log == (std::vector<std::string>{"early@100", "sleeper@200", "late@300"}),
               boost::test_tools::per_element());
    BOOST_TEST(time.sleepers() == 0U);
    late.reset(); // a fired registration is inert
    early.reset();
}

BOOST_FIXTURE_TEST_CASE(a_scheduled_call_may_drop_itself_and_schedule_the_next_from_its_function,
                        manual_loop) {
    int runs = 0;
    std::unique_ptr<scheduled_call> call;
    std::function<void()> again = [&] {
        ++runs;
        if (runs < 3) {
            call = time.call_at(ioc.get_executor(), time.now() + 1s, again); // replaces the running one
        } else {
            call.reset();
        }
    };
    call = time.call_at(ioc.get_executor(), time.now() + 1s, again);
    advance(10s);
    BOOST_TEST(runs == 3);
    BOOST_TEST(time.sleepers() == 0U);
}

BOOST_AUTO_TEST_CASE(a_system_call_dropped_after_its_run_was_queued_does_not_run) {
    boost::asio::io_context ioc;
    int ran = 0;
    // Due at once: its timer completes on the first turn of the loop.
    auto kept = system_time().call_at(ioc.get_executor(), system_time().now() - 1s, [&] { ++ran; });
    auto dropped = system_time().call_at(ioc.get_executor(), system_time().now() - 1s, [&] { ran += 10; });
    dropped.reset();
    ioc.run();
    BOOST_TEST(ran == 1);
    kept.reset();
}

BOOST_AUTO_TEST_CASE(the_system_deadline_cancels_a_slow_operation_with_a_timeout) {
    boost::asio::io_context ioc;
    std::exception_ptr error;
    bool done = false;
    // A deadline already past: the operation is cancelled on the loop's first turns, not after
    // its hour.
    boost::asio::co_spawn(ioc,
                          with_deadline(system_time().sleep(1h), system_time().now() - 1ms, system_time()),
                          [&](std::exception_ptr e) {
                              done = true;
                              error = e;
                          });
    ioc.run();
    BOOST_TEST(done);
    BOOST_TEST(engine::code_of(error) == make_error_code(errc::timeout));
}

BOOST_AUTO_TEST_SUITE_END()
