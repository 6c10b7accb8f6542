// Sleeping and deadlines on the engine clock or on a time source.
//
// `with_timeout(op, d[, time])` runs `op` and, if it has not finished after `d`, cancels it through its
// cancellation slot (terminal cancellation), waits for it to unwind, and throws
// system_error(engine::errc::timeout). Nothing outlives the call. Deadlines nest: an outer
// deadline that expires first cancels the inner operation too, so the earliest deadline wins.
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
#include <boost/asio/deferred.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/system/system_error.hpp>

#include <exception>
#include <functional>
#include <optional>
#include <stdexcept>
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

// The guarded operation accepts any cancellation, as its caller does: co_spawn's default filter
// would drop a total cancellation, and a parallel group forwards its parent's cancellation only
// once, so an operation that ignored it would hold the caller until it ended by itself. Its value
// comes back as an optional (the group needs a default-constructible result).
template <class T>
awaitable<std::optional<T>> as_optional(awaitable<T> op) {
    co_await asio::this_coro::reset_cancellation_state(asio::enable_total_cancellation());
    T value = co_await std::move(op);
    co_return std::optional<T>(std::move(value));
}

inline awaitable<std::monostate> as_unit(awaitable<void> op) {
    co_await std::move(op);
    co_return std::monostate{};
}

inline awaitable<void> accepting_total(awaitable<void> op) {
    co_await asio::this_coro::reset_cancellation_state(asio::enable_total_cancellation());
    co_await std::move(op);
}

/// Sleeps on `time` until `at`, accepting any cancellation (the other arm of a deadline race):
/// true when `at` came, false when cancelled first (no exception either way).
awaitable<bool> expire_at(time_source& time, time_point at);

/// Runs a non-void `op`, cancelling it at `deadline` on `time`; throws
/// system_error(errc::timeout) when the deadline won and `op` failed. If `op` finished despite the
/// cancellation, its result is returned.
template <class T>
awaitable<T> race_deadline(awaitable<T> op, time_point deadline, time_source& time) {
    auto ex = co_await asio::this_coro::executor;
    auto [order, op_error, value, timer_error, expired] =
        co_await asio::experimental::make_parallel_group(
            asio::co_spawn(ex, as_optional(std::move(op)), asio::deferred),
            asio::co_spawn(ex, expire_at(time, deadline), asio::deferred))
            .async_wait(asio::experimental::wait_for_one(), use_awaitable);
    // The deadline ending first by itself (not cancelled with the caller) is the timeout.
    if (order[0] == 1 && !timer_error && expired && op_error) {
        throw_error(errc::timeout, "deadline exceeded");
    }
    if (op_error) {
        std::rethrow_exception(op_error);
    }
    co_return std::move(*value);
}

inline awaitable<void> race_deadline_void(awaitable<void> op, time_point deadline, time_source& time) {
    co_await race_deadline(as_unit(std::move(op)), deadline, time);
}

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
        return detail::race_deadline_void(std::move(op), deadline, system_time());
    } else {
        return detail::race_deadline(std::move(op), deadline, system_time());
    }
}

/// `with_deadline(op, time.now() + d)` on `time`; like the two-argument forms, an awaitable<void>
/// that finished despite the deadline's cancellation is not a timeout.
template <class T>
awaitable<T> with_timeout(awaitable<T> op, duration d, time_source& time) {
    if constexpr (std::is_void_v<T>) {
        return detail::race_deadline_void(std::move(op), time.now() + d, time);
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

// The heartbeat's side of the race: a first sleep (when it has one), then a beat and a sleep,
// until cancelled. A beat is never cut off mid-way (a chat action is one short request, with its
// own deadlines): a cancellation that arrives during it ends the loop right after it, so no
// request is abandoned half-sent; only the sleeps are cancelled. A beat that fails is the beat's
// own business (it is best effort): the loop goes on, so the heartbeat never ends before the work
// and never cancels it.
inline awaitable<void>
beat_every(heartbeat_schedule when, time_source& time, std::function<awaitable<void>()> beat) {
    co_await asio::this_coro::reset_cancellation_state(asio::enable_total_cancellation());
    co_await asio::this_coro::throw_if_cancelled(false);
    auto ex = co_await asio::this_coro::executor;
    if (when.first > duration::zero()) {
        const bool slept = co_await time.wait_until(time.now() + when.first); // named: see manual_time
        if (!slept) {
            co_return; // the work ended (or was cancelled) before the first beat was due: none
        }
    }
    for (;;) {
        std::exception_ptr failed;
        try {
            co_await asio::co_spawn(ex,
                                    beat(),
                                    asio::bind_cancellation_slot(asio::cancellation_slot(), use_awaitable));
        } catch (...) {
            failed = std::current_exception();
        }
        const auto state = co_await asio::this_coro::cancellation_state;
        if (state.cancelled() != asio::cancellation_type::none) {
            throw boost::system::system_error(asio::error::operation_aborted, "heartbeat stopped");
        }
        if (failed && is_cancellation(failed)) {
            std::rethrow_exception(failed);
        }
        const bool slept = co_await time.wait_until(time.now() + when.every); // named: see manual_time
        if (!slept) {
            // Cancelled in its sleep, the usual end (the work finished, or the caller's
            // cancellation reached the work too): returned, not thrown, as no one reads it.
            co_return;
        }
    }
}

} // namespace detail

/// Runs `op` and, while it runs, `beat()` `when.first` after it starts (zero: at once) and then
/// every `when.every` on `time` (a chat action that Telegram shows for 5 s, refreshed while a
/// model works; none for work that ends before the first is due). The beats stop when `op` ends;
/// `op`'s value or exception is the result. Cancellation of the caller reaches both.
template <class T>
awaitable<T> with_heartbeat(awaitable<T> op,
                            heartbeat_schedule when,
                            time_source& time,
                            std::function<awaitable<void>()> beat) {
    auto ex = co_await asio::this_coro::executor;
    if constexpr (std::is_void_v<T>) {
        co_await with_heartbeat(detail::as_unit(std::move(op)), when, time, std::move(beat));
    } else {
        auto [order, op_error, value, beat_error] =
            co_await asio::experimental::make_parallel_group(
                asio::co_spawn(ex, detail::as_optional(std::move(op)), asio::deferred),
                asio::co_spawn(ex, detail::beat_every(when, time, std::move(beat)), asio::deferred))
                .async_wait(asio::experimental::wait_for_one(), use_awaitable);
        if (op_error) {
            std::rethrow_exception(op_error);
        }
        if (!value) {
            // Only a cancellation ends the heartbeat first; it reached the work too.
            std::rethrow_exception(beat_error ? beat_error
                                              : std::make_exception_ptr(std::logic_error("heartbeat ended")));
        }
        co_return std::move(*value);
    }
}

/// True when `e` holds a system_error whose code is engine::errc::timeout.
bool is_timeout(const std::exception_ptr& e) noexcept;

} // namespace companion::engine
