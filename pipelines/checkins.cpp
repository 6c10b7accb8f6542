// Check-ins: the plan, the opt-in question and settings, and the pass that writes first.
#include "pipelines/checkins.hpp"

#include "engine/log.hpp"
#include "pipelines/prompts.hpp"
#include "storage/error.hpp"

#include <algorithm>
#include <cstdlib>
#include <exception>

namespace companion::pipelines {

namespace oa = net::openai;
using namespace std::chrono_literals;

namespace {

constexpr int min_offset = -12 * 60;
constexpr int max_offset = 14 * 60;
constexpr auto week = std::chrono::days(7);

/// A configured span on the wall clock's millisecond grid.
std::chrono::milliseconds ms(engine::duration d) noexcept {
    return std::chrono::duration_cast<std::chrono::milliseconds>(d);
}

int minutes_of_day(storage::timestamp t, int utc_offset) noexcept {
    const auto local = t + std::chrono::minutes(utc_offset);
    const auto since_midnight = local - std::chrono::floor<std::chrono::days>(local);
    return static_cast<int>(std::chrono::duration_cast<std::chrono::minutes>(since_midnight).count());
}

} // namespace

storage::timestamp next_daytime(const checkins_config& cfg, storage::timestamp t, int utc_offset) {
    if (cfg.day_starts <= 0 && cfg.day_ends >= 24) {
        return t; // the whole day is allowed
    }
    const auto local = t + std::chrono::minutes(utc_offset);
    const auto midnight = std::chrono::floor<std::chrono::days>(local);
    const auto opens = midnight + std::chrono::hours(cfg.day_starts);
    const auto closes = midnight + std::chrono::hours(cfg.day_ends);
    storage::timestamp at = local;
    if (local < opens) {
        at = opens; // before the day starts: when it starts
    } else if (local >= closes) {
        at = opens + std::chrono::days(1); // after it ends: when the next one starts
    }
    return at - std::chrono::minutes(utc_offset);
}

checkin_plan plan_checkin(const checkins_config& cfg, const checkin_facts& f, storage::timestamp now) {
    using kind = checkin_plan::kind;
    if (!cfg.enabled || !f.opted_in || cfg.per_week <= 0) {
        return {kind::stop, {}, "not wanted"};
    }
    if (f.blocked) {
        // Nothing goes to a user who blocked the bot; a look now and then finds them back once
        // they write again (which clears the flag).
        return {kind::wait, now + ms(cfg.quiet_after), "blocked"};
    }
    if (!f.has_persona) {
        return {kind::wait, now + ms(cfg.quiet_after), "no persona"};
    }
    // Quiet for quiet_after since the user's last message and since her last check-in.
    storage::timestamp earliest = f.last_seen + ms(cfg.quiet_after);
    std::string_view why = "quiet";
    if (!f.recent.empty()) {
        const auto after_last = f.recent.back() + ms(cfg.quiet_after);
        if (after_last > earliest) {
            earliest = after_last;
            why = "after her last";
        }
    }
    // At most per_week in any 7 days: the next waits until the oldest of the last per_week is a
    // week old.
    if (f.recent.size() >= static_cast<std::size_t>(cfg.per_week)) {
        const auto freed = f.recent[f.recent.size() - static_cast<std::size_t>(cfg.per_week)] + week;
        if (freed > earliest) {
            earliest = freed;
            why = "weekly cap";
        }
    }
    const auto at = next_daytime(cfg, std::max(earliest, now), f.utc_offset);
    if (at <= now) {
        return {kind::send, now, "due"};
    }
    if (at > std::max(earliest, now)) {
        why = "night";
    }
    return {kind::wait, at, why};
}

bool should_ask_checkins(const checkins_config& cfg,
                         const storage::user& u,
                         const storage::checkin_settings& s,
                         storage::timestamp now) {
    return cfg.enabled && !s.asked && !s.opted_in && !u.blocked_bot && now - u.created >= ms(cfg.ask_after);
}

int guess_utc_offset(std::string_view lang) noexcept {
    if (lang == "tr" || lang == "ru") {
        return 180;
    }
    return 0;
}

int utc_offset_of(const storage::checkin_settings& s, std::string_view lang) noexcept {
    return s.utc_offset ? *s.utc_offset : guess_utc_offset(lang);
}

int shift_offset(int current, int delta) noexcept {
    return std::clamp(current + delta, min_offset, max_offset);
}

local_clock local_time(storage::timestamp t, int utc_offset) noexcept {
    const int minutes = minutes_of_day(t, utc_offset);
    const auto day = std::chrono::floor<std::chrono::days>(t + std::chrono::minutes(utc_offset));
    return {.hour = minutes / 60,
            .minute = minutes % 60,
            .weekday = std::chrono::weekday(std::chrono::sys_days(day)).c_encoding()};
}

std::string_view part_of_day(int hour) noexcept {
    if (hour >= 5 && hour < 12) {
        return "morning";
    }
    if (hour >= 12 && hour < 18) {
        return "afternoon";
    }
    if (hour >= 18 && hour < 23) {
        return "evening";
    }
    return "night";
}

std::string offset_label(int utc_offset) {
    if (utc_offset == 0) {
        return "UTC";
    }
    const int a = std::abs(utc_offset);
    std::string s = std::string("UTC") + (utc_offset < 0 ? "-" : "+") + std::to_string(a / 60);
    if (a % 60 != 0) {
        s += ":" + std::string(a % 60 < 10 ? "0" : "") + std::to_string(a % 60);
    }
    return s;
}

std::string clock_label(const local_clock& t) {
    std::string s = std::to_string(t.hour) + ":";
    if (t.minute < 10) {
        s += "0";
    }
    return s + std::to_string(t.minute);
}

checkins::checkins(bot_services& svc, sender& out, checkins_config cfg)
    : svc_(svc), out_(out), cfg_(cfg), repo_(svc.db), users_(svc.db), turns_(svc.db) {}

engine::awaitable<void> checkins::run() {
    if (!cfg_.enabled) {
        co_return;
    }
    for (;;) {
        std::exception_ptr fault;
        try {
            const int sent = co_await pass();
            if (sent > 0) {
                engine::log().info("checkins.pass", {{"sent", sent}});
            }
        } catch (...) {
            fault = std::current_exception();
        }
        if (fault) {
            if (engine::is_cancellation(fault) || !storage::is_transient(fault)) {
                // A stop, or a storage fault that needs an operator (the bot's next write meets
                // it too and ends the process): check-ins end here.
                std::rethrow_exception(fault);
            }
            // A lock or a full disk goes away by itself: the next pass tries again, and what a
            // claim left "sending" counts as sent (never twice).
            engine::log().warn("checkins.storage_fault", {{"error", engine::describe(fault)}});
            settle_claims_ = true;
        }
        co_await svc_.time.sleep(cfg_.every);
    }
}

engine::awaitable<int> checkins::pass() {
    const auto now = svc_.time.wall();
    if (settle_claims_) {
        // A claim still "sending" when no visit is in flight was cut off between the claim and
        // the outcome (a crash, or a storage fault): the message may have arrived, so it counts
        // as sent and is never sent again, and the user goes back on the schedule.
        if (const int unknown = repo_.recover_after_crash(now); unknown > 0) {
            engine::log().warn("checkins.unknown_outcome", {{"count", unknown}});
        }
        settle_claims_ = false;
    }
    int sent = 0;
    for (const auto user_id : repo_.due(now, cfg_.batch)) {
        const auto what = co_await visit(user_id, now);
        if (what == outcome::sent) {
            ++sent;
        } else if (what == outcome::llm_failed) {
            // The LLM is likely down: the rest wait for the next pass (one request a pass while
            // it is down, never a storm).
            ++stats_.skipped_llm;
            break;
        }
    }
    co_return sent;
}

checkin_facts checkins::facts_of(const storage::user& u, storage::timestamp now) {
    const auto s = repo_.settings(u.telegram_id);
    return {.opted_in = s.opted_in,
            .blocked = u.blocked_bot,
            .has_persona = u.persona_id && svc_.personas.find(*u.persona_id) != nullptr,
            .last_seen = u.last_seen,
            .recent = repo_.sent_since(u.telegram_id, now - week),
            .utc_offset = utc_offset_of(s, u.language)};
}

void checkins::reschedule(std::int64_t user_id, std::optional<storage::timestamp> due) {
    repo_.reschedule(user_id, due);
}

engine::awaitable<checkins::outcome> checkins::visit(std::int64_t user_id, storage::timestamp now) {
    const auto u = users_.get(user_id);
    if (!u) {
        reschedule(user_id, std::nullopt);
        co_return outcome::not_sent;
    }
    const auto facts = facts_of(*u, now);
    const auto plan = plan_checkin(cfg_, facts, now);
    if (plan.what == checkin_plan::kind::stop) {
        reschedule(user_id, std::nullopt);
        co_return outcome::not_sent;
    }
    if (plan.what == checkin_plan::kind::wait) {
        engine::log().debug("checkins.wait", {{"user", user_id}, {"why", plan.why}});
        reschedule(user_id, plan.at);
        co_return outcome::not_sent;
    }
    const persona& p = *svc_.personas.find(*u->persona_id); // has_persona checked it
    std::string text = co_await write(*u, p, facts, now);
    if (text.empty()) {
        reschedule(user_id, now + ms(cfg_.retry_after));
        co_return outcome::llm_failed;
    }
    // Only from spare send capacity: a reply to someone talking never waits for a check-in.
    while (!out_.has_spare(user_id)) {
        co_await svc_.time.sleep(cfg_.spare_probe);
    }
    // The user may have written, turned check-ins off or blocked the bot while she wrote.
    const auto fresh = users_.get(user_id);
    const auto settings = repo_.settings(user_id);
    if (!fresh || !settings.opted_in || fresh->blocked_bot || fresh->last_seen != u->last_seen) {
        if (fresh && settings.opted_in) {
            reschedule(user_id, svc_.time.wall());
        }
        co_return outcome::not_sent;
    }
    const auto at = svc_.time.wall();
    const auto claim = repo_.claim(user_id, at);
    auto sent = co_await out_.text(user_id, text); // a private chat's id is the user's
    if (sent) {
        repo_.resolve(claim, storage::checkin_outcome::sent);
        ++stats_.sent;
        // Remembered as said: the user's answer continues from it.
        turns_.append(user_id, p.id, storage::speaker::assistant, text, at);
        auto after = facts;
        after.recent.push_back(at);
        const auto next = plan_checkin(cfg_, after, at);
        reschedule(user_id, next.what == checkin_plan::kind::stop ? std::nullopt : std::optional(next.at));
        engine::log().info("checkins.sent", {{"user", user_id}});
        co_return outcome::sent;
    }
    if (sent.error().reason == send_failure_reason::blocked) {
        // The sender marked the user as having blocked the bot; nothing more goes to them.
        repo_.resolve(claim, storage::checkin_outcome::blocked);
        ++stats_.blocked;
        reschedule(user_id, at + ms(cfg_.quiet_after));
    } else {
        // Telegram was down or refused it: nothing arrived, so it does not count; later again.
        repo_.resolve(claim, storage::checkin_outcome::failed);
        ++stats_.failed;
        reschedule(user_id, at + ms(cfg_.retry_after));
    }
    engine::log().info("checkins.not_sent", {{"user", user_id}, {"reason", to_string(sent.error().reason)}});
    co_return outcome::not_sent;
}

engine::awaitable<std::string>
checkins::write(const storage::user& u, const persona& p, const checkin_facts& f, storage::timestamp now) {
    const auto summary = turns_.summary(u.telegram_id, p.id);
    oa::chat_request req;
    req.messages.push_back(
        {oa::role::system, chat_system_prompt(p, u.language, summary ? summary->text : "")});
    for (const auto& t : turns_.last_turns(u.telegram_id, p.id, 6)) {
        req.messages.push_back(
            {t.role == storage::speaker::user ? oa::role::user : oa::role::assistant, t.text});
    }
    const auto clock = local_time(now, f.utc_offset);
    const auto quiet = std::chrono::duration_cast<std::chrono::hours>(now - f.last_seen);
    req.messages.push_back(
        {oa::role::system,
         checkin_instruction(u.language, part_of_day(clock.hour), clock_label(clock), quiet)});
    auto r = co_await svc_.llm.complete(std::move(req));
    if (!r) {
        engine::log().warn("checkins.llm_failed", {{"user", u.telegram_id}, {"error", r.error().message()}});
        co_return std::string{};
    }
    if (!r->content || r->content->empty()) {
        engine::log().warn("checkins.llm_empty", {{"user", u.telegram_id}});
        co_return std::string{};
    }
    co_return truncate_chars(*r->content, 1000);
}

engine::awaitable<void> checkins::say(const user_context& c, std::string text) {
    auto sent = co_await out_.text(c.chat_id, std::move(text));
    if (!sent) {
        engine::log().info("checkins.reply_not_sent",
                           {{"user", c.user_id}, {"reason", to_string(sent.error().reason)}});
    }
}

engine::awaitable<void> checkins::maybe_ask(const user_context& c) {
    if (!cfg_.enabled || c.p == nullptr) {
        co_return;
    }
    const auto now = svc_.time.wall();
    if (!should_ask_checkins(cfg_, c.user, repo_.settings(c.user_id), now)) {
        co_return;
    }
    if (!repo_.mark_asked(c.user_id, now)) {
        co_return; // asked already (the settings just read are older)
    }
    ++stats_.asked;
    const auto& l = svc_.locales;
    tg::inline_keyboard kb;
    kb.button(l.text(c.lang, "checkin.yes"), "chk:on").button(l.text(c.lang, "checkin.no"), "chk:off");
    std::optional<boost::json::value> markup;
    if (auto built = kb.build()) {
        markup = std::move(*built);
    }
    std::string question = l.text(c.lang, "checkin.ask", {{"name", c.p->name_in(c.lang)}});
    auto sent = co_await out_.text(c.chat_id, std::move(question), std::move(markup));
    if (!sent) {
        // Asked once: a question that did not arrive is not asked again (/settings still has it).
        engine::log().info("checkins.question_not_sent",
                           {{"user", c.user_id}, {"reason", to_string(sent.error().reason)}});
    }
}

std::optional<settings_section> checkins::section(const user_context& c) {
    if (!cfg_.enabled) {
        return std::nullopt;
    }
    const auto& l = svc_.locales;
    const auto s = repo_.settings(c.user_id);
    const int offset = utc_offset_of(s, c.lang);
    const auto clock = local_time(svc_.time.wall(), offset);
    settings_section out;
    out.text = l.text(c.lang,
                      s.opted_in ? "settings.checkins_on" : "settings.checkins_off",
                      {{"time", clock_label(clock)}, {"zone", offset_label(offset)}});
    out.rows.push_back({s.opted_in
                            ? std::pair{l.text(c.lang, "settings.to_checkins_off"), std::string("chk:off")}
                            : std::pair{l.text(c.lang, "settings.to_checkins_on"), std::string("chk:on")}});
    out.rows.push_back({{l.text(c.lang, "settings.clock_back"), "tz:-60"},
                        {l.text(c.lang, "settings.clock_ahead"), "tz:+60"}});
    return out;
}

engine::awaitable<void> checkins::set(const user_context& c, const std::string& callback_id, bool on) {
    co_await out_.answer(callback_id);
    if (!cfg_.enabled) {
        std::string off = svc_.locales.text(c.lang, "checkin.unavailable");
        co_await say(c, std::move(off));
        co_return;
    }
    // Turned on: due for a look now (the plan then waits for the user to be quiet); off: at once,
    // nothing planned, and a check-in being written is dropped before it is claimed.
    repo_.set_opted_in(c.user_id, on, svc_.time.wall());
    engine::log().info("checkins.choice", {{"user", c.user_id}, {"on", on}});
    std::string text =
        on ? svc_.locales.text(c.lang, "checkin.on", {{"per_week", std::to_string(cfg_.per_week)}})
           : svc_.locales.text(c.lang, "checkin.off");
    co_await say(c, std::move(text));
}

engine::awaitable<void> checkins::stop(const user_context& c) {
    repo_.set_opted_in(c.user_id, false, svc_.time.wall());
    engine::log().info("checkins.choice", {{"user", c.user_id}, {"on", false}});
    std::string text = svc_.locales.text(c.lang, "checkin.off");
    co_await say(c, std::move(text));
}

engine::awaitable<void>
checkins::shift_clock(const user_context& c, const std::string& callback_id, int minutes) {
    co_await out_.answer(callback_id);
    const auto s = repo_.settings(c.user_id);
    const int offset = shift_offset(utc_offset_of(s, c.lang), minutes);
    repo_.set_utc_offset(c.user_id, offset);
    // The plan moves with the clock: a check-in waiting for the morning may be due now.
    reschedule(c.user_id, svc_.time.wall());
    const auto clock = local_time(svc_.time.wall(), offset);
    std::string text = svc_.locales.text(c.lang,
                                         "settings.clock",
                                         {{"time", clock_label(clock)}, {"zone", offset_label(offset)}});
    co_await say(c, std::move(text));
}

} // namespace companion::pipelines
