// Where a service reads the time and sleeps (style.md rule 9): the steady time that deadlines,
// back-off and rate limits run on, the wall time that is stored (unix milliseconds), and a sleep
// on that same steady time. Services take a `time_source&`, so a test drives them on virtual
// time of its own (`manual_time`) while production passes `system_time()`; no global clock is
// frozen, and two tests (or a test and the real loop) never share one.
#pragma once

#include "engine/asio.hpp"
#include "engine/clock.hpp"

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>

namespace companion::engine {

/// A wall-clock instant with millisecond resolution (what the storage layer keeps).
using wall_time = std::chrono::sys_time<std::chrono::milliseconds>;

/// A wake-up that can be brought forward without cancelling anything (no exception, no second
/// task): one sleeper, armed anew at each wait. A scheduler keeps one and rings it when an earlier
/// deadline comes in.
class alarm {
public:
    virtual ~alarm() = default;

    /// Resumes at `t` (at once when it has passed) with true, or with false when ring() is called
    /// first. `t` = time_point::max() waits for ring() alone. Throws
    /// system_error(operation_aborted) when the caller is cancelled.
    virtual awaitable<bool> wait_until(time_point t) = 0;
    /// Ends the wait in progress (it returns false); nothing when none is.
    virtual void ring() = 0;
};

/// A function that a time source runs once at a given time, on the loop (not inside the caller).
/// Destroying the registration cancels it: the function never runs after that, even when its time
/// came and its run was already queued. A fired registration is inert and may be destroyed from
/// inside its own function.
class scheduled_call {
public:
    virtual ~scheduled_call() = default;
};

class time_source {
public:
    virtual ~time_source() = default;

    /// Steady time: never jumps, the base of every wait and rate.
    virtual time_point now() const noexcept = 0;
    /// Wall time, for what is stored and shown ("created at", daily quotas).
    virtual wall_time wall() const noexcept = 0;
    /// Resumes at `t` (at once when it has passed). Throws system_error(operation_aborted) when
    /// cancelled (any cancellation type).
    virtual awaitable<void> sleep_until(time_point t) = 0;
    /// Resumes at `t` (at once when it has passed) with true, or with false when cancelled first:
    /// no exception, so the deadline arm of a race, cancelled each time the operation wins, costs
    /// no unwinding.
    virtual awaitable<bool> wait_until(time_point t) = 0;

    awaitable<void> sleep(duration d) { return sleep_until(now() + d); }

    /// An alarm on this time source for tasks of `ex`; it must not outlive the source.
    virtual std::unique_ptr<alarm> make_alarm(executor ex) = 0;

    /// Runs `fn` at `t` on `ex` (soon, when `t` has passed), unless the registration is destroyed
    /// first: a deadline or a periodic beat without a coroutine frame asleep for it. The
    /// registration must not outlive the source.
    virtual std::unique_ptr<scheduled_call> call_at(executor ex, time_point t, std::function<void()> fn) = 0;
};

/// The process's real time: the engine clock and the system clock, sleeping on engine timers.
time_source& system_time() noexcept;

/// Virtual time for tests and simulations: nothing moves until `advance()`. Sleepers wake in
/// time order (ties in the order they went to sleep), each at its own instant, so what a woken
/// task does next (sleep again, take a token) is seen at the right time.
class manual_time final : public time_source {
public:
    /// `wall_start` is the wall time at the start (a fixed date keeps tests repeatable).
    explicit manual_time(wall_time wall_start = wall_time{std::chrono::milliseconds{1'764'547'200'000}});
    manual_time(const manual_time&) = delete;
    manual_time& operator=(const manual_time&) = delete;
    ~manual_time() override;

    time_point now() const noexcept override { return now_; }
    wall_time wall() const noexcept override;
    awaitable<void> sleep_until(time_point t) override;
    awaitable<bool> wait_until(time_point t) override;
    std::unique_ptr<alarm> make_alarm(executor ex) override;
    /// Runs `fn` from advance_to() at its own instant, in schedule order with the sleepers.
    std::unique_ptr<scheduled_call> call_at(executor ex, time_point t, std::function<void()> fn) override;

    /// Moves time forward to `t`, waking every sleeper due by then. `settle` runs after each
    /// wake-up (a test drains its io_context there); without it the woken tasks run later, when
    /// the loop next runs, but still see `now()` at their own instant only if settled.
    void advance_to(time_point t, const std::function<void()>& settle = {});
    void advance(duration d, const std::function<void()>& settle = {}) { advance_to(now_ + d, settle); }

    /// How many tasks sleep (and scheduled calls wait) now, and when the first of them is due.
    std::size_t sleepers() const noexcept { return sleepers_.size(); }
    std::optional<time_point> next_wake() const noexcept;

private:
    struct sleeper;
    class manual_alarm;
    class manual_call;

    time_point start_;
    time_point now_;
    wall_time wall_start_;
    std::multimap<time_point, sleeper*> sleepers_;
};

/// Runs `op`, cancelling it at `deadline` on `time`; throws system_error(errc::timeout) when the
/// deadline won (nothing of `op` outlives the call). Cancellation of the caller reaches `op`.
awaitable<void> with_deadline(awaitable<void> op, time_point deadline, time_source& time);

} // namespace companion::engine
