// Tests of engine/sync: event, semaphore and channel, including cancellation at every
// suspension point.
#include "engine/error.hpp"
#include "engine/sync.hpp"
#include "tests/engine/test_support.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/error.hpp>
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

using namespace companion;
using namespace companion::engine;
using companion::engine::code_of;
using companion::test::drain;

namespace {

struct loop {
    boost::asio::io_context ioc{1};
    executor ex = ioc.get_executor();
};

// Spawns `aw` with a cancellation slot the test controls.
template <class T>
struct cancellable {
    boost::asio::cancellation_signal signal;
    bool done = false;
    std::exception_ptr error;
};

template <class Aw>
std::shared_ptr<cancellable<void>> spawn_cancellable(boost::asio::io_context& ioc, Aw aw) {
    auto c = std::make_shared<cancellable<void>>();
    boost::asio::co_spawn(
        ioc,
        std::move(aw),
        boost::asio::bind_cancellation_slot(c->signal.slot(), [c](std::exception_ptr e, auto&&...) {
            c->done = true;
            c->error = e;
        }));
    return c;
}

awaitable<void> wait_and_mark(event& ev, std::vector<int>& log, int id) {
    co_await ev.wait();
    log.push_back(id);
}

awaitable<void> acquire_and_mark(semaphore& sem, std::vector<int>& log, int id) {
    co_await sem.acquire();
    log.push_back(id);
}

awaitable<void> receive_all(channel<std::string>& ch, std::vector<std::string>& out) {
    while (auto v = co_await ch.receive()) {
        out.push_back(*v);
    }
}

awaitable<void>
send_all(channel<std::string>& ch, std::vector<std::string> values, std::vector<bool>& results) {
    for (auto& v : values) {
        const bool ok = co_await ch.send(v);
        results.push_back(ok);
    }
}

} // namespace

BOOST_AUTO_TEST_SUITE(sync_suite)

BOOST_FIXTURE_TEST_CASE(event_set_releases_every_waiter_and_later_waits_pass, loop) {
    event ev(ex);
    std::vector<int> log;
    for (int i = 0; i < 3; ++i) {
        boost::asio::co_spawn(ioc, wait_and_mark(ev, log, i), boost::asio::detached);
    }
    drain(ioc);
    BOOST_TEST(log.empty());
    BOOST_TEST(ev.waiters() == 3U);
    ev.set();
    drain(ioc);
    BOOST_TEST(log == (std::vector<int>{0, 1, 2}));
    boost::asio::co_spawn(ioc, wait_and_mark(ev, log, 9), boost::asio::detached);
    drain(ioc);
    BOOST_TEST(log.back() == 9);
}

BOOST_FIXTURE_TEST_CASE(event_set_then_reset_still_releases_the_waiters_of_that_set, loop) {
    event ev(ex);
    std::vector<int> log;
    boost::asio::co_spawn(ioc, wait_and_mark(ev, log, 1), boost::asio::detached);
    drain(ioc);
    ev.set();
    ev.reset();
    drain(ioc);
    BOOST_TEST(log == (std::vector<int>{1}));
}

BOOST_FIXTURE_TEST_CASE(cancelled_event_waiter_leaves_the_queue, loop) {
    event ev(ex);
    auto c = spawn_cancellable(ioc, ev.wait());
    drain(ioc);
    BOOST_TEST(ev.waiters() == 1U);
    c->signal.emit(boost::asio::cancellation_type::terminal);
    drain(ioc);
    BOOST_TEST(c->done);
    BOOST_TEST((code_of(c->error) == boost::asio::error::operation_aborted));
    BOOST_TEST(ev.waiters() == 0U);
    ev.set(); // nobody left to wake: must not touch the cancelled waiter
    drain(ioc);
}

BOOST_FIXTURE_TEST_CASE(semaphore_hands_permits_over_in_fifo_order, loop) {
    semaphore sem(ex, 1);
    std::vector<int> log;
    for (int i = 0; i < 4; ++i) {
        boost::asio::co_spawn(ioc, acquire_and_mark(sem, log, i), boost::asio::detached);
    }
    drain(ioc);
    BOOST_TEST(log == (std::vector<int>{0}));
    BOOST_TEST(sem.waiters() == 3U);
    sem.release();
    BOOST_TEST(!sem.try_acquire()); // the permit belongs to the oldest waiter, no barging
    drain(ioc);
    sem.release();
    drain(ioc);
    BOOST_TEST(log == (std::vector<int>{0, 1, 2}));
    sem.release();
    sem.release();
    drain(ioc);
    BOOST_TEST(log == (std::vector<int>{0, 1, 2, 3}));
    BOOST_TEST(sem.available() == 1U);
}

