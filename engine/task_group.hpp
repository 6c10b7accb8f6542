// Structured concurrency: a group owns the coroutines spawned into it (style.md rule 7).
//
// - `spawn` starts a child at once on the group's executor. Children accept total cancellation
//   (their pending operations are aborted by `cancel()`), not only terminal.
// - `join` waits until no child is left. With `on_child_error::fail_group`, the first child's
//   exception cancels its siblings and is rethrown by `join`; with `contain` it is logged and
//   counted, and the other children go on.
// - `shutdown(grace)` is the graceful stop: total cancellation, up to `grace` for the children to
//   unwind, then terminal cancellation, then join. It always ends with the group empty: cancelling
//   its caller does not cut it short (the caller goes on to destroy what the children use).
// - Every child's exception is logged with the group's name and passed to the error callback, so
//   none is lost.
// - No child outlives its group: the owner must join it (or shut it down) before destroying it.
//   A group destroyed with children logs `task_group.destroyed_with_children`; off the loop thread
//   (a test's end, after the loop returned) it then ends them itself (terminal cancellation and
//   the loop's ready work); on the loop thread, or when nothing can end them, it ends the process
//   (std::terminate), in every build: a child resuming after its owner is gone would be a use
//   after free, found much later and far away.
#pragma once

#include "engine/asio.hpp"
#include "engine/clock.hpp"
#include "engine/detail/wait_queue.hpp"
#include "engine/time_source.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/cancellation_type.hpp>

#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>

namespace companion::engine {

enum class on_child_error { contain, fail_group };

class task_group {
public:
    struct config {
        std::string name = "tasks";
        on_child_error policy = on_child_error::contain;
        /// Called on the loop thread with each child's exception (after it is logged).
        std::function<void(std::exception_ptr)> on_error{};
    };

    explicit task_group(executor ex);
    task_group(executor ex, config cfg);
    ~task_group();
    task_group(const task_group&) = delete;
    task_group& operator=(const task_group&) = delete;

    /// Starts `child`. Returns false, without starting it, once the group has been cancelled.
    [[nodiscard]] bool spawn(awaitable<void> child);

    /// Waits until the group is empty. With fail_group, rethrows the first child exception.
    /// Cancelling the caller stops the wait, not the children.
    awaitable<void> join();

    /// Sends `type` cancellation to every running child; later spawns are refused.
    void cancel(asio::cancellation_type type = asio::cancellation_type::total);

    /// Total cancellation, up to `grace` to unwind, then terminal cancellation and join. Runs to
    /// the end whatever happens to the caller (see `shielded`): a child that ignores terminal
    /// cancellation too keeps it waiting, which is a bug in that child, never a use after free.
    /// The grace period runs on `time`, which must outlive the await.
    awaitable<void> shutdown(duration grace, time_source& time = system_time());

    std::size_t size() const noexcept;
    /// Children alive in every task group of the process (a leak shows as growth over time).
    static std::size_t live_tasks() noexcept;
    std::size_t spawned() const noexcept;
    std::size_t failures() const noexcept;
    std::exception_ptr first_error() const noexcept;
    bool cancelled() const noexcept;
    const std::string& name() const noexcept;
    const executor& get_executor() const noexcept;

private:
    struct state;
    static awaitable<void> drain(std::shared_ptr<state> s, time_point deadline, time_source& time);
    std::shared_ptr<state> state_;
};

/// Runs `op` to its end in a coroutine of its own that no cancellation reaches, and waits for it
/// without being cancellable: for stop sequences whose end the caller relies on (an owner destroys
/// what its children use once its stop returned). A cancellation of the caller while `op` runs is
/// not lost: the caller's next `co_await` sees it (operation_aborted), after `op` ended. (A caller
/// already cancelled throws at its `co_await shielded(...)`, before `op` starts: shield the whole
/// stop sequence, not each step.)
template <class T>
awaitable<T> shielded(awaitable<T> op) {
    auto ex = co_await asio::this_coro::executor;
    // Asio checks a coroutine's cancellation at each co_await; the check is off while `op` runs,
    // so that a cancellation arriving meanwhile cannot end the wait for it.
    const bool was_throwing = co_await asio::this_coro::throw_if_cancelled();
    co_await asio::this_coro::throw_if_cancelled(false);
    std::exception_ptr error;
    std::optional<std::conditional_t<std::is_void_v<T>, bool, T>> value;
    try {
        if constexpr (std::is_void_v<T>) {
            co_await asio::co_spawn(ex,
                                    std::move(op),
                                    asio::bind_cancellation_slot(asio::cancellation_slot(), use_awaitable));
            value.emplace(true);
        } else {
            T result = co_await asio::co_spawn(
                ex,
                std::move(op),
                asio::bind_cancellation_slot(asio::cancellation_slot(), use_awaitable));
            value.emplace(std::move(result));
        }
    } catch (...) {
        error = std::current_exception();
    }
    co_await asio::this_coro::throw_if_cancelled(was_throwing);
    if (error) {
        std::rethrow_exception(error);
    }
    if constexpr (!std::is_void_v<T>) {
        co_return std::move(*value);
    }
}

} // namespace companion::engine
