// Sleeping on the engine clock, and the deadline arm of a race on a time source.
#include "engine/time.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/system/system_error.hpp>

namespace companion::engine {

awaitable<void> sleep(duration d) {
    timer t(co_await asio::this_coro::executor, d);
    co_await t.async_wait(use_awaitable);
}

awaitable<void> sleep_until(time_point tp) {
    timer t(co_await asio::this_coro::executor, tp);
    co_await t.async_wait(use_awaitable);
}

awaitable<bool> wait_until(time_point tp) {
    timer t(co_await asio::this_coro::executor, tp);
    const auto [ec] = co_await t.async_wait(asio::as_tuple(use_awaitable));
    co_return !ec;
}

namespace detail {

// Both arms of a deadline race accept any cancellation, as the caller does: co_spawn's default
// filter would drop a total cancellation, and a parallel group forwards its parent's cancellation
// only once, so an arm that ignored it would hold the group (and the caller) until the deadline.
awaitable<bool> expire_at(time_source& time, time_point at) {
    co_await asio::this_coro::reset_cancellation_state(asio::enable_total_cancellation());
    co_return co_await time.wait_until(at);
}

} // namespace detail

bool is_timeout(const std::exception_ptr& e) noexcept {
    return e && code_of(e) == make_error_code(errc::timeout);
}

} // namespace companion::engine
