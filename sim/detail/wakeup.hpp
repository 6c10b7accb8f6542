// A wake-up one coroutine waits on until a deadline, for the simulators' held requests (a long
// poll, a test waiting for the bot to send something): `set()` ends the wait at once.
//
// It is a single timer that set() cancels, not a race of an event against a sleep: Boost 1.81's
// parallel_group (behind `||`) forwards only the first cancellation it is asked for, so a race
// that had received a total cancellation its branches ignore (a server's graceful stop) never
// cancelled the losing sleep when the event won, and a held poll stayed held until its deadline.
//
// On a time source of its own (a test's manual_time), the deadline is not a time the timer can
// wait for: the timer then waits for ever, and a sleeper of its own on the time source cancels it
// at the deadline. The wait still ends by the one timer (set(), the deadline or the waiter's
// cancellation), and the sleeper is cancelled as soon as the wait is over, however it ended.
#pragma once

#include "engine/asio.hpp"
#include "engine/clock.hpp"
#include "engine/time_source.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/error.hpp>
#include <boost/system/system_error.hpp>

#include <exception>
#include <memory>

namespace companion::sim::detail {

class wakeup {
public:
    /// `time`: the time source deadlines are on; nullptr is the process's real time (the timer
    /// alone). It must outlive the wake-up.
    explicit wakeup(engine::executor ex, engine::time_source* time = nullptr)
        : timer_(std::move(ex)), time_(time) {}

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
        if (time_ == nullptr) {
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
        const bool woke = co_await wait_on_source(deadline);
        co_return woke;
    }

private:
    /// What the waiter and its sleeper share; the sleeper may resume after the wait is over.
    struct deadline_state {
        bool wait_over = false; ///< the waiter has left: the sleeper must not touch the timer
        bool expired = false;   ///< the sleeper reached the deadline and cancelled the timer
        asio::cancellation_signal cancel_sleeper;
    };

    /// Sleeps on `time` until `deadline`, then ends the waiter's timer wait (unless it is over).
    static engine::awaitable<void> expire(engine::time_source& time,
                                          engine::time_point deadline,
                                          std::shared_ptr<deadline_state> state,
                                          engine::timer& timer) {
        co_await time.sleep_until(deadline);
        if (!state->wait_over) {
            state->expired = true;
            timer.cancel();
        }
    }

    engine::awaitable<bool> wait_on_source(engine::time_point deadline) {
        auto ex = co_await asio::this_coro::executor;
        auto state = std::make_shared<deadline_state>();
        // However the wait ends (or its frame goes), the sleeper stops touching the timer and is
        // cancelled, so it does not stay asleep on the time source.
        struct end_sleeper {
            std::shared_ptr<deadline_state> state;
            ~end_sleeper() {
                state->wait_over = true;
                state->cancel_sleeper.emit(asio::cancellation_type::terminal);
            }
        };
        timer_.expires_at(engine::time_point::max());
        asio::co_spawn(ex,
                       expire(*time_, deadline, state, timer_),
                       asio::bind_cancellation_slot(state->cancel_sleeper.slot(),
                                                    [state](const std::exception_ptr&) {}));
        boost::system::error_code ec;
        {
            const end_sleeper guard{state};
            auto [wait_ec] = co_await timer_.async_wait(asio::as_tuple(engine::use_awaitable));
            ec = wait_ec;
        }
        if (set_) {
            co_return true;
        }
        if (state->expired) {
            co_return false;
        }
        if (ec == asio::error::operation_aborted) {
            throw boost::system::system_error(ec, "wakeup");
        }
        co_return false;
    }

    engine::timer timer_;
    engine::time_source* time_;
    bool set_ = false;
};

} // namespace companion::sim::detail
