// Voice notes through the typed client and the simulator over loopback
// (contracts/telegram-drafts-stars-voice.md §3): a user's note arrives as message.voice and
// downloads byte for byte with getFile, sendVoice uploads an Ogg Opus note (and resends it by
// file_id) and refuses other bytes, getFile refuses files over 20 MB, and the voice chat actions.
#include "sim/media/ogg_opus.hpp"
#include "sim/media/png.hpp"
#include "tests/common/temp_dir.hpp"
#include "tests/net/telegram/fixture.hpp"

#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

using namespace companion;
using namespace companion::test;
using namespace std::chrono_literals;
using engine::awaitable;

BOOST_AUTO_TEST_SUITE(telegram_voice)

BOOST_FIXTURE_TEST_CASE(a_users_voice_note_arrives_parsed_and_downloads_byte_for_byte, telegram_fixture) {
    const auto user = sim.add_user({.first_name = "Elif", .language_code = "tr"});
    const std::string note = sim::media::make_ogg_opus({.seconds = 2.0, .transcript = "merhaba, nasılsın?"});
    const auto update_id = sim.user_sends_voice(user, note, 2);
    temp_dir dir;
    run([&]() -> awaitable<void> {
        tg::get_updates_params params{.timeout = 0s};
        auto polled = co_await bot->get_updates(std::move(params));
        BOOST_TEST_REQUIRE(polled.has_value());
        BOOST_TEST_REQUIRE(polled->updates.size() == 1U);
        BOOST_TEST(polled->updates[0].update_id == update_id);
        const auto& m = polled->updates[0].message;
        BOOST_TEST_REQUIRE(m.has_value());
        BOOST_TEST(m->chat.id == user);
        BOOST_TEST(m->text.empty());
        BOOST_TEST_REQUIRE(m->voice.has_value());
        BOOST_TEST(!m->voice->file_id.empty());
        BOOST_TEST(!m->voice->file_unique_id.empty());
        BOOST_TEST(m->voice->duration == 2);
        BOOST_TEST(m->voice->mime_type == "audio/ogg");
        BOOST_TEST(m->voice->file_size.value_or(-1) == static_cast<std::int64_t>(note.size()));

        auto info = co_await bot->get_file(m->voice->file_id);
        BOOST_TEST_REQUIRE(info.has_value());
        BOOST_TEST(info->file_size == static_cast<std::int64_t>(note.size()));
        BOOST_TEST(info->file_path.starts_with("voice/"));
        auto got = co_await bot->download_file(info->file_path, dir.path / "note.oga", 20 << 20);
        BOOST_TEST_REQUIRE(got.has_value());
        BOOST_TEST(got->bytes == note.size());
        const auto back = read_file(dir.path / "note.oga");
        BOOST_TEST(back == note);
        const auto heard = sim::media::read_ogg_opus(back);
        BOOST_TEST_REQUIRE(heard.has_value());
        BOOST_TEST(heard->transcript.value_or("") == "merhaba, nasılsın?");
    });
}

