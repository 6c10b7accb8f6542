// The bot's gauges, and the status text read back from them.
#include "pipelines/admin_report.hpp"

#include "engine/metrics.hpp"
#include "engine/task_group.hpp"
#include "pipelines/bot.hpp"
#include "storage/quotas.hpp"
#include "storage/users.hpp"

#include <cmath>

namespace companion::pipelines {

namespace {

struct figure {
    const char* name;
    const char* help;
};

constexpr figure received{"bot_updates_received", "Updates received since start."};
constexpr figure processed{"bot_updates_processed", "Updates processed since start."};
constexpr figure replayed{"bot_updates_replayed", "Replayed updates skipped since start."};
constexpr figure malformed{"bot_updates_malformed", "Malformed updates confirmed and skipped since start."};
constexpr figure chats{"bot_active_chats", "Chats with queued or running updates."};
constexpr figure queued{"bot_queued_updates", "Updates waiting in chat queues."};
constexpr figure deferred{"bot_deferred_updates", "Updates waiting for room in their chat's queue."};
constexpr figure users{"bot_users", "Users the bot knows."};
constexpr figure turns{"bot_chat_turns", "Chat turns since start."};
constexpr figure selfies{"bot_selfies", "Selfies made since start."};
constexpr figure running{"bot_video_jobs_running", "Video jobs being generated or delivered."};
constexpr figure requested{"bot_videos_requested", "Videos requested since start."};
constexpr figure delivered{"bot_videos_delivered", "Videos delivered since start."};
constexpr figure failed{"bot_videos_failed", "Videos that failed since start."};
constexpr figure refused{"bot_videos_refused", "Videos the provider refused since start."};
constexpr figure spend{"bot_spend_today_cents", "Video spend reserved today (UTC), in cents."};
constexpr figure live{"engine_live_tasks", "Tasks alive in every task group."};
constexpr figure wal{"storage_wal_frames", "WAL frames since the last checkpoint."};

void set(const figure& f, double v) {
    engine::metrics().make_gauge(f.name, f.help).set(v);
}

template <class T>
void set(const figure& f, T v) {
    set(f, static_cast<double>(v));
}

std::string get(const figure& f) {
    return std::to_string(std::llround(engine::metrics().make_gauge(f.name, f.help).value()));
}

std::string counter(const char* name, const char* help) {
    return std::to_string(engine::metrics().make_counter(name, help).value());
}

} // namespace

void publish_metrics(bot& b, storage::database& db, engine::wall_time now) {
    const auto s = b.stats();
    set(received, s.updates_received);
    set(processed, s.updates_processed);
    set(replayed, s.updates_replayed);
    set(malformed, s.updates_malformed);
    set(chats, b.active_chats());
    set(queued, b.queued_updates());
    set(deferred, b.deferred_updates());
    set(users, storage::user_repository(db).count());
    set(turns, s.chat_turns);
    set(selfies, s.selfies);
    set(running, b.video_jobs_running());
    if (const auto* v = b.videos()) {
        set(requested, v->stats().requested);
        set(delivered, v->stats().delivered);
        set(failed, v->stats().failed + v->stats().submit_unknown);
        set(refused, v->stats().refused);
    }
    set(spend, storage::quota_repository(db).spent_total(storage::utc_day(now)));
    set(live, engine::task_group::live_tasks());
    set(wal, db.wal_frames());
}

std::string status_report(bot& b, storage::database& db, engine::wall_time now) {
    publish_metrics(b, db, now);
    std::string s = "📊 status\n";
    s += "updates: received " + get(received) + ", processed " + get(processed) + ", replayed " +
         get(replayed) + ", malformed " + get(malformed) + "\n";
    s += "queues: " + get(chats) + " chats, " + get(queued) + " waiting\n";
    s += "sent: " + counter("telegram_sent_total", "Messages delivered to Telegram.") + ", flood waits " +
         counter("telegram_flood_waits_total", "429 answers honoured.") + ", failed " +
         counter("telegram_send_failures_total", "Sends given up.") + "\n";
    s += "users: " + get(users) + ", chat turns " + get(turns) + ", selfies " + get(selfies) + "\n";
    if (const auto* v = b.videos()) {
        const auto& info = v->provider_info();
        s += "videos: provider " + info.name + " (" + info.model + "), " +
             std::to_string(v->effective_seconds()) + " s clips, " + get(running) +
             " jobs running; requested " + get(requested) + ", delivered " + get(delivered) + ", failed " +
             get(failed) + ", refused " + get(refused) + "\n";
        s += "spend today: " + get(spend) + " cents";
    } else {
        s += "videos: no provider configured";
    }
    return s;
}

} // namespace companion::pipelines
