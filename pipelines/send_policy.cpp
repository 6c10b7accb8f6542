// The sender's verdicts.
#include "pipelines/send_policy.hpp"

#include <algorithm>
#include <vector>

namespace companion::pipelines {

std::ostream& operator<<(std::ostream& os, const send_failure& f) {
    return os << f.reason << (f.detail.empty() ? "" : ": ") << f.detail;
}

engine::retry_verdict send_policy::classify(const tg::error& e) const {
    switch (e.kind) {
    case tg::error_kind::rate_limited: {
        const engine::duration wait = e.retry_after.value_or(std::chrono::seconds(1));
        if (wait > cfg_.max_flood_wait) {
            return engine::retry_verdict::fail();
        }
        return engine::retry_verdict::again(wait);
    }
    case tg::error_kind::transport:
    case tg::error_kind::server:
    case tg::error_kind::malformed_response:
        return engine::retry_verdict::again();
    default:
        return engine::retry_verdict::fail();
    }
}

send_failure_reason send_policy::reason(const tg::error& e) noexcept {
    switch (e.kind) {
    case tg::error_kind::forbidden:
        return send_failure_reason::blocked;
    case tg::error_kind::unauthorized:
        return send_failure_reason::unauthorized;
    case tg::error_kind::rate_limited:
        return send_failure_reason::flood_too_long;
    case tg::error_kind::too_large:
        return send_failure_reason::too_large;
    case tg::error_kind::transport:
    case tg::error_kind::server:
    case tg::error_kind::malformed_response:
        return send_failure_reason::unavailable;
    default:
        return send_failure_reason::rejected;
    }
}

draft_outcome classify_draft(const tg::result<void>& r) noexcept {
    if (r) {
        return {};
    }
    const auto& e = r.error();
    switch (e.kind) {
    case tg::error_kind::rate_limited:
        return {.what = draft_outcome::kind::held, .wait = e.retry_after.value_or(std::chrono::seconds(1))};
    case tg::error_kind::transport:
    case tg::error_kind::server:
    case tg::error_kind::malformed_response:
        return {.what = draft_outcome::kind::held};
    default:
        return {.what = draft_outcome::kind::failed};
    }
}

bool flood_detector::note(std::int64_t chat, engine::time_point now) {
    while (!recent_.empty() && now - recent_.front().first > window_) {
        recent_.pop_front();
    }
    recent_.emplace_back(now, chat);
    if (chats_in_window() < chats_) {
        return false;
    }
    recent_.clear();
    return true;
}

std::size_t flood_detector::chats_in_window() const noexcept {
    std::vector<std::int64_t> chats;
    for (const auto& [when, chat] : recent_) {
        if (std::find(chats.begin(), chats.end(), chat) == chats.end()) {
            chats.push_back(chat);
        }
    }
    return chats.size();
}

} // namespace companion::pipelines
