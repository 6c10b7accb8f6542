// Per-user buckets.
#include "pipelines/user_limits.hpp"

#include <algorithm>

namespace companion::pipelines {

namespace {

engine::keyed_token_bucket<std::int64_t>::config per_minute(int per_minute, int burst) {
    return {.per_key = {static_cast<double>(per_minute) / 60.0, static_cast<double>(std::max(1, burst))},
            .use_global = false};
}

} // namespace

std::ostream& operator<<(std::ostream& os, limit l) {
    return os << (l == limit::chat_turn ? "chat_turn" : l == limit::selfie ? "selfie" : "action");
}

user_limits::user_limits(const limits_config& cfg, engine::time_point now)
    : chat_turns_(per_minute(cfg.chat_turns_per_minute, cfg.chat_turns_per_minute / 4), now),
      selfies_(per_minute(cfg.selfies_per_minute, cfg.selfies_per_minute), now),
      actions_(per_minute(cfg.actions_per_minute, cfg.actions_per_minute / 4), now),
      notices_(
          {.per_key = {1.0 / std::max(0.001, std::chrono::duration<double>(cfg.notice_every).count()), 1.0},
           .use_global = false},
          now) {}

engine::keyed_token_bucket<std::int64_t>& user_limits::bucket(limit which) {
    switch (which) {
    case limit::chat_turn:
        return chat_turns_;
    case limit::selfie:
        return selfies_;
    case limit::action:
        break;
    }
    return actions_;
}

bool user_limits::allow(limit which, std::int64_t user, engine::time_point now) {
    auto& b = bucket(which);
    if (b.reserve(user, now) > engine::duration::zero()) {
        b.refund(user);
        return false;
    }
    return true;
}

bool user_limits::may_notice(std::int64_t user, engine::time_point now) {
    if (notices_.reserve(user, now) > engine::duration::zero()) {
        notices_.refund(user);
        return false;
    }
    return true;
}

} // namespace companion::pipelines
