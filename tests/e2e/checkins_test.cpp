// End-to-end test of check-ins (issue 21: she writes first, opt-in) in TR, RU and EN, the whole
// bot against the simulators over loopback. After a chat turn each user is asked once whether
// she may write first; some say yes, some no, one blocks the bot after saying yes. They all say
// it at night where they are, so nothing goes out; the bot restarts, and by then it is day for
// the users who said yes: each gets exactly one check-in, in the allowed hours, written by the
// LLM and remembered as her turn. Nobody who said no, nobody who blocked the bot and nobody for
// whom it is still night gets one.
#include "storage/checkins.hpp"
#include "storage/conversation.hpp"
#include "tests/e2e/world.hpp"

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <fstream>

using namespace companion;
using namespace companion::test;
using namespace std::chrono_literals;
using engine::awaitable;

namespace {

struct checkins_world : world {
    checkins_world() {
        cfg.checkins = {.enabled = true,
                        .ask_after = 0s, // asked after the first turn
                        .quiet_after = 2s,
                        .per_week = 1,
                        .day_starts = 9,
                        .day_ends = 21,
                        .every = 100ms,
                        .retry_after = 1s,
                        .batch = 20,
                        .spare_probe = 20ms};
    }
};

struct person {
    std::string lang;
    std::string persona;
    enum class role { yes, no, blocks, stays_at_night } does = role::yes;
    std::int64_t id = 0;
};

/// The UTC offset (minutes) that puts the user's clock at `local_hour` now, within UTC-12..+14.
int offset_for(int local_hour) {
    const auto now = std::chrono::system_clock::now();
    const auto since_midnight = now - std::chrono::floor<std::chrono::days>(now);
    const int utc_hour =
        static_cast<int>(std::chrono::duration_cast<std::chrono::hours>(since_midnight).count());
    int offset = (local_hour - utc_hour) * 60;
    if (offset < -720) {
        offset += 1440;
    } else if (offset > 840) {
        offset -= 1440;
    }
    return offset;
}

} // namespace

BOOST_AUTO_TEST_SUITE(checkins_e2e)

