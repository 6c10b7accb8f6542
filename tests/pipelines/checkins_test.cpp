// Check-ins (issue 21): the plan as a table on virtual time (quiet long enough, at most N a week,
// never at night in the user's time zone, nothing to a user who blocked the bot), the opt-in
// question's rule, the time-zone helpers, and the unit's pass on the fakes: one check-in to a
// quiet user who opted in, none to one who did not, an LLM outage skipped without a storm, a 403
// that stops them, and a claim left by a crash that is never sent again.
#include "pipelines/checkins.hpp"
#include "storage/checkins.hpp"
#include "storage/conversation.hpp"
#include "storage/users.hpp"
#include "tests/common/services.hpp"

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <ostream>

using namespace companion;
using namespace companion::pipelines;
using namespace companion::test;
using namespace std::chrono_literals;
using storage::timestamp;
using kind = checkin_plan::kind;

namespace {

// Wednesday 2026-12-02, 12:00 UTC.
const timestamp noon = timestamp{std::chrono::sys_days{std::chrono::year{2026} / 12 / 2}} + 12h;

const checkins_config cfg{.enabled = true,
                          .quiet_after = 48h,
                          .per_week = 2,
                          .day_starts = 9,
                          .day_ends = 21};

checkin_facts quiet_for(engine::duration d, int offset = 0) {
    return {.opted_in = true,
            .blocked = false,
            .has_persona = true,
            .last_seen = noon - std::chrono::duration_cast<std::chrono::milliseconds>(d),
            .recent = {},
            .utc_offset = offset};
}

checkin_facts with_recent(checkin_facts f, std::vector<timestamp> recent) {
    f.recent = std::move(recent);
    return f;
}

struct plan_case {
    const char* name;
    checkin_facts facts;
    checkin_plan expected;
};

std::ostream& operator<<(std::ostream& os, const plan_case& c) {
    return os << c.name;
}

const std::vector<plan_case> plan_cases{
    {"quiet for long enough at noon", quiet_for(72h), {kind::send, noon, "due"}},
    {"quiet exactly long enough", quiet_for(48h), {kind::send, noon, "due"}},
    {"not quiet long enough yet", quiet_for(47h), {kind::wait, noon + 1h, "quiet"}},
    {"did not opt in",
     [] {
         auto f = quiet_for(72h);
         f.opted_in = false;
         return f;
     }(),
     {kind::stop, {}, "not wanted"}},
    {"blocked the bot",
     [] {
         auto f = quiet_for(72h);
         f.blocked = true;
         return f;
     }(),
     {kind::wait, noon + 48h, "blocked"}},
    {"no persona picked",
     [] {
         auto f = quiet_for(72h);
         f.has_persona = false;
         return f;
     }(),
     {kind::wait, noon + 48h, "no persona"}},
    // UTC+10: 22:00 there, so the next 09:00 there (23:00 UTC).
    {"night where the user is", quiet_for(72h, 600), {kind::wait, noon + 11h, "night"}},
    // UTC-5: 07:00 there, so 09:00 there (14:00 UTC).
    {"before the day starts there", quiet_for(72h, -300), {kind::wait, noon + 2h, "night"}},
    // UTC+9: 21:00 there, the window's end is exclusive.
    {"the day's last hour is over", quiet_for(72h, 540), {kind::wait, noon + 12h, "night"}},
    // UTC-3: 09:00 there, the window's start is inclusive.
    {"the day has just started", quiet_for(72h, -180), {kind::send, noon, "due"}},
    {"half-hour zones", quiet_for(72h, 330), {kind::send, noon, "due"}},
    // Due at 22:00 UTC+3 tonight: waits for the morning.
    {"due at night", quiet_for(41h, 180), {kind::wait, noon + 18h, "night"}},
    {"her last check-in was yesterday",
     with_recent(quiet_for(120h), {noon - 24h}),
     {kind::wait, noon + 24h, "after her last"}},
    {"her last check-in was three days ago",
     with_recent(quiet_for(240h), {noon - 72h}),
     {kind::send, noon, "due"}},
    {"two this week already",
     with_recent(quiet_for(240h), {noon - 144h, noon - 72h}),
     {kind::wait, noon + 24h, "weekly cap"}},
    {"the week's first has just aged out",
     with_recent(quiet_for(240h), {noon - 168h, noon - 72h}),
     {kind::send, noon, "due"}},
};

BOOST_DATA_TEST_CASE(plans, boost::unit_test::data::make(plan_cases), c) {
    const auto got = plan_checkin(cfg, c.facts, noon);
    BOOST_TEST(static_cast<int>(got.what) == static_cast<int>(c.expected.what));
    BOOST_TEST((got.at == c.expected.at));
    BOOST_TEST(got.why == c.expected.why);
}

BOOST_AUTO_TEST_CASE(nothing_is_planned_while_check_ins_are_off) {
    auto off = cfg;
    off.enabled = false;
    BOOST_TEST((plan_checkin(off, quiet_for(72h), noon).what == kind::stop));
}

BOOST_AUTO_TEST_CASE(a_whole_day_window_never_waits_for_the_morning) {
    auto always = cfg;
    always.day_starts = 0;
    always.day_ends = 24;
    BOOST_TEST((next_daytime(always, noon + 3h, 600) == noon + 3h));
    BOOST_TEST((plan_checkin(always, quiet_for(72h, 600), noon).what == kind::send));
}

struct ask_case {
    const char* name;
    bool enabled;
    engine::duration chatting;
    bool asked;
    bool opted_in;
    bool blocked;
    bool expected;
};

std::ostream& operator<<(std::ostream& os, const ask_case& c) {
    return os << c.name;
}

const std::vector<ask_case> ask_cases{
    {"after three days of chatting", true, 72h, false, false, false, true},
    {"too early", true, 71h, false, false, false, false},
    {"asked before", true, 100h, true, false, false, false},
    {"already opted in from /settings", true, 100h, false, true, false, false},
    {"blocked the bot", true, 100h, false, false, true, false},
    {"check-ins are off", false, 100h, false, false, false, false},
};

BOOST_DATA_TEST_CASE(the_opt_in_question, boost::unit_test::data::make(ask_cases), c) {
    auto ask = cfg;
    ask.enabled = c.enabled;
    ask.ask_after = 72h;
    storage::user u;
    u.created = noon - std::chrono::duration_cast<std::chrono::milliseconds>(c.chatting);
    u.blocked_bot = c.blocked;
    storage::checkin_settings s;
    s.opted_in = c.opted_in;
    if (c.asked) {
        s.asked = noon - 1h;
    }
    BOOST_TEST(should_ask_checkins(ask, u, s, noon) == c.expected);
}

BOOST_AUTO_TEST_CASE(time_zones_are_guessed_set_shifted_and_shown) {
    BOOST_TEST(guess_utc_offset("tr") == 180);
    BOOST_TEST(guess_utc_offset("ru") == 180);
    BOOST_TEST(guess_utc_offset("en") == 0);
    storage::checkin_settings set;
    BOOST_TEST(utc_offset_of(set, "ru") == 180);
    set.utc_offset = -300;
    BOOST_TEST(utc_offset_of(set, "ru") == -300);
    BOOST_TEST(shift_offset(180, 60) == 240);
    BOOST_TEST(shift_offset(840, 60) == 840);    // UTC+14 is the last
    BOOST_TEST(shift_offset(-720, -60) == -720); // UTC-12 the first
    BOOST_TEST(offset_label(0) == "UTC");
    BOOST_TEST(offset_label(180) == "UTC+3");
    BOOST_TEST(offset_label(-330) == "UTC-5:30");
    BOOST_TEST(offset_label(345) == "UTC+5:45");
    const auto moscow = local_time(noon, 180);
    BOOST_TEST(moscow.hour == 15);
    BOOST_TEST(moscow.minute == 0);
    BOOST_TEST(moscow.weekday == 3U); // Wednesday
    const auto tokyo_night = local_time(noon + 15h + 5min, 540);
    BOOST_TEST(clock_label(tokyo_night) == "12:05");
    BOOST_TEST(tokyo_night.weekday == 4U); // already Thursday there
    BOOST_TEST(clock_label(local_time(noon, -720)) == "0:00");
    BOOST_TEST(part_of_day(8) == "morning");
    BOOST_TEST(part_of_day(14) == "afternoon");
    BOOST_TEST(part_of_day(20) == "evening");
    BOOST_TEST(part_of_day(2) == "night");
}

// The unit on the fakes. The virtual wall clock starts on Monday 2025-12-01 at 00:00 UTC.
constexpr std::int64_t quiet_user = 501;
constexpr std::int64_t other_user = 502;

struct checkins_world : services_world {
    sender out{telegram, time, sender_config{}};
    checkins_config unit_cfg{.enabled = true,
                             .ask_after = 72h,
                             .quiet_after = 48h,
                             .per_week = 2,
                             .day_starts = 9,
                             .day_ends = 21};
    std::unique_ptr<checkins> unit = std::make_unique<checkins>(svc, out, unit_cfg);
    storage::checkin_repository repo{db};
    storage::user_repository users{db};

