// Tests of engine/time on virtual time: sleep, deadlines (expiry, success, nesting, errors,
// cancellation of the caller).
#include "engine/error.hpp"
#include "engine/time.hpp"
#include "engine/time_source.hpp"
#include "tests/engine/test_support.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/error.hpp>
#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <functional>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <vector>

using namespace companion;
using namespace companion::engine;
using namespace std::chrono_literals;
using companion::engine::code_of;
using companion::test::virtual_time;

namespace {

awaitable<int> slow_value(time_source& time, duration d, int v) {
    co_await time.sleep(d);
    co_return v;
}

awaitable<int> failing_after(time_source& time, duration d) {
    co_await time.sleep(d);
    throw std::runtime_error("boom");
}

awaitable<void> nested(time_source& time, duration inner_deadline, duration outer_deadline, duration work) {
    co_await with_timeout(with_timeout(slow_value(time, work, 1), inner_deadline, time),
                          outer_deadline,
                          time);
}

struct move_only {
    explicit move_only(int x) : v(x) {}
    move_only(move_only&&) = default;
    move_only& operator=(move_only&&) = default;
    int v;
};

awaitable<move_only> make_move_only(time_source& time) {
    co_await time.sleep(1ms);
    co_return move_only(7);
}

awaitable<int> unwrap_move_only(time_source& time) {
    auto m = co_await with_timeout(make_move_only(time), 1s, time);
    co_return m.v;
}

// An operation that honours only terminal cancellation: its own coroutine keeps co_spawn's
// default filter, so total cancellation of the caller never reaches its sleep.
awaitable<int> terminal_only(time_source& time, duration d) {
    auto ex = co_await boost::asio::this_coro::executor;
    co_return co_await boost::asio::co_spawn(ex, slow_value(time, d, 3), use_awaitable);
}

awaitable<int> accepting_total(awaitable<int> op) {
    co_await boost::asio::this_coro::reset_cancellation_state(boost::asio::enable_total_cancellation());
    co_return co_await std::move(op);
}

} // namespace

BOOST_AUTO_TEST_SUITE(time_suite)

BOOST_FIXTURE_TEST_CASE(sleep_resumes_only_after_virtual_time_passes, virtual_time) {
    auto s = test::spawn(ioc, slow_value(time, 10s, 5));
    advance(9s);
    BOOST_TEST(!s->done);
    advance(2s);
    BOOST_TEST(s->done);
    BOOST_TEST(s->value.value() == 5);
}

BOOST_FIXTURE_TEST_CASE(deadline_that_expires_cancels_the_operation_with_a_typed_timeout, virtual_time) {
    auto s = test::spawn(ioc, with_timeout(slow_value(time, 10s, 1), 2s, time));
    advance(1900ms);
    BOOST_TEST(!s->done);
    advance(200ms);
    BOOST_TEST(s->done);
    BOOST_TEST((code_of(s->error) == make_error_code(errc::timeout)));
}

BOOST_FIXTURE_TEST_CASE(operation_that_finishes_first_returns_its_value, virtual_time) {
    auto s = test::spawn(ioc, with_timeout(slow_value(time, 1s, 42), 5s, time));
    advance(1100ms);
    BOOST_TEST(s->done);
    BOOST_TEST(s->value.value() == 42);
}

BOOST_FIXTURE_TEST_CASE(error_before_the_deadline_is_rethrown_at_once, virtual_time) {
    auto s = test::spawn(ioc, with_timeout(failing_after(time, 1s), 60s, time));
    advance(1100ms);
    BOOST_TEST(s->done);
    BOOST_CHECK_THROW(std::rethrow_exception(s->error), std::runtime_error);
}

BOOST_FIXTURE_TEST_CASE(nested_deadlines_the_earliest_wins, virtual_time) {
    auto outer_first = test::spawn(ioc, nested(time, 10s, 1s, 60s));
    auto inner_first = test::spawn(ioc, nested(time, 1s, 10s, 60s));
    advance(1100ms);
    BOOST_TEST(outer_first->done);
    BOOST_TEST(inner_first->done);
    BOOST_TEST((code_of(outer_first->error) == make_error_code(errc::timeout)));
    BOOST_TEST((code_of(inner_first->error) == make_error_code(errc::timeout)));
}

BOOST_FIXTURE_TEST_CASE(cancelling_the_caller_cancels_the_guarded_operation, virtual_time) {
    boost::asio::cancellation_signal signal;
    bool done = false;
    std::exception_ptr error;
    boost::asio::co_spawn(ioc,
                          with_timeout(slow_value(time, 10s, 1), 20s, time),
                          boost::asio::bind_cancellation_slot(signal.slot(), [&](std::exception_ptr e, int) {
                              done = true;
                              error = e;
                          }));
    advance(1s);
    signal.emit(boost::asio::cancellation_type::terminal);
    settle();
    BOOST_TEST(done);
    BOOST_TEST((code_of(error) == boost::asio::error::operation_aborted));
}

