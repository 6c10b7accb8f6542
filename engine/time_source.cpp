// The real time source and the virtual one.
#include "engine/time_source.hpp"

#include "engine/detail/wait_queue.hpp"
#include "engine/error.hpp"
#include "engine/time.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/error.hpp>
#include <boost/system/system_error.hpp>

#include <algorithm>

namespace companion::engine {

namespace {

/// A steady timer whose wait is re-armed each time; ring() cancels the wait in progress, which
/// then completes with an error code (read as such: no exception is thrown for a ring).
class system_alarm final : public alarm {
public:
    explicit system_alarm(const executor& ex) : timer_(ex) {}

    awaitable<bool> wait_until(time_point t) override {
        rung_ = false;
        timer_.expires_at(t);
        const auto [ec] = co_await timer_.async_wait(asio::as_tuple(use_awaitable));
        if (!ec) {
            co_return true;
        }
        if (ec == asio::error::operation_aborted && rung_) {
            co_return false;
        }
        throw boost::system::system_error(ec); // the caller was cancelled
    }

    void ring() override {
        rung_ = true;
        timer_.cancel();
    }

private:
    timer timer_;
    bool rung_ = false;
};

/// A steady timer whose handler shares a small state with the registration: the function and
/// whether it may still run. The registration's destructor clears the flag and cancels the timer,
/// so a run that was already queued when it went finds the flag down and does nothing.
class system_call final : public scheduled_call {
public:
    system_call(const executor& ex, time_point t, std::function<void()> fn)
        : timer_(ex, t), state_(std::make_shared<state>(state{std::move(fn), true})) {
        timer_.async_wait([s = state_](const boost::system::error_code& ec) {
            if (ec || !s->alive) {
                return; // cancelled: the registration is gone
            }
            s->alive = false;
            s->fn(); // may destroy the registration; `s` keeps the function alive meanwhile
        });
    }
    system_call(const system_call&) = delete;
    system_call& operator=(const system_call&) = delete;
    ~system_call() override { state_->alive = false; }

private:
    struct state {
        std::function<void()> fn;
        bool alive;
    };
    timer timer_;
    std::shared_ptr<state> state_;
};

class system_time_source final : public time_source {
public:
    time_point now() const noexcept override { return clock::now(); }
    wall_time wall() const noexcept override {
        return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
    }
    awaitable<void> sleep_until(time_point t) override { return engine::sleep_until(t); }
    awaitable<bool> wait_until(time_point t) override { return engine::wait_until(t); }
    std::unique_ptr<alarm> make_alarm(executor ex) override {
        return std::make_unique<system_alarm>(std::move(ex));
    }
    std::unique_ptr<scheduled_call> call_at(executor ex, time_point t, std::function<void()> fn) override {
        return std::make_unique<system_call>(ex, t, std::move(fn));
    }
};

} // namespace

time_source& system_time() noexcept {
    static system_time_source instance;
    return instance;
}

struct manual_time::sleeper {
    explicit sleeper(executor ex) : queue(std::move(ex)) {}
    detail::wait_queue queue;
    std::function<void()> call; ///< a scheduled call's function (run, not notified, when due)
    std::multimap<time_point, sleeper*>::iterator pos{};
    bool queued = true; ///< still in sleepers_ (false once woken, or when the source is gone)
};

manual_time::manual_time(wall_time wall_start)
    : start_(time_point{} + std::chrono::hours(1)), now_(start_), wall_start_(wall_start) {}

manual_time::~manual_time() {
    // Sleepers that outlive the source end with operation_aborted and must not touch it again.
    for (auto& [when, s] : sleepers_) {
        s->queued = false;
        s->queue.notify_all(asio::error::operation_aborted);
    }
}

wall_time manual_time::wall() const noexcept {
    return wall_start_ + std::chrono::duration_cast<std::chrono::milliseconds>(now_ - start_);
}

awaitable<void> manual_time::sleep_until(time_point t) {
    // Awaited into a named value: g++ 12 miscompiles a co_await inside an if condition here.
    const bool came = co_await wait_until(t);
    if (!came) {
        throw boost::system::system_error(asio::error::operation_aborted);
    }
}

awaitable<bool> manual_time::wait_until(time_point t) {
    if (t <= now_) {
        co_return true;
    }
    sleeper s(co_await asio::this_coro::executor);
    s.pos = sleepers_.emplace(t, &s);
    // A cancelled sleep leaves the schedule; a woken one has been taken off it already.
    struct leave_schedule {
        manual_time& time;
        sleeper& s;
        ~leave_schedule() {
            if (s.queued) {
                time.sleepers_.erase(s.pos);
            }
        }
    } guard{*this, s};
    const auto [ec] = co_await s.queue.async_wait(asio::as_tuple(use_awaitable));
    co_return !ec;
}

/// A sleeper on the virtual schedule (woken by advance_to like any other) that ring() takes off
/// the schedule and wakes with an error code.
class manual_time::manual_alarm final : public alarm {
public:
    manual_alarm(manual_time& time, executor ex) : time_(time), ex_(std::move(ex)) {}

