// Structured concurrency: a group owns the coroutines spawned into it (style.md rule 7).
//
// - `spawn` starts a child at once on the group's executor. Children accept total cancellation
//   (their pending operations are aborted by `cancel()`), not only terminal.
// - `join` waits until no child is left. With `on_child_error::fail_group`, the first child's
//   exception cancels its siblings and is rethrown by `join`; with `contain` it is logged and
//   counted, and the other children go on.
// - `shutdown(grace)` is the graceful stop: total cancellation, up to `grace` for the children to
//   unwind, then terminal cancellation, then join.
// - Every child's exception is logged with the group's name and passed to the error callback, so
//   none is lost. A group must be empty when destroyed; if it is not, the destructor logs an error
//   and sends terminal cancellation (the children's bookkeeping stays valid until they finish).
#pragma once

#include "engine/asio.hpp"
#include "engine/clock.hpp"
#include "engine/detail/wait_queue.hpp"

#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/cancellation_type.hpp>

#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <string>

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

    /// Total cancellation, up to `grace` to unwind, then terminal cancellation and join.
    awaitable<void> shutdown(duration grace);

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
    std::shared_ptr<state> state_;
};

} // namespace companion::engine
