// The engine's monotonic clock and the timer type built on it.
//
// In production `clock::now()` is std::chrono::steady_clock. Tests freeze it and move it forward
// by hand (`clock::freeze()`, `clock::advance(d)`), so every engine timer (sleep, deadlines, rate
// limiter waits, retry back-off) runs on virtual time and no test sleeps for real (style.md rule
// 9). While frozen, the reactor re-checks its timers at every turn, so tests drive the loop with
// `poll()` after each advance (a blocking `run()` would spin until the clock is advanced).
#pragma once

#include "engine/asio.hpp"

#include <boost/asio/basic_waitable_timer.hpp>

#include <chrono>
#include <cstdint>

namespace companion::engine {

class clock {
public:
    using rep = std::int64_t;
    using period = std::nano;
    using duration = std::chrono::nanoseconds;
    using time_point = std::chrono::time_point<clock, duration>;
    static constexpr bool is_steady = true;

    static time_point now() noexcept;

    /// Stops the clock at its current reading; `now()` changes only through `advance()`.
    static void freeze() noexcept;
    /// Moves a frozen clock forward.
    static void advance(duration d) noexcept;
    /// Returns to real time (the reading jumps back to the steady clock).
    static void unfreeze() noexcept;
    static bool frozen() noexcept;
};

struct clock_wait_traits {
    static clock::duration to_wait_duration(const clock::duration& d);
    static clock::duration to_wait_duration(const clock::time_point& t);
};

using timer = asio::basic_waitable_timer<clock, clock_wait_traits, executor>;
using duration = clock::duration;
using time_point = clock::time_point;

} // namespace companion::engine
