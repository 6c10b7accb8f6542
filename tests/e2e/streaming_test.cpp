// End-to-end tests of streamed replies (issue 19) against the Telegram and OpenAI simulators over
// loopback, in Turkish, Russian and English: a reply that grows as one draft and then arrives as a
// message (no draft left open), a stop pressed mid-reply that keeps what was written, a stream the
// network cuts mid-way, a user who turned streaming off in /settings, and the Bot API 10.5
// callback query that carries inline_message_id instead of a message.
#include "storage/conversation.hpp"
#include "tests/e2e/world.hpp"

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

using namespace companion;
using namespace companion::test;
using namespace std::chrono_literals;
using engine::awaitable;

namespace {

struct streaming_world : world {
    streaming_world() {
        // The model writes three words every 150 ms: a reply takes about a second, so the user
        // sees the placeholder and then the text grow.
        sim_cfg.openai.stream_chunk_delay = 150ms;
    }

    std::vector<std::string> assistant_turns(std::int64_t user, const std::string& persona) {
        storage::conversation_repository turns(*db);
        std::vector<std::string> said;
        for (const auto& t : turns.last_turns(user, persona, 50)) {
            if (t.role == storage::speaker::assistant) {
                said.push_back(t.text);
            }
        }
        return said;
    }
};

struct language_case {
    std::string lang;
    std::string persona;
};

std::ostream& operator<<(std::ostream& os, const language_case& c) {
    return os << c.lang;
}

const std::vector<language_case> languages{{"tr", "aylin"}, {"ru", "masha"}, {"en", "aylin"}};

} // namespace

BOOST_AUTO_TEST_SUITE(streaming_e2e)

BOOST_DATA_TEST_CASE_F(streaming_world, a_reply_grows_as_one_draft_then_arrives_whole, languages, lc) {
    test::run_test(ioc, [&]() -> awaitable<void> {
        co_await start();
        auto& t = sims->telegram();
        const auto user = t.add_user({.first_name = "Deniz", .language_code = lc.lang});
        co_await onboard(*this, user, lc.persona);
        t.user_sends_text(user, "Tell me about your day");
        auto reply = co_await next(user, text);
        BOOST_TEST_REQUIRE(reply.has_value());
        const auto drafts = t.drafts(user);
        BOOST_TEST_REQUIRE(drafts.size() >= 2U);
        BOOST_TEST(drafts.front().text.empty()); // "Thinking..." first
        for (const auto& d : drafts) {
            BOOST_TEST(d.draft_id == drafts.front().draft_id);
            BOOST_TEST(d.can_stop);
            BOOST_TEST(reply->text.starts_with(d.text)); // each draft a prefix of the reply
        }
        for (std::size_t i = 1; i < drafts.size(); ++i) {
            BOOST_TEST((drafts[i].at - drafts[i - 1].at >= 350ms)); // coalesced, not one per token
        }
        BOOST_TEST(!t.draft_open(user)); // the final message replaced the draft
        // Stored once, when final (just after the send returned).
        const bool stored = co_await eventually(
            [&] { return assistant_turns(user, lc.persona) == std::vector<std::string>{reply->text}; });
        BOOST_TEST(stored);
        co_await finish();
    }());
}

BOOST_DATA_TEST_CASE_F(streaming_world, a_stop_keeps_what_was_written, languages, lc) {
    sim_cfg.openai.stream_chunk_delay = 300ms; // slow enough to stop mid-reply
    test::run_test(ioc, [&]() -> awaitable<void> {
        co_await start();
        auto& t = sims->telegram();
        const auto user = t.add_user({.first_name = "Deniz", .language_code = lc.lang});
        co_await onboard(*this, user, lc.persona);
        t.user_sends_text(user, "Tell me a long story");
        const bool writing = co_await eventually([&] {
            const auto d = t.drafts(user);
            return !d.empty() && !d.back().text.empty();
        });
        BOOST_TEST_REQUIRE(writing);
        const auto written = t.drafts(user).back();
        t.press_stop(user, written.draft_id + 1); // another draft id: nothing happens
        t.press_stop(user, written.draft_id);
        auto reply = co_await next(user, text);
        BOOST_TEST_REQUIRE(reply.has_value());
        BOOST_TEST(reply->text.starts_with(written.text));
        const bool stored = co_await eventually(
            [&] { return assistant_turns(user, lc.persona) == std::vector<std::string>{reply->text}; });
        BOOST_TEST(stored);
        // The whole answer would have been longer: the stop cut it.
        t.user_sends_text(user, "and then?");
        auto next_reply = co_await next(user, text);
        BOOST_TEST(next_reply.has_value());
        co_await finish();
    }());
}

