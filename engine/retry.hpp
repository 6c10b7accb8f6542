// Retry with exponential back-off and full jitter, honouring a delay the server names (429
// retry_after, Retry-After, RetryInfo). The schedule is sans-I/O; `retry()` is the coroutine loop.
// A wait the server asked for and that was honoured is not a failed attempt: a chat told to wait
// by three 429s in a row still has all its attempts for real faults.
//
// The operation reports its outcome as a value R; a classifier maps R to done / retry (with an
// optional server delay) / fail. Exceptions are not retried: a broken invariant is not
// transient, and cancellation must stop the loop.
#pragma once

#include "engine/asio.hpp"
#include "engine/clock.hpp"
#include "engine/random.hpp"
#include "engine/time.hpp"
#include "engine/time_source.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <type_traits>
#include <utility>

namespace companion::engine {

struct retry_policy {
    int max_attempts = 4; ///< attempts in all, the first included
    duration base_delay =
        std::chrono::milliseconds(250);            ///< back-off before the second attempt (before jitter)
    duration max_delay = std::chrono::seconds(30); ///< cap of the exponential back-off
    duration max_server_delay = std::chrono::minutes(10); ///< a server asking for longer ends the retries
    int max_server_waits = 16; ///< server delays honoured in a row before giving up
    bool jitter = true;        ///< full jitter: uniform in [0, back-off]
};

enum class retry_action { done, retry, fail };

struct retry_verdict {
    retry_action action = retry_action::done;
    std::optional<duration> server_delay{};

    static retry_verdict done() { return {retry_action::done, std::nullopt}; }
    static retry_verdict fail() { return {retry_action::fail, std::nullopt}; }
    static retry_verdict again(std::optional<duration> server_delay = std::nullopt) {
        return {retry_action::retry, server_delay};
    }
};

/// Sans-I/O: the delay before each next attempt.
class retry_schedule {
public:
    explicit retry_schedule(retry_policy policy, std::uint64_t seed = 0x9E3779B97F4A7C15ULL)
        : policy_(policy), own_(seed) {}
    /// Jitter drawn from `random`, which must outlive the schedule.
    retry_schedule(retry_policy policy, random_source& random) : policy_(policy), external_(&random) {}

    /// After attempt number `attempt` (1-based) failed retryably: the delay before the next one,
    /// or nullopt when no attempt is left or the server's delay exceeds the policy's limit. A
    /// server delay is honoured exactly (never shortened by jitter).
    std::optional<duration> next_delay(int attempt, std::optional<duration> server_delay = std::nullopt) {
        if (attempt >= policy_.max_attempts) {
            return std::nullopt;
        }
        if (server_delay) {
            if (*server_delay > policy_.max_server_delay) {
                return std::nullopt;
            }
            return std::max(*server_delay, duration::zero());
        }
        return backoff(attempt);
    }

    /// The back-off after attempt `attempt` without a server delay.
    duration backoff(int attempt) {
        const int shift = std::clamp(attempt - 1, 0, 30);
        const auto base = policy_.base_delay.count();
        const auto cap = policy_.max_delay.count();
        auto ceiling = base > (cap >> shift) ? cap : (base << shift);
        ceiling = std::min(ceiling, cap);
        if (!policy_.jitter || ceiling <= 0) {
            return duration(ceiling);
        }
        return duration(static_cast<duration::rep>((external_ != nullptr ? *external_ : own_).next() %
                                                   (static_cast<std::uint64_t>(ceiling) + 1)));
    }

    const retry_policy& policy() const noexcept { return policy_; }

private:
    retry_policy policy_;
    xorshift_random own_{};
    random_source* external_ = nullptr;
};

/// Runs `op()` (returning awaitable<R>) until `classify(const R&)` says done or fail, or the
/// schedule gives up; returns the last R. Sleeps between attempts on `time`. An honoured server
/// delay does not use up an attempt (at most `policy.max_server_waits` in a row are honoured, so
/// a server that always says "later" still ends the loop).
template <class Op, class Classify>
auto retry(retry_policy policy, Op op, Classify classify, time_source& time, std::uint64_t seed = 0)
    -> awaitable<typename std::invoke_result_t<Op&>::value_type> {
    using result_t = typename std::invoke_result_t<Op&>::value_type;
    retry_schedule schedule(policy,
                            seed != 0 ? seed
                                      : static_cast<std::uint64_t>(time.now().time_since_epoch().count()));
    int failures = 0;
    int server_waits = 0;
    for (;;) {
        result_t r = co_await op();
        const retry_verdict v = classify(std::as_const(r));
        if (v.action != retry_action::retry) {
            co_return r;
        }
        std::optional<duration> delay;
        if (v.server_delay) {
            // Asked for by the server: honoured without counting, within the policy's limit.
            if (++server_waits > policy.max_server_waits || *v.server_delay > policy.max_server_delay) {
                co_return r;
            }
            delay = std::max(*v.server_delay, duration::zero());
        } else {
            server_waits = 0;
            delay = schedule.next_delay(++failures);
        }
        if (!delay) {
            co_return r;
        }
        co_await time.sleep(*delay);
    }
}

template <class Op, class Classify>
auto retry(retry_policy policy, Op op, Classify classify, std::uint64_t seed = 0)
    -> awaitable<typename std::invoke_result_t<Op&>::value_type> {
    return retry(policy, std::move(op), std::move(classify), system_time(), seed);
}

} // namespace companion::engine
