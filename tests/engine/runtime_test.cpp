// Tests of engine/runtime on real (short) time: run until done, graceful stop by request and by
// SIGTERM, forced stop by a second request, and the borrowed-loop mode.
#include "engine/runtime.hpp"
#include "engine/time.hpp"
#include "tests/engine/test_support.hpp"

#include <boost/test/unit_test.hpp>

#include <csignal>
#include <stdexcept>

using namespace companion;
using namespace companion::engine;
using namespace std::chrono_literals;

namespace {

awaitable<void> short_task(int& done) {
    co_await sleep(1ms);
    ++done;
}

awaitable<void> forever(int& cancelled) {
    try {
        co_await sleep(1h);
    } catch (const boost::system::system_error&) {
        ++cancelled;
        throw;
    }
}

awaitable<void> stubborn_forever() {
    co_await asio::this_coro::reset_cancellation_state(asio::enable_terminal_cancellation());
    co_await sleep(1h);
}

awaitable<void> stop_after(runtime& rt, duration d) {
    co_await sleep(d);
    rt.request_stop();
}

awaitable<void> stop_twice(runtime& rt) {
    // Only terminal cancellation reaches it, so it lives through the first (graceful) request.
    co_await asio::this_coro::reset_cancellation_state(asio::enable_terminal_cancellation());
    co_await sleep(1ms);
    rt.request_stop();
    co_await sleep(1ms);
    rt.request_stop();
}

awaitable<void> raise_after(duration d) {
    co_await sleep(d);
    std::raise(SIGTERM);
}

awaitable<void> failing() {
    co_await sleep(1ms);
    throw std::runtime_error("root task failed");
}

} // namespace

BOOST_AUTO_TEST_SUITE(runtime_suite)

BOOST_AUTO_TEST_CASE(run_returns_when_every_root_task_is_done) {
    runtime rt({.handle_signals = false});
    int done = 0;
    BOOST_TEST(rt.spawn(short_task(done)));
    BOOST_TEST(rt.spawn(short_task(done)));
    BOOST_TEST(rt.run() == 0);
    BOOST_TEST(done == 2);
    BOOST_TEST(!rt.running());
}

BOOST_AUTO_TEST_CASE(request_stop_cancels_long_running_tasks_gracefully) {
    runtime rt({.grace = 1s, .handle_signals = false});
    int cancelled = 0;
    BOOST_TEST(rt.spawn(forever(cancelled)));
    BOOST_TEST(rt.spawn(forever(cancelled)));
    BOOST_TEST(rt.spawn(stop_after(rt, 2ms)));
    const auto start = std::chrono::steady_clock::now();
    BOOST_TEST(rt.run() == 0);
    BOOST_TEST(cancelled == 2);
    BOOST_TEST((std::chrono::steady_clock::now() - start < 1s));
    BOOST_TEST(rt.stopping().is_set());
}

BOOST_AUTO_TEST_CASE(sigterm_starts_the_graceful_stop) {
    runtime rt({.grace = 1s, .handle_signals = true});
    int cancelled = 0;
    BOOST_TEST(rt.spawn(forever(cancelled)));
    BOOST_TEST(rt.spawn(raise_after(2ms)));
    BOOST_TEST(rt.run() == 0);
    BOOST_TEST(cancelled == 1);
}

BOOST_AUTO_TEST_CASE(grace_period_expiry_cancels_terminally) {
    runtime rt({.grace = 20ms, .handle_signals = false});
    BOOST_TEST(rt.spawn(stubborn_forever()));
    BOOST_TEST(rt.spawn(stop_after(rt, 1ms)));
    const auto start = std::chrono::steady_clock::now();
    BOOST_TEST(rt.run() == 0);
    const auto took = std::chrono::steady_clock::now() - start;
    BOOST_TEST((took >= 20ms && took < 1s));
}

BOOST_AUTO_TEST_CASE(a_second_request_forces_the_stop_and_run_reports_it) {
    runtime rt({.grace = 1h, .handle_signals = false});
    BOOST_TEST(rt.spawn(stubborn_forever()));
    BOOST_TEST(rt.spawn(stop_twice(rt))); // the operator's Ctrl-C, then a second one
    BOOST_TEST(rt.run() == 1);            // not a clean exit: the children were cut off
    BOOST_TEST(rt.forced());
}

BOOST_AUTO_TEST_CASE(failed_root_task_makes_run_report_failure) {
    runtime rt({.handle_signals = false});
    BOOST_TEST(rt.spawn(failing()));
    BOOST_TEST(rt.run() == 1);
}

BOOST_AUTO_TEST_CASE(borrowed_loop_runs_engine_tasks_beside_host_work) {
    boost::asio::io_context host{1};
    int host_ticks = 0;
    boost::asio::steady_timer host_timer(host, 1ms);
    host_timer.async_wait([&](auto) { ++host_ticks; });
    int cancelled = 0;
    {
        runtime rt(host, {.grace = 1s, .handle_signals = false});
        BOOST_TEST(rt.spawn(forever(cancelled)));
        BOOST_TEST(rt.spawn(stop_after(rt, 5ms)));
        rt.start();
        host.run();
        BOOST_TEST(!rt.running());
    }
    BOOST_TEST(host_ticks == 1);
    BOOST_TEST(cancelled == 1);
}

BOOST_AUTO_TEST_SUITE_END()
