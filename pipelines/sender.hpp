// Outbound delivery to Telegram (design.md §4 "Sending"): pacing by per-chat and global token
// buckets at Telegram's limits, a 429 pausing only the chat it names (or everything, when many
// chats are told to wait at once), retries of sends that certainly failed, one repeat per answer
// lost after the request was written (the only accepted duplicate), and no retry of what cannot
// succeed. The decisions are send_policy's; this class carries them out with engine::retry.
//
// Every send returns a send_result: the message, or why it did not arrive (send_failure), so a
// caller tells "the user blocked the bot" from "Telegram is down" from "the request is wrong".
#pragma once

#include "engine/metrics.hpp"
#include "engine/rate_limit.hpp"
#include "engine/time.hpp"
#include "engine/time_source.hpp"
#include "pipelines/ports.hpp"
#include "pipelines/send_policy.hpp"

#include <boost/system/result.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>

namespace companion::pipelines {

[[noreturn]] void throw_exception_from_error(const send_failure& f, const boost::source_location& loc);

template <class T>
using send_result = boost::system::result<T, send_failure>;

/// What a caller keeps of a sent text: its id (to edit it later) and Telegram's date for it.
/// Texts are the hot path, and the whole message (about 500 bytes) would sit in every frame of
/// the delivery chain while it waits; media sends return the message, whose file_id is stored.
struct sent_message {
    std::int64_t message_id = 0;
    std::int64_t date = 0;

    static sent_message of(const tg::message& m) noexcept {
        return {.message_id = m.message_id, .date = m.date};
    }
};

struct sender_stats {
    std::uint64_t sent = 0;
    std::uint64_t retries = 0;
    std::uint64_t flood_waits = 0;
    std::uint64_t unknown_outcome_retries = 0; ///< possible duplicates (design.md §4)
    std::uint64_t failed = 0;
    std::uint64_t blocked = 0;
    std::uint64_t global_pauses = 0;
};

class sender {
public:
    /// `api` and `time` must outlive the sender.
    sender(telegram_api& api, engine::time_source& time, sender_config cfg);

    /// Runs with the chat id when Telegram says the user blocked the bot.
    void on_blocked(std::function<void(std::int64_t)> f) { on_blocked_ = std::move(f); }
    /// Runs with (chat_id, retry_after) for every 429 honoured; chat_id 0 for a global pause.
    /// The bot stores them so a restart keeps waiting.
    void on_flood(std::function<void(std::int64_t, engine::duration)> f) { on_flood_ = std::move(f); }

    /// Sends `text`, split at Telegram's 4096-character limit; the markup goes on the last part.
    /// Returns the last message sent.
    engine::awaitable<send_result<sent_message>>
    text(std::int64_t chat_id, std::string text, std::optional<boost::json::value> markup = std::nullopt);
    engine::awaitable<send_result<tg::message>> photo(tg::send_photo_params params);
    engine::awaitable<send_result<tg::message>> video(tg::send_video_params params);
    engine::awaitable<send_result<tg::message>> voice(tg::send_voice_params params);
    /// A Stars invoice, paced and retried like a message.
    engine::awaitable<send_result<tg::message>> invoice(tg::send_invoice_params params);
    /// Edits a message's text; "not modified" is success.
    engine::awaitable<send_result<tg::edit_outcome>> edit(tg::edit_message_text_params params);
    /// Best effort, unpaced (chat actions expire in 5 s anyway); a chat under a flood wait skips
    /// it, and a failure only logs.
    engine::awaitable<void> action(std::int64_t chat_id, tg::chat_action action);
    /// Runs `work` while the chat shows `action` ("typing…"): first once the work has taken
    /// `sender_config::action_after`, then every `action_every` until it ends; the work's result
    /// is returned.
    template <class T>
    engine::awaitable<T> acting(std::int64_t chat_id, tg::chat_action shown, engine::awaitable<T> work) {
        std::function<engine::awaitable<void>()> beat = [this, chat_id, shown] {
            return action(chat_id, shown);
        };
        return engine::with_heartbeat(std::move(work),
                                      {.first = cfg_.action_after, .every = cfg_.action_every},
                                      time_,
                                      std::move(beat));
    }
    /// A streamed reply's draft: sent only when a global token is free now and nothing holds the
    /// chat back (drafts yield to every message), never retried, and a 429 on it holds back
    /// drafts only, not the chat's messages: this chat's drafts, in this reply and the next ones,
    /// are held until its retry_after has passed.
    engine::awaitable<draft_outcome> draft(tg::send_message_draft_params params);
    /// Answers a callback query at once (unpaced); a late answer is logged, never fatal.
    engine::awaitable<void> answer(std::string callback_query_id, std::string text = {});

    /// True when a send nobody waits for (a check-in) may go to `chat_id` now without delaying
    /// anyone: nothing holds the chat back and at least half the global budget is free (replies
    /// waiting for tokens keep it below that). Takes nothing: the send then paces as usual.
    bool has_spare(std::int64_t chat_id) { return limiter_.spare(chat_id, cfg_.global.burst / 2.0); }

    const sender_stats& stats() const noexcept { return stats_; }
    /// Holds a chat back for `d` (a stored flood wait resumed after a restart); chat 0: all.
    void pause(std::int64_t chat_id, engine::duration d);
    /// How long `chat_id` is held back from now.
    engine::duration pause_remaining(std::int64_t chat_id) const { return limiter_.pause_remaining(chat_id); }

private:
    /// Sends by `call` until it succeeds, fails for good, or transient failures outlast
    /// `outage_budget` (and max_attempts). `call` answers a tg::result<U>; each success is kept
    /// as a T (sent_message::of for texts), so only the call's own frame holds the whole answer.
    template <class T, class Call>
    engine::awaitable<send_result<T>>
    deliver(std::int64_t chat_id, std::string_view what, Call call, engine::duration outage_budget);
    /// A progress edit is worth little once late: max_attempts only, no outage budget.
    static constexpr engine::duration edit_outage_budget = engine::duration::zero();
    void note_flood(std::int64_t chat_id, engine::duration retry_after);
    /// How long this chat's drafts are still held by a 429 on a draft (zero: not held).
    engine::duration draft_hold_remaining(std::int64_t chat_id);
    void hold_drafts(std::int64_t chat_id, engine::duration d);

    telegram_api& api_;
    engine::time_source& time_;
    sender_config cfg_;
    send_policy policy_;
    flood_detector floods_;
    std::function<void(std::int64_t)> on_blocked_;
    std::function<void(std::int64_t, engine::duration)> on_flood_;
    engine::keyed_rate_limiter<std::int64_t> limiter_;
    /// Until when each chat's drafts are held by a 429 on a draft; expired entries are pruned.
    std::unordered_map<std::int64_t, engine::time_point> draft_holds_;
    sender_stats stats_;
    engine::counter& sent_metric_;
    engine::counter& flood_metric_;
    engine::counter& failed_metric_;
    engine::counter& drafts_metric_;
    engine::counter& drafts_failed_metric_;
};

} // namespace companion::pipelines
