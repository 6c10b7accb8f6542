// Rate limiting: token buckets with a sans-I/O core (takes `now`, returns the wait) and thin
// coroutine wrappers that sleep for that wait on the engine clock.
//
// Reservations are first come, first served: a token taken while the bucket is empty puts it in
// debt, and the caller waits until the debt is repaid. A "pause until T" (fed by a 429's
// retry_after) holds back one key or everything. A cancelled waiter gives its token back.
#pragma once

#include "engine/asio.hpp"
#include "engine/clock.hpp"
#include "engine/time.hpp"
#include "engine/time_source.hpp"

#include <boost/asio/error.hpp>
#include <boost/system/system_error.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <exception>
#include <functional>
#include <unordered_map>

namespace companion::engine {

struct token_bucket_config {
    double rate_per_second = 1.0; ///< refill rate
    double burst = 1.0;           ///< bucket size: tokens available after an idle period
};

/// Sans-I/O token bucket.
class token_bucket {
public:
    token_bucket(token_bucket_config cfg, time_point now) : cfg_(cfg), tokens_(cfg.burst), last_(now) {}

    /// Takes `n` tokens and returns how long the caller must wait before using them (zero when
    /// they were available). Always succeeds: the bucket goes into debt instead.
    duration reserve(time_point now, double n = 1.0) {
        refill(now);
        tokens_ -= n;
        if (tokens_ >= 0.0) {
            return duration::zero();
        }
        return seconds_to_duration(-tokens_ / cfg_.rate_per_second);
    }

    /// Takes `n` tokens only if available now.
    bool try_take(time_point now, double n = 1.0) {
        refill(now);
        if (tokens_ < n) {
            return false;
        }
        tokens_ -= n;
        return true;
    }

    /// Gives back tokens of a reservation that was not used.
    void refund(double n = 1.0) { tokens_ = std::min(cfg_.burst, tokens_ + n); }

    double available(time_point now) {
        refill(now);
        return tokens_;
    }

    /// True when the bucket is full again at `now` (its state carries no information).
    bool idle(time_point now) {
        refill(now);
        return tokens_ >= cfg_.burst;
    }

    const token_bucket_config& config() const noexcept { return cfg_; }

private:
    static duration seconds_to_duration(double s) {
        return std::chrono::duration_cast<duration>(std::chrono::duration<double>(s));
    }

    void refill(time_point now) {
        if (now > last_) {
            const double elapsed = std::chrono::duration<double>(now - last_).count();
            tokens_ = std::min(cfg_.burst, tokens_ + elapsed * cfg_.rate_per_second);
            last_ = now;
        }
    }

    token_bucket_config cfg_;
    double tokens_;
    time_point last_;
};

/// Sans-I/O limiter keyed by K (a chat id) under an optional global bucket, with pauses per key
/// and for everything. Idle keys are pruned, so memory follows the active keys only.
template <class Key, class Hash = std::hash<Key>>
class keyed_token_bucket {
public:
    struct config {
        token_bucket_config per_key{1.0, 1.0};
        token_bucket_config global{30.0, 30.0};
        bool use_global = true;
        std::size_t prune_threshold = 4096; ///< prune idle keys when the map grows past this
    };

    keyed_token_bucket(config cfg, time_point now) : cfg_(cfg), global_(cfg.global, now) {}

    /// Reserves a token for `key` (and one of the global bucket) and returns the wait, which also
    /// covers any pause in force for the key or for everything.
    duration reserve(const Key& key, time_point now) {
        maybe_prune(now);
        auto& st = state_for(key, now);
        duration wait = st.bucket.reserve(now);
        if (cfg_.use_global) {
            wait = std::max(wait, global_.reserve(now));
        }
        return std::max(wait, pause_remaining(key, now));
    }

    /// Takes one global token if one is free at `now` and no pause holds `key` back, without
    /// waiting and without the key's own bucket: for a send worth nothing late (a streamed
    /// reply's draft), which yields to every send already waiting for a token.
    bool try_take_global(const Key& key, time_point now) {
        if (pause_remaining(key, now) > duration::zero()) {
            return false;
        }
        return !cfg_.use_global || global_.try_take(now);
    }

    /// True when nothing holds `key` back and the global bucket has at least `tokens` free at
    /// `now`: the bot has capacity to spare for a send nobody is waiting for. Takes nothing.
    bool spare(const Key& key, time_point now, double tokens) {
        if (pause_remaining(key, now) > duration::zero()) {
            return false;
        }
        return !cfg_.use_global || global_.available(now) >= tokens;
    }

    /// How long the pause in force for `key` (or for everything) lasts from `now`.
    duration pause_remaining(const Key& key, time_point now) const {
        time_point until = global_pause_;
        if (auto it = keys_.find(key); it != keys_.end()) {
            until = std::max(until, it->second.paused_until);
        }
        return until > now ? until - now : duration::zero();
    }