BOOST_DATA_TEST_CASE_F(streaming_world, a_stream_cut_midway_sends_what_arrived, languages, lc) {
    test::run_test(ioc, [&]() -> awaitable<void> {
        co_await start();
        auto& t = sims->telegram();
        const auto user = t.add_user({.first_name = "Deniz", .language_code = lc.lang});
        co_await onboard(*this, user, lc.persona);
        sims->openai().faults.add({.match = "chat.completions",
                                   .kind = sim::fault_kind::custom,
                                   .count = 1,
                                   .detail = "stream_cut"});
        t.user_sends_text(user, "Tell me about your day");
        auto reply = co_await next(user, text);
        BOOST_TEST_REQUIRE(reply.has_value());
        BOOST_TEST(!reply->text.empty());
        BOOST_TEST(!t.draft_open(user)); // never a draft without a final message
        // Stored once, when final (just after the send returned).
        const bool stored = co_await eventually(
            [&] { return assistant_turns(user, lc.persona) == std::vector<std::string>{reply->text}; });
        BOOST_TEST(stored);
        co_await finish();
    }());
}

BOOST_DATA_TEST_CASE_F(streaming_world, settings_turn_streaming_off_and_on, languages, lc) {
    test::run_test(ioc, [&]() -> awaitable<void> {
        // A whole reply from the simulator comes at once: "typing…" at once too, to see it shown.
        cfg.sending.action_after = engine::duration::zero();
        co_await start();
        auto& t = sims->telegram();
        const auto user = t.add_user({.first_name = "Deniz", .language_code = lc.lang});
        co_await onboard(*this, user, lc.persona);
        t.user_sends_text(user, "/settings");
        const auto& l = locales;
        auto shown = co_await next(user, [](const item& i) {
            return text(i) && i.reply_markup.find("set:stream:off") != std::string::npos;
        });
        BOOST_TEST_REQUIRE(shown.has_value());
        // How replies come: streamed, then (speech being configured) voice for voice.
        BOOST_TEST(shown->text ==
                   l.text(lc.lang, "settings.streaming") + "\n" + l.text(lc.lang, "settings.voice_mirror"));
        t.user_presses_button(user, shown->message_id, "set:stream:off");
        auto confirmed = co_await next(user, text);
        BOOST_TEST_REQUIRE(confirmed.has_value());
        BOOST_TEST(confirmed->text == l.text(lc.lang, "settings.not_streaming"));

        const auto drafts_before = t.drafts(user).size();
        t.user_sends_text(user, "Tell me about your day");
        auto reply = co_await next(user, text);
        BOOST_TEST_REQUIRE(reply.has_value());
        BOOST_TEST(t.drafts(user).size() == drafts_before); // whole, after "typing…"
        const auto items = t.sent_to(user);
        BOOST_TEST(std::any_of(items.begin(), items.end(), [](const item& i) {
            return i.what == item::kind::action && i.text == "typing";
        }));
        co_await finish();
    }());
}

