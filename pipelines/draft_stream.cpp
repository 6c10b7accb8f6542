// The pacing of a streamed reply's draft.
#include "pipelines/draft_stream.hpp"

#include "pipelines/prompts.hpp"

#include <algorithm>
#include <utility>

namespace companion::pipelines {

std::string draft_stream::shown() const {
    auto parts = split_message(text_, cfg_.max_units);
    return parts.empty() ? std::string() : std::move(parts.back());
}

draft_stream::action draft_stream::next(engine::time_point now) const {
    if (over_) {
        return {.what = action::kind::stop};
    }
    std::string now_shown = shown();
    if (sent_count_ == 0) {
        // The first draft goes at once, empty ("Thinking...") unless text already came.
        if (now >= held_until_) {
            return {.what = action::kind::send, .text = std::move(now_shown), .at = now};
        }
        return {.what = action::kind::wait, .at = held_until_};
    }
    if (now_shown != last_shown_) {
        const auto earliest = std::max(last_sent_ + cfg_.min_interval, held_until_);
        if (now >= earliest) {
            return {.what = action::kind::send, .text = std::move(now_shown), .at = now};
        }
        return {.what = action::kind::wait, .at = earliest};
    }
    // Nothing new: the same text again only before the draft would expire.
    const auto refresh = std::max(last_sent_ + cfg_.refresh_every, held_until_);
    if (now >= refresh) {
        return {.what = action::kind::send, .text = std::move(now_shown), .at = now};
    }
    return {.what = action::kind::wait, .at = refresh};
}

void draft_stream::sent(engine::time_point now, std::string shown) {
    last_sent_ = now;
    last_shown_ = std::move(shown);
    ++sent_count_;
}

void draft_stream::held(engine::time_point now, engine::duration wait) {
    // At least the usual interval, so a held draft is not tried again in a busy loop.
    held_until_ = std::max(held_until_, now + std::max(wait, cfg_.min_interval));
}

} // namespace companion::pipelines
