// The bot (design.md §1, §3, §4): the update loop (long polling into a durable inbox, then one
// keyed serial queue per chat), the router (commands, reply-keyboard labels in all three
// languages, callback buttons), and the chat and selfie pipelines. Videos arrive with the video
// pipeline; until then /video answers that videos are unavailable.
#pragma once

#include "engine/keyed_serial.hpp"
#include "engine/offload.hpp"
#include "engine/rate_limit.hpp"
#include "engine/sync.hpp"
#include "net/gemini/image.hpp"
#include "net/openai/chat.hpp"
#include "net/telegram/client.hpp"
#include "pipelines/locale.hpp"
#include "pipelines/persona.hpp"
#include "pipelines/sender.hpp"
#include "pipelines/video_jobs.hpp"
#include "storage/conversation.hpp"
#include "storage/database.hpp"
#include "storage/generated_content.hpp"
#include "storage/media_store.hpp"
#include "storage/quotas.hpp"
#include "storage/updates.hpp"
#include "storage/users.hpp"

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace companion::pipelines {

namespace tg = net::telegram;

struct bot_config {
    std::vector<std::int64_t> admins{};
    std::size_t history_turns = 12;
    int summary_every = 8;
    int selfies_per_day = 20;
    int chat_turns_per_minute = 20; ///< per user; LLM turns
    int selfies_per_minute = 3;     ///< per user, on top of the daily quota
    int actions_per_minute = 60;    ///< per user: commands, reply-keyboard labels, button presses
    /// At most one "a little slower" / "still being made" notice per user in this window, so a
    /// flood of requests does not become a flood of replies.
    engine::duration notice_every = std::chrono::seconds(20);
    std::chrono::seconds poll_timeout{25};
    engine::duration poll_backoff_max = std::chrono::seconds(30);
    engine::duration drain_grace = std::chrono::seconds(5);
    std::size_t per_chat_queue = 32;
    std::size_t total_queue = 20'000;
    sender_config sending{};
    video_jobs_config video{};
    /// A uniform draw in [0, 1) (injected so tests are deterministic).
    std::function<double()> random{};
};

/// What the bot talks to. All references must outlive the bot.
struct bot_services {
    tg::client& telegram;
    net::openai::chat_client& llm;
    net::gemini::image_client& images;
    storage::database& db;
    storage::media_store& media;
    const persona_catalog& personas;
    const locale_catalog& locales;
    engine::offload_pool& offload;
    video_provider* videos = nullptr; ///< nullptr: videos are not configured
};

struct bot_stats {
    std::uint64_t updates_received = 0;
    std::uint64_t updates_processed = 0;
    std::uint64_t updates_replayed = 0; ///< skipped: already processed
    std::uint64_t updates_malformed = 0;
    std::uint64_t updates_deferred = 0; ///< held in memory: the chat's queue (or all) was full
    std::uint64_t handler_failures = 0;
    std::uint64_t polls = 0;
    std::uint64_t poll_errors = 0;
    std::uint64_t chat_turns = 0;
    std::uint64_t selfies = 0;
    std::uint64_t rate_limited = 0; ///< inbound requests refused by the per-user limits
};

class bot {
public:
    bot(engine::executor ex, bot_services services, bot_config cfg);
    ~bot();
    bot(const bot&) = delete;
    bot& operator=(const bot&) = delete;

    /// deleteWebhook (long polling needs it gone) and setMyCommands per language. Returns false
    /// when the token is refused (401): the bot cannot run.
    engine::awaitable<bool> prepare();

    /// Processes what the inbox still holds, then long-polls until cancelled; on cancellation it
    /// stops polling and gives in-flight updates `drain_grace` before cancelling them (they stay
    /// in the inbox and run again on the next start).
    engine::awaitable<void> run();

    /// True while the poll loop works (the /healthz "polling alive" check).
    bool polling() const noexcept { return polling_; }
    engine::time_point last_poll() const noexcept { return last_poll_; }
    const bot_stats& stats() const noexcept { return stats_; }
    const sender_stats& delivery() const noexcept { return sender_.stats(); }
    std::size_t active_chats() const noexcept { return queue_.active_keys(); }
    std::size_t queued_updates() const noexcept { return queue_.queued(); }
    std::size_t deferred_updates() const noexcept { return overflow_size_; }
    std::size_t video_jobs_running() const noexcept;
    /// The video job manager, when a provider is configured.
    video_jobs* videos() noexcept { return videos_.get(); }

    struct context;

private:
    engine::awaitable<void> poll_loop();
    void accept(storage::inbox_entry entry);
    /// Moves deferred updates of `chat` (then of other chats) into their queues while there is room.
    void drain_overflow(std::int64_t chat);
    engine::awaitable<void> process(storage::inbox_entry entry);
    engine::awaitable<void> handle(const tg::update& u);
    engine::awaitable<void> on_message(const tg::message& m);
    engine::awaitable<void> on_callback(const tg::callback_query& q);
    engine::awaitable<void> on_command(context& c, std::string_view command);
    engine::awaitable<void> chat_turn(context& c, std::string text);
    engine::awaitable<void> selfie(context& c);
    /// Sends `text` unless this user got a notice within `notice_every`.
    engine::awaitable<void> notice(const context& c, std::string text);
    /// True when the per-user `limits` allow one more request now.
    bool allow(engine::keyed_token_bucket<std::int64_t>& limits, std::int64_t user_id);
    engine::awaitable<std::optional<made_selfie>>
    make_selfie(std::int64_t user_id, std::int64_t chat_id, std::string persona_id, std::string lang);
    engine::awaitable<void> offer_video(context& c);
    engine::awaitable<void> choose_persona(context& c);
    engine::awaitable<void> choose_language(context& c);
    engine::awaitable<void> admin_status(context& c);
    engine::awaitable<void> refresh_summary(context& c, const persona& p);
    boost::json::value main_keyboard(std::string_view lang) const;
    bool is_admin(std::int64_t user_id) const;
    double draw();

    engine::executor ex_;
    bot_services svc_;
    bot_config cfg_;
    sender sender_;
    engine::keyed_serial<std::int64_t> queue_;
    engine::keyed_token_bucket<std::int64_t> chat_limits_;
    engine::keyed_token_bucket<std::int64_t> selfie_limits_;
    engine::keyed_token_bucket<std::int64_t> action_limits_;
    engine::keyed_token_bucket<std::int64_t> notices_;
    storage::user_repository users_;
    storage::conversation_repository turns_;
    storage::generated_content_repository content_;
    storage::quota_repository quotas_;
    storage::update_log log_;
    storage::update_inbox inbox_;
    storage::flood_waits floods_;
    std::unique_ptr<video_jobs> videos_;
    bot_stats stats_;
    /// Updates whose chat queue was full, per chat in order (they are in the inbox as well).
    std::map<std::int64_t, std::deque<storage::inbox_entry>> overflow_;
    std::size_t overflow_size_ = 0;
    bool polling_ = false;
    engine::time_point last_poll_{};
    std::uint64_t rng_state_ = 0x2545F4914F6CDD1DULL;
};

} // namespace companion::pipelines
