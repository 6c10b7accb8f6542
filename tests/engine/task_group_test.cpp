// Tests of engine/task_group: ownership, join, error policies, cancellation and shutdown.
#include "engine/log.hpp"
#include "engine/task_group.hpp"
#include "engine/time.hpp"
#include "engine/time_source.hpp"
#include "tests/engine/test_support.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

using namespace companion;
using namespace companion::engine;
using namespace std::chrono_literals;
using companion::test::virtual_time;

namespace {

awaitable<void> sleeper(time_source& time, duration d, int& finished) {
    co_await time.sleep(d);
    ++finished;
}

awaitable<void> thrower(time_source& time, duration d) {
    co_await time.sleep(d);
    throw std::runtime_error("child exploded");
}

// Ignores total cancellation (it resets its state to terminal-only), as a careful child that
// finishes its current unit of work would.
awaitable<void> stubborn(time_source& time, duration d, int& finished) {
    co_await asio::this_coro::reset_cancellation_state(asio::enable_terminal_cancellation());
    co_await time.sleep(d);
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
    BOOST_TEST(g.spawn(sleeper(time, 1s, finished)));
    BOOST_TEST(g.spawn(sleeper(time, 3s, finished)));
    bool joined = false;
    std::exception_ptr error;
    test::spawn(ioc, join_then_mark(g, joined, error));
    advance(2s);
    BOOST_TEST(finished == 1);
    BOOST_TEST(!joined);
    advance(2s);
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
    BOOST_TEST(g.spawn(thrower(time, 1s)));
    BOOST_TEST(g.spawn(sleeper(time, 2s, finished)));
    advance(3s);
    BOOST_TEST(finished == 1);
    BOOST_TEST(g.failures() == 1U);
    BOOST_TEST(reported == (std::vector<std::string>{"child exploded"}));
    BOOST_TEST(contains("task.failed group=updates error=\"child exploded\""));
}

BOOST_FIXTURE_TEST_CASE(fail_group_cancels_siblings_and_join_rethrows, group_fixture) {
    task_group g(ioc.get_executor(), task_group::config{.name = "job", .policy = on_child_error::fail_group});
    int finished = 0;
    BOOST_TEST(g.spawn(thrower(time, 1s)));
    BOOST_TEST(g.spawn(sleeper(time, 100s, finished)));
    bool joined = false;
    std::exception_ptr error;
    test::spawn(ioc, join_then_mark(g, joined, error));
    advance(1100ms);
    BOOST_TEST(joined);
    BOOST_TEST(finished == 0);
    BOOST_TEST(g.size() == 0U);
    BOOST_CHECK_THROW(std::rethrow_exception(error), std::runtime_error);
    BOOST_TEST(!g.spawn(sleeper(time, 1s, finished)));
}

BOOST_FIXTURE_TEST_CASE(cancel_aborts_sleeping_children_and_refuses_new_ones, group_fixture) {
    task_group g(ioc.get_executor());
    int finished = 0;
    for (int i = 0; i < 10; ++i) {
        BOOST_TEST(g.spawn(sleeper(time, 100s, finished)));
    }
    settle();
    g.cancel();
    settle();
    BOOST_TEST(g.size() == 0U);
    BOOST_TEST(finished == 0);
    BOOST_TEST(g.failures() == 0U); // cancellation is not a failure
    BOOST_TEST(!g.spawn(sleeper(time, 1s, finished)));
}

BOOST_FIXTURE_TEST_CASE(shutdown_gives_grace_then_cancels_terminally, group_fixture) {
    task_group g(ioc.get_executor());
    int finished = 0;
    BOOST_TEST(g.spawn(stubborn(time, 2s, finished)));   // finishes within the grace period
    BOOST_TEST(g.spawn(stubborn(time, 100s, finished))); // needs terminal cancellation
    BOOST_TEST(g.spawn(sleeper(time, 100s, finished)));  // stops at the total cancellation
    auto s = test::spawn(ioc, g.shutdown(5s, time));
    advance(3s);
    BOOST_TEST(finished == 1);
    BOOST_TEST(g.size() == 1U);
    BOOST_TEST(!s->done);
    advance(2100ms);
    BOOST_TEST(s->done);
    BOOST_TEST(!s->error);
    BOOST_TEST(g.size() == 0U);
    BOOST_TEST(contains("task_group.grace_expired"));
}

BOOST_FIXTURE_TEST_CASE(thousands_of_children_run_and_join, group_fixture) {
    task_group g(ioc.get_executor());
    int finished = 0;
    for (int i = 0; i < 5000; ++i) {
        BOOST_TEST_REQUIRE(g.spawn(sleeper(time, std::chrono::milliseconds(1 + i % 50), finished)));
    }
    advance(60ms);
    BOOST_TEST(finished == 5000);
    BOOST_TEST(g.size() == 0U);
}

namespace {

// An owner whose stop is the group's shutdown, and a resource its children use: the shape of a
// server whose request handlers use the server.
struct owner {
    task_group group;
    std::unique_ptr<int> resource = std::make_unique<int>(0);
    explicit owner(executor ex) : group(std::move(ex), task_group::config{.name = "owner"}) {}
};

// Ignores total cancellation, then uses the owner's resource when its work is done.
awaitable<void> uses_owner_after_work(time_source& time, owner& o, duration d) {
    co_await asio::this_coro::reset_cancellation_state(asio::enable_terminal_cancellation());
    try {
        co_await time.sleep(d);
    } catch (...) {
    }
    ++*o.resource; // a use after free if the owner were gone
}

// The owner's stop as a caller that is itself cancelled would run it: records whether the group
// was empty when shutdown returned, then awaits once more (where a cancellation shows).
awaitable<void>
stop_owner(time_source& time, owner& o, duration grace, std::optional<std::size_t>& left_at_return) {
    co_await o.group.shutdown(grace, time);
    left_at_return = o.group.size();
    co_await yield();
}

} // namespace

BOOST_FIXTURE_TEST_CASE(shutdown_cancelled_by_its_caller_still_waits_for_every_child, group_fixture) {
    auto o = std::make_unique<owner>(ioc.get_executor());
    BOOST_TEST(o->group.spawn(uses_owner_after_work(time, *o, 3s)));
    std::optional<std::size_t> left_at_return;
    asio::cancellation_signal caller_cancel;
    auto done = std::make_shared<test::spawned<void>>();
    asio::co_spawn(ioc,
                   stop_owner(time, *o, 10s, left_at_return),
                   asio::bind_cancellation_slot(caller_cancel.slot(), [done](std::exception_ptr e) {
                       done->done = true;
                       done->error = e;
                   }));
    advance(1s);
    caller_cancel.emit(asio::cancellation_type::terminal); // e.g. the runtime's grace ran out
    advance(1s);
    BOOST_TEST(!done->done); // still waiting for the child, which ignored the total cancellation
    BOOST_TEST(o->group.size() == 1U);
    advance(1500ms);
    BOOST_TEST_REQUIRE(done->done);
    BOOST_TEST_REQUIRE(left_at_return.has_value());
    BOOST_TEST(*left_at_return == 0U);
    BOOST_TEST(*o->resource == 1); // the child finished its work before the owner could go
    // The caller's cancellation was not lost: its next await saw it.
    BOOST_TEST(engine::code_of(done->error) == asio::error::operation_aborted);
    o.reset(); // destroying the empty group is fine
    BOOST_TEST(!contains("task_group.destroyed_with_children"));
}

BOOST_FIXTURE_TEST_CASE(shutdown_whose_caller_is_cancelled_still_ends_a_stubborn_child_after_the_grace,
                        group_fixture) {
    auto o = std::make_unique<owner>(ioc.get_executor());
    BOOST_TEST(o->group.spawn(uses_owner_after_work(time, *o, 100s))); // longer than the grace
    std::optional<std::size_t> left_at_return;
    asio::cancellation_signal caller_cancel;
    auto done = std::make_shared<test::spawned<void>>();
    asio::co_spawn(ioc,
                   stop_owner(time, *o, 5s, left_at_return),
                   asio::bind_cancellation_slot(caller_cancel.slot(), [done](std::exception_ptr e) {
                       done->done = true;
                       done->error = e;
                   }));
    advance(100ms);
    caller_cancel.emit(asio::cancellation_type::terminal);
    advance(4s);
    BOOST_TEST(!done->done);
    advance(1100ms); // the grace is over: terminal cancellation ends the child's sleep
    BOOST_TEST_REQUIRE(done->done);
    BOOST_TEST_REQUIRE(left_at_return.has_value());
    BOOST_TEST(*left_at_return == 0U);
    BOOST_TEST(*o->resource == 1);
    BOOST_TEST(contains("task_group.grace_expired group=owner"));
}

namespace {

awaitable<int> count_to(time_source& time, int n, duration step, int& reached) {
    for (reached = 0; reached < n; ++reached) {
        co_await time.sleep(step);
    }
    co_return reached;
}

awaitable<void> await_shielded(time_source& time, int& reached, std::optional<int>& result) {
    result = co_await shielded(count_to(time, 5, 1s, reached));
    co_await yield();
}

} // namespace

BOOST_FIXTURE_TEST_CASE(shielded_operation_runs_to_its_end_and_the_caller_sees_its_cancellation_after,
                        group_fixture) {
    int reached = 0;
    std::optional<int> result;
    asio::cancellation_signal caller_cancel;
    auto done = std::make_shared<test::spawned<void>>();
    asio::co_spawn(ioc,
                   await_shielded(time, reached, result),
                   asio::bind_cancellation_slot(caller_cancel.slot(), [done](std::exception_ptr e) {
                       done->done = true;
                       done->error = e;
                   }));
    advance(1500ms);
    caller_cancel.emit(asio::cancellation_type::terminal);
    advance(2s);
    BOOST_TEST(!done->done);
    BOOST_TEST(reached == 3);
    advance(2s);
    BOOST_TEST_REQUIRE(done->done);
    BOOST_TEST(result.value_or(-1) == 5);
    BOOST_TEST(engine::code_of(done->error) == asio::error::operation_aborted);
}

BOOST_FIXTURE_TEST_CASE(shielded_operation_passes_its_exception_to_the_caller, group_fixture) {
    auto s = test::spawn(ioc, shielded(thrower(time, 1s)));
    advance(1100ms);
    BOOST_TEST_REQUIRE(s->done);
    BOOST_CHECK_THROW(std::rethrow_exception(s->error), std::runtime_error);
}

BOOST_FIXTURE_TEST_CASE(group_destroyed_off_the_loop_ends_its_children_before_it_goes, group_fixture) {
    owner o(ioc.get_executor()); // only its resource: the group below stands in for its own
    {
        task_group g(ioc.get_executor(), task_group::config{.name = "forgotten"});
        BOOST_TEST(g.spawn(uses_owner_after_work(time, o, 100s)));
        settle();
        BOOST_TEST(*o.resource == 0);
    }                             // destroyed without a join, as at the end of a test
    BOOST_TEST(*o.resource == 1); // the child ran to its end inside the destructor
    BOOST_TEST(contains("task_group.destroyed_with_children group=forgotten children=1"));
    BOOST_TEST(!contains("task_group.children_outlive_group"));
}

namespace {

// Destroys a group that still has a child, from a coroutine on the loop: the owner that goes
// away without joining.
awaitable<void> drop_group_on_the_loop() {
    manual_time time; // the child never wakes: the process ends first
    int finished = 0;
    task_group g(co_await asio::this_coro::executor, task_group::config{.name = "leaky"});
    if (g.spawn(sleeper(time, 100s, finished))) {
        co_await yield();
    }
}

} // namespace

// A death test: the group is destroyed on the loop in a child process, which must end by SIGABRT.
BOOST_AUTO_TEST_CASE(group_destroyed_on_the_loop_with_children_ends_the_process) {
    const pid_t pid = ::fork();
    BOOST_TEST_REQUIRE(pid >= 0);
    if (pid == 0) {
        // The child: Boost.Test's signal handlers must not catch the abort; its log goes nowhere.
        std::signal(SIGABRT, SIG_DFL);
        const int devnull = ::open("/dev/null", O_WRONLY);
        ::dup2(devnull, STDERR_FILENO);
        asio::io_context ioc(1);
        asio::co_spawn(ioc, drop_group_on_the_loop(), [](std::exception_ptr) {});
        ioc.run_for(std::chrono::seconds(5));
        ::_exit(0); // reached only if the destructor let the child live on
    }
    int status = 0;
    BOOST_TEST_REQUIRE(::waitpid(pid, &status, 0) == pid);
    BOOST_TEST(WIFSIGNALED(status));
    BOOST_TEST(WTERMSIG(status) == SIGABRT);
}

BOOST_AUTO_TEST_SUITE_END()
