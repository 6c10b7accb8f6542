// End-to-end tests of her voice (issue 22) in TR, RU and EN, the whole bot against the simulators
// over loopback: a voice note (a real Ogg/Opus file) is fetched with getFile, transcribed and
// answered by a voice note she speaks in her own voice; with voice replies off the answer is text;
// a speech outage answers in text (never silence); a transcription outage is explained and nothing
// is stored; /settings switches the form with buttons in the user's language.
#include "sim/media/ogg_opus.hpp"
#include "storage/conversation.hpp"
#include "storage/voice_notes.hpp"
#include "tests/e2e/world.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <utility>

using namespace companion;
using namespace companion::test;
using namespace std::chrono_literals;
using engine::awaitable;

namespace {

bool is_voice(const item& i) {
    return i.what == item::kind::voice;
}

struct voice_case {
    std::string lang;
    std::string persona;
    std::string words; ///< what the user says in the note
};

const std::vector<voice_case> voice_cases{
    {"tr", "elif", "Bugün seni çok düşündüm"},
    {"ru", "masha", "Я сегодня много о тебе думал"},
    {"en", "emma", "I thought about you a lot today"},
};

/// A real voice note of `seconds` that says `words` (the simulator's transcript tag).
std::string voice_note(const std::string& words, double seconds = 2.5) {
    return sim::media::make_ogg_opus({.seconds = seconds, .transcript = words});
}

} // namespace

BOOST_AUTO_TEST_SUITE(voice_e2e)

BOOST_FIXTURE_TEST_CASE(a_voice_note_is_answered_by_her_voice_in_three_languages, world) {
    test::run_test(
        ioc,
        [&]() -> awaitable<void> {
            co_await start();
            auto& t = sims->telegram();
            storage::conversation_repository turns(*db);
            storage::voice_note_repository notes(*db);
            for (const auto& c : voice_cases) {
                BOOST_TEST_CONTEXT(c.lang) {
                    const auto user = t.add_user({.first_name = "V", .language_code = c.lang});
                    co_await onboard(*this, user, c.persona);
                    const auto before = t.sent_to(user).size();
                    t.user_sends_voice(user, voice_note(c.words), 3);
                    auto answer = co_await next(user, is_voice, 20s);
                    BOOST_TEST_REQUIRE(answer.has_value());

                    // Heard in the user's language, remembered as their words.
                    const auto& heard = sims->openai().transcription_requests();
                    BOOST_TEST_REQUIRE(!heard.empty());
                    BOOST_TEST(heard.back().language == c.lang);
                    // Her reply is remembered once Telegram has taken the voice note.
                    const bool remembered = co_await eventually(
                        [&] { return turns.last_turns(user, c.persona, 10).size() == 2U; });
                    BOOST_TEST_REQUIRE(remembered);
                    const auto history = turns.last_turns(user, c.persona, 10);
                    BOOST_TEST(history[0].text == c.words);

                    // Spoken in her voice, and the file says her reply.
                    const auto& spoken = sims->openai().speech_requests();
                    BOOST_TEST_REQUIRE(!spoken.empty());
                    BOOST_TEST(spoken.back().voice == personas.find(c.persona)->voice);
                    BOOST_TEST(spoken.back().input == history[1].text);
                    const auto* bytes = t.file_bytes(answer->file_id);
                    BOOST_TEST_REQUIRE(bytes != nullptr);
                    const auto info = sim::media::read_ogg_opus(*bytes);
                    BOOST_TEST_REQUIRE(info.has_value());
                    BOOST_TEST(info->transcript.value_or("") == history[1].text);
                    BOOST_TEST(info->seconds > 0.0);

                    // Mirror: no text besides; the voice note is kept by file_id.
                    const auto all = t.sent_to(user);
                    BOOST_TEST(
                        std::none_of(all.begin() + static_cast<std::ptrdiff_t>(before), all.end(), text));
                    const bool kept =
                        co_await eventually([&] { return notes.of_user(user, 5).size() == 1U; });
                    BOOST_TEST(kept);
                    BOOST_TEST(notes.of_user(user, 5).at(0).telegram_file_id == answer->file_id);

                    // Text still answers text.
                    t.user_sends_text(user, "/help");
                    auto help = co_await next(user, text);
                    BOOST_TEST_REQUIRE(help.has_value());
                }
            }
            co_await finish();
        }(),
        120s);
}