    awaitable<bool> wait_until(time_point t) override {
        if (t <= time_.now_) {
            co_return true;
        }
        rung_ = false;
        sleeper s(ex_);
        if (t != time_point::max()) {
            s.pos = time_.sleepers_.emplace(t, &s);
        } else {
            s.queued = false; // on no schedule: only a ring ends it
        }
        current_ = &s;
        struct leave_schedule {
            manual_alarm& a;
            sleeper& s;
            ~leave_schedule() {
                if (s.queued) {
                    a.time_.sleepers_.erase(s.pos);
                }
                a.current_ = nullptr;
            }
        } guard{*this, s};
        const auto [ec] = co_await s.queue.async_wait(asio::as_tuple(use_awaitable));
        if (!ec) {
            co_return true;
        }
        if (ec == asio::error::operation_aborted && rung_) {
            co_return false;
        }
        throw boost::system::system_error(ec); // cancelled, or the time source is gone
    }

    void ring() override {
        rung_ = true;
        if (current_ == nullptr) {
            return;
        }
        if (current_->queued) {
            time_.sleepers_.erase(current_->pos);
            current_->queued = false;
        }
        current_->queue.notify_one(asio::error::operation_aborted);
    }

private:
    manual_time& time_;
    executor ex_;
    sleeper* current_ = nullptr;
    bool rung_ = false;
};

std::unique_ptr<alarm> manual_time::make_alarm(executor ex) {
    return std::make_unique<manual_alarm>(*this, std::move(ex));
}

/// An entry in the virtual schedule whose function advance_to() runs at its instant; destroying it
/// takes it off the schedule.
class manual_time::manual_call final : public scheduled_call {
public:
    manual_call(manual_time& time, executor ex, time_point t, std::function<void()> fn)
        : time_(time), s_(std::move(ex)) {
        s_.call = std::move(fn);
        s_.pos = time_.sleepers_.emplace(t, &s_);
    }
    manual_call(const manual_call&) = delete;
    manual_call& operator=(const manual_call&) = delete;
    ~manual_call() override {
        if (s_.queued) {
            time_.sleepers_.erase(s_.pos);
        }
    }

private:
    manual_time& time_;
    sleeper s_;
};

std::unique_ptr<scheduled_call> manual_time::call_at(executor ex, time_point t, std::function<void()> fn) {
    // A time already past waits for the next advance_to(), which runs it at the current instant.
    return std::make_unique<manual_call>(*this, std::move(ex), std::max(t, now_), std::move(fn));
}

void manual_time::advance_to(time_point t, const std::function<void()>& settle) {
    if (settle) {
        settle(); // what is ready now runs before time moves
    }
    while (!sleepers_.empty() && sleepers_.begin()->first <= t) {
        const auto it = sleepers_.begin();
        now_ = std::max(now_, it->first);
        sleeper* s = it->second;
        sleepers_.erase(it);
        s->queued = false;
        if (s->call) {
            // Moved out first: the function may destroy its own registration.
            const auto fn = std::move(s->call);
            fn();
        } else {
            s->queue.notify_one();
        }
        if (settle) {
            settle();
        }
    }
    now_ = std::max(now_, t);
}

std::optional<time_point> manual_time::next_wake() const noexcept {
    if (sleepers_.empty()) {
        return std::nullopt;
    }
    return sleepers_.begin()->first;
}

awaitable<void> with_deadline(awaitable<void> op, time_point deadline, time_source& time) {
    return detail::race_deadline_void(std::move(op), deadline, time, true);
}

} // namespace companion::engine
