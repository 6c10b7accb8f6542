// Single-threaded coordination primitives for coroutines on the loop: event, semaphore and a
// bounded channel. All waits are cancellable (any cancellation type): a cancelled waiter leaves
// its queue, consumes nothing, and its coroutine sees `operation_aborted`.
#pragma once

#include "engine/asio.hpp"
#include "engine/detail/wait_queue.hpp"

#include <cstddef>
#include <deque>
#include <optional>
#include <utility>

namespace companion::engine {

/// A manual-reset event: `set()` releases every waiter, and later waits pass at once until
/// `reset()`.
class event {
public:
    explicit event(executor ex) : waiters_(std::move(ex)) {}

    void set() {
        set_ = true;
        waiters_.notify_all();
    }
    void reset() noexcept { set_ = false; }
    bool is_set() const noexcept { return set_; }
    std::size_t waiters() const noexcept { return waiters_.size(); }

    /// Resumes when the event is set. Throws system_error(operation_aborted) when cancelled.
    awaitable<void> wait() {
        if (set_) {
            co_return;
        }
        // Only set() notifies, so a wake-up means the event was set, even if it was reset since.
        co_await waiters_.async_wait(use_awaitable);
    }

private:
    detail::wait_queue waiters_;
    bool set_ = false;
};

/// A counting semaphore with FIFO hand-off: a released permit goes to the oldest waiter, so a
/// late arrival cannot barge ahead of it.
class semaphore {
public:
    semaphore(executor ex, std::size_t permits) : waiters_(std::move(ex)), permits_(permits) {}

    bool try_acquire() noexcept {
        if (permits_ == 0 || !waiters_.empty()) {
            return false;
        }
        --permits_;
        return true;
    }

    /// Takes one permit, waiting in FIFO order. Throws system_error(operation_aborted) when
    /// cancelled while waiting (no permit is taken then).
    awaitable<void> acquire() {
        if (try_acquire()) {
            co_return;
        }
        // release() hands the permit over by notifying this waiter; it is ours on resumption.
        co_await waiters_.async_wait(use_awaitable);
    }

    void release() {
        if (!waiters_.notify_one()) {
            ++permits_;
        }
    }

    std::size_t available() const noexcept { return permits_; }
    std::size_t waiters() const noexcept { return waiters_.size(); }

private:
    detail::wait_queue waiters_;
    std::size_t permits_;
};

/// A bounded FIFO channel between coroutines of one loop. `send` waits while the buffer is full;
/// `receive` waits while it is empty. After `close()`, sends fail and receives drain what is
/// buffered, then report the end.
template <class T>
class channel {
public:
    /// `capacity` is at least 1.
    channel(executor ex, std::size_t capacity)
        : receivers_(ex), senders_(ex), capacity_(capacity == 0 ? 1 : capacity) {}

    /// Queues `value` if there is room. False when full or closed.
    bool try_send(T&& value) {
        if (closed_ || buffer_.size() >= capacity_) {
            return false;
        }
        buffer_.push_back(std::move(value));
        receivers_.notify_one();
        return true;
    }

    /// Queues `value`, waiting for room. Returns false when the channel is (or gets) closed.
    /// Throws system_error(operation_aborted) when cancelled while waiting; the value is dropped.
    awaitable<bool> send(T value) {
        for (;;) {
            if (closed_) {
                co_return false;
            }
            if (buffer_.size() < capacity_) {
                buffer_.push_back(std::move(value));
                receivers_.notify_one();
                co_return true;
            }
            co_await senders_.async_wait(use_awaitable);
        }
    }

    std::optional<T> try_receive() {
        if (buffer_.empty()) {
            return std::nullopt;
        }
        std::optional<T> v(std::move(buffer_.front()));
        buffer_.pop_front();
        senders_.notify_one();
        return v;
    }

    /// The next value, waiting for one; std::nullopt once the channel is closed and drained.
    /// Throws system_error(operation_aborted) when cancelled while waiting.
    awaitable<std::optional<T>> receive() {
        for (;;) {
            if (auto v = try_receive()) {
                co_return v;
            }
            if (closed_) {
                co_return std::nullopt;
            }
            co_await receivers_.async_wait(use_awaitable);
        }
    }

    /// Refuses further sends and wakes every waiter.
    void close() {
        closed_ = true;
        receivers_.notify_all();
        senders_.notify_all();
    }

    bool is_closed() const noexcept { return closed_; }
    std::size_t size() const noexcept { return buffer_.size(); }
    std::size_t capacity() const noexcept { return capacity_; }

private:
    detail::wait_queue receivers_;
    detail::wait_queue senders_;
    std::deque<T> buffer_;
    std::size_t capacity_;
    bool closed_ = false;
};

} // namespace companion::engine