BOOST_FIXTURE_TEST_CASE(settings_switch_to_text_and_a_speech_outage_answers_in_text, world) {
    test::run_test(
        ioc,
        [&]() -> awaitable<void> {
            co_await start();
            auto& t = sims->telegram();
            for (const auto& c : voice_cases) {
                BOOST_TEST_CONTEXT(c.lang) {
                    const auto user = t.add_user({.first_name = "S", .language_code = c.lang});
                    co_await onboard(*this, user, c.persona);
                    t.user_sends_text(user, "/settings");
                    auto menu = co_await next(user, [](const item& i) {
                        return text(i) && i.reply_markup.find("set:voice:text") != std::string::npos;
                    });
                    BOOST_TEST_REQUIRE(menu.has_value());
                    BOOST_TEST(menu->text.find(locales.text(c.lang, "settings.voice_mirror")) !=
                               std::string::npos);
                    BOOST_TEST(menu->reply_markup.find(locales.text(c.lang, "settings.to_voice_text")) !=
                               std::string::npos);
                    t.user_presses_button(user, menu->message_id, "set:voice:text");
                    auto confirmed = co_await next(user, [&](const item& i) {
                        return text(i) && i.text == locales.text(c.lang, "settings.voice_text");
                    });
                    BOOST_TEST_REQUIRE(confirmed.has_value());

                    // Voice off: the note is heard, the answer is text.
                    t.user_sends_voice(user, voice_note(c.words), 3);
                    auto answer = co_await next(
                        user,
                        [](const item& i) { return text(i) || is_voice(i); },
                        20s);
                    BOOST_TEST_REQUIRE(answer.has_value());
                    BOOST_TEST(text(*answer));

                    // Always by voice, but speech is down: the words come as text, never silence.
                    t.user_sends_text(user, "/settings");
                    auto again = co_await next(user, [](const item& i) {
                        return text(i) && i.reply_markup.find("set:voice:voice") != std::string::npos;
                    });
                    BOOST_TEST_REQUIRE(again.has_value());
                    t.user_presses_button(user, again->message_id, "set:voice:voice");
                    auto always = co_await next(user, [&](const item& i) {
                        return text(i) && i.text == locales.text(c.lang, "settings.voice_voice");
                    });
                    BOOST_TEST_REQUIRE(always.has_value());
                    sims->openai().faults.add({.match = "audio.speech",
                                               .kind = sim::fault_kind::server_error,
                                               .count = 1,
                                               .status = 503});
                    t.user_sends_text(user, "Nasılsın? Как ты? How are you?");
                    auto fallback = co_await next(
                        user,
                        [](const item& i) { return text(i) || is_voice(i); },
                        20s);
                    BOOST_TEST_REQUIRE(fallback.has_value());
                    BOOST_TEST(text(*fallback));
                    BOOST_TEST(!fallback->text.empty());
                }
            }
            BOOST_TEST(bot->stats().voice_fallbacks == 3U);
            co_await finish();
        }(),
        120s);
}

BOOST_FIXTURE_TEST_CASE(a_note_that_cannot_be_heard_is_explained_in_three_languages, world) {
    test::run_test(
        ioc,
        [&]() -> awaitable<void> {
            co_await start();
            auto& t = sims->telegram();
            storage::conversation_repository turns(*db);
            for (const auto& c : voice_cases) {
                BOOST_TEST_CONTEXT(c.lang) {
                    const auto user = t.add_user({.first_name = "F", .language_code = c.lang});
                    co_await onboard(*this, user, c.persona);

                    // The transcription service is down.
                    sims->openai().faults.add({.match = "audio.transcriptions",
                                               .kind = sim::fault_kind::server_error,
                                               .count = 1,
                                               .status = 503});
                    t.user_sends_voice(user, voice_note(c.words), 3);
                    auto down = co_await next(user, text, 20s);
                    BOOST_TEST_REQUIRE(down.has_value());
                    BOOST_TEST(down->text == locales.text(c.lang, "voice.failed"));

                    // A file that is not audio at all.
                    t.user_sends_voice(user, "this is not an ogg file", 3);
                    auto corrupt = co_await next(user, text, 20s);
                    BOOST_TEST_REQUIRE(corrupt.has_value());
                    BOOST_TEST(corrupt->text == locales.text(c.lang, "voice.unreadable"));

                    // Longer than the bot listens to: declined before any download.
                    t.user_sends_voice(user, voice_note(c.words), 301);
                    auto long_note = co_await next(user, text, 20s);
                    BOOST_TEST_REQUIRE(long_note.has_value());
                    BOOST_TEST(long_note->text == locales.text(c.lang, "voice.too_long", {{"minutes", "5"}}));

                    BOOST_TEST(turns.last_turns(user, c.persona, 10).empty()); // nothing stored
                }
            }
            co_await finish();
        }(),
        120s);
}

BOOST_AUTO_TEST_SUITE_END()
