// Keyed serial execution (design.md §3): work items with the same key (a chat id) run one after
// another in submission order; different keys run concurrently. Each key's queue is bounded and
// so is the total, so a flood is refused with errc::queue_full instead of growing memory; a key's
// state is freed as soon as its queue drains, so idle chats cost nothing. `push` is the
// back-pressured form of `submit`: it waits for room instead of refusing, so a producer (the
// update intake) slows to the pace of the consumers without holding anything on the side.
//
// The queue owns its workers (a task_group of its own); its owner joins, cancels or shuts it
// down. An item's exception is logged and contained: the key's later items still run. When a
// worker is cancelled (shutdown), the items still queued for its key are dropped and counted.
#pragma once

#include "engine/asio.hpp"
#include "engine/detail/wait_queue.hpp"
#include "engine/error.hpp"
#include "engine/log.hpp"
#include "engine/task_group.hpp"
#include "engine/time_source.hpp"

#include <boost/system/error_code.hpp>
#include <boost/system/system_error.hpp>

#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>

namespace companion::engine {

template <class Key, class Hash = std::hash<Key>>
class keyed_serial {
public:
    struct config {
        std::size_t per_key_limit = 64;    ///< queued items (running one excluded) per key
        std::size_t total_limit = 100'000; ///< queued items over all keys
        std::string name = "keyed_serial";
    };

    keyed_serial(executor ex, config cfg)
        : state_(std::make_shared<state>(ex, cfg)),
          workers_(std::move(ex), task_group::config{.name = cfg.name}) {}
    explicit keyed_serial(executor ex) : keyed_serial(std::move(ex), config{}) {}
    keyed_serial(const keyed_serial&) = delete;
    keyed_serial& operator=(const keyed_serial&) = delete;

    /// Queues `work` behind the earlier work of `key`. Errors: errc::queue_full when a bound is
    /// reached, errc::shutting_down after cancel()/shutdown(). The item is destroyed without
    /// running on error.
    boost::system::error_code submit(const Key& key, awaitable<void> work) { return try_submit(key, work); }

    /// Queues `work` behind the earlier work of `key`, waiting while a bound is reached (in FIFO
    /// order with other waiting producers, each re-checking when an item leaves a queue).
    /// Returns errc::shutting_down after cancel()/shutdown(); throws system_error
    /// (operation_aborted) when the producer is cancelled while waiting (`work` is dropped).
    awaitable<boost::system::error_code> push(Key key, awaitable<void> work) {
        for (;;) {
            const auto ec = try_submit(key, work);
            if (ec != make_error_code(errc::queue_full)) {
                co_return ec;
            }
            co_await state_->room.async_wait(use_awaitable);
        }
    }

    /// Waits until every queue has drained.
    awaitable<void> join() { return workers_.join(); }
    /// Cancels the running items; queued items are dropped; later submits are refused.
    void cancel(asio::cancellation_type type = asio::cancellation_type::total) { workers_.cancel(type); }
    /// Graceful stop of the workers (see task_group::shutdown); the grace period runs on `time`.
    awaitable<void> shutdown(duration grace, time_source& time = system_time()) {
        return workers_.shutdown(grace, time);
    }

    /// Keys with queued or running work.
    std::size_t active_keys() const noexcept { return state_->keys.size(); }
    /// Items waiting to run (the running ones excluded).
    std::size_t queued() const noexcept { return state_->queued; }
    std::size_t dropped() const noexcept { return state_->dropped; }
    std::size_t failed() const noexcept { return state_->failed; }

private:
    // Moves from `work` only when it is accepted, so push() can try again with the same item.
    boost::system::error_code try_submit(const Key& key, awaitable<void>& work) {
        auto& st = *state_;
        if (workers_.cancelled()) {
            return make_error_code(errc::shutting_down);
        }
        auto it = st.keys.find(key);
        if (it != st.keys.end()) {
            if (it->second.size() >= st.cfg.per_key_limit || st.queued >= st.cfg.total_limit) {
                return make_error_code(errc::queue_full);
            }
            it->second.push_back(std::move(work));
            ++st.queued;
            return {};
        }
        if (st.queued >= st.cfg.total_limit) {
            return make_error_code(errc::queue_full);
        }
        auto pos = st.keys.try_emplace(key).first;
        pos->second.push_back(std::move(work));
        ++st.queued;
        if (!workers_.spawn(drain(state_, key))) {
            st.queued -= pos->second.size();
            st.keys.erase(pos);
            return make_error_code(errc::shutting_down);
        }
        return {};
    }

    // Shared with the workers, so it stays valid while they unwind even if the keyed_serial
    // object is destroyed first.
    struct state {
        state(executor ex, config c) : cfg(std::move(c)), room(std::move(ex)) {}
        config cfg;
        detail::wait_queue room; ///< producers waiting in push() for a queue to have room
        std::unordered_map<Key, std::deque<awaitable<void>>, Hash> keys;
        std::size_t queued = 0;
        std::size_t dropped = 0;
        std::size_t failed = 0;
    };

    static awaitable<void> drain(std::shared_ptr<state> st, Key key) {
        for (;;) {
            auto it = st->keys.find(key);
            if (it->second.empty()) {
                st->keys.erase(it);
                co_return;
            }
            awaitable<void> item = std::move(it->second.front());
            it->second.pop_front();
            --st->queued;
            st->room.notify_all();
            std::exception_ptr error;
            try {
                co_await std::move(item);
            } catch (...) {
                error = std::current_exception();
            }
            if (error) {
                auto cs = co_await asio::this_coro::cancellation_state;
                if (cs.cancelled() != asio::cancellation_type::none) {
                    drop_rest(*st, key);
                    std::rethrow_exception(error);
                }
                ++st->failed;
                log_failure(st->cfg.name, error);
            }
        }
    }

    static void drop_rest(state& st, const Key& key) {
        auto it = st.keys.find(key);
        if (it == st.keys.end()) {
            return;
        }
        const auto n = it->second.size();
        st.queued -= n;
        st.dropped += n;
        st.keys.erase(it);
        st.room.notify_all();
    }

    static void log_failure(const std::string& name, const std::exception_ptr& e) {
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& ex) {
            log().error("keyed_serial.item_failed", {{"queue", name}, {"error", ex.what()}});
        } catch (...) {
            log().error("keyed_serial.item_failed", {{"queue", name}, {"error", "non-standard exception"}});
        }
    }

    std::shared_ptr<state> state_;
    task_group workers_;
};

} // namespace companion::engine
