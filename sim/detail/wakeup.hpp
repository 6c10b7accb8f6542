// A wake-up one coroutine waits on until a deadline, for the simulators' held requests (a long
// poll, a test waiting for the bot to send something): `set()` ends the wait at once.
//
// It is a single timer that set() cancels, not a race of an event against a sleep: Boost 1.81's
// parallel_group (behind `||`) forwards only the first cancellation it is asked for, so a race
// that had received a total cancellation its branches ignore (a server's graceful stop) never
// cancelled the losing sleep when the event won, and a held poll stayed held until its deadline.
#pragma once

#include "engine/asio.hpp"
#include "engine/clock.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/error.hpp>
#include <boost/system/system_error.hpp>

namespace companion::sim::detail {

class wakeup {
public:
    explicit wakeup(engine::executor ex) : timer_(std::move(ex)) {}

    /// Ends the current wait, or makes the next one return at once.
    void set() {
        set_ = true;
        timer_.cancel();
    }
    void reset() noexcept { set_ = false; }
    bool is_set() const noexcept { return set_; }

    /// True when set() came before `deadline`, false at the deadline. Throws
    /// system_error(operation_aborted) when the waiting coroutine is cancelled (any type).
    engine::awaitable<bool> wait_until(engine::time_point deadline) {
        if (set_) {
            co_return true;
        }
        timer_.expires_at(deadline);
        auto [ec] = co_await timer_.async_wait(asio::as_tuple(engine::use_awaitable));
        if (set_) {
            co_return true;
        }
        if (ec == asio::error::operation_aborted) {
            throw boost::system::system_error(ec, "wakeup");
        }
        co_return false;
    }

private:
    engine::timer timer_;
    bool set_ = false;
};

} // namespace companion::sim::detail
