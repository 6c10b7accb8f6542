// Outbound delivery to Telegram (design.md §4 "Sending"): pacing by per-chat and global token
// buckets at Telegram's limits, a 429 pausing only the chat it names, retries of sends that
// certainly failed, one repeat per answer lost after the request was written (the only accepted
// duplicate: at most one per ambiguous answer), and no retry of what cannot succeed (400, 403: the user
// blocked the bot).
#pragma once

#include "engine/metrics.hpp"
#include "engine/rate_limit.hpp"
#include "engine/retry.hpp"
#include "net/telegram/client.hpp"

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <utility>

namespace companion::pipelines {

namespace tg = net::telegram;

struct sender_config {
    engine::token_bucket_config per_chat{1.0, 3.0}; ///< ~1 message/s per chat, short bursts
    engine::token_bucket_config global{30.0, 30.0}; ///< ~30 messages/s overall
    int max_attempts = 5;
    engine::duration base_backoff = std::chrono::milliseconds(500);
    engine::duration max_backoff = std::chrono::seconds(30);
    engine::duration max_flood_wait = std::chrono::minutes(10); ///< a longer retry_after gives up
    /// 429s for this many different chats within `global_flood_window` mean the bot as a whole is
    /// over its limit: everything pauses, not just those chats.
    std::size_t global_flood_chats = 3;
    engine::duration global_flood_window = std::chrono::seconds(1);
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
    /// `on_blocked(chat_id)` runs when Telegram says the user blocked the bot.
    sender(tg::client& client, sender_config cfg, std::function<void(std::int64_t)> on_blocked);

    /// Sends `text`, split at Telegram's 4096-character limit; the markup goes on the last part.
    /// Returns the last message sent, or nullopt when delivery failed for good.
    engine::awaitable<std::optional<tg::message>>
    text(std::int64_t chat_id, std::string text, std::optional<boost::json::value> markup = std::nullopt);
    engine::awaitable<std::optional<tg::message>> photo(tg::send_photo_params params);
    engine::awaitable<std::optional<tg::message>> video(tg::send_video_params params);
    /// Edits a message's text; "not modified" is success. False when it failed for good.
    engine::awaitable<bool> edit(tg::edit_message_text_params params);
    /// Best effort, unpaced (chat actions expire in 5 s anyway); a flood skips it.
    engine::awaitable<void> action(std::int64_t chat_id, tg::chat_action action);
    /// Answers a callback query at once (unpaced); a late answer is logged, never fatal.
    engine::awaitable<void> answer(std::string callback_query_id, std::string text = {});

    const sender_stats& stats() const noexcept { return stats_; }
    /// The limiter, so a 429 seen elsewhere can pause a chat too.
    engine::keyed_rate_limiter<std::int64_t>& limiter() noexcept { return limiter_; }
    /// Called with (chat_id, retry_after) for every 429 honoured; chat_id 0 for a global pause.
    /// The bot stores them so a restart keeps waiting.
    void on_flood(std::function<void(std::int64_t, engine::duration)> f) { on_flood_ = std::move(f); }

private:
    template <class T, class Op>
    engine::awaitable<std::optional<T>> deliver(std::int64_t chat_id, std::string_view what, Op op);

    tg::client& client_;
    sender_config cfg_;
    std::function<void(std::int64_t)> on_blocked_;
    std::function<void(std::int64_t, engine::duration)> on_flood_;
    engine::keyed_rate_limiter<std::int64_t> limiter_;
    void note_flood(std::int64_t chat_id, engine::duration retry_after);

    engine::retry_schedule backoff_;
    std::deque<std::pair<engine::time_point, std::int64_t>> recent_floods_;
    sender_stats stats_;
    engine::counter& sent_metric_;
    engine::counter& flood_metric_;
    engine::counter& failed_metric_;
};

} // namespace companion::pipelines