BOOST_FIXTURE_TEST_CASE(abandon_on_cancel_turns_total_cancellation_into_terminal, virtual_time) {
    boost::asio::cancellation_signal plain_signal;
    boost::asio::cancellation_signal abandoning_signal;
    std::optional<std::exception_ptr> plain;
    std::optional<std::exception_ptr> abandoning;
    boost::asio::co_spawn(ioc,
                          accepting_total(terminal_only(time, 10s)),
                          boost::asio::bind_cancellation_slot(plain_signal.slot(),
                                                              [&](std::exception_ptr e, int) { plain = e; }));
    boost::asio::co_spawn(
        ioc,
        accepting_total(abandon_on_cancel(terminal_only(time, 10s))),
        boost::asio::bind_cancellation_slot(abandoning_signal.slot(),
                                            [&](std::exception_ptr e, int) { abandoning = e; }));
    advance(1s);
    plain_signal.emit(boost::asio::cancellation_type::total);
    abandoning_signal.emit(boost::asio::cancellation_type::total);
    advance(100ms);
    // Without the helper the operation ignores total cancellation and runs on.
    BOOST_TEST(!plain.has_value());
    BOOST_TEST_REQUIRE(abandoning.has_value());
    BOOST_TEST((code_of(*abandoning) == boost::asio::error::operation_aborted));
    advance(9s);
    BOOST_TEST_REQUIRE(plain.has_value());
    BOOST_TEST(!*plain); // finished its sleep normally
}

BOOST_FIXTURE_TEST_CASE(abandon_on_cancel_returns_the_result_when_nobody_cancels, virtual_time) {
    auto s = test::spawn(ioc, abandon_on_cancel(slow_value(time, 1s, 9)));
    advance(1s);
    BOOST_TEST(s->value.value() == 9);
}

BOOST_FIXTURE_TEST_CASE(deadline_works_with_move_only_results, virtual_time) {
    auto s = test::spawn(ioc, unwrap_move_only(time));
    advance(10ms);
    BOOST_TEST(s->value.value() == 7);
}

// The heartbeat: a beat at once and every period while the work runs, none after it, the
// work's own result or error, and a failing beat that never stops the work.
struct beats {
    std::vector<duration> at;
    bool fail = false;
};

std::function<awaitable<void>()> beat_into(beats& b, time_source& time) {
    return [&b, &time]() -> awaitable<void> {
        b.at.push_back(time.now().time_since_epoch());
        if (b.fail) {
            throw std::runtime_error("chat action refused");
        }
        co_return;
    };
}

BOOST_FIXTURE_TEST_CASE(a_heartbeat_beats_every_period_while_the_work_runs_and_stops_with_it, virtual_time) {
    beats b;
    const auto start = time.now().time_since_epoch();
    auto s =
        test::spawn(ioc, with_heartbeat(slow_value(time, 10s, 7), {.every = 4s}, time, beat_into(b, time)));
    advance(30s);
    BOOST_TEST(s->done);
    BOOST_TEST(s->value.value() == 7);
    BOOST_TEST_REQUIRE(b.at.size() == 3U); // at 0, 4 and 8 s; none at 12 s, after the work ended
    BOOST_TEST((b.at[0] == start));
    BOOST_TEST((b.at[1] == start + 4s));
    BOOST_TEST((b.at[2] == start + 8s));
}

// A first beat that waits (Telegram recommends a chat action only for a noticeable wait): work
// that ends sooner shows none; longer work shows the first when due, then one every period.
struct delayed_case {
    duration work;
    std::vector<duration> expected; // beat times after the start
};

std::ostream& operator<<(std::ostream& os, const delayed_case& c) {
    return os << "work of " << c.work.count() << " ns";
}

const delayed_case delayed_cases[] = {
    {100ms, {}},
    {499ms, {}},
    {501ms, {500ms}},
    {4s, {500ms}},
    {5s, {500ms, 4500ms}},
    {10s, {500ms, 4500ms, 8500ms}},
};

BOOST_DATA_TEST_CASE_F(virtual_time,
                       a_heartbeat_with_a_first_delay_beats_only_for_work_that_outlasts_it,
                       boost::unit_test::data::make(delayed_cases),
                       c) {
    beats b;
    const auto start = time.now().time_since_epoch();
    auto s = test::spawn(ioc,
                         with_heartbeat(slow_value(time, c.work, 7),
                                        heartbeat_schedule{.first = 500ms, .every = 4s},
                                        time,
                                        beat_into(b, time)));
    advance(30s);
    BOOST_TEST(s->done);
    BOOST_TEST(s->value.value() == 7);
    BOOST_TEST_REQUIRE(b.at.size() == c.expected.size());
    for (std::size_t i = 0; i < b.at.size(); ++i) {
        BOOST_TEST((b.at[i] == start + c.expected[i]));
    }
}

