// Sleeping and deadlines on the engine clock or on a time source.
//
// `with_timeout(op, d[, time])` runs `op` and, if it has not finished after `d`, cancels it through its
// cancellation slot (every cancellation type, as a parallel group's loser receives), waits for it
// to unwind, and throws system_error(engine::errc::timeout). Nothing outlives the call. Deadlines nest: an
// outer deadline that expires first cancels the inner operation too, so the earliest deadline wins.
// Cancellation of the caller propagates into `op`. (Boost 1.81 has no asio::cancel_after.) The
// deadline runs on `time` (a test's manual_time); without one, on `system_time()`.
//
// `abandon_on_cancel(op)` passes any cancellation of the caller, total included, to `op` as
// terminal cancellation: for an operation that is safe to drop at any point but whose layers
// honour only terminal cancellation (Beast's reads), such as a long poll whose answer is
// confirmed only by the next request.
#pragma once

#include "engine/asio.hpp"
#include "engine/clock.hpp"
#include "engine/error.hpp"
#include "engine/time_source.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/system/system_error.hpp>

#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

namespace companion::engine {

/// Suspends for `d` on the engine clock. Throws system_error(operation_aborted) when cancelled.
awaitable<void> sleep(duration d);
awaitable<void> sleep_until(time_point t);
/// Suspends until `t` on the engine clock without throwing: true when the time came, false when
/// cancelled (the deadline arms and timer loops, where a cancelled wait is the common case).
awaitable<bool> wait_until(time_point t);

namespace detail {

/// Sleeps on `time` until `at`, accepting any cancellation (the other arm of a deadline race):
/// true when `at` came, false when cancelled first (no exception either way).
awaitable<bool> expire_at(time_source& time, time_point at);

/// What a deadline race shares with the two things that may cancel its operation: the caller's
/// cancellation, forwarded from the caller's slot (free while the operation runs, as the operation
/// is bound to the race's own signal), and the deadline, a call scheduled on the time source.
/// Neither fires once the operation has finished, so no cancellation reaches a finished task.
class deadline_race {
public:
    deadline_race(asio::cancellation_slot caller, time_source& time, const executor& ex, time_point deadline);
    deadline_race(const deadline_race&) = delete;
    deadline_race& operator=(const deadline_race&) = delete;
    ~deadline_race() { disarm(); }

    /// The slot the operation is bound to.
    asio::cancellation_slot slot() { return signal_.slot(); }
    /// Set by the operation's task as it ends, before its completion is delivered.
    bool* finished() noexcept { return &finished_; }
    /// Drops the deadline and the caller's handler (both refer to this object).
    void disarm() noexcept;
    /// True when the deadline came while the operation was still running.
    bool expired() const noexcept { return expired_; }

private:
    void cancel(asio::cancellation_type type);