BOOST_FIXTURE_TEST_CASE(cancelled_semaphore_waiter_takes_no_permit, loop) {
    semaphore sem(ex, 0);
    auto c = spawn_cancellable(ioc, sem.acquire());
    drain(ioc);
    c->signal.emit(boost::asio::cancellation_type::terminal);
    drain(ioc);
    BOOST_TEST((code_of(c->error) == boost::asio::error::operation_aborted));
    sem.release();
    BOOST_TEST(sem.available() == 1U);
}

BOOST_FIXTURE_TEST_CASE(channel_delivers_in_order_and_ends_after_close, loop) {
    channel<std::string> ch(ex, 2);
    std::vector<std::string> received;
    std::vector<bool> sent;
    boost::asio::co_spawn(ioc, receive_all(ch, received), boost::asio::detached);
    boost::asio::co_spawn(ioc, send_all(ch, {"a", "b", "c", "d", "e"}, sent), boost::asio::detached);
    drain(ioc);
    BOOST_TEST(received == (std::vector<std::string>{"a", "b", "c", "d", "e"}));
    ch.close();
    drain(ioc);
    BOOST_TEST(sent == (std::vector<bool>{true, true, true, true, true}));
    BOOST_TEST(!ch.try_send("late"));
}

BOOST_FIXTURE_TEST_CASE(full_channel_blocks_sender_until_a_receive, loop) {
    channel<std::string> ch(ex, 1);
    std::vector<bool> sent;
    boost::asio::co_spawn(ioc, send_all(ch, {"x", "y"}, sent), boost::asio::detached);
    drain(ioc);
    BOOST_TEST(sent.size() == 1U);
    BOOST_TEST(ch.size() == 1U);
    BOOST_TEST(ch.try_receive().value() == "x");
    drain(ioc);
    BOOST_TEST(sent.size() == 2U);
    BOOST_TEST(ch.try_receive().value() == "y");
}

BOOST_FIXTURE_TEST_CASE(close_fails_a_blocked_sender_and_drains_buffered_values, loop) {
    channel<std::string> ch(ex, 1);
    std::vector<bool> sent;
    boost::asio::co_spawn(ioc, send_all(ch, {"x", "y"}, sent), boost::asio::detached);
    drain(ioc);
    ch.close();
    drain(ioc);
    BOOST_TEST(sent == (std::vector<bool>{true, false}));
    std::vector<std::string> received;
    boost::asio::co_spawn(ioc, receive_all(ch, received), boost::asio::detached);
    drain(ioc);
    BOOST_TEST(received == (std::vector<std::string>{"x"}));
}

BOOST_FIXTURE_TEST_CASE(cancelled_receiver_and_sender_leave_no_waiter_behind, loop) {
    channel<std::string> ch(ex, 1);
    auto r = spawn_cancellable(ioc, ch.receive());
    drain(ioc);
    r->signal.emit(boost::asio::cancellation_type::terminal);
    drain(ioc);
    BOOST_TEST((code_of(r->error) == boost::asio::error::operation_aborted));
    BOOST_TEST(ch.try_send("only"));
    auto s = spawn_cancellable(ioc, ch.send("dropped"));
    drain(ioc);
    s->signal.emit(boost::asio::cancellation_type::terminal);
    drain(ioc);
    BOOST_TEST((code_of(s->error) == boost::asio::error::operation_aborted));
    BOOST_TEST(ch.size() == 1U);
    BOOST_TEST(ch.try_receive().value() == "only");
    BOOST_TEST(!ch.try_receive().has_value());
}

BOOST_FIXTURE_TEST_CASE(destroying_a_primitive_aborts_its_waiters, loop) {
    auto ev = std::make_unique<event>(ex);
    auto c = spawn_cancellable(ioc, ev->wait());
    drain(ioc);
    ev.reset();
    drain(ioc);
    BOOST_TEST(c->done);
    BOOST_TEST((code_of(c->error) == boost::asio::error::operation_aborted));
}

BOOST_AUTO_TEST_SUITE_END()