BOOST_FIXTURE_TEST_CASE(send_voice_uploads_an_ogg_opus_note_and_resends_it_by_file_id, unthrottled_fixture) {
    const auto user = sim.add_user({});
    const std::string note = sim::media::make_ogg_opus({.seconds = 3.0, .transcript = "hi"});
    const std::string unstated = sim::media::make_ogg_opus({.seconds = 1.6});
    run([&]() -> awaitable<void> {
        tg::send_voice_params params{.chat_id = user,
                                     .voice = tg::input_file::from_memory("reply.ogg", "audio/ogg", note),
                                     .duration = 3,
                                     .caption = "🎙"};
        auto sent = co_await bot->send_voice(std::move(params));
        BOOST_TEST_REQUIRE(sent.has_value());
        BOOST_TEST_REQUIRE(sent->voice.has_value());
        BOOST_TEST(sent->voice->duration == 3);
        BOOST_TEST(sent->voice->mime_type == "audio/ogg");
        BOOST_TEST(sent->voice->file_size.value_or(-1) == static_cast<std::int64_t>(note.size()));
        BOOST_TEST(sent->caption == "🎙");
        const auto voice_id = sent->voice->file_id;
        BOOST_TEST(*sim.file_bytes(voice_id) == note);

        // No duration stated: the simulator reads it from the file (1.6 s -> 2), as Telegram shows it.
        tg::send_voice_params unstated_params{
            .chat_id = user,
            .voice = tg::input_file::from_memory("b.ogg", "audio/ogg", unstated)};
        auto read_length = co_await bot->send_voice(std::move(unstated_params));
        BOOST_TEST_REQUIRE(read_length.has_value());
        BOOST_TEST(read_length->voice->duration == 2);

        tg::send_voice_params again_params{.chat_id = user, .voice = tg::input_file::by_id(voice_id)};
        auto again = co_await bot->send_voice(std::move(again_params));
        BOOST_TEST_REQUIRE(again.has_value());
        BOOST_TEST(again->voice->file_id == voice_id);

        // Not a voice: a picture, an Ogg page that is no Opus stream, an empty file.
        const std::vector<std::string> refused{sim::media::make_png(16, 16, {.seed = 2}),
                                               "OggS not really speech",
                                               note.substr(0, note.size() / 2)};
        for (const auto& bytes : refused) {
            tg::send_voice_params wrong_params{.chat_id = user,
                                               .voice =
                                                   tg::input_file::from_memory("x.ogg", "audio/ogg", bytes)};
            auto wrong = co_await bot->send_voice(std::move(wrong_params));
            BOOST_TEST_REQUIRE(wrong.has_error());
            BOOST_TEST(wrong.error().kind == tg::error_kind::bad_request);
            BOOST_TEST(wrong.error().status == 400U);
            BOOST_TEST(wrong.error().detail == "Bad Request: wrong file type");
        }
        // An unknown file_id is refused too.
        tg::send_voice_params unknown_params{.chat_id = user, .voice = tg::input_file::by_id("AwAC-nope")};
        auto unknown = co_await bot->send_voice(std::move(unknown_params));
        BOOST_TEST_REQUIRE(unknown.has_error());
        BOOST_TEST(unknown.error().kind == tg::error_kind::bad_request);

        auto recording = co_await bot->send_chat_action(user, tg::chat_action::record_voice);
        BOOST_TEST(recording.has_value());
        auto uploading = co_await bot->send_chat_action(user, tg::chat_action::upload_voice);
        BOOST_TEST(uploading.has_value());

        const auto items = sim.sent_to(user);
        std::vector<sim::sent_item> voices;
        for (const auto& i : items) {
            if (i.what == sim::sent_item::kind::voice) {
                voices.push_back(i);
            }
        }
        BOOST_TEST_REQUIRE(voices.size() == 3U);
        BOOST_TEST(voices[0].file_id == voice_id);
        BOOST_TEST(voices[0].duration == 3);
        BOOST_TEST(voices[0].text == "🎙");
        BOOST_TEST(voices[1].duration == 2);
        BOOST_TEST(voices[2].file_id == voice_id);
        BOOST_TEST(items.back().what == sim::sent_item::kind::action);
        BOOST_TEST(items.back().text == "upload_voice");
    });
}

BOOST_FIXTURE_TEST_CASE(a_voice_note_over_20_mb_cannot_be_fetched, telegram_fixture) {
    const auto user = sim.add_user({});
    std::string big = sim::media::make_ogg_opus({.seconds = 1.0});
    big.resize(21 * 1024 * 1024, '\0');
    // A copy, not a move: g++ 12 warns (-Warray-bounds) on moving a string it knows is 21 MB, as
    // if its bytes could sit in the small-string buffer.
    sim.user_sends_voice(user, big, 600);
    run([&]() -> awaitable<void> {
        tg::get_updates_params params{.timeout = 0s};
        auto polled = co_await bot->get_updates(std::move(params));
        BOOST_TEST_REQUIRE(polled.has_value());
        BOOST_TEST_REQUIRE(polled->updates.size() == 1U);
        const auto& voice = polled->updates[0].message->voice;
        BOOST_TEST_REQUIRE(voice.has_value());
        BOOST_TEST(voice->file_size.value_or(0) == 21 * 1024 * 1024);
        BOOST_TEST(voice->duration == 600);
        auto info = co_await bot->get_file(voice->file_id);
        BOOST_TEST_REQUIRE(info.has_error());
        BOOST_TEST(info.error().kind == tg::error_kind::bad_request);
        BOOST_TEST(info.error().detail == "Bad Request: file is too big");
    });
}

BOOST_AUTO_TEST_SUITE_END()
