// The sender's decisions, sans-I/O (design.md §4 "Sending"): what a failed Telegram call means
// for the message (wait out a flood, try again, or give up and why), and when 429s for several
// chats at once mean the bot as a whole is over its limit. The sender (pipelines/sender) only
// carries these verdicts out.
#pragma once

#include "engine/clock.hpp"
#include "engine/enum_text.hpp"
#include "engine/rate_limit.hpp"
#include "engine/retry.hpp"
#include "net/telegram/error.hpp"

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>

namespace companion::pipelines {

namespace tg = net::telegram;

struct sender_config {
    engine::token_bucket_config per_chat{1.0, 3.0}; ///< ~1 message/s per chat, short bursts
    engine::token_bucket_config global{30.0, 30.0}; ///< ~30 messages/s overall
    int max_attempts = 5; ///< attempts that failed for real (an honoured flood wait is not one)
    /// ...and a send gives up only once its failures have also lasted this long: a Telegram
    /// outage of minutes delays a reply (its update stays unprocessed meanwhile), it does not
    /// lose it. Below the update deadline (10 min), which would cut the reply off anyway.
    engine::duration outage_budget = std::chrono::minutes(8);
    /// The same for a rendered video, which has cost money and is sent from its job, not from
    /// an update: hours.
    engine::duration video_outage_budget = std::chrono::hours(2);
    engine::duration base_backoff = std::chrono::milliseconds(500);
    engine::duration max_backoff = std::chrono::seconds(30);
    engine::duration max_flood_wait = std::chrono::minutes(10); ///< a longer retry_after gives up
    /// 429s for this many different chats within `global_flood_window` mean the bot as a whole is
    /// over its limit: everything pauses, not just those chats.
    std::size_t global_flood_chats = 3;
    engine::duration global_flood_window = std::chrono::seconds(1);
    /// The first chat action waits this long: a reply that comes sooner needs no "typing…"
    /// (Telegram recommends actions only where the wait is noticeable, and each is a request
    /// that counts against the bot's limits).
    engine::duration action_after = std::chrono::milliseconds(500);
    /// A chat action shows for up to 5 s: work that takes longer repeats it this often.
    engine::duration action_every = std::chrono::seconds(4);
};

/// Why a message did not reach the user. Callers react differently: a user who blocked the bot
/// is not sent an apology; a message Telegram rejects is not worth a second try.
enum class send_failure_reason {
    blocked,        ///< 403: the user blocked the bot (or left, or was deactivated)
    rejected,       ///< 400 and other 4xx: the request itself is wrong
    too_large,      ///< 413: the upload is over Telegram's limits
    flood_too_long, ///< 429 with a retry_after above max_flood_wait
    unavailable,    ///< transport, 5xx or malformed answers, after every attempt
    unauthorized,   ///< 401: the token is refused; nothing can be sent
    empty,          ///< nothing to send (an empty text)
};
// clang-format off
BOOST_DESCRIBE_ENUM(send_failure_reason, blocked, rejected, too_large, flood_too_long, unavailable,
                    unauthorized, empty)
// clang-format on
using engine::operator<<; // to_string and printing of the described enums
using engine::to_string;

struct send_failure {
    send_failure_reason reason = send_failure_reason::unavailable;
    std::string detail{}; ///< the last error, redacted, for the log
};

std::ostream& operator<<(std::ostream& os, const send_failure& f);

/// What became of a streamed reply's draft (drafts are never retried: a late one is worthless).
struct draft_outcome {
    enum class kind {
        sent,
        held,   ///< not now: no draft for `wait` (a 429, a chat or global pause, no free token)
        failed, ///< refused for good (400, 403, 401): no more drafts this turn
    };
    kind what = kind::sent;
    engine::duration wait = engine::duration::zero();
};

/// The outcome of a draft call's result: a flood holds drafts for its retry_after (the final
/// message keeps its own pacing), an outage holds them for nothing more than the usual interval,
/// and anything Telegram refuses ends them.
draft_outcome classify_draft(const tg::result<void>& r) noexcept;

/// Classifies one failed call: retry (with the server's delay for a flood), or fail.
class send_policy {
public:
    explicit send_policy(const sender_config& cfg) : cfg_(cfg) {}

    /// The verdict for `e`. A flood is retried after exactly its retry_after (one second when
    /// Telegram names none) unless that is above max_flood_wait; transport faults (an answer
    /// lost after the write included: one repeat per lost answer is the accepted duplicate),
    /// 5xx and malformed answers are retried with back-off; everything else fails.
    engine::retry_verdict classify(const tg::error& e) const;

    /// Why a send that ended with `e` failed for good.
    static send_failure_reason reason(const tg::error& e) noexcept;

    /// After `failures` real failures over `failing_for`, with `budget` to outlast an outage:
    /// true once both max_attempts and the budget are spent.
    bool give_up(int failures, engine::duration failing_for, engine::duration budget) const noexcept {
        return failures >= cfg_.max_attempts && failing_for >= budget;
    }

    /// The retry loop's policy: back-off from the config; the sender decides when to give up
    /// (give_up()), so the loop's own attempt limit is out of reach.
    engine::retry_policy retry() const noexcept {
        return {.max_attempts = 1 << 30,
                .base_delay = cfg_.base_backoff,
                .max_delay = cfg_.max_backoff,
                .max_server_delay = cfg_.max_flood_wait};
    }

private:
    sender_config cfg_;
};

/// Tells a global flood from per-chat ones: `note(chat, now)` records a 429 and returns true when
/// `chats` different chats were told to wait within `window` (then the history starts afresh).
class flood_detector {
public:
    flood_detector(std::size_t chats, engine::duration window) : chats_(chats), window_(window) {}

    bool note(std::int64_t chat, engine::time_point now);
    /// How many different chats are in the window (after the last note).
    std::size_t chats_in_window() const noexcept;

private:
    std::size_t chats_;
    engine::duration window_;
    std::deque<std::pair<engine::time_point, std::int64_t>> recent_;
};

} // namespace companion::pipelines
