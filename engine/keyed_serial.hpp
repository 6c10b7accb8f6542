// Keyed serial execution (design.md §3): work items with the same key (a chat id) run one after
// another in submission order; different keys run concurrently. Each key's queue is bounded and
// so is the total, so a flood is refused with errc::queue_full instead of growing memory; a key's
// state is freed as soon as its queue drains, so idle chats cost nothing. `push` is the
// back-pressured form of `submit`: it waits for room instead of refusing, so a producer (the
// update intake) slows to the pace of the consumers without holding anything on the side.
//
// Two forms: keyed_queue<Key, Item> queues data and hands each item to its `run` function when the
// item's turn comes, so a queued item costs its own size (the bot's intake queues an inbox row of
// a few hundred bytes, where a coroutine created up front would hold a frame of several kilobytes
// from submission on); keyed_serial<Key> queues ready-made coroutines (awaitable<void>).
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

struct keyed_queue_config {
    std::size_t per_key_limit = 64;    ///< queued items (running one excluded) per key
    std::size_t total_limit = 100'000; ///< queued items over all keys
    std::string name = "keyed_serial";
};

template <class Key, class Item, class Hash = std::hash<Key>>
class keyed_queue {
public:
    using config = keyed_queue_config;
    /// Carries out one item; called when the item's turn comes, never earlier.
    using runner = std::function<awaitable<void>(Item)>;

    keyed_queue(executor ex, config cfg, runner run)
        : state_(std::make_shared<state>(ex, cfg, std::move(run))),
          workers_(std::move(ex), task_group::config{.name = cfg.name}) {}
    keyed_queue(const keyed_queue&) = delete;
    keyed_queue& operator=(const keyed_queue&) = delete;

    /// Queues `item` behind the earlier items of `key`. Errors: errc::queue_full when a bound is
    /// reached, errc::shutting_down after cancel()/shutdown(). The item is destroyed without
    /// running on error.
    boost::system::error_code submit(const Key& key, Item item) { return offer(key, item); }

    /// As submit(), but `item` is moved from only when it is accepted: on an error it is left
    /// as it was, for the caller to push() or keep.
    boost::system::error_code offer(const Key& key, Item& item) { return try_submit(key, item); }

    /// Queues `item` behind the earlier items of `key`, waiting while a bound is reached (in FIFO
    /// order with other waiting producers, each re-checking when an item leaves a queue).
    /// Returns errc::shutting_down after cancel()/shutdown(); throws system_error
    /// (operation_aborted) when the producer is cancelled while waiting (`item` is dropped).
    awaitable<boost::system::error_code> push(Key key, Item item) {
        for (;;) {
            const auto ec = try_submit(key, item);
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
    boost::system::error_code try_submit(const Key& key, Item& work) {
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
        state(executor ex, config c, runner r) : cfg(std::move(c)), run(std::move(r)), room(std::move(ex)) {}
        config cfg;
        runner run;
        detail::wait_queue room; ///< producers waiting in push() for a queue to have room
        std::unordered_map<Key, std::deque<Item>, Hash> keys;
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
            Item item = std::move(it->second.front());
            it->second.pop_front();
            --st->queued;
            st->room.notify_all();
            std::exception_ptr error;
            try {
                co_await st->run(std::move(item));
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

/// Keyed serial execution of ready-made coroutines: each queued item is its coroutine, created
/// (and holding its frame) from submission on. Where items are many and their work is uniform,
/// keyed_queue with data items costs less.
template <class Key, class Hash = std::hash<Key>>
class keyed_serial : public keyed_queue<Key, awaitable<void>, Hash> {
public:
    using config = keyed_queue_config;

    keyed_serial(executor ex, config cfg)
        : keyed_queue<Key, awaitable<void>, Hash>(std::move(ex), std::move(cfg), [](awaitable<void> work) {
              return work;
          }) {}
    explicit keyed_serial(executor ex) : keyed_serial(std::move(ex), config{}) {}
};

} // namespace companion::engine
