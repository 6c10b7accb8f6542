// The bot's gauges, and the status text read back from them.
#include "pipelines/admin_report.hpp"

#include "engine/metrics.hpp"
#include "engine/task_group.hpp"
#include "pipelines/bot.hpp"
#include "storage/checkins.hpp"
#include "storage/credits.hpp"
#include "storage/quotas.hpp"
#include "storage/users.hpp"

#include <cmath>

namespace companion::pipelines {

namespace {

struct figure {
    const char* name;
    const char* help;
};

// Counters (since start, Prometheus names end in _total) and gauges (a value now).
constexpr figure received{"bot_updates_received_total", "Updates received since start."};
constexpr figure processed{"bot_updates_processed_total", "Updates processed since start."};
constexpr figure replayed{"bot_updates_replayed_total", "Replayed updates skipped since start."};
constexpr figure malformed{"bot_updates_malformed_total",
                           "Malformed updates confirmed and skipped since start."};
constexpr figure polls{"bot_polls_total", "getUpdates calls since start."};
constexpr figure poll_errors{"bot_poll_errors_total", "getUpdates calls that failed since start."};
constexpr figure handler_failures{"bot_handler_failures_total",
                                  "Updates whose handling failed (the user was told) since start."};
constexpr figure storage_faults{"bot_storage_faults_total",
                                "Transient storage faults waited out (locked, full) since start."};
constexpr figure rate_limited{"bot_rate_limited_total",
                              "Requests refused by the per-user limits since start."};
constexpr figure turns{"bot_chat_turns_total", "Chat turns since start."};
constexpr figure selfies{"bot_selfies_total", "Selfies attempted since start."};
constexpr figure requested{"bot_videos_requested_total", "Videos requested since start."};
constexpr figure delivered{"bot_videos_delivered_total", "Videos delivered since start."};
constexpr figure failed{"bot_videos_failed_total", "Videos that failed since start."};
constexpr figure refused{"bot_videos_refused_total", "Videos the provider refused since start."};
constexpr figure submit_unknown{"bot_videos_submit_unknown_total",
                                "Videos whose submission had an unknown outcome (never resubmitted)."};
constexpr figure chats{"bot_active_chats", "Chats with queued or running updates."};
constexpr figure queued{"bot_queued_updates", "Updates waiting in chat queues."};
constexpr figure deferred{"bot_deferred_updates", "Updates waiting for room in their chat's queue."};
constexpr figure users{"bot_users", "Users the bot knows."};
constexpr figure running{"bot_video_jobs_running", "Video jobs being generated or delivered."};
constexpr figure spend{"bot_spend_today_cents", "Video spend reserved today (UTC), in cents."};
constexpr figure spend_cap{"bot_spend_cap_cents", "The daily video spend cap, in cents."};
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

// A count the bot keeps since start, published as a counter: it only ever moves up by what was
// added since the last scrape.
void count_to(const figure& f, std::uint64_t total) {
    auto& c = engine::metrics().make_counter(f.name, f.help);
    if (total > c.value()) {
        c.inc(total - c.value());
    }
}

std::string count(const figure& f) {
    return std::to_string(engine::metrics().make_counter(f.name, f.help).value());
}

std::string counter(const char* name, const char* help) {
    return std::to_string(engine::metrics().make_counter(name, help).value());
}

/// " (offered: 5, 10 s)" when the user chooses the length; empty when not.
std::string offered_text(const std::vector<int>& offered) {
    if (offered.empty()) {
        return {};
    }
    std::string s = " (offered: ";
    for (std::size_t i = 0; i < offered.size(); ++i) {
        s += (i == 0 ? "" : ", ") + std::to_string(offered[i]);
    }
    return s + " s)";
}

} // namespace

void publish_metrics(bot& b, storage::database& db, engine::wall_time now) {
    const auto s = b.stats();
    count_to(received, s.updates_received);
    count_to(processed, s.updates_processed);
    count_to(replayed, s.updates_replayed);
    count_to(malformed, s.updates_malformed);
    count_to(polls, s.polls);
    count_to(poll_errors, s.poll_errors);
    count_to(handler_failures, s.handler_failures);
    count_to(storage_faults, s.storage_faults);
    count_to(rate_limited, s.rate_limited);
    set(chats, b.active_chats());
    set(queued, b.queued_updates());
    set(deferred, b.deferred_updates());
    set(users, storage::user_repository(db).count());
    count_to(turns, s.chat_turns);
    count_to(selfies, s.selfies);
    set(running, b.video_jobs_running());
    if (const auto* v = b.videos()) {
        count_to(requested, v->stats().requested);
        count_to(delivered, v->stats().delivered);
        count_to(failed, v->stats().failed);
        count_to(refused, v->stats().refused);
        count_to(submit_unknown, v->stats().submit_unknown);
        set(spend_cap, v->config().daily_spend_cap_cents);
    } else {
        // No video provider: the families exist at zero, so a dashboard shows none, not "no data".
        for (const auto* f : {&requested, &delivered, &failed, &refused, &submit_unknown}) {
            count_to(*f, 0);
        }
        set(spend_cap, 0);
    }
    set(spend, storage::quota_repository(db).spent_total(storage::utc_day(now)));
    set(live, engine::task_group::live_tasks());
    set(wal, db.wal_frames());
}

std::string status_report(bot& b, storage::database& db, engine::wall_time now) {
    publish_metrics(b, db, now);
    std::string s = "📊 status\n";
    s += "updates: received " + count(received) + ", processed " + count(processed) + ", replayed " +
         count(replayed) + ", malformed " + count(malformed) + "\n";
    s += "queues: " + get(chats) + " chats, " + get(queued) + " waiting\n";
    s += "sent: " + counter("telegram_sent_total", "Messages delivered to Telegram.") + ", flood waits " +
         counter("telegram_flood_waits_total", "429 answers honoured.") + ", failed " +
         counter("telegram_send_failures_total", "Sends given up.") + "\n";
    s += "users: " + get(users) + ", chat turns " + count(turns) + ", selfies " + count(selfies) + "\n";
    if (const auto* v = b.videos()) {
        const auto& info = v->provider_info();
        s += "videos: provider " + info.name + " (" + info.model + "), " +
             std::to_string(v->effective_seconds()) + " s clips" + offered_text(v->offered_seconds()) + ", " +
             get(running) + " jobs running; requested " + count(requested) + ", delivered " +
             count(delivered) + ", failed " + count(failed) + ", refused " + count(refused) +
             ", submit unknown " + count(submit_unknown) + "\n";
        s += "spend today: " + get(spend) + " of " + get(spend_cap) + " cents";
        // Where it went: per provider and model, as reported where the provider reports costs.
        for (const auto& [key, cents] :
             storage::quota_repository(db).spent_by_provider(storage::utc_day(now))) {
            s += "\n  " + key + ": " + std::to_string(cents) + " cents";
        }
    } else {
        s += "videos: no provider configured";
    }
    // The money from Stars, from the ledger (so it survives restarts).
    if (const auto money = storage::credit_repository(db).totals(now); money.payments != 0) {
        s += "\nstars: " + std::to_string(money.payments) + " payments, " + std::to_string(money.stars) +
             " ⭐ received; credits granted " + std::to_string(money.credits_granted) + ", spent " +
             std::to_string(money.credits_spent) + "; refunds " + std::to_string(money.refunds) + " (" +
             std::to_string(money.stars_refunded) + " ⭐); subscribers " + std::to_string(money.subscribers);
    }
    // Check-ins, from their log: who opted in, and what the last 7 days sent.
    storage::checkin_repository checkins(db);
    if (const auto opted = checkins.opted_in_users(); opted != 0) {
        const auto week = now - std::chrono::days(7);
        using storage::checkin_outcome;
        s += "\ncheck-ins: " + std::to_string(opted) + " users opted in; last 7 days sent " +
             std::to_string(checkins.count(checkin_outcome::sent, week)) + ", unknown after a crash " +
             std::to_string(checkins.count(checkin_outcome::unknown, week)) + ", blocked " +
             std::to_string(checkins.count(checkin_outcome::blocked, week)) + ", failed " +
             std::to_string(checkins.count(checkin_outcome::failed, week));
    }
    return s;
}

} // namespace companion::pipelines
