// The engine's vocabulary over Boost.Asio: one executor type, awaitable<T>, and the `asio`
// namespace alias every layer uses.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace companion {

namespace asio = boost::asio;

namespace engine {

using executor = asio::any_io_executor;

template <class T = void>
using awaitable = asio::awaitable<T, executor>;

inline constexpr auto use_awaitable = asio::use_awaitable_t<executor>{};

/// Gives the loop to other ready work and resumes afterwards (design.md §3: yield with `post`,
/// never with a zero-length timer).
inline awaitable<void> yield() {
    auto ex = co_await asio::this_coro::executor;
    co_await asio::post(ex, use_awaitable);
}

} // namespace engine
} // namespace companion
