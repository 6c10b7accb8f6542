// The real time source and the virtual one.
#include "engine/time_source.hpp"

#include "engine/detail/wait_queue.hpp"
#include "engine/error.hpp"
#include "engine/time.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/experimental/parallel_group.hpp>

#include <algorithm>

namespace companion::engine {

namespace {

class system_time_source final : public time_source {
public:
    time_point now() const noexcept override { return clock::now(); }
    wall_time wall() const noexcept override {
        return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
    }
    awaitable<void> sleep_until(time_point t) override { return engine::sleep_until(t); }
};

} // namespace

time_source& system_time() noexcept {
    static system_time_source instance;
    return instance;
}

struct manual_time::sleeper {
    explicit sleeper(executor ex) : queue(std::move(ex)) {}
    detail::wait_queue queue;
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
    if (t <= now_) {
        co_return;
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
    co_await s.queue.async_wait(use_awaitable);
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
        s->queue.notify_one();
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
    auto ex = co_await asio::this_coro::executor;
    auto [order, op_error, timer_error] =
        co_await asio::experimental::make_parallel_group(
            asio::co_spawn(ex, detail::accepting_total(std::move(op)), asio::deferred),
            asio::co_spawn(ex, detail::expire_at(time, deadline), asio::deferred))
            .async_wait(asio::experimental::wait_for_one(), use_awaitable);
    if (order[0] == 1 && !timer_error) {
        throw_error(errc::timeout, "deadline exceeded");
    }
    if (op_error) {
        std::rethrow_exception(op_error);
    }
}

} // namespace companion::engine
