// The runtime: one io_context run by one thread (design.md §3), a root task group, the offload
// pool, and a graceful stop on SIGINT/SIGTERM.
//
// Owned mode: `runtime rt; rt.spawn(main_task()); return rt.run();` runs the loop on the calling
// thread until the root group is empty, or until a stop request (signal or request_stop())
// finishes: total cancellation, `grace` to unwind, then terminal cancellation. A second signal
// during the grace period skips straight to terminal cancellation.
//
// Borrowed mode (embedding): `runtime rt(host_ioc); rt.start();` installs the same supervision on
// a loop the host app owns and runs; the host awaits `rt.stopped()` or polls `rt.running()`.
#pragma once

#include "engine/asio.hpp"
#include "engine/clock.hpp"
#include "engine/offload.hpp"
#include "engine/sync.hpp"
#include "engine/task_group.hpp"

#include <boost/asio/signal_set.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>

namespace companion::engine {

struct runtime_config {
    duration grace = std::chrono::seconds(10); ///< time children get to unwind after a stop
    bool handle_signals = true;                ///< SIGINT and SIGTERM request a graceful stop
    std::size_t offload_threads = 2;           ///< worker threads for CPU-bound work
    on_child_error policy = on_child_error::contain;
};

class runtime {
public:
    explicit runtime(runtime_config cfg = {});
    runtime(asio::io_context& host, runtime_config cfg = {});
    ~runtime();
    runtime(const runtime&) = delete;
    runtime& operator=(const runtime&) = delete;

    asio::io_context& context() noexcept { return *ioc_; }
    executor get_executor() noexcept { return ioc_->get_executor(); }
    task_group& tasks() noexcept { return *tasks_; }
    offload_pool& offload() noexcept { return offload_; }

    /// Spawns a task into the root group; false once stopping.
    [[nodiscard]] bool spawn(awaitable<void> task) { return tasks_->spawn(std::move(task)); }

    /// Set when a stop begins: long-running tasks (pollers) may wait on it to finish their
    /// current unit of work and return.
    event& stopping() noexcept { return stopping_; }
    /// Set when the stop has finished (every root child ended).
    event& stopped() noexcept { return stopped_; }
    bool running() const noexcept { return !stopped_.is_set(); }

    /// Starts a graceful stop (idempotent; a second call skips to terminal cancellation).
    void request_stop();

    /// Owned mode: installs supervision and runs the loop on this thread until done. Returns 0,
    /// or 1 if a root child failed or the stop was forced (a second request: the children were
    /// cut off without their grace, so a supervisor must not read the exit as clean).
    int run();

    /// A second stop request skipped the grace period.
    bool forced() const noexcept { return stop_requests_ > 1; }

    /// Borrowed mode: installs supervision on the host loop without running it.
    void start();

private:
    /// Runs on `host` when given, else on the loop it owns (`owned`).
    runtime(std::unique_ptr<asio::io_context> owned, asio::io_context* host, runtime_config cfg);

    awaitable<void> supervise();
    void arm_signals();
    void wait_signal();

    std::unique_ptr<asio::io_context> owned_;
    asio::io_context* ioc_;
    runtime_config cfg_;
    offload_pool offload_;
    std::unique_ptr<task_group> tasks_;
    event stop_requested_;
    event stopping_;
    event stopped_;
    std::optional<asio::signal_set> signals_;
    int stop_requests_ = 0;
    bool started_ = false;
};

} // namespace companion::engine