    checkins_world() {
        for (const auto id : {quiet_user, other_user}) {
            users.record_contact(id, "en", false, time.wall());
            BOOST_TEST_REQUIRE(users.set_persona(id, std::string("emma")).has_value());
        }
    }

    int pass() {
        auto p = spawn(unit->pass());
        BOOST_TEST_REQUIRE(advance_until([&] { return p->done; }, 1min));
        if (p->error) {
            std::rethrow_exception(p->error);
        }
        return p->value.value_or(-1);
    }

    /// Moves virtual time by `d` and runs a pass.
    int pass_after(engine::duration d) {
        advance(d);
        return pass();
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(checkins_unit)

BOOST_FIXTURE_TEST_CASE(a_quiet_user_who_opted_in_gets_one_in_the_day_and_one_who_did_not_none,
                        checkins_world) {
    const auto monday = time.wall();
    repo.set_opted_in(quiet_user, true, monday);
    BOOST_TEST(pass() == 0); // not quiet yet: planned for when they will be
    const auto planned = repo.settings(quiet_user).next_due;
    BOOST_TEST_REQUIRE(planned.has_value());
    BOOST_TEST((*planned == monday + 48h + 9h)); // Wednesday 00:00 is night: 09:00
    BOOST_TEST(pass_after(48h) == 0);            // due, but night in London
    BOOST_TEST(pass_after(9h) == 1);
    const auto sent = telegram.texts_to(quiet_user);
    BOOST_TEST_REQUIRE(sent.size() == 1U);
    BOOST_TEST(telegram.texts_to(other_user).empty());
    // The LLM was told the user's local time of day and wrote as her.
    BOOST_TEST_REQUIRE(!llm.requests.empty());
    BOOST_TEST(llm.requests.back().messages.back().content.find("morning where they are (9:00)") !=
               std::string::npos);
    // Remembered as her turn: the user's answer continues from it.
    storage::conversation_repository turns{db};
    const auto last = turns.last_turns(quiet_user, "emma", 1);
    BOOST_TEST_REQUIRE(last.size() == 1U);
    BOOST_TEST(last.front().text == sent.front());
    BOOST_TEST(pass_after(1h) == 0); // one, not a stream of them
    BOOST_TEST(unit->stats().sent == 1U);
}

BOOST_FIXTURE_TEST_CASE(an_llm_outage_skips_the_pass_without_a_storm, checkins_world) {
    repo.set_opted_in(quiet_user, true, time.wall());
    repo.set_opted_in(other_user, true, time.wall());
    advance(57h);
    net::api_error down;
    down.kind = net::api_error_kind::server;
    llm.answers.push_back(down);
    const auto before = llm.requests.size();
    BOOST_TEST(pass() == 0);
    BOOST_TEST(llm.requests.size() == before + 1); // one request for the pass, not one per user
    BOOST_TEST(unit->stats().skipped_llm == 1U);
    BOOST_TEST(telegram.calls.empty());
    BOOST_TEST(pass() == 1); // the other user's turn came; the first waits retry_after
    BOOST_TEST(pass_after(1h) == 1);
    BOOST_TEST(telegram.texts_to(quiet_user).size() == 1U);
    BOOST_TEST(telegram.texts_to(other_user).size() == 1U);
}

BOOST_FIXTURE_TEST_CASE(a_user_who_blocked_the_bot_gets_nothing_more, checkins_world) {
    repo.set_opted_in(quiet_user, true, time.wall());
    advance(57h);
    telegram.fail("sendMessage", telegram_error(net::telegram::error_kind::forbidden));
    BOOST_TEST(pass() == 0);
    BOOST_TEST(unit->stats().blocked == 1U);
    BOOST_TEST(repo.count(storage::checkin_outcome::blocked, time.wall() - 1h) == 1);
    BOOST_TEST(repo.sent_since(quiet_user, time.wall() - 1h).empty()); // nothing reached them
    BOOST_TEST_REQUIRE(users.set_blocked_bot(quiet_user, true).has_value());
    const auto calls = telegram.calls.size();
    BOOST_TEST(pass_after(72h) == 0);
    BOOST_TEST(telegram.calls.size() == calls); // not even tried
}

BOOST_FIXTURE_TEST_CASE(turned_off_means_none_even_when_due, checkins_world) {
    repo.set_opted_in(quiet_user, true, time.wall());
    advance(57h);
    repo.set_opted_in(quiet_user, false, time.wall());
    BOOST_TEST(pass() == 0);
    BOOST_TEST(telegram.calls.empty());
}

BOOST_FIXTURE_TEST_CASE(a_claim_a_crash_left_is_never_sent_again, checkins_world) {
    repo.set_opted_in(quiet_user, true, time.wall());
    advance(57h);
    [[maybe_unused]] const auto claimed = repo.claim(quiet_user, time.wall()); // then the process died
    BOOST_TEST(repo.recover_after_crash(time.wall()) == 1);
    BOOST_TEST(pass() == 0); // it may have arrived: it counts, and the next waits its turn
    BOOST_TEST(telegram.calls.empty());
    BOOST_TEST(pass_after(47h) == 0);
    BOOST_TEST(pass_after(1h) == 1);
}

BOOST_FIXTURE_TEST_CASE(the_question_is_asked_once_after_days_of_chatting, checkins_world) {
    user_context c;
    c.chat_id = c.user_id = quiet_user;
    c.lang = "ru";
    c.p = personas.find("masha");
    c.user = *users.get(quiet_user);
    auto early = spawn(unit->maybe_ask(c));
    BOOST_TEST_REQUIRE(advance_until([&] { return early->done; }, 5s));
    BOOST_TEST(telegram.calls.empty());
    advance(72h);
    for (int i = 0; i < 2; ++i) {
        auto asked = spawn(unit->maybe_ask(c));
        BOOST_TEST_REQUIRE(advance_until([&] { return asked->done; }, 5s));
    }
    const auto sent = telegram.texts_to(quiet_user);
    BOOST_TEST_REQUIRE(sent.size() == 1U);
    BOOST_TEST(sent.front() == locales.text("ru", "checkin.ask", {{"name", c.p->name_in("ru")}}));
    BOOST_TEST(unit->stats().asked == 1U);
    BOOST_TEST(!repo.settings(quiet_user).opted_in); // asking is not saying yes
}

BOOST_AUTO_TEST_SUITE_END()