BOOST_FIXTURE_TEST_CASE(a_quiet_user_who_opted_in_gets_exactly_one_check_in_by_day_after_a_restart,
                        checkins_world) {
    test::run_test(ioc, [&]() -> awaitable<void> {
        co_await start();
        auto& t = sims->telegram();
        std::vector<person> people{{"tr", "elif", person::role::yes},
                                   {"ru", "masha", person::role::yes},
                                   {"en", "emma", person::role::yes},
                                   {"tr", "defne", person::role::no},
                                   {"ru", "masha", person::role::no},
                                   {"en", "aylin", person::role::blocks},
                                   {"ru", "masha", person::role::blocks},
                                   {"en", "emma", person::role::stays_at_night}};
        storage::checkin_repository checkins(*db);
        const int night = offset_for(3);
        for (auto& p : people) {
            BOOST_TEST_CONTEXT(p.lang << " " << p.persona) {
                p.id = t.add_user({.first_name = "C" + p.lang, .language_code = p.lang});
                co_await onboard(*this, p.id, p.persona);
                // Night where they are while they answer: nothing may go out before the restart.
                checkins.set_utc_offset(p.id, night);
                t.user_sends_text(p.id, "Hi, how was your day?");
                const auto name = personas.find(p.persona)->name_in(p.lang);
                const auto ask = locales.text(p.lang, "checkin.ask", {{"name", name}});
                auto question = co_await next(p.id, [&](const item& i) { return text(i) && i.text == ask; });
                BOOST_TEST_REQUIRE(question.has_value());
                BOOST_TEST(question->reply_markup.find("\"chk:on\"") != std::string::npos);
                const bool yes = p.does != person::role::no;
                t.user_presses_button(p.id, question->message_id, yes ? "chk:on" : "chk:off");
                const auto confirmed = yes ? locales.text(p.lang, "checkin.on", {{"per_week", "1"}})
                                           : locales.text(p.lang, "checkin.off");
                auto answer =
                    co_await next(p.id, [&](const item& i) { return text(i) && i.text == confirmed; });
                BOOST_TEST_REQUIRE(answer.has_value());
                BOOST_TEST(checkins.settings(p.id).opted_in == yes);
                if (p.does == person::role::blocks) {
                    t.user_blocks_bot(p.id);
                }
            }
        }
        // Asked once: another turn asks nothing.
        const auto first = people.front().id;
        t.user_sends_text(first, "Still there?");
        auto reply = co_await next(first, text);
        BOOST_TEST_REQUIRE(reply.has_value());
        BOOST_TEST(reply->reply_markup.find("chk:") == std::string::npos);
        const bool blocks_seen = co_await eventually([&] {
            storage::user_repository users(*db);
            for (const auto& p : people) {
                if (p.does == person::role::blocks && !users.get(p.id)->blocked_bot) {
                    return false;
                }
            }
            return true;
        });
        BOOST_TEST_REQUIRE(blocks_seen);
        // Every update done (its reply stored and the update marked processed, which may trail the
        // reply by a grouped commit) before the stop: a stop mid-update would have Telegram
        // deliver it again after the restart, and its reply would count twice below.
        const bool all_done = co_await eventually(
            [&] { return bot->stats().updates_processed == bot->stats().updates_received; });
        BOOST_TEST_REQUIRE(all_done);

        // The bot stops; while it is down the day comes for everyone but the last user.
        co_await stop_bot();
        std::map<std::int64_t, std::size_t> before;
        const int day = offset_for(12);
        for (const auto& p : people) {
            before[p.id] = t.sent_to(p.id).size();
            if (p.does != person::role::stays_at_night) {
                checkins.set_utc_offset(p.id, day);
                checkins.reschedule(p.id,
                                    storage::timestamp{std::chrono::floor<std::chrono::milliseconds>(
                                        std::chrono::system_clock::now())});
            }
        }
        start_bot();
        BOOST_TEST_REQUIRE(co_await bot->prepare());

        // Exactly one check-in each for those who said yes, in their language's persona.
        storage::conversation_repository turns(*db);
        for (const auto& p : people) {
            if (p.does != person::role::yes) {
                continue;
            }
            BOOST_TEST_CONTEXT(p.lang << " " << p.persona) {
                auto written = co_await next(p.id, text, 15s);
                BOOST_TEST_REQUIRE(written.has_value());
                BOOST_TEST(written->reply_markup.empty());
                // Remembered as her turn once Telegram has answered the send.
                const bool remembered = co_await eventually([&] {
                    const auto last = turns.last_turns(p.id, p.persona, 1);
                    return last.size() == 1U && last.front().text == written->text;
                });
                BOOST_TEST(remembered);
            }
        }
        // Long past quiet_after again: the weekly cap (one) holds, and nobody else got any.
        const bool more = co_await eventually([&] { return bot->stats().checkins_sent > 3; }, 5s);
        BOOST_TEST(!more);
        BOOST_TEST(bot->stats().checkins_sent == 3U);
        for (const auto& p : people) {
            BOOST_TEST_CONTEXT(p.lang << " " << p.persona << " " << static_cast<int>(p.does)) {
                const auto expected = before[p.id] + (p.does == person::role::yes ? 1U : 0U);
                BOOST_TEST(t.sent_to(p.id).size() == expected);
                const auto sent = checkins.sent_since(p.id, storage::timestamp{});
                BOOST_TEST(sent.size() == (p.does == person::role::yes ? 1U : 0U));
                for (const auto at : sent) { // inside the allowed hours where the user is
                    const int hour = pipelines::local_time(at, day).hour;
                    BOOST_TEST((hour >= 9 && hour < 21), hour);
                }
            }
        }
        // The one at night is planned for her morning.
        const auto& sleeper = people.back();
        const auto planned = checkins.settings(sleeper.id).next_due;
        BOOST_TEST_REQUIRE(planned.has_value());
        BOOST_TEST(pipelines::local_time(*planned, night).hour == 9);
        co_await finish();
    }());
}

BOOST_AUTO_TEST_SUITE_END()
