// Sleeping on the engine clock, deadline races and heartbeats.
#include "engine/time.hpp"

#include "engine/detail/wait_queue.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/system/system_error.hpp>

namespace companion::engine {

awaitable<void> sleep(duration d) {
    timer t(co_await asio::this_coro::executor, d);
    co_await t.async_wait(use_awaitable);
}

awaitable<void> sleep_until(time_point tp) {
    timer t(co_await asio::this_coro::executor, tp);
    co_await t.async_wait(use_awaitable);
}

awaitable<bool> wait_until(time_point tp) {
    timer t(co_await asio::this_coro::executor, tp);
    const auto [ec] = co_await t.async_wait(asio::as_tuple(use_awaitable));
    co_return !ec;
}

namespace detail {

// Both arms of a deadline race accept any cancellation, as the caller does: co_spawn's default
// filter would drop a total cancellation, and a parallel group forwards its parent's cancellation
// only once, so an arm that ignored it would hold the group (and the caller) until the deadline.
awaitable<bool> expire_at(time_source& time, time_point at) {
    co_await asio::this_coro::reset_cancellation_state(asio::enable_total_cancellation());
    co_return co_await time.wait_until(at);
}

deadline_race::deadline_race(asio::cancellation_slot caller,
                             time_source& time,
                             const executor& ex,
                             time_point deadline) {
    if (caller.is_connected()) {
        caller_ = caller;
        caller_.assign([this](asio::cancellation_type type) { cancel(type); });
    }
    deadline_ = time.call_at(ex, deadline, [this] {
        if (!finished_) {
            expired_ = true;
            cancel(asio::cancellation_type::all); // what a parallel group's loser receives
        }
    });
}

void deadline_race::disarm() noexcept {
    deadline_.reset();
    if (caller_.is_connected()) {
        caller_.clear();
        caller_ = asio::cancellation_slot();
    }
}

void deadline_race::cancel(asio::cancellation_type type) {
    if (!finished_) {
        signal_.emit(type);
    }
}

namespace {

awaitable<void> run_raced_void(awaitable<void> op, bool* finished) {
    co_await asio::this_coro::reset_cancellation_state(asio::enable_total_cancellation());
    const mark_finished mark{finished};
    co_await std::move(op);
}

} // namespace

awaitable<void>
race_deadline_void(awaitable<void> op, time_point deadline, time_source& time, bool timeout_when_expired) {
    auto ex = co_await asio::this_coro::executor;
    const auto caller = co_await asio::this_coro::cancellation_state;
    deadline_race race(caller.slot(), time, ex, deadline);
    std::exception_ptr failed;
    try {
        co_await asio::co_spawn(ex,
                                run_raced_void(std::move(op), race.finished()),
                                asio::bind_cancellation_slot(race.slot(), use_awaitable));
    } catch (...) {
        failed = std::current_exception();
    }
    race.disarm();
    if (race.expired() && (failed || timeout_when_expired)) {
        throw_error(errc::timeout, "deadline exceeded");
    }
    if (failed) {
        std::rethrow_exception(failed);
    }
}

struct heartbeat::state : std::enable_shared_from_this<state> {
    state(executor e, time_source& t, heartbeat_schedule w, std::function<awaitable<void>()> b)
        : ex(std::move(e)), time(t), when(w), beat(std::move(b)), joined(ex) {}

    void schedule(time_point at) {
        // The call is owned by this state and never runs once dropped, so it may hold `this`.
        next = time.call_at(ex, at, [this] { launch(); });
    }

    void launch() {
        beating = true;
        // Not bound to any cancellation slot: nothing cuts a beat off. The completion holds the
        // state, so a beat never outlives what it reports to.
        asio::co_spawn(ex, beat(), [self = shared_from_this()](const std::exception_ptr& e) {
            self->ended(e);
        });
    }

    void ended(const std::exception_ptr& e) {
        beating = false;
        if (stopped) {
            joined.notify_all();
            return;
        }
        if (e && is_cancellation(e)) {
            return; // cancelled from outside (its sender is shutting down): no more beats
        }
        schedule(time.now() + when.every);
    }

    executor ex;
    time_source& time;
    heartbeat_schedule when;
    std::function<awaitable<void>()> beat;
    std::unique_ptr<scheduled_call> next;
    wait_queue joined;
    bool beating = false;
    bool stopped = false;
};

heartbeat::heartbeat(executor ex,
                     time_source& time,
                     heartbeat_schedule when,
                     std::function<awaitable<void>()> beat)
    : s_(std::make_shared<state>(std::move(ex), time, when, std::move(beat))) {}

heartbeat::~heartbeat() {
    // Normally stopped already; a frame destroyed without stop() (its loop gone) drops the next
    // beat here, so the scheduled call cannot start one for nobody.
    s_->stopped = true;
    s_->next.reset();
}

void heartbeat::start() {
    if (s_->when.first > duration::zero()) {
        s_->schedule(s_->time.now() + s_->when.first);
    } else {
        s_->launch();
    }
}

awaitable<void> heartbeat::stop() {
    s_->stopped = true;
    s_->next.reset();
    if (s_->beating) {
        // Bound to no slot: a cancellation of the caller does not end the wait.
        co_await s_->joined.async_wait(
            asio::bind_cancellation_slot(asio::cancellation_slot(), use_awaitable));
    }
}

} // namespace detail

bool is_timeout(const std::exception_ptr& e) noexcept {
    return e && code_of(e) == make_error_code(errc::timeout);
}

} // namespace companion::engine
