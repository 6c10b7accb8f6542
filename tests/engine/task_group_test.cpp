// Tests of engine/task_group: ownership, join, error policies, cancellation and shutdown.
#include "engine/log.hpp"
#include "engine/task_group.hpp"
#include "engine/time.hpp"
#include "tests/engine/test_support.hpp"

#include <boost/test/unit_test.hpp>

#include <stdexcept>
#include <string>
#include <vector>

using namespace companion;
using namespace companion::engine;
using namespace std::chrono_literals;
using companion::test::virtual_time;

namespace {

awaitable<void> sleeper(duration d, int& finished) {
    co_await sleep(d);
    ++finished;
}

awaitable<void> thrower(duration d) {
    co_await sleep(d);
    throw std::runtime_error("child exploded");
}

// Ignores total cancellation (it resets its state to terminal-only), as a careful child that
// finishes its current unit of work would.
awaitable<void> stubborn(duration d, int& finished) {
    co_await asio::this_coro::reset_cancellation_state(asio::enable_terminal_cancellation());
    co_await sleep(d);
    ++finished;
}

awaitable<void> join_then_mark(task_group& g, bool& joined, std::exception_ptr& error) {
    try {
        co_await g.join();
    } catch (...) {
        error = std::current_exception();
    }
    joined = true;
}

struct captured_log {
    std::vector<std::string> lines;
    captured_log() {
        log().set_capture([this](log_level, std::string_view l) { lines.emplace_back(l); }, true);
    }
    ~captured_log() { log().set_capture(nullptr); }
    bool contains(std::string_view s) const {
        for (const auto& l : lines) {
            if (l.find(s) != std::string::npos) {
                return true;
            }
        }
        return false;
    }
};

struct group_fixture : virtual_time, captured_log {};

} // namespace

BOOST_AUTO_TEST_SUITE(task_group_suite)

BOOST_FIXTURE_TEST_CASE(join_waits_for_every_child, group_fixture) {
    task_group g(ioc.get_executor());
    int finished = 0;
    BOOST_TEST(g.spawn(sleeper(1s, finished)));
    BOOST_TEST(g.spawn(sleeper(3s, finished)));
    bool joined = false;
    std::exception_ptr error;
    test::spawn(ioc, join_then_mark(g, joined, error));
    advance(2s, 100ms);
    BOOST_TEST(finished == 1);
    BOOST_TEST(!joined);
    advance(2s, 100ms);
    BOOST_TEST(finished == 2);
    BOOST_TEST(joined);
    BOOST_TEST(!error);
    BOOST_TEST(g.size() == 0U);
    BOOST_TEST(g.spawned() == 2U);
}

BOOST_FIXTURE_TEST_CASE(contained_child_error_is_logged_and_reported_and_siblings_go_on, group_fixture) {
    std::vector<std::string> reported;
    task_group g(ioc.get_executor(),
                 task_group::config{.name = "updates",
                                    .policy = on_child_error::contain,
                                    .on_error = [&](std::exception_ptr e) {
                                        try {
                                            std::rethrow_exception(e);
                                        } catch (const std::exception& ex) {
                                            reported.emplace_back(ex.what());
                                        }
                                    }});
    int finished = 0;
    BOOST_TEST(g.spawn(thrower(1s)));
    BOOST_TEST(g.spawn(sleeper(2s, finished)));
    advance(3s, 100ms);
    BOOST_TEST(finished == 1);
    BOOST_TEST(g.failures() == 1U);
    BOOST_TEST(reported == (std::vector<std::string>{"child exploded"}));
    BOOST_TEST(contains("task.failed group=updates error=\"child exploded\""));
}

BOOST_FIXTURE_TEST_CASE(fail_group_cancels_siblings_and_join_rethrows, group_fixture) {
    task_group g(ioc.get_executor(), task_group::config{.name = "job", .policy = on_child_error::fail_group});
    int finished = 0;
    BOOST_TEST(g.spawn(thrower(1s)));
    BOOST_TEST(g.spawn(sleeper(100s, finished)));
    bool joined = false;
    std::exception_ptr error;
    test::spawn(ioc, join_then_mark(g, joined, error));
    advance(1100ms, 100ms);
    BOOST_TEST(joined);
    BOOST_TEST(finished == 0);
    BOOST_TEST(g.size() == 0U);
    BOOST_CHECK_THROW(std::rethrow_exception(error), std::runtime_error);
    BOOST_TEST(!g.spawn(sleeper(1s, finished)));
}

BOOST_FIXTURE_TEST_CASE(cancel_aborts_sleeping_children_and_refuses_new_ones, group_fixture) {
    task_group g(ioc.get_executor());
    int finished = 0;
    for (int i = 0; i < 10; ++i) {
        BOOST_TEST(g.spawn(sleeper(100s, finished)));
    }
    settle();
    g.cancel();
    settle();
    BOOST_TEST(g.size() == 0U);
    BOOST_TEST(finished == 0);
    BOOST_TEST(g.failures() == 0U); // cancellation is not a failure
    BOOST_TEST(!g.spawn(sleeper(1s, finished)));
}

BOOST_FIXTURE_TEST_CASE(shutdown_gives_grace_then_cancels_terminally, group_fixture) {
    task_group g(ioc.get_executor());
    int finished = 0;
    BOOST_TEST(g.spawn(stubborn(2s, finished)));   // finishes within the grace period
    BOOST_TEST(g.spawn(stubborn(100s, finished))); // needs terminal cancellation
    BOOST_TEST(g.spawn(sleeper(100s, finished)));  // stops at the total cancellation
    auto s = test::spawn(ioc, g.shutdown(5s));
    advance(3s, 100ms);
    BOOST_TEST(finished == 1);
    BOOST_TEST(g.size() == 1U);
    BOOST_TEST(!s->done);
    advance(2100ms, 100ms);
    BOOST_TEST(s->done);
    BOOST_TEST(!s->error);
    BOOST_TEST(g.size() == 0U);
    BOOST_TEST(contains("task_group.grace_expired"));
}

BOOST_FIXTURE_TEST_CASE(thousands_of_children_run_and_join, group_fixture) {
    task_group g(ioc.get_executor());
    int finished = 0;
    for (int i = 0; i < 5000; ++i) {
        BOOST_TEST_REQUIRE(g.spawn(sleeper(std::chrono::milliseconds(1 + i % 50), finished)));
    }
    advance(60ms);
    BOOST_TEST(finished == 5000);
    BOOST_TEST(g.size() == 0U);
}

BOOST_FIXTURE_TEST_CASE(destroying_a_non_empty_group_cancels_children_and_logs, group_fixture) {
    int finished = 0;
    {
        task_group g(ioc.get_executor(), task_group::config{.name = "leaky"});
        BOOST_TEST(g.spawn(sleeper(100s, finished)));
        settle();
    }
    settle();
    BOOST_TEST(finished == 0);
    BOOST_TEST(contains("task_group.destroyed_with_children group=leaky"));
}

BOOST_AUTO_TEST_SUITE_END()
