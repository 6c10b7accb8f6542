// Runs CPU-bound work (image decode/resize/encode, checkpoints) on a small thread pool and awaits
// its result or exception back on the loop thread (design.md §3: the loop never blocks).
//
// Lifetime: the pool must be joined (destroyed or `stop()`ped) before the io_context whose
// coroutines await it, because a finished job posts its completion to that io_context. The
// runtime owns both in that order. Cancellation: work already running is not interrupted; the
// awaiting coroutine resumes when it finishes (jobs are meant to be short, about a millisecond to
// a second).
#pragma once

#include "engine/asio.hpp"

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/thread_pool.hpp>

#include <cstddef>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

namespace companion::engine {

class offload_pool {
public:
    explicit offload_pool(std::size_t threads = 2) : pool_(threads), threads_(threads) {}
    ~offload_pool() { stop(); }
    offload_pool(const offload_pool&) = delete;
    offload_pool& operator=(const offload_pool&) = delete;

    /// Runs `f()` on a pool thread; the awaiting coroutine resumes on its own executor with the
    /// result, or with the exception `f` threw.
    template <class F>
    auto run(F f) -> awaitable<std::invoke_result_t<F&>>;

    /// Finishes the queued work and joins the threads.
    void stop() { pool_.join(); }

    std::size_t threads() const noexcept { return threads_; }

private:
    asio::thread_pool pool_;
    std::size_t threads_;
};

template <class F>
auto offload_pool::run(F f) -> awaitable<std::invoke_result_t<F&>> {
    using result_t = std::invoke_result_t<F&>;
    using stored_t = std::conditional_t<std::is_void_v<result_t>, bool, result_t>;
    std::optional<stored_t> result;
    std::exception_ptr error;

    auto initiation = [this, &f, &result, &error](auto handler) {
        auto ex = asio::get_associated_executor(handler);
        auto work = asio::make_work_guard(ex);
        asio::post(pool_,
                   [&f, &result, &error, handler = std::move(handler), work = std::move(work)]() mutable {
                       try {
                           if constexpr (std::is_void_v<result_t>) {
                               f();
                               result.emplace(true);
                           } else {
                               result.emplace(f());
                           }
                       } catch (...) {
                           error = std::current_exception();
                       }
                       // The awaiting coroutine frame (which owns f, result and error) stays
                       // suspended until this handler runs on its own executor.
                       auto loop_ex = work.get_executor();
                       asio::post(loop_ex, std::move(handler));
                       work.reset();
                   });
    };
    co_await asio::async_initiate<decltype(use_awaitable), void()>(std::move(initiation), use_awaitable);
    if (error) {
        std::rethrow_exception(error);
    }
    if constexpr (!std::is_void_v<result_t>) {
        co_return std::move(*result);
    }
}

} // namespace companion::engine
