// Per-user abuse limits, sans-I/O: chat turns (each an LLM call), selfies (each an image) and
// actions (commands, keyboard labels, button presses) are token buckets per user; a refused
// request gets at most one "a little slower" notice per `notice_every`, so a flood of requests
// does not become a flood of replies.
#pragma once

#include "engine/clock.hpp"
#include "engine/rate_limit.hpp"

#include <chrono>
#include <cstdint>
#include <ostream>

namespace companion::pipelines {

struct limits_config {
    int chat_turns_per_minute = 20; ///< burst: a quarter of it
    int selfies_per_minute = 3;     ///< on top of the daily quota; burst: all of it
    int actions_per_minute = 60;    ///< burst: a quarter of it
    engine::duration notice_every = std::chrono::seconds(20);
};

enum class limit { chat_turn, selfie, action };
std::ostream& operator<<(std::ostream& os, limit l);

class user_limits {
public:
    user_limits(const limits_config& cfg, engine::time_point now);

    /// Takes one request of kind `which` for `user`; false (and nothing taken) when over.
    bool allow(limit which, std::int64_t user, engine::time_point now);
    /// True when `user` may be told "a little slower" now (then not again for notice_every).
    bool may_notice(std::int64_t user, engine::time_point now);

private:
    engine::keyed_token_bucket<std::int64_t>& bucket(limit which);

    engine::keyed_token_bucket<std::int64_t> chat_turns_;
    engine::keyed_token_bucket<std::int64_t> selfies_;
    engine::keyed_token_bucket<std::int64_t> actions_;
    engine::keyed_token_bucket<std::int64_t> notices_;
};

} // namespace companion::pipelines
