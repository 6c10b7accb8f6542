// Thousands of waits without a timer or a coroutine frame each (issue 16): items that are due at
// some instant sit in one queue, their deadlines rounded up to a tick, so that one wake-up serves
// every item due in that tick.
//
// - `due_queue<T>` is the decision, sans-I/O: push items with their due time, ask when the
//   earliest is due, take those due by `now` (earliest first, first pushed first within a tick).
// - `due_scheduler<T>` carries it out on the loop: one alarm on the time source (`dispatch`),
//   brought forward when an earlier item comes in, moves the items due into a ready queue, from which a
//   bounded set of workers take them
//   (`next`). An item is in the queue, ready, or with one worker: never two places at once.
#pragma once

#include "engine/asio.hpp"
#include "engine/clock.hpp"
#include "engine/sync.hpp"
#include "engine/time_source.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

namespace companion::engine {

/// `t` rounded up to a whole `tick` (ticks counted from the clock's epoch); `t` itself when
/// `tick` is zero or less.
inline time_point tick_ceil(time_point t, duration tick) noexcept {
    const auto n = tick.count();
    if (n <= 0) {
        return t;
    }
    const auto c = t.time_since_epoch().count();
    auto q = c / n;
    if (c % n != 0 && c > 0) {
        ++q; // toward +inf; for c < 0 integer division already rounded up
    }
    return time_point(duration(q * n));
}

template <class T>
class due_queue {
public:
    /// `tick`: the resolution of due times (zero keeps them exact).
    explicit due_queue(duration tick) : tick_(tick) {}

    /// Adds `item`, due at `due` rounded up to the tick.
    void push(time_point due, T item) {
        entries_.push_back(entry{tick_ceil(due, tick_), seq_++, std::move(item)});
        std::push_heap(entries_.begin(), entries_.end(), later);
    }

    /// When the earliest item is due (already rounded to the tick); nullopt when empty.
    std::optional<time_point> next_due() const noexcept {
        if (entries_.empty()) {
            return std::nullopt;
        }
        return entries_.front().due;
    }

    /// Calls `take(T&&)` for each item due by `now`, earliest first (pushed first, among items
    /// due in the same tick), and removes them. Returns how many were taken.
    template <class F>
    std::size_t take_due(time_point now, F&& take) {
        std::size_t n = 0;
        while (!entries_.empty() && entries_.front().due <= now) {
            std::pop_heap(entries_.begin(), entries_.end(), later);
            T item = std::move(entries_.back().item);
            entries_.pop_back();
            ++n;
            take(std::move(item));
        }
        return n;
    }

    std::size_t size() const noexcept { return entries_.size(); }
    bool empty() const noexcept { return entries_.empty(); }
    duration tick() const noexcept { return tick_; }
    /// Drops every item (and releases the memory the queue held).
    void clear() noexcept { std::vector<entry>().swap(entries_); }

private:
    struct entry {
        time_point due;
        std::uint64_t seq;
        T item;
    };
    /// The heap's order: the front is the earliest due, then the first pushed.
    static bool later(const entry& a, const entry& b) noexcept {
        return a.due != b.due ? a.due > b.due : a.seq > b.seq;
    }

    duration tick_;
    std::uint64_t seq_ = 0;
    std::vector<entry> entries_;
};

template <class T>
class due_scheduler {
public:
    /// `time` must outlive the scheduler.
    due_scheduler(executor ex, time_source& time, duration tick)
        : time_(time),
          queue_(tick),
          ready_(ex, std::numeric_limits<std::size_t>::max()),
          alarm_(time.make_alarm(ex)) {}

    /// Parks `item` until `due`. False (and the item is dropped) once the scheduler is closed.
    bool schedule(time_point due, T item) {
        if (closed_) {
            return false;
        }
        queue_.push(due, std::move(item));
        if (const auto first = queue_.next_due(); first && *first < target_) {
            alarm_->ring(); // earlier than the wait in progress (or none): dispatch looks again
        }
        return true;
    }

    /// The timer loop: waits until the earliest item's tick, then makes every item due by then
    /// ready for the workers. Runs until close() (or cancellation, which it rethrows).
    awaitable<void> dispatch() {
        while (!closed_) {
            queue_.take_due(time_.now(), [this](T&& item) {
                // The ready queue is unbounded (workers behind only makes it longer) and open
                // until close(), which also ends this loop: a refusal here would be a bug, counted.
                if (!ready_.try_send(std::move(item))) {
                    ++lost_;
                }
            });
            target_ = queue_.next_due().value_or(time_point::max());
            const time_point at = target_;
            // False: rung by an earlier item (or by close): the loop looks again either way. Named:
            // g++ 12 miscompiles a co_await inside an if condition (see manual_time).
            const bool came = co_await alarm_->wait_until(at);
            if (!came) {
                ++early_wakes_;
            }
            target_ = time_point::min(); // between waits nothing needs to ring
        }
    }

    /// The next ready item, waiting for one; nullopt once closed. For the workers.
    awaitable<std::optional<T>> next() { return ready_.receive(); }

    /// Ends dispatch and the workers' waits, and drops every parked and ready item.
    void close() {
        closed_ = true;
        queue_.clear();
        while (ready_.try_receive()) {
        }
        ready_.close();
        alarm_->ring();
    }

    std::size_t parked() const noexcept { return queue_.size(); }
    std::size_t ready() const noexcept { return ready_.size(); }
    bool closed() const noexcept { return closed_; }
    /// Waits an earlier item (or close) cut short.
    std::size_t early_wakes() const noexcept { return early_wakes_; }
    /// Items the ready queue refused (always 0: it is unbounded and open while dispatch runs).
    std::size_t lost() const noexcept { return lost_; }

private:
    time_source& time_;
    due_queue<T> queue_;
    channel<T> ready_;
    std::unique_ptr<alarm> alarm_;
    time_point target_ = time_point::max(); ///< what dispatch waits until (min: not waiting)
    bool closed_ = false;
    std::size_t early_wakes_ = 0;
    std::size_t lost_ = 0;
};

} // namespace companion::engine
