// Sleeping on the engine clock.
#include "engine/time.hpp"

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

bool is_timeout(const std::exception_ptr& e) noexcept {
    if (!e) {
        return false;
    }
    try {
        std::rethrow_exception(e);
    } catch (const boost::system::system_error& se) {
        return se.code() == make_error_code(errc::timeout);
    } catch (...) {
        return false;
    }
}

} // namespace companion::engine
