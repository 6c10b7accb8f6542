// A companion who writes first (issue 21), only to users who asked for it. The decisions are
// plain functions, table-tested on virtual time: when a check-in is due (the user quiet for a
// while, at most N a week, never at night in the user's time zone, never to a user who blocked
// the bot), whether to ask the opt-in question (once, after a few days of chatting), what the
// user's time zone is (set in /settings, or guessed from the language). The `checkins` unit
// carries them out: a pass over the durable schedule every minute, the message written by the LLM
// from the conversation's summary and the user's local time of day, sent only from the global
// send budget's spare tokens (so it never delays a reply to someone talking), claimed before it
// is sent and resolved with the outcome (a crash in between never sends it twice).
#pragma once

#include "engine/asio.hpp"
#include "engine/time.hpp"
#include "pipelines/profile.hpp"
#include "pipelines/sender.hpp"
#include "pipelines/services.hpp"
#include "storage/checkins.hpp"
#include "storage/conversation.hpp"
#include "storage/users.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace companion::pipelines {

struct checkins_config {
    bool enabled = false; ///< off: nobody is asked, nothing is sent (the users' choices are kept)
    /// The opt-in question comes after the user has been chatting this long (since first contact).
    engine::duration ask_after = std::chrono::hours(72);
    /// She writes after the user has been quiet this long (and this long after her last check-in).
    engine::duration quiet_after = std::chrono::hours(48);
    int per_week = 2;   ///< at most this many check-ins in any 7 days
    int day_starts = 9; ///< the local hour from which she may write (inclusive, 0-23)
    int day_ends = 21;  ///< the local hour until which she may write (exclusive, 1-24)
    engine::duration every = std::chrono::seconds(60); ///< how often the pass looks for due users
    /// A check-in the LLM or Telegram could not make is tried again this much later.
    engine::duration retry_after = std::chrono::hours(1);
    int batch = 20; ///< at most this many users per pass
    /// While the bot is busy, a check-in waits this long between looks for spare send capacity.
    engine::duration spare_probe = std::chrono::milliseconds(250);
};

/// What the plan needs to know about one user.
struct checkin_facts {
    bool opted_in = false;
    bool blocked = false;     ///< Telegram answered 403: nothing is sent until they write again
    bool has_persona = false; ///< nobody to write as until they pick one
    storage::timestamp last_seen{};
    std::vector<storage::timestamp> recent{}; ///< check-ins in the last 7 days, oldest first
    int utc_offset = 0;                       ///< the user's time zone, minutes east of UTC
};

/// What to do with a user who is due for a look.
struct checkin_plan {
    enum class kind {
        send, ///< write now
        wait, ///< look again at `at`
        stop, ///< never (until they opt in again)
    };
    kind what = kind::stop;
    storage::timestamp at{};
    std::string_view why{};

    bool operator==(const checkin_plan&) const = default;
};

checkin_plan plan_checkin(const checkins_config& cfg, const checkin_facts& f, storage::timestamp now);

/// The earliest instant at or after `t` inside the allowed hours of a user at `utc_offset`.
storage::timestamp next_daytime(const checkins_config& cfg, storage::timestamp t, int utc_offset);

/// Whether to ask the opt-in question now: check-ins are on, the question was never asked, the
/// user has not opted in already and has been chatting for ask_after.
bool should_ask_checkins(const checkins_config& cfg,
                         const storage::user& u,
                         const storage::checkin_settings& s,
                         storage::timestamp now);

/// The time zone guessed from the language, minutes east of UTC: Turkish and Russian speakers
/// are most often at UTC+3 (Istanbul, Moscow), English speakers at UTC.
int guess_utc_offset(std::string_view lang) noexcept;
/// The user's offset: the one they set, else the guess.
int utc_offset_of(const storage::checkin_settings& s, std::string_view lang) noexcept;
/// `current` moved by `delta` minutes, kept within UTC-12..UTC+14.
int shift_offset(int current, int delta) noexcept;

/// The local wall clock at `t` for a user at `utc_offset`.
struct local_clock {
    int hour = 0;
    int minute = 0;
    unsigned weekday = 0; ///< 0 Sunday .. 6 Saturday
};
local_clock local_time(storage::timestamp t, int utc_offset) noexcept;
/// "morning" (5-11), "afternoon" (12-17), "evening" (18-22) or "night".
std::string_view part_of_day(int hour) noexcept;
/// "UTC+3", "UTC-5:30", "UTC".
std::string offset_label(int utc_offset);
/// "14:05".
std::string clock_label(const local_clock& t);

struct checkin_stats {
    std::uint64_t sent = 0;
    std::uint64_t skipped_llm = 0; ///< passes cut short by an LLM that failed
    std::uint64_t failed = 0;      ///< sends that failed (tried again later)
    std::uint64_t blocked = 0;     ///< sends answered 403
    std::uint64_t asked = 0;       ///< opt-in questions asked
};

class checkins {
public:
    /// `svc` and `out` must outlive it.
    checkins(bot_services& svc, sender& out, checkins_config cfg);

    bool enabled() const noexcept { return cfg_.enabled; }
    const checkins_config& config() const noexcept { return cfg_; }

    /// Runs a pass every `every` until cancelled (a transient storage fault skips one pass).
    /// Returns at once when check-ins are off.
    engine::awaitable<void> run();
    /// One pass over the users due now; returns the check-ins sent. The first pass (and the
    /// first after a fault) settles claims left unresolved: counted as sent, never sent again.
    /// An LLM failure ends the pass
    /// (the others wait for the next one: an outage costs one request a pass, not a storm).
    engine::awaitable<int> pass();

    /// After a chat turn: asks the opt-in question once, when should_ask_checkins says so.
    engine::awaitable<void> maybe_ask(const user_context& c);
    /// The check-in part of /settings (none when check-ins are off).
    std::optional<settings_section> section(const user_context& c);
    /// A button (the opt-in question's or /settings'): stores the choice and confirms it.
    engine::awaitable<void> set(const user_context& c, const std::string& callback_id, bool on);
    /// /stop: no more check-ins, at once.
    engine::awaitable<void> stop(const user_context& c);
    /// A /settings clock button: the user's time zone moved by `minutes`; the new local time is
    /// shown so they can check it.
    engine::awaitable<void> shift_clock(const user_context& c, const std::string& callback_id, int minutes);

    const checkin_stats& stats() const noexcept { return stats_; }

private:
    enum class outcome { sent, not_sent, llm_failed };
    engine::awaitable<outcome> visit(std::int64_t user_id, storage::timestamp now);
    /// The message, or empty when the LLM failed or wrote nothing.
    engine::awaitable<std::string>
    write(const storage::user& u, const persona& p, const checkin_facts& f, storage::timestamp now);
    checkin_facts facts_of(const storage::user& u, storage::timestamp now);
    engine::awaitable<void> say(const user_context& c, std::string text);
    void reschedule(std::int64_t user_id, std::optional<storage::timestamp> due);

    bot_services& svc_;
    sender& out_;
    checkins_config cfg_;
    storage::checkin_repository repo_;
    storage::user_repository users_;
    storage::conversation_repository turns_;
    checkin_stats stats_;
    bool settle_claims_ = true; ///< the next pass first settles claims left unresolved
};

} // namespace companion::pipelines