BOOST_FIXTURE_TEST_CASE(a_heartbeat_passes_the_works_error_and_survives_failing_beats, virtual_time) {
    beats b;
    b.fail = true;
    auto failed =
        test::spawn(ioc, with_heartbeat(failing_after(time, 5s), {.every = 1s}, time, beat_into(b, time)));
    advance(10s);
    BOOST_TEST(failed->done);
    BOOST_CHECK_THROW(std::rethrow_exception(failed->error), std::runtime_error);
    BOOST_TEST(b.at.size() == 5U); // every beat failed; the beats went on until the work ended
}

BOOST_FIXTURE_TEST_CASE(cancelling_the_caller_of_a_heartbeat_cancels_the_work, virtual_time) {
    beats b;
    boost::asio::cancellation_signal signal;
    std::optional<std::exception_ptr> ended;
    boost::asio::co_spawn(
        ioc,
        with_heartbeat(slow_value(time, 60s, 1), {.every = 4s}, time, beat_into(b, time)),
        boost::asio::bind_cancellation_slot(signal.slot(), [&](std::exception_ptr e, int) { ended = e; }));
    advance(5s);
    signal.emit(boost::asio::cancellation_type::terminal);
    settle();
    BOOST_TEST_REQUIRE(ended.has_value());
    BOOST_TEST((code_of(*ended) == boost::asio::error::operation_aborted));
    BOOST_TEST(b.at.size() == 2U);
}

// A beat in progress is never cut off: the caller's cancellation ends the work at once, and the
// heartbeat returns only once the beat has finished by itself.
BOOST_FIXTURE_TEST_CASE(a_cancelled_heartbeat_waits_for_the_beat_in_progress_without_cutting_it,
                        virtual_time) {
    std::vector<duration> finished_beats;
    std::function<awaitable<void>()> slow_beat = [&]() -> awaitable<void> {
        co_await time.sleep(2s); // a chat action's round trip
        finished_beats.push_back(time.now().time_since_epoch());
    };
    boost::asio::cancellation_signal signal;
    std::optional<std::exception_ptr> ended;
    const auto start = time.now().time_since_epoch();
    boost::asio::co_spawn(
        ioc,
        with_heartbeat(slow_value(time, 60s, 1), {.first = 1s, .every = 4s}, time, slow_beat),
        boost::asio::bind_cancellation_slot(signal.slot(), [&](std::exception_ptr e, int) { ended = e; }));
    advance(2s); // the first beat started at 1 s and runs until 3 s
    signal.emit(boost::asio::cancellation_type::terminal);
    settle();
    BOOST_TEST(!ended.has_value()); // the work is cancelled, the beat still runs
    BOOST_TEST(finished_beats.empty());
    advance(1s);
    BOOST_TEST_REQUIRE(ended.has_value());
    BOOST_TEST((code_of(*ended) == boost::asio::error::operation_aborted));
    BOOST_TEST_REQUIRE(finished_beats.size() == 1U);
    BOOST_TEST((finished_beats[0] == start + 3s));
    advance(30s);
    BOOST_TEST(finished_beats.size() == 1U); // no beat after the heartbeat ended
    BOOST_TEST(time.sleepers() == 0U);
}

// A heartbeat returns into a caller that still throws on cancellation: the join in between
// switched it off only for itself.
awaitable<bool> throws_after_heartbeat(time_source& time, std::function<awaitable<void>()> beat) {
    co_await with_heartbeat(slow_value(time, 1s, 1), {.every = 4s}, time, std::move(beat));
    co_return co_await boost::asio::this_coro::throw_if_cancelled();
}

BOOST_FIXTURE_TEST_CASE(a_heartbeat_leaves_the_callers_throw_if_cancelled_as_it_was, virtual_time) {
    beats b;
    auto s = test::spawn(ioc, throws_after_heartbeat(time, beat_into(b, time)));
    advance(2s);
    BOOST_TEST_REQUIRE(s->done);
    BOOST_TEST(s->value.value());
    BOOST_TEST(b.at.size() == 1U);
}

BOOST_AUTO_TEST_CASE(is_timeout_recognises_only_the_engine_timeout) {
    BOOST_TEST(
        is_timeout(std::make_exception_ptr(boost::system::system_error(make_error_code(errc::timeout)))));
    BOOST_TEST(!is_timeout(std::make_exception_ptr(std::runtime_error("x"))));
    BOOST_TEST(!is_timeout(nullptr));
}

BOOST_AUTO_TEST_SUITE_END()