BOOST_FIXTURE_TEST_CASE(a_callback_with_inline_message_id_is_answered_and_routed, streaming_world) {
    test::run_test(ioc, [&]() -> awaitable<void> {
        co_await start();
        auto& t = sims->telegram();
        const auto user = t.add_user({.first_name = "Ivan", .language_code = "ru"});
        co_await onboard(*this, user, "masha");
        // Bot API 10.5: the query names the message by inline_message_id only; routed by its data.
        t.press_inline_button(user, "inline-abc", "set:stream:off");
        auto confirmed = co_await next(user, text);
        BOOST_TEST_REQUIRE(confirmed.has_value());
        BOOST_TEST(confirmed->text == locales.text("ru", "settings.not_streaming"));
        const auto items = t.sent_to(user);
        BOOST_TEST(std::any_of(items.begin(), items.end(), [](const item& i) {
            return i.what == item::kind::callback_answer;
        }));
        co_await finish();
    }());
}

BOOST_FIXTURE_TEST_CASE(a_429_on_drafts_holds_drafts_only_for_its_retry_after_and_a_late_stop_does_nothing,
                        streaming_world) {
    test::run_test(ioc, [&]() -> awaitable<void> {
        co_await start();
        auto& t = sims->telegram();
        const auto user = t.add_user({.first_name = "Emma", .language_code = "en"});
        co_await onboard(*this, user, "aylin");
        // Every draft of this turn is told to wait 30 s; the reply must not wait with them.
        sims->telegram().faults.add(
            {.match = "sendMessageDraft", .kind = sim::fault_kind::rate_limited, .count = 20, .delay = 30s});
        const auto asked = engine::clock::now();
        t.user_sends_text(user, "Tell me about your day");
        auto reply = co_await next(user, text);
        BOOST_TEST_REQUIRE(reply.has_value());
        BOOST_TEST((engine::clock::now() - asked < 10s));
        BOOST_TEST(t.drafts(user).empty()); // each one refused, none retried into the flood
        sims->telegram().faults.clear();

        // The 30 s outlive that reply: the next reply in this chat comes whole, with no draft sent
        // into the wait (Telegram would answer 429 again), and on time.
        t.user_sends_text(user, "and tomorrow?");
        auto held = co_await next(user, text);
        BOOST_TEST_REQUIRE(held.has_value());
        BOOST_TEST(t.drafts(user).empty());
        BOOST_TEST(t.counters().retry_after_violations == 0U);

        // A stop pressed on a generation that already ended changes nothing (another chat, whose
        // drafts nothing holds).
        const auto other = t.add_user({.first_name = "Tom", .language_code = "en"});
        co_await onboard(*this, other, "aylin");
        t.user_sends_text(other, "and tomorrow?");
        auto second = co_await next(other, text);
        BOOST_TEST_REQUIRE(second.has_value());
        const auto drafts = t.drafts(other);
        BOOST_TEST_REQUIRE(!drafts.empty());
        const auto sent_before = t.sent_to(other).size();
        t.press_stop(other, drafts.back().draft_id);
        t.user_sends_text(other, "good night");
        auto third = co_await next(other, text);
        BOOST_TEST_REQUIRE(third.has_value());
        const auto items = t.sent_to(other);
        BOOST_TEST(
            std::count_if(items.begin() + static_cast<std::ptrdiff_t>(sent_before), items.end(), text) == 1);
        co_await finish();
    }());
}

BOOST_FIXTURE_TEST_CASE(a_group_gets_no_draft, streaming_world) {
    test::run_test(ioc, [&]() -> awaitable<void> {
        co_await start();
        auto& t = sims->telegram();
        const auto user = t.add_user({.first_name = "Ivan", .language_code = "en"});
        co_await onboard(*this, user, "aylin");
        const auto group = t.add_group("friends", {user});
        t.user_sends(user, {.text = "hello everyone", .chat_id = group});
        // A private message after it: once it is answered, the group's turn was handled before.
        t.user_sends_text(user, "hello there");
        auto reply = co_await next(user, text);
        BOOST_TEST_REQUIRE(reply.has_value());
        BOOST_TEST(t.drafts(group).empty()); // drafts exist in private chats only
        BOOST_TEST(!t.drafts(user).empty());
        co_await finish();
    }());
}

BOOST_AUTO_TEST_SUITE_END()
