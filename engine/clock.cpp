// Real or frozen (virtual) monotonic time for the engine's timers.
#include "engine/clock.hpp"

#include <atomic>

namespace companion::engine {
namespace {

std::atomic<bool> frozen_{false};
std::atomic<std::int64_t> virtual_now_{0};

std::int64_t steady_now() noexcept {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

} // namespace

clock::time_point clock::now() noexcept {
    if (frozen_.load(std::memory_order_relaxed)) {
        return time_point(duration(virtual_now_.load(std::memory_order_relaxed)));
    }
    return time_point(duration(steady_now()));
}

void clock::freeze() noexcept {
    virtual_now_.store(steady_now(), std::memory_order_relaxed);
    frozen_.store(true, std::memory_order_relaxed);
}

void clock::advance(duration d) noexcept {
    virtual_now_.fetch_add(d.count(), std::memory_order_relaxed);
}

void clock::unfreeze() noexcept {
    frozen_.store(false, std::memory_order_relaxed);
}

bool clock::frozen() noexcept {
    return frozen_.load(std::memory_order_relaxed);
}

clock::duration clock_wait_traits::to_wait_duration(const clock::duration& d) {
    if (clock::frozen()) {
        // Virtual time does not pass by itself: make the reactor re-check its timers on every
        // poll, so a test's advance() followed by poll() fires whatever came due.
        return clock::duration::zero();
    }
    return d;
}

clock::duration clock_wait_traits::to_wait_duration(const clock::time_point& t) {
    return to_wait_duration(t - clock::now());
}

} // namespace companion::engine