    void pause(const Key& key, time_point until, time_point now) {
        auto& st = state_for(key, now);
        st.paused_until = std::max(st.paused_until, until);
    }

    void pause_all(time_point until) { global_pause_ = std::max(global_pause_, until); }

    /// Returns the tokens of a reservation that was not used.
    void refund(const Key& key) {
        if (auto it = keys_.find(key); it != keys_.end()) {
            it->second.bucket.refund();
        }
        if (cfg_.use_global) {
            global_.refund();
        }
    }

    std::size_t keys() const noexcept { return keys_.size(); }

    /// Drops keys whose bucket is full and which are not paused.
    void prune(time_point now) {
        for (auto it = keys_.begin(); it != keys_.end();) {
            if (it->second.paused_until <= now && it->second.bucket.idle(now)) {
                it = keys_.erase(it);
            } else {
                ++it;
            }
        }
    }

private:
    struct key_state {
        token_bucket bucket;
        time_point paused_until{};
    };

    key_state& state_for(const Key& key, time_point now) {
        auto it = keys_.find(key);
        if (it == keys_.end()) {
            it = keys_.emplace(key, key_state{token_bucket(cfg_.per_key, now), time_point{}}).first;
        }
        return it->second;
    }

    void maybe_prune(time_point now) {
        if (keys_.size() >= next_prune_at_) {
            prune(now);
            next_prune_at_ = std::max(cfg_.prune_threshold, keys_.size() * 2);
        }
    }

    config cfg_;
    token_bucket global_;
    std::unordered_map<Key, key_state, Hash> keys_;
    time_point global_pause_{};
    std::size_t next_prune_at_ = cfg_.prune_threshold;
};

namespace detail {

/// Sleeps `wait` on `time`; when cancelled, runs `give_back` (the reservation is returned) and
/// throws system_error(operation_aborted).
template <class GiveBack>
awaitable<void> wait_or_give_back(time_source& time, duration wait, GiveBack give_back) {
    bool ok = false;
    try {
        co_await time.sleep(wait);
        ok = true;
    } catch (...) {
    }
    if (!ok) {
        give_back();
        throw boost::system::system_error(asio::error::operation_aborted);
    }
}

} // namespace detail

/// Awaitable wrapper of token_bucket; waits on `time`.
class rate_limiter {
public:
    explicit rate_limiter(token_bucket_config cfg, time_source& time = system_time())
        : time_(time), bucket_(cfg, time.now()) {}

    /// Resumes when a token is available. Throws system_error(operation_aborted) when cancelled,
    /// giving the token back.
    awaitable<void> acquire() {
        const duration wait = bucket_.reserve(time_.now());
        if (wait > duration::zero()) {
            // g++ 12 destroys a closure passed as a prvalue to a coroutine twice: pass a named one.
            auto give_back = [this] { bucket_.refund(); };
            co_await detail::wait_or_give_back(time_, wait, std::move(give_back));
        }
    }

    bool try_acquire() { return bucket_.try_take(time_.now()); }

private:
    time_source& time_;
    token_bucket bucket_;
};

/// Awaitable wrapper of keyed_token_bucket (outbound Telegram pacing: per chat and global);
/// waits on `time`.
template <class Key, class Hash = std::hash<Key>>
class keyed_rate_limiter {
public:
    using config = typename keyed_token_bucket<Key, Hash>::config;

    explicit keyed_rate_limiter(config cfg, time_source& time = system_time())
        : time_(time), buckets_(cfg, time.now()) {}

    /// Resumes when `key` may send: its token and a global one are available and no pause
    /// covers it. A pause that starts while waiting is honoured too. Throws
    /// system_error(operation_aborted) when cancelled, giving the tokens back.
    awaitable<void> acquire(Key key) {
        duration wait = buckets_.reserve(key, time_.now());
        for (;;) {
            if (wait <= duration::zero()) {
                co_return;
            }
            auto give_back = [this, &key] { buckets_.refund(key); };
            co_await detail::wait_or_give_back(time_, wait, std::move(give_back));
            wait = buckets_.pause_remaining(key, time_.now());
        }
    }

    /// Holds `key` back for `d` (a 429 naming this chat).
    void pause(const Key& key, duration d) {
        const auto now = time_.now();
        buckets_.pause(key, now + d, now);
    }

    /// Holds everything back for `d` (a global flood).
    void pause_all(duration d) { buckets_.pause_all(time_.now() + d); }

    duration pause_remaining(const Key& key) const { return buckets_.pause_remaining(key, time_.now()); }
    /// See keyed_token_bucket::try_take_global.
    bool try_acquire_global(const Key& key) { return buckets_.try_take_global(key, time_.now()); }
    /// See keyed_token_bucket::spare.
    bool spare(const Key& key, double tokens) { return buckets_.spare(key, time_.now(), tokens); }
    std::size_t keys() const noexcept { return buckets_.keys(); }

private:
    time_source& time_;
    keyed_token_bucket<Key, Hash> buckets_;
};

} // namespace companion::engine
