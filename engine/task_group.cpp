// Children are kept in an intrusive list, each with its own cancellation signal bound to its
// co_spawn completion handler; the shared state outlives the group object while children run.
#include "engine/task_group.hpp"

#include "engine/error.hpp"
#include "engine/log.hpp"
#include "engine/time.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/execution/context.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/query.hpp>
#include <boost/system/system_error.hpp>

#include <atomic>
#include <exception>
#include <string>

namespace companion::engine {
namespace {

std::atomic<std::size_t> live_everywhere{0};

// Children accept total cancellation, so cancel() aborts their pending operations.
awaitable<void> run_child(awaitable<void> body) {
    co_await asio::this_coro::reset_cancellation_state(asio::enable_total_cancellation());
    co_await std::move(body);
}

} // namespace

struct task_group::state {
    struct child {
        child* prev = nullptr;
        child* next = nullptr;
        asio::cancellation_signal signal;
    };

    state(executor e, config c) : ex(std::move(e)), cfg(std::move(c)), joiners(ex) {}

    void link(child* c) noexcept {
        c->next = head;
        if (head != nullptr) {
            head->prev = c;
        }
        head = c;
        ++live;
        live_everywhere.fetch_add(1, std::memory_order_relaxed);
    }

    void unlink(child* c) noexcept {
        if (c->prev != nullptr) {
            c->prev->next = c->next;
        } else {
            head = c->next;
        }
        if (c->next != nullptr) {
            c->next->prev = c->prev;
        }
        --live;
        live_everywhere.fetch_sub(1, std::memory_order_relaxed);
    }

    void emit(asio::cancellation_type type) {
        // A child's handler may finish synchronously only through a post, so the list is stable
        // while we walk it.
        for (child* c = head; c != nullptr; c = c->next) {
            c->signal.emit(type);
        }
    }

    void on_done(child* c, std::exception_ptr e) {
        unlink(c);
        delete c;
        if (e) {
            const bool cancelled_child = cancelled && is_cancellation(e);
            if (!cancelled_child) {
                ++failed;
                if (!first_error) {
                    first_error = e;
                }
                log().error("task.failed", {{"group", cfg.name}, {"error", describe(e)}});
                if (cfg.on_error) {
                    cfg.on_error(e);
                }
                if (cfg.policy == on_child_error::fail_group && !cancelled) {
                    cancelled = true;
                    emit(asio::cancellation_type::terminal);
                }
            }
        }
        if (live == 0) {
            joiners.notify_all();
        }
    }

    executor ex;
    config cfg;
    detail::wait_queue joiners;
    child* head = nullptr;
    std::size_t live = 0;
    std::size_t total = 0;
    std::size_t failed = 0;
    std::exception_ptr first_error;
    bool cancelled = false;
};

// The rest of a shutdown, after total cancellation: `grace` for the children to unwind, then
// terminal cancellation, then the wait for the last of them. Runs shielded: nothing cuts it short.
awaitable<void> task_group::drain(std::shared_ptr<state> s, time_point deadline, time_source& time) {
    auto ex = co_await asio::this_coro::executor;
    while (s->live != 0) {
        // A notification or the loop's end alike: the loop condition decides.
        [[maybe_unused]] auto [order, join_ec, timer_error, expired] =
            co_await asio::experimental::make_parallel_group(
                s->joiners.async_wait(asio::deferred),
                asio::co_spawn(ex, detail::expire_at(time, deadline), asio::deferred))
                .async_wait(asio::experimental::wait_for_one(), use_awaitable);
        if (order[0] == 1 && !timer_error && expired) {
            break; // the grace period is over
        }
    }
    if (s->live != 0) {
        log().warn("task_group.grace_expired", {{"group", s->cfg.name}, {"children", s->live}});
        s->emit(asio::cancellation_type::terminal);
        while (s->live != 0) {
            co_await s->joiners.async_wait(use_awaitable);
        }
    }
}

task_group::task_group(executor ex) : task_group(std::move(ex), config{}) {}

task_group::task_group(executor ex, config cfg)
    : state_(std::make_shared<state>(std::move(ex), std::move(cfg))) {}

task_group::~task_group() {
    auto& st = *state_;
    if (st.live == 0) {
        return;
    }
    log().error("task_group.destroyed_with_children", {{"group", st.cfg.name}, {"children", st.live}});
    // Outside the loop (a test's end, after run() returned) the children can still be ended
    // here: terminal cancellation, then the loop's ready work until the last one is gone.
    const auto* loop = st.ex.target<asio::io_context::executor_type>();
    if (loop != nullptr && !loop->running_in_this_thread()) {
        asio::io_context& ioc = asio::query(*loop, asio::execution::context);
        st.cancelled = true;
        st.emit(asio::cancellation_type::terminal);
        while (st.live != 0) {
            ioc.restart();
            if (ioc.poll() == 0) {
                break; // nothing left that could end them
            }
        }
        if (st.live == 0) {
            return;
        }
    }
    // On the loop (an owner that went away without joining) or with children that nothing can
    // end: one of them would resume into whatever the owner destroys next. Stop here, loudly,
    // rather than let it use freed memory later and far away.
    log().error("task_group.children_outlive_group", {{"group", st.cfg.name}, {"children", st.live}});
    std::terminate();
}

bool task_group::spawn(awaitable<void> child) {
    auto& st = *state_;
    if (st.cancelled) {
        return false;
    }
    auto* c = new state::child{};
    st.link(c);
    ++st.total;
    asio::co_spawn(st.ex,
                   run_child(std::move(child)),
                   asio::bind_cancellation_slot(c->signal.slot(),
                                                [s = state_, c](std::exception_ptr e) { s->on_done(c, e); }));
    return true;
}

awaitable<void> task_group::join() {
    auto s = state_;
    while (s->live != 0) {
        co_await s->joiners.async_wait(use_awaitable);
    }
    if (s->cfg.policy == on_child_error::fail_group && s->first_error) {
        std::rethrow_exception(s->first_error);
    }
}

void task_group::cancel(asio::cancellation_type type) {
    state_->cancelled = true;
    state_->emit(type);
}

awaitable<void> task_group::shutdown(duration grace, time_source& time) {
    cancel(asio::cancellation_type::total);
    if (state_->live != 0) {
        co_await shielded(drain(state_, time.now() + grace, time));
    }
}

std::size_t task_group::live_tasks() noexcept {
    return live_everywhere.load(std::memory_order_relaxed);
}

std::size_t task_group::size() const noexcept {
    return state_->live;
}

std::size_t task_group::spawned() const noexcept {
    return state_->total;
}

std::size_t task_group::failures() const noexcept {
    return state_->failed;
}

std::exception_ptr task_group::first_error() const noexcept {
    return state_->first_error;
}

bool task_group::cancelled() const noexcept {
    return state_->cancelled;
}

const std::string& task_group::name() const noexcept {
    return state_->cfg.name;
}

const executor& task_group::get_executor() const noexcept {
    return state_->ex;
}

} // namespace companion::engine
