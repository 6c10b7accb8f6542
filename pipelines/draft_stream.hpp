// A streamed reply's draft, sans-I/O (issue 19; contract: telegram-drafts-stars-voice.md §1).
// While the model writes, the user sees one animated draft (`sendMessageDraft`, one draft_id)
// that grows with the text: an empty draft ("Thinking...") at once, then the text, at most one
// update per `min_interval`, and the same text again before the draft's ~30 s life ends when the
// model pauses. A 429 or a missing global send token holds drafts back (drafts only: the final
// message keeps its own pacing); a draft Telegram refuses for good stops the drafts of this turn
// while the reply itself still goes out as a message.
//
// The class decides; the chat pipeline's draft loop carries out its actions on the time source.
#pragma once

#include "engine/clock.hpp"

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

namespace companion::pipelines {

struct draft_config {
    /// Between two draft updates of one chat (projects use 0.3-0.5 s; none is published).
    engine::duration min_interval = std::chrono::milliseconds(400);
    /// A draft lives about 30 s: the same text is sent again this long after the last update.
    engine::duration refresh_every = std::chrono::seconds(20);
    /// Telegram's text limit for a draft, in UTF-16 code units (as for a message).
    std::size_t max_units = 4096;
};

class draft_stream {
public:
    struct action {
        enum class kind {
            send, ///< send `text` as the draft now
            wait, ///< nothing to send before `at` (or before more text arrives)
            stop, ///< drafts are over for this turn
        };
        kind what = kind::wait;
        std::string text{};
        engine::time_point at{};
    };

    draft_stream(draft_config cfg, engine::time_point started) : cfg_(cfg), last_sent_(started) {}

    /// The model wrote `piece`.
    void append(std::string_view piece) { text_.append(piece); }
    /// What the model wrote so far.
    const std::string& text() const noexcept { return text_; }
    /// What a draft shows now: the part of the text that would be the reply's last message
    /// (a reply past 4096 units is sent in parts, and the draft grows the part being written).
    std::string shown() const;

    /// The next step at `now`.
    action next(engine::time_point now) const;

    /// A draft with `shown` went out at `now`.
    void sent(engine::time_point now, std::string shown);
    /// No draft before `now + wait` (a 429's retry_after, or no global send token).
    void held(engine::time_point now, engine::duration wait);
    /// Telegram refused a draft for good (a group, a blocked bot, a bad request).
    void failed() noexcept { over_ = true; }
    /// The generation ended (finished, stopped or failed): no more drafts.
    void finish() noexcept { over_ = true; }

    bool over() const noexcept { return over_; }
    std::size_t drafts_sent() const noexcept { return sent_count_; }

private:
    draft_config cfg_;
    std::string text_{};
    std::string last_shown_{};
    engine::time_point last_sent_;
    engine::time_point held_until_{};
    std::size_t sent_count_ = 0;
    bool over_ = false;
};

} // namespace companion::pipelines