    asio::cancellation_signal signal_;
    asio::cancellation_slot caller_;
    std::unique_ptr<scheduled_call> deadline_;
    bool finished_ = false;
    bool expired_ = false;
};

/// Marks its race finished when it goes (the operation returned or threw).
struct mark_finished {
    explicit mark_finished(bool* f) noexcept : finished(f) {}
    mark_finished(const mark_finished&) = delete;
    mark_finished& operator=(const mark_finished&) = delete;
    ~mark_finished() { *finished = true; }
    bool* finished;
};

// The raced operation accepts any cancellation, as its caller does: co_spawn's default filter
// would drop a total cancellation, so an operation that ignored it would hold the caller until it
// ended by itself. Its value comes back as an optional (co_spawn needs a default-constructible
// result).
template <class T>
awaitable<std::optional<T>> run_raced(awaitable<T> op, bool* finished) {
    co_await asio::this_coro::reset_cancellation_state(asio::enable_total_cancellation());
    const mark_finished mark{finished};
    co_return std::optional<T>(co_await std::move(op));
}

/// Runs a non-void `op`, cancelling it at `deadline` on `time`; throws
/// system_error(errc::timeout) when the deadline came first and `op` failed. If `op` finished
/// despite the cancellation, its result is returned.
template <class T>
awaitable<T> race_deadline(awaitable<T> op, time_point deadline, time_source& time) {
    auto ex = co_await asio::this_coro::executor;
    const auto caller = co_await asio::this_coro::cancellation_state;
    deadline_race race(caller.slot(), time, ex, deadline);
    std::exception_ptr failed;
    std::optional<T> value;
    try {
        value = co_await asio::co_spawn(ex,
                                        run_raced(std::move(op), race.finished()),
                                        asio::bind_cancellation_slot(race.slot(), use_awaitable));
    } catch (...) {
        failed = std::current_exception();
    }
    race.disarm();
    if (failed) {
        if (race.expired()) {
            throw_error(errc::timeout, "deadline exceeded");
        }
        std::rethrow_exception(failed);
    }
    co_return std::move(*value);
}

/// The same for awaitable<void>. `timeout_when_expired`: a deadline that came first is a timeout
/// even when `op` then finished (the form with a time source); otherwise only when `op` failed.
awaitable<void>
race_deadline_void(awaitable<void> op, time_point deadline, time_source& time, bool timeout_when_expired);

} // namespace detail

/// Runs `op`, cancelling it at `deadline` on `time`; throws system_error(errc::timeout) when the
/// deadline won. If `op` finished despite the cancellation, its result is returned. `time` must
/// outlive the await. (The form for awaitable<void> with a time source is declared in
/// engine/time_source.hpp: it reports a timeout whenever the deadline came first.)
template <class T>
requires(!std::is_void_v<T>) awaitable<T> with_deadline(awaitable<T> op,
                                                        time_point deadline,
                                                        time_source& time) {
    return detail::race_deadline(std::move(op), deadline, time);
}

/// The same on the process's real time. An awaitable<void> that finished despite the deadline's
/// cancellation is not a timeout here.
template <class T>
awaitable<T> with_deadline(awaitable<T> op, time_point deadline) {
    if constexpr (std::is_void_v<T>) {
        return detail::race_deadline_void(std::move(op), deadline, system_time(), false);
    } else {
        return detail::race_deadline(std::move(op), deadline, system_time());
    }
}

/// `with_deadline(op, time.now() + d)` on `time`; like the two-argument forms, an awaitable<void>
/// that finished despite the deadline's cancellation is not a timeout.
template <class T>
awaitable<T> with_timeout(awaitable<T> op, duration d, time_source& time) {
    if constexpr (std::is_void_v<T>) {
        return detail::race_deadline_void(std::move(op), time.now() + d, time, false);
    } else {
        return detail::race_deadline(std::move(op), time.now() + d, time);
    }
}

template <class T>
awaitable<T> with_timeout(awaitable<T> op, duration d) {
    return with_timeout(std::move(op), d, system_time());
}

template <class T>
awaitable<T> abandon_on_cancel(awaitable<T> op) {
    auto ex = co_await asio::this_coro::executor;
    auto state = co_await asio::this_coro::cancellation_state;
    asio::cancellation_signal signal;
    asio::cancellation_slot caller = state.slot();
    if (caller.is_connected()) {
        caller.assign([&signal](asio::cancellation_type) { signal.emit(asio::cancellation_type::terminal); });
    }
    // The handler refers to `signal`: it goes before this frame does, however `op` ends.
    struct clear_on_exit {
        asio::cancellation_slot slot;
        ~clear_on_exit() {
            if (slot.is_connected()) {
                slot.clear();
            }
        }
    } guard{caller};
    if constexpr (std::is_void_v<T>) {
        co_await asio::co_spawn(ex,
                                std::move(op),
                                asio::bind_cancellation_slot(signal.slot(), use_awaitable));
    } else {
        co_return co_await asio::co_spawn(ex,
                                          std::move(op),
                                          asio::bind_cancellation_slot(signal.slot(), use_awaitable));
    }
}

/// When a heartbeat beats: `first` after the work starts (zero: at once), then every `every`.
struct heartbeat_schedule {
    duration first{};
    duration every{};
};

namespace detail {

/// The beats of a heartbeat, without a coroutine asleep between them: a call scheduled on the time
/// source starts each beat as a task of its own, and the beat's end schedules the next. A beat is
/// never cut off mid-way (a chat action is one short request, with its own deadlines): no
/// cancellation reaches it, and stop() waits for one in progress, so no request is abandoned
/// half-sent. A beat that fails is the beat's own business (it is best effort): the beats go on,
/// and they never end or cancel the work; one that ends cancelled (its sender shut down) ends
/// them.
class heartbeat {
public:
    heartbeat(executor ex, time_source& time, heartbeat_schedule when, std::function<awaitable<void>()> beat);
    heartbeat(const heartbeat&) = delete;
    heartbeat& operator=(const heartbeat&) = delete;
    ~heartbeat();

    /// Starts the first beat now (`when.first` zero) or schedules it.
    void start();
    /// Ends the beats: drops the next one and waits for one in progress, which nothing cancels.
    /// The caller must not be throwing on cancellation (see with_heartbeat).
    awaitable<void> stop();

private:
    struct state;
    std::shared_ptr<state> s_;
};

} // namespace detail

/// Runs `op` and, while it runs, `beat()` `when.first` after it starts (zero: at once) and then
/// every `when.every` on `time` (a chat action that Telegram shows for 5 s, refreshed while a
/// model works; none for work that ends before the first is due). The beats stop when `op` ends;
/// `op`'s value or exception is the result. `op` runs as part of the caller, so the caller's
/// cancellation reaches it as it would reach `op` awaited directly.
template <class T>
awaitable<T> with_heartbeat(awaitable<T> op,
                            heartbeat_schedule when,
                            time_source& time,
                            std::function<awaitable<void>()> beat) {
    auto ex = co_await asio::this_coro::executor;
    detail::heartbeat beats(std::move(ex), time, when, std::move(beat));
    beats.start();
    std::exception_ptr failed;
    std::optional<std::conditional_t<std::is_void_v<T>, std::monostate, T>> value;
    try {
        if constexpr (std::is_void_v<T>) {
            co_await std::move(op);
            value.emplace();
        } else {
            value.emplace(co_await std::move(op));
        }
    } catch (...) {
        failed = std::current_exception();
    }
    // The beats end before this frame does, even when the caller was cancelled (which is how
    // `op` may have ended): with throwing on cancellation left on, awaiting stop() would throw at
    // once instead of waiting for a beat in progress.
    const bool throws = co_await asio::this_coro::throw_if_cancelled();
    co_await asio::this_coro::throw_if_cancelled(false);
    co_await beats.stop();
    co_await asio::this_coro::throw_if_cancelled(throws);
    if (failed) {
        std::rethrow_exception(failed);
    }
    if constexpr (!std::is_void_v<T>) {
        co_return std::move(*value);
    }
}

/// True when `e` holds a system_error whose code is engine::errc::timeout.
bool is_timeout(const std::exception_ptr& e) noexcept;

} // namespace companion::engine
