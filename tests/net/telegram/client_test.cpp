// The typed client against the simulator over loopback: long polls and offsets, conflicts, the
// error kinds the bot reacts to, uploads and file_id reuse, every fault knob, and that the bot
// token never shows in a log line or an error text.
#include "engine/time.hpp"
#include "sim/media/mp4.hpp"
#include "sim/media/png.hpp"
#include "tests/net/telegram/fixture.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>

using namespace companion;
using namespace companion::test;
using namespace std::chrono_literals;
using boost::asio::experimental::awaitable_operators::operator&&;
using engine::awaitable;
namespace json = boost::json;

namespace {

awaitable<void> after(engine::duration d, std::function<void()> action) {
    co_await engine::sleep(d);
    action();
}

tg::send_message_params text_to(std::int64_t chat, std::string text) {
    return tg::send_message_params{.chat_id = chat, .text = std::move(text)};
}

} // namespace

BOOST_AUTO_TEST_SUITE(telegram_client)

BOOST_FIXTURE_TEST_CASE(get_me_returns_the_bot_and_a_wrong_token_is_unauthorized, telegram_fixture) {
    run([&]() -> awaitable<void> {
        auto me = co_await bot->get_me();
        BOOST_TEST_REQUIRE(me.has_value());
        BOOST_TEST(me->is_bot);
        BOOST_TEST(me->id == 123456789); // the bot id is the token's numeric prefix
        BOOST_TEST(me->username == "companion_bot");

        tg::client wrong(http, client_config_for("123:short"));
        auto denied = co_await wrong.get_me();
        BOOST_TEST_REQUIRE(!denied.has_value());
        BOOST_TEST(denied.error().kind == tg::error_kind::unauthorized);
        BOOST_TEST(denied.error().status == 401U);
    });
}

BOOST_FIXTURE_TEST_CASE(long_poll_holds_until_an_update_arrives, telegram_fixture) {
    const auto user = sim.add_user({.first_name = "Elif", .language_code = "tr"});
    run([&]() -> awaitable<void> {
        const auto start = engine::clock::now();
        auto both = bot->get_updates({}) && after(80ms, [&] { sim.user_sends_text(user, "merhaba"); });
        auto polled = co_await std::move(both);
        const auto ms = elapsed_ms(start);
        BOOST_TEST_REQUIRE(polled.has_value());
        BOOST_TEST_REQUIRE(polled->updates.size() == 1U);
        BOOST_TEST(polled->updates[0].message->text == "merhaba");
        BOOST_TEST(polled->updates[0].message->from->language_code == "tr");
        BOOST_TEST(ms >= 60); // it was held, not answered at once
        BOOST_TEST(ms < 190); // and returned on the update, not at the hold limit
    });
}

BOOST_FIXTURE_TEST_CASE(an_empty_long_poll_returns_after_the_hold, telegram_fixture) {
    run([&]() -> awaitable<void> {
        const auto start = engine::clock::now();
        tg::get_updates_params polled_params{};
        auto polled = co_await bot->get_updates(std::move(polled_params));
        BOOST_TEST_REQUIRE(polled.has_value());
        BOOST_TEST(polled->updates.empty());
        BOOST_TEST(elapsed_ms(start) >= 150);
        BOOST_TEST(sim.counters().get_updates_calls == 1U);
    });
}

BOOST_FIXTURE_TEST_CASE(a_batch_is_confirmed_only_by_a_later_offset, telegram_fixture) {
    const auto user = sim.add_user({});
    const auto first = sim.user_sends_text(user, "one");
    const auto second = sim.user_sends_text(user, "/start ref_1");
    run([&]() -> awaitable<void> {
        tg::get_updates_params a_params{.timeout = 0s};
        auto a = co_await bot->get_updates(std::move(a_params));
        BOOST_TEST_REQUIRE(a.has_value());
        BOOST_TEST_REQUIRE(a->updates.size() == 2U);
        BOOST_TEST(a->updates[0].update_id == first);
        BOOST_TEST(a->updates[1].update_id == second);
        BOOST_TEST(second > first);
        BOOST_TEST(first > 100'000'000); // ids start at a random large base
        auto cmd = tg::extract_command(*a->updates[1].message);
        BOOST_TEST_REQUIRE(cmd.has_value());
        BOOST_TEST(cmd->payload == "ref_1");
        // Each update keeps its own text as the simulator sent it, which reads as the same update.
        for (const auto& u : a->updates) {
            BOOST_TEST(u.raw.starts_with("{"));
            auto again = tg::parse_update(json::parse(u.raw));
            BOOST_TEST_REQUIRE(again.has_value());
            BOOST_TEST(again->update_id == u.update_id);
            BOOST_TEST(again->message->text == u.message->text);
        }

        // Returning a batch confirmed nothing: the same updates come again.
        tg::get_updates_params again_params{.timeout = 0s};
        auto again = co_await bot->get_updates(std::move(again_params));
        BOOST_TEST(again->updates.size() == 2U);

        // The offset past the batch confirms it.
        tg::get_updates_params after_offset_params{.offset = a->next_offset(), .timeout = 0s};
        auto after_offset = co_await bot->get_updates(std::move(after_offset_params));
        BOOST_TEST(after_offset->updates.empty());
        BOOST_TEST(sim.pending_updates() == 0U);

        // limit
        sim.user_sends_text(user, "x");
        sim.user_sends_text(user, "y");
        tg::get_updates_params limited_params{.limit = 1, .timeout = 0s};
        auto limited = co_await bot->get_updates(std::move(limited_params));
        BOOST_TEST(limited->updates.size() == 1U);
    });
}

BOOST_FIXTURE_TEST_CASE(the_older_of_two_pollers_gets_409, telegram_fixture) {
    run([&]() -> awaitable<void> {
        tg::client second(http, client_config_for(test_token));
        auto delayed_poll = [&]() -> awaitable<tg::result<tg::update_batch>> {
            co_await engine::sleep(30ms);
            tg::get_updates_params r_params{};
            auto r = co_await second.get_updates(std::move(r_params));
            co_return r;
        };
        auto both = bot->get_updates({}) && delayed_poll();
        auto [older, newer] = co_await std::move(both);
        BOOST_TEST_REQUIRE(!older.has_value());
        BOOST_TEST(older.error().kind == tg::error_kind::conflict);
        BOOST_TEST(older.error().detail.find("terminated by other getUpdates request") != std::string::npos);
        BOOST_TEST(newer.has_value());
        BOOST_TEST(sim.counters().max_concurrent_pollers == 2U);
        BOOST_TEST(sim.counters().conflicts == 1U);
    });
}

BOOST_FIXTURE_TEST_CASE(a_webhook_blocks_get_updates_until_deleted, telegram_fixture) {
    run([&]() -> awaitable<void> {
        // Named, not temporaries in the co_await: g++ 12 destroys such a temporary twice.
        tg::set_webhook_params plain_http;
        plain_http.url = "http://example.com/hook";
        auto bad = co_await bot->set_webhook(std::move(plain_http));
        BOOST_TEST(bad.error().kind == tg::error_kind::bad_request);
        // Nothing is delivered: the world's updates are dropped (example.com is not dialled).
        tg::set_webhook_params https;
        https.url = "https://example.com/hook";
        https.secret_token = "s3cret_token-1";
        https.drop_pending_updates = true;
        auto set = co_await bot->set_webhook(std::move(https));
        BOOST_TEST(set.has_value());
        tg::get_updates_params conflict_params{.timeout = 0s};
        auto conflict = co_await bot->get_updates(std::move(conflict_params));
        BOOST_TEST(conflict.error().kind == tg::error_kind::conflict);
        BOOST_TEST(conflict.error().detail.find("webhook is active") != std::string::npos);
        auto deleted = co_await bot->delete_webhook(tg::drop_pending::yes);
        BOOST_TEST(deleted.has_value());
        tg::get_updates_params ok_params{.timeout = 0s};
        auto ok = co_await bot->get_updates(std::move(ok_params));
        BOOST_TEST(ok.has_value());
    });
}

BOOST_FIXTURE_TEST_CASE(a_user_who_blocked_the_bot_gives_403_and_a_my_chat_member_update, telegram_fixture) {
    const auto user = sim.add_user({.first_name = "Иван", .language_code = "ru"});
    run([&]() -> awaitable<void> {
        auto first = co_await bot->send_message(text_to(user, "привет"));
        BOOST_TEST_REQUIRE(first.has_value());
        BOOST_TEST(first->message_id > 0);
        BOOST_TEST(first->date > 0);
        BOOST_TEST(first->chat.id == user);
        BOOST_TEST(first->text == "привет");
        sim.user_blocks_bot(user);
        auto sent = co_await bot->send_message(text_to(user, "ещё"));
        BOOST_TEST_REQUIRE(!sent.has_value());
        BOOST_TEST(sent.error().kind == tg::error_kind::forbidden);
        BOOST_TEST(tg::blocked(sent.error()));
        auto action = co_await bot->send_chat_action(user, tg::chat_action::typing);
        BOOST_TEST(action.error().kind == tg::error_kind::forbidden);

        // Built outside the co_await: g++ 12 miscompiles string-literal arrays in awaited temporaries.
        tg::get_updates_params params;
        params.allowed_updates = std::vector<std::string>{"message", "callback_query", "my_chat_member"};
        params.timeout = 0s;
        auto polled = co_await bot->get_updates(std::move(params));
        BOOST_TEST_REQUIRE(polled->updates.size() == 1U);
        BOOST_TEST(polled->updates[0].what == tg::update::kind::my_chat_member);
        BOOST_TEST(polled->updates[0].my_chat_member->new_status == "kicked");
        BOOST_TEST(*polled->updates[0].chat_id() == user);
    });
}

BOOST_FIXTURE_TEST_CASE(flooding_one_chat_gives_429_with_retry_after, telegram_fixture) {
    const auto user = sim.add_user({});
    run([&]() -> awaitable<void> {
        for (int i = 0; i < 3; ++i) { // the burst
            auto r = co_await bot->send_message(text_to(user, "burst " + std::to_string(i)));
            BOOST_TEST(r.has_value());
        }
        auto flooded = co_await bot->send_message(text_to(user, "one too many"));
        BOOST_TEST_REQUIRE(!flooded.has_value());
        BOOST_TEST(flooded.error().kind == tg::error_kind::rate_limited);
        BOOST_TEST_REQUIRE(flooded.error().retry_after.has_value());
        BOOST_TEST(*flooded.error().retry_after >= std::chrono::seconds(1));
        BOOST_TEST(sim.counters().rate_limited == 1U);
        BOOST_TEST(sim.sent_to(user).size() == 3U);
        BOOST_TEST(sim.counters().sends_per_chat.at(user) == 3U);
    });
}

BOOST_FIXTURE_TEST_CASE(editing_to_identical_text_is_success_without_modification, telegram_fixture) {
    const auto user = sim.add_user({});
    run([&]() -> awaitable<void> {
        auto kb = tg::inline_keyboard{}.button("⏹", "job:stop").build();
        tg::send_message_params sent_params{.chat_id = user,
                                            .text = "🎬 generating… 10%",
                                            .reply_markup = *kb};
        auto sent = co_await bot->send_message(std::move(sent_params));
        BOOST_TEST_REQUIRE(sent.has_value());
        const auto id = sent->message_id;

        // The same text and keyboard: Telegram's "not modified", which the client reports as success.
        tg::edit_message_text_params same_params{.chat_id = user,
                                                 .message_id = id,
                                                 .text = "🎬 generating… 10%",
                                                 .reply_markup = *kb};
        tg::edit_message_text_params changed_params = same_params;
        changed_params.text = "🎬 generating… 40%";
        auto same = co_await bot->edit_message_text(std::move(same_params));
        BOOST_TEST_REQUIRE(same.has_value());
        BOOST_TEST(!same->modified);

        auto changed = co_await bot->edit_message_text(std::move(changed_params));
        BOOST_TEST_REQUIRE(changed.has_value());
        BOOST_TEST(changed->modified);
        BOOST_TEST(changed->message->text == "🎬 generating… 40%");

        tg::edit_message_text_params missing_params{.chat_id = user, .message_id = 999, .text = "x"};
        auto missing = co_await bot->edit_message_text(std::move(missing_params));
        BOOST_TEST(missing.error().kind == tg::error_kind::message_to_edit_not_found);

        const auto items = sim.sent_to(user);
        BOOST_TEST_REQUIRE(items.size() == 2U);
        BOOST_TEST(items[1].what == sim::sent_item::kind::edit);
        BOOST_TEST(items[1].reply_markup.find("job:stop") != std::string::npos);
    });
}

BOOST_FIXTURE_TEST_CASE(texts_and_markup_are_validated_like_telegram, unthrottled_fixture) {
    const auto user = sim.add_user({});
    run([&]() -> awaitable<void> {
        auto too_long = co_await bot->send_message(text_to(user, std::string(4097, 'a')));
        BOOST_TEST(too_long.error().kind == tg::error_kind::bad_request);
        BOOST_TEST(too_long.error().detail == "Bad Request: message is too long");
        // 4096 Cyrillic letters are 8192 bytes but 4096 characters: accepted.
        std::string cyrillic;
        for (int i = 0; i < 4096; ++i) {
            cyrillic += "я";
        }
        auto long_cyrillic = co_await bot->send_message(text_to(user, cyrillic));
        BOOST_TEST(long_cyrillic.has_value());
        auto empty = co_await bot->send_message(text_to(user, ""));
        BOOST_TEST(empty.error().detail == "Bad Request: message text is empty");

        // A markup built by hand around the builder's check: the simulator rejects it too.
        json::value bad_markup = json::parse(R"({"inline_keyboard":[[{"text":"x","callback_data":")" +
                                             std::string(65, 'd') + R"("}]]})");
        tg::send_message_params rejected_params{.chat_id = user, .text = "x", .reply_markup = bad_markup};
        auto rejected = co_await bot->send_message(std::move(rejected_params));
        BOOST_TEST(rejected.error().kind == tg::error_kind::bad_request);
        BOOST_TEST(rejected.error().detail == "Bad Request: BUTTON_DATA_INVALID");

        auto unknown_chat = co_await bot->send_message(text_to(424242, "x"));
        BOOST_TEST(unknown_chat.error().detail == "Bad Request: chat not found");

        std::vector<tg::command_description> good{{"start", "Start"}, {"video", "Make a video"}};
        auto commands = co_await bot->set_my_commands(std::move(good), "ru");
        BOOST_TEST(commands.has_value());
        BOOST_TEST(sim.commands("ru").find("video") != std::string::npos);
        std::vector<tg::command_description> uppercase{{"Start", "Start"}};
        auto bad_command = co_await bot->set_my_commands(std::move(uppercase), "");
        BOOST_TEST(bad_command.error().kind == tg::error_kind::bad_request);
    });
}

BOOST_FIXTURE_TEST_CASE(a_callback_is_answered_once_and_a_second_answer_is_too_old, telegram_fixture) {
    const auto user = sim.add_user({.language_code = "ru"});
    run([&]() -> awaitable<void> {
        auto kb = tg::inline_keyboard{}.button("📸➡️🎬", "vid:last").button("✨", "vid:new").build();
        tg::send_message_params sent_params{.chat_id = user,
                                            .text = "Какое видео хочешь?",
                                            .reply_markup = *kb};
        auto sent = co_await bot->send_message(std::move(sent_params));
        BOOST_TEST_REQUIRE(sent.has_value());
        const auto query_id = sim.user_presses_button(user, sent->message_id, "vid:new");

        tg::get_updates_params polled_params{.timeout = 0s};
        auto polled = co_await bot->get_updates(std::move(polled_params));
        BOOST_TEST_REQUIRE(polled->updates.size() == 1U);
        const auto& q = *polled->updates[0].callback_query;
        BOOST_TEST(q.id == query_id);
        BOOST_TEST(q.data == "vid:new");
        BOOST_TEST(q.message->message_id == sent->message_id);
        BOOST_TEST(q.message->text == "Какое видео хочешь?");

        tg::answer_callback_params answered_params{.callback_query_id = q.id, .text = "⏳"};
        auto answered = co_await bot->answer_callback_query(std::move(answered_params));
        BOOST_TEST(answered.has_value());
        tg::answer_callback_params twice_params{.callback_query_id = q.id};
        auto twice = co_await bot->answer_callback_query(std::move(twice_params));
        BOOST_TEST_REQUIRE(!twice.has_value());
        BOOST_TEST(twice.error().kind == tg::error_kind::query_too_old);

        // A press on an unknown message arrives as an InaccessibleMessage.
        sim.user_presses_button(user, 4242, "vid:last");
        tg::get_updates_params stale_params{.offset = polled->next_offset(), .timeout = 0s};
        auto stale = co_await bot->get_updates(std::move(stale_params));
        BOOST_TEST_REQUIRE(stale->updates.size() == 1U);
        BOOST_TEST(stale->updates[0].callback_query->message->inaccessible());

        auto items = sim.sent_to(user);
        BOOST_TEST(items.back().what == sim::sent_item::kind::callback_answer);
        BOOST_TEST(items.back().text == "⏳");
    });
}

BOOST_FIXTURE_TEST_CASE(photo_and_video_uploads_are_resent_by_file_id_and_downloadable, unthrottled_fixture) {
    const auto user = sim.add_user({});
    const auto dir =
        std::filesystem::temp_directory_path() / ("tg_client_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const std::string png = sim::media::make_png(90, 160, {.seed = 7});
    const std::string mp4 = sim::media::make_mp4({.width = 64, .height = 112, .seconds = 2s, .fps = 2});
    { std::ofstream(dir / "clip.mp4", std::ios::binary) << mp4; }
    run([&]() -> awaitable<void> {
        tg::send_photo_params photo_params{.chat_id = user,
                                           .photo =
                                               tg::input_file::from_memory("selfie.png", "image/png", png),
                                           .caption = "📸"};
        auto photo = co_await bot->send_photo(std::move(photo_params));
        BOOST_TEST_REQUIRE(photo.has_value());
        BOOST_TEST_REQUIRE(photo->largest_photo() != nullptr);
        BOOST_TEST(photo->largest_photo()->width == 90);
        BOOST_TEST(photo->largest_photo()->height == 160);
        BOOST_TEST(photo->photo.size() >= 2U); // a ladder of sizes, largest last
        BOOST_TEST(photo->caption == "📸");
        const auto photo_id = photo->largest_photo()->file_id;

        tg::send_photo_params again_params{.chat_id = user, .photo = tg::input_file::by_id(photo_id)};
        auto again = co_await bot->send_photo(std::move(again_params));
        BOOST_TEST_REQUIRE(again.has_value());
        BOOST_TEST(again->largest_photo()->file_id == photo_id);

        tg::send_video_params video_params{.chat_id = user,
                                           .video = tg::input_file::from_disk(dir / "clip.mp4", "video/mp4"),
                                           .caption = "🎬",
                                           .width = 64,
                                           .height = 112,
                                           .duration = 2s};
        auto video = co_await bot->send_video(std::move(video_params));
        BOOST_TEST_REQUIRE(video.has_value());
        BOOST_TEST_REQUIRE(video->video.has_value());
        BOOST_TEST(video->video->width == 64);
        BOOST_TEST(video->video->height == 112);
        BOOST_TEST(video->video->duration == 2);
        BOOST_TEST(video->video->file_size == static_cast<std::int64_t>(mp4.size()));
        const auto video_id = video->video->file_id;

        tg::send_video_params resent_params{.chat_id = user, .video = tg::input_file::by_id(video_id)};
        auto resent = co_await bot->send_video(std::move(resent_params));
        BOOST_TEST_REQUIRE(resent.has_value());
        BOOST_TEST(resent->video->file_id == video_id);

        // A video id cannot be sent as a photo, and unknown ids are rejected.
        tg::send_photo_params wrong_type_params{.chat_id = user, .photo = tg::input_file::by_id(video_id)};
        auto wrong_type = co_await bot->send_photo(std::move(wrong_type_params));
        BOOST_TEST(wrong_type.error().detail == "Bad Request: type of file mismatch");
        tg::send_video_params unknown_params{.chat_id = user, .video = tg::input_file::by_id("BAAC-nope")};
        auto unknown = co_await bot->send_video(std::move(unknown_params));
        BOOST_TEST(unknown.error().kind == tg::error_kind::bad_request);

        auto info = co_await bot->get_file(video_id);
        BOOST_TEST_REQUIRE(info.has_value());
        BOOST_TEST(info->file_size == static_cast<std::int64_t>(mp4.size()));
        auto downloaded = co_await bot->download_file(info->file_path, dir / "back.mp4", 1 << 20);
        BOOST_TEST_REQUIRE(downloaded.has_value());
        BOOST_TEST(read_file(dir / "back.mp4") == mp4);

        const auto items = sim.sent_to(user);
        BOOST_TEST_REQUIRE(items.size() == 4U);
        BOOST_TEST(items[0].what == sim::sent_item::kind::photo);
        BOOST_TEST(items[2].file_id == video_id);
        BOOST_TEST(*sim.file_bytes(photo_id) == png);
    });
    std::filesystem::remove_all(dir);
}

BOOST_FIXTURE_TEST_CASE(oversized_uploads_are_refused,
                        telegram_fixture,
                        *boost::unit_test::description("photo above its limit -> 413")) {
    const auto user = sim.add_user({});
    run([&]() -> awaitable<void> {
        tg::send_photo_params huge_params{
            .chat_id = user,
            .photo =
                tg::input_file::from_memory("x.png", "image/png", std::string(10 * 1024 * 1024 + 1, 'x'))};
        auto huge = co_await bot->send_photo(std::move(huge_params));
        BOOST_TEST_REQUIRE(!huge.has_value());
        BOOST_TEST(huge.error().kind == tg::error_kind::too_large);
        tg::send_photo_params not_image_params{
            .chat_id = user,
            .photo = tg::input_file::from_memory("x.png", "image/png", "not a picture")};
        auto not_image = co_await bot->send_photo(std::move(not_image_params));
        BOOST_TEST(not_image.error().kind == tg::error_kind::bad_request);
    });
}

BOOST_FIXTURE_TEST_CASE(malformed_and_unknown_updates_are_reported_and_can_be_confirmed, telegram_fixture) {
    const auto user = sim.add_user({});
    run([&]() -> awaitable<void> {
        sim.user_sends_text(user, "fine");
        const auto bad_id =
            sim.inject_raw_update(R"({"update_id":$ID,"message":{"message_id":"x","date":1}})");
        sim.inject_raw_update(R"({"update_id":$ID,"guest_message":{"chat":{"id":1,"type":"private"}}})");
        const auto last = sim.inject_raw_update(R"({"update_id":$ID,"callback_query":"garbage"})");
        tg::get_updates_params polled_params{.timeout = 0s};
        auto polled = co_await bot->get_updates(std::move(polled_params));
        BOOST_TEST_REQUIRE(polled.has_value());
        BOOST_TEST(polled->updates.size() == 2U); // the text and the unknown kind
        BOOST_TEST(polled->updates[1].what == tg::update::kind::other);
        BOOST_TEST_REQUIRE(polled->malformed.size() == 2U);
        BOOST_TEST(*polled->malformed[0].update_id == bad_id);
        BOOST_TEST(*polled->next_offset() == last + 1);
        tg::get_updates_params next_params{.offset = polled->next_offset(), .timeout = 0s};
        auto next = co_await bot->get_updates(std::move(next_params));
        BOOST_TEST(next->updates.empty());
        BOOST_TEST(sim.pending_updates() == 0U);
    });
}

BOOST_FIXTURE_TEST_CASE(every_fault_kind_maps_to_its_error, telegram_fixture) {
    const auto user = sim.add_user({});
    run([&]() -> awaitable<void> {
        using sim::fault_kind;
        sim.faults.add({.match = "getMe", .kind = fault_kind::latency, .delay = 100ms});
        auto start = engine::clock::now();
        auto slow = co_await bot->get_me();
        BOOST_TEST(slow.has_value());
        BOOST_TEST(elapsed_ms(start) >= 90);

        sim.faults.add({.match = "sendMessage", .kind = fault_kind::rate_limited, .delay = 2s});
        auto flood = co_await bot->send_message(text_to(user, "x"));
        BOOST_TEST(flood.error().kind == tg::error_kind::rate_limited);
        BOOST_TEST(*flood.error().retry_after == std::chrono::seconds(2));

        sim.faults.add({.match = "sendMessage", .kind = fault_kind::server_error});
        auto server = co_await bot->send_message(text_to(user, "x"));
        BOOST_TEST(server.error().kind == tg::error_kind::server);
        BOOST_TEST(server.error().status == 500U);

        sim.faults.add({.match = "getMe", .kind = fault_kind::server_error, .detail = "html"});
        auto html = co_await bot->get_me();
        BOOST_TEST(html.error().kind == tg::error_kind::server);
        BOOST_TEST(html.error().status == 502U);

        sim.faults.add({.match = "sendMessage", .kind = fault_kind::reset});
        auto reset = co_await bot->send_message(text_to(user, "x"));
        BOOST_TEST_REQUIRE(!reset.has_value());
        BOOST_TEST(reset.error().kind == tg::error_kind::transport);
        BOOST_TEST(reset.error().outcome_unknown()); // the request was written: it may have landed

        sim.faults.add({.match = "sendMessage", .kind = fault_kind::reset_mid_body});
        auto cut = co_await bot->send_message(text_to(user, "x"));
        BOOST_TEST(cut.error().kind == tg::error_kind::transport);
        BOOST_TEST(cut.error().outcome_unknown());

        sim.faults.add({.match = "getMe", .kind = fault_kind::slow_body, .delay = 10ms});
        auto dribbled = co_await bot->get_me();
        BOOST_TEST(dribbled.has_value());

        sim.faults.add({.match = "getUpdates", .kind = fault_kind::malformed_json});
        tg::get_updates_params garbage_params{.timeout = 0s};
        auto garbage = co_await bot->get_updates(std::move(garbage_params));
        BOOST_TEST(garbage.error().kind == tg::error_kind::malformed_response);

        // A reply's answer is read without a DOM only when it is a plain success.
        sim.faults.add({.match = "sendMessage", .kind = fault_kind::malformed_json});
        auto garbled = co_await bot->send_message(text_to(user, "x"));
        BOOST_TEST_REQUIRE(!garbled.has_value());
        BOOST_TEST(garbled.error().kind == tg::error_kind::malformed_response);
        BOOST_TEST(garbled.error().status == 200U);

        sim.faults.add({.match = "getUpdates", .kind = fault_kind::custom, .detail = "conflict"});
        tg::get_updates_params conflict_params{.timeout = 0s};
        auto conflict = co_await bot->get_updates(std::move(conflict_params));
        BOOST_TEST(conflict.error().kind == tg::error_kind::conflict);

        BOOST_TEST(sim.faults.pending() == 0U);
        BOOST_TEST(sim.faults.applied() == 10U);
        // The fault did not break the simulator: a normal call still works.
        auto healthy = co_await bot->get_me();
        BOOST_TEST(healthy.has_value());
    });
}

// --- streamed drafts, stops and the 10.5 shapes -----------------------------------------------

BOOST_FIXTURE_TEST_CASE(a_draft_streams_into_a_private_chat_until_a_message_replaces_it, telegram_fixture) {
    const auto user = sim.add_user({.first_name = "Elif"});
    run([&]() -> awaitable<void> {
        tg::send_message_draft_params thinking{.chat_id = user, .draft_id = 7, .can_stop = true};
        auto first = co_await bot->send_message_draft(std::move(thinking));
        BOOST_TEST(first.has_value());
        tg::send_message_draft_params growing{.chat_id = user,
                                              .draft_id = 7,
                                              .text = "Merhaba <b>Elif</b>",
                                              .message_thread_id = 3,
                                              .can_stop = true,
                                              .keep_on_stop = true,
                                              .parse_mode = "HTML"};
        auto second = co_await bot->send_message_draft(std::move(growing));
        BOOST_TEST(second.has_value());
        BOOST_TEST(sim.draft_open(user));

        const auto drafts = sim.drafts(user);
        BOOST_TEST_REQUIRE(drafts.size() == 2U);
        BOOST_TEST(drafts[0].text.empty()); // "Thinking..."
        BOOST_TEST(drafts[0].can_stop);
        BOOST_TEST(!drafts[0].keep_on_stop);
        BOOST_TEST(!drafts[0].message_thread_id.has_value());
        BOOST_TEST(drafts[1].draft_id == 7);
        BOOST_TEST(drafts[1].text == "Merhaba Elif"); // the HTML was parsed
        BOOST_TEST(drafts[1].keep_on_stop);
        BOOST_TEST(*drafts[1].message_thread_id == 3);
        BOOST_TEST(sim.sent_to(user).back().what == sim::sent_item::kind::draft);

        auto final_message = co_await bot->send_message(text_to(user, "Merhaba Elif, nasılsın?"));
        BOOST_TEST(final_message.has_value());
        BOOST_TEST(!sim.draft_open(user));
    });
}

BOOST_FIXTURE_TEST_CASE(a_draft_is_refused_for_a_group_a_zero_id_and_a_blocked_user, telegram_fixture) {
    const auto user = sim.add_user({});
    const auto blocked = sim.add_user({});
    sim.user_blocks_bot(blocked);
    const auto group = sim.add_group("Friends", {user});
    run([&]() -> awaitable<void> {
        tg::send_message_draft_params in_group{.chat_id = group, .draft_id = 1, .text = "x"};
        auto group_draft = co_await bot->send_message_draft(std::move(in_group));
        BOOST_TEST_REQUIRE(!group_draft.has_value());
        BOOST_TEST(group_draft.error().kind == tg::error_kind::bad_request);
        BOOST_TEST(group_draft.error().status == 400U);
        BOOST_TEST(group_draft.error().detail.find("private chats") != std::string::npos);

        tg::send_message_draft_params zero{.chat_id = user, .draft_id = 0, .text = "x"};
        auto zero_draft = co_await bot->send_message_draft(std::move(zero));
        BOOST_TEST_REQUIRE(!zero_draft.has_value());
        BOOST_TEST(zero_draft.error().kind == tg::error_kind::bad_request);

        tg::send_message_draft_params to_blocked{.chat_id = blocked, .draft_id = 1, .text = "x"};
        auto blocked_draft = co_await bot->send_message_draft(std::move(to_blocked));
        BOOST_TEST_REQUIRE(!blocked_draft.has_value());
        BOOST_TEST(blocked_draft.error().kind == tg::error_kind::forbidden);

        BOOST_TEST(sim.drafts(user).empty());
        BOOST_TEST(sim.drafts(group).empty());
        BOOST_TEST(!sim.draft_open(user));
    });
}

BOOST_FIXTURE_TEST_CASE(a_draft_flood_gives_429_with_retry_after_and_leaves_the_message_alone,
                        telegram_fixture) {
    const auto user = sim.add_user({});
    run([&]() -> awaitable<void> {
        for (std::size_t i = 0; i < 3; ++i) { // the draft burst
            tg::send_message_draft_params d{.chat_id = user, .draft_id = 5, .text = std::string(i + 1, 'a')};
            auto r = co_await bot->send_message_draft(std::move(d));
            BOOST_TEST(r.has_value());
        }
        tg::send_message_draft_params one_more{.chat_id = user, .draft_id = 5, .text = "aaaa"};
        auto flooded = co_await bot->send_message_draft(std::move(one_more));
        BOOST_TEST_REQUIRE(!flooded.has_value());
        BOOST_TEST(flooded.error().kind == tg::error_kind::rate_limited);
        BOOST_TEST_REQUIRE(flooded.error().retry_after.has_value());
        BOOST_TEST(*flooded.error().retry_after >= std::chrono::seconds(1));
        BOOST_TEST(sim.drafts(user).size() == 3U);

        // The final message has its own bucket: the draft flood does not hold it back.
        auto final_message = co_await bot->send_message(text_to(user, "aaaa"));
        BOOST_TEST(final_message.has_value());
        BOOST_TEST(!sim.draft_open(user));

        // A planned flood on drafts carries the fault's wait.
        sim.faults.add({.match = "sendMessageDraft", .kind = sim::fault_kind::rate_limited, .delay = 4s});
        tg::send_message_draft_params planned{.chat_id = user, .draft_id = 6, .text = "b"};
        auto planned_flood = co_await bot->send_message_draft(std::move(planned));
        BOOST_TEST_REQUIRE(!planned_flood.has_value());
        BOOST_TEST(*planned_flood.error().retry_after == std::chrono::seconds(4));
        sim.faults.add({.match = "sendMessageDraft", .kind = sim::fault_kind::server_error});
        tg::send_message_draft_params failing{.chat_id = user, .draft_id = 6, .text = "b"};
        auto server = co_await bot->send_message_draft(std::move(failing));
        BOOST_TEST_REQUIRE(!server.has_value());
        BOOST_TEST(server.error().kind == tg::error_kind::server);
        BOOST_TEST(sim.drafts(user).size() == 3U);
    });
}

BOOST_FIXTURE_TEST_CASE(a_stop_press_arrives_as_stopped_message_generation_once_listed, telegram_fixture) {
    const auto user = sim.add_user({});
    run([&]() -> awaitable<void> {
        tg::send_message_draft_params d{.chat_id = user,
                                        .draft_id = 11,
                                        .text = "Bir varmış",
                                        .can_stop = true};
        auto drafted = co_await bot->send_message_draft(std::move(d));
        BOOST_TEST_REQUIRE(drafted.has_value());
        const auto stop_id = sim.press_stop(user, 11);
        BOOST_TEST(!sim.draft_open(user)); // the user's client ended the draft

        // Not listed: Telegram keeps it from the bot.
        tg::get_updates_params unlisted{.allowed_updates = std::vector<std::string>{"message"},
                                        .timeout = 0s};
        auto without = co_await bot->get_updates(std::move(unlisted));
        BOOST_TEST_REQUIRE(without.has_value());
        BOOST_TEST(without->updates.empty());

        tg::get_updates_params listed{.allowed_updates = tg::typed_update_kinds(), .timeout = 0s};
        auto with = co_await bot->get_updates(std::move(listed));
        BOOST_TEST_REQUIRE(with.has_value());
        BOOST_TEST_REQUIRE(with->updates.size() == 1U);
        const auto& u = with->updates[0];
        BOOST_TEST(u.update_id == stop_id);
        BOOST_TEST(u.what == tg::update::kind::stopped_message_generation);
        BOOST_TEST(u.stopped_generation->draft_id == 11);
        BOOST_TEST(u.stopped_generation->chat_id == user);
        BOOST_TEST(*u.chat_id() == user);
    });
}

// Contract §2 over a real socket: a Stars invoice, the user's Pay, the pre-checkout answered,
// the successful payment, and a refund Telegram then reports as already made.
BOOST_FIXTURE_TEST_CASE(a_stars_invoice_is_paid_answered_and_refunded, telegram_fixture) {
    const auto user = sim.add_user({.language_code = "tr"});
    run([&]() -> awaitable<void> {
        tg::send_invoice_params inv;
        inv.chat_id = user;
        inv.title = "3 video";
        inv.description = "3 video kredisi";
        inv.payload = "pack:3:150:" + std::to_string(user);
        inv.prices.push_back({.label = "3 video", .amount = 150});
        auto sent = co_await bot->send_invoice(std::move(inv));
        BOOST_TEST_REQUIRE(sent.has_value());
        const auto query_id = sim.user_pays(user, sent->message_id);

        tg::get_updates_params polled_params{.allowed_updates = tg::typed_update_kinds(), .timeout = 0s};
        auto polled = co_await bot->get_updates(std::move(polled_params));
        BOOST_TEST_REQUIRE(polled.has_value());
        BOOST_TEST_REQUIRE(polled->updates.size() == 1U);
        const auto& q = polled->updates[0];
        BOOST_TEST(q.what == tg::update::kind::pre_checkout_query);
        BOOST_TEST_REQUIRE(q.pre_checkout.has_value());
        BOOST_TEST(q.pre_checkout->id == query_id);
        BOOST_TEST(q.pre_checkout->currency == "XTR");
        BOOST_TEST(q.pre_checkout->total_amount == 150);
        auto answered = co_await bot->answer_pre_checkout_query(query_id, true, "");
        BOOST_TEST_REQUIRE(answered.has_value());

        tg::get_updates_params next_params{.offset = polled->next_offset(),
                                           .allowed_updates = tg::typed_update_kinds(),
                                           .timeout = 0s};
        auto paid = co_await bot->get_updates(std::move(next_params));
        BOOST_TEST_REQUIRE(paid.has_value());
        BOOST_TEST_REQUIRE(paid->updates.size() == 1U);
        const auto& payment = paid->updates[0].message->successful_payment;
        BOOST_TEST_REQUIRE(payment.has_value());
        BOOST_TEST(payment->invoice_payload == "pack:3:150:" + std::to_string(user));
        BOOST_TEST(!payment->telegram_payment_charge_id.empty());

        auto refunded = co_await bot->refund_star_payment(user, payment->telegram_payment_charge_id);
        BOOST_TEST(refunded.has_value());
        auto again = co_await bot->refund_star_payment(user, payment->telegram_payment_charge_id);
        BOOST_TEST_REQUIRE(!again.has_value());
        BOOST_TEST(again.error().detail.find("CHARGE_ALREADY_REFUNDED") != std::string::npos);
        BOOST_TEST(sim.counters().payments_refunded == 1U);
    });
}

// Contract §2's subscription over a real socket: createInvoiceLink with the 30-day period, the
// user's payment (is_first_recurring, the expiration a period away), a renewal, and the
// `subscription` update when the user cancels.
BOOST_FIXTURE_TEST_CASE(a_stars_subscription_is_linked_paid_renewed_and_cancelled, telegram_fixture) {
    const auto user = sim.add_user({.language_code = "en"});
    run([&]() -> awaitable<void> {
        const auto payload = "sub:3:450:" + std::to_string(user);
        tg::create_invoice_link_params bad;
        bad.title = "Daily videos";
        bad.description = "3 more videos a day";
        bad.payload = payload;
        bad.prices.push_back({.label = "30 days", .amount = 450});
        bad.subscription_period = 7 * 86400; // Telegram sells 30-day subscriptions only
        auto refused = co_await bot->create_invoice_link(bad);
        BOOST_TEST_REQUIRE(!refused.has_value());
        BOOST_TEST(refused.error().detail.find("SUBSCRIPTION_PERIOD_INVALID") != std::string::npos);
        auto good = bad;
        good.subscription_period = 2592000;
        auto link = co_await bot->create_invoice_link(good);
        BOOST_TEST_REQUIRE(link.has_value());
        BOOST_TEST(link->starts_with("https://t.me/$"));

        const auto query_id = sim.user_pays_link(user, *link);
        tg::get_updates_params first{.allowed_updates = tg::typed_update_kinds(), .timeout = 0s};
        auto asked = co_await bot->get_updates(first);
        BOOST_TEST_REQUIRE(asked.has_value());
        BOOST_TEST_REQUIRE(asked->updates.size() == 1U);
        BOOST_TEST(asked->updates[0].pre_checkout->invoice_payload == payload);
        BOOST_TEST_REQUIRE((co_await bot->answer_pre_checkout_query(query_id, true, "")).has_value());
        const auto renewed_charge = sim.renew_subscription(user);
        BOOST_TEST(!renewed_charge.empty());
        sim.user_cancels_subscription(user);
        BOOST_TEST(sim.renew_subscription(user).empty()); // cancelled: no renewal

        tg::get_updates_params rest{.offset = asked->next_offset(),
                                    .allowed_updates = tg::typed_update_kinds(),
                                    .timeout = 0s};
        auto got = co_await bot->get_updates(rest);
        BOOST_TEST_REQUIRE(got.has_value());
        BOOST_TEST_REQUIRE(got->updates.size() == 3U);
        const auto& paid = got->updates[0].message->successful_payment;
        BOOST_TEST_REQUIRE(paid.has_value());
        BOOST_TEST(paid->invoice_payload == payload);
        BOOST_TEST(paid->is_recurring);
        BOOST_TEST(paid->is_first_recurring);
        BOOST_TEST_REQUIRE(paid->subscription_expiration_date.has_value());
        const auto& renewal = got->updates[1].message->successful_payment;
        BOOST_TEST_REQUIRE(renewal.has_value());
        BOOST_TEST(renewal->telegram_payment_charge_id == renewed_charge);
        BOOST_TEST(!renewal->is_first_recurring);
        BOOST_TEST(renewal->subscription_expiration_date.value_or(0) ==
                   *paid->subscription_expiration_date + 2592000);
        const auto& cancelled = got->updates[2];
        BOOST_TEST((cancelled.what == tg::update::kind::subscription));
        BOOST_TEST_REQUIRE(cancelled.subscription.has_value());
        BOOST_TEST(cancelled.subscription->state == "canceled");
        BOOST_TEST(cancelled.subscription->from.id == user);
    });
}

BOOST_FIXTURE_TEST_CASE(an_inline_button_press_arrives_without_a_message_and_is_answered, telegram_fixture) {
    const auto user = sim.add_user({.language_code = "ru"});
    run([&]() -> awaitable<void> {
        const auto query_id = sim.press_inline_button(user, "AgAAAH8AAAB-AAAADg", "p:luna");
        tg::get_updates_params polled_params{.timeout = 0s};
        auto polled = co_await bot->get_updates(std::move(polled_params));
        BOOST_TEST_REQUIRE(polled.has_value());
        BOOST_TEST(polled->malformed.empty());
        BOOST_TEST_REQUIRE(polled->updates.size() == 1U);
        const auto& u = polled->updates[0];
        BOOST_TEST_REQUIRE(u.callback_query.has_value());
        BOOST_TEST(u.callback_query->id == query_id);
        BOOST_TEST(!u.callback_query->message.has_value());
        BOOST_TEST(*u.callback_query->inline_message_id == "AgAAAH8AAAB-AAAADg");
        BOOST_TEST(u.callback_query->data == "p:luna");
        BOOST_TEST(*u.chat_id() == user);

        tg::answer_callback_params answer{.callback_query_id = query_id, .text = "✓"};
        auto answered = co_await bot->answer_callback_query(std::move(answer));
        BOOST_TEST(answered.has_value());
        BOOST_TEST(sim.sent_to(user).back().what == sim::sent_item::kind::callback_answer);
    });
}

BOOST_FIXTURE_TEST_CASE(get_me_parses_the_bot_full_info, telegram_fixture) {
    run([&]() -> awaitable<void> {
        json::object none;
        auto raw = co_await bot->call("getMe", std::move(none));
        BOOST_TEST_REQUIRE(raw.has_value());
        BOOST_TEST(raw->as_object().contains("supports_inline_queries")); // BotFullInfo's own field
        auto me = co_await bot->get_me();
        BOOST_TEST_REQUIRE(me.has_value());
        BOOST_TEST(me->is_bot);
        BOOST_TEST(me->username == "companion_bot");
    });
}

BOOST_AUTO_TEST_CASE(the_bot_token_never_appears_in_logs_or_error_texts) {
    const std::string accepted = "987654321:ZZsim-accepted-token_0123456789abcdefgh";
    telegram_fixture f(sim::telegram_simulator_config{.token = accepted, .max_poll_hold = 100ms}, accepted);
    const auto user = f.sim.add_user({});
    log_capture captured;
    engine::log().configure({.level = engine::log_level::debug});
    std::vector<std::string> texts;
    f.run([&]() -> awaitable<void> {
        using sim::fault_kind;
        tg::client wrong(f.http, f.client_config_for(test_token)); // a well-formed but wrong token
        auto denied = co_await wrong.send_message(text_to(user, "x"));
        BOOST_TEST(denied.error().kind == tg::error_kind::unauthorized);
        texts.push_back(denied.error().message());

        for (auto kind : {fault_kind::reset,
                          fault_kind::reset_mid_body,
                          fault_kind::server_error,
                          fault_kind::malformed_json,
                          fault_kind::rate_limited}) {
            f.sim.faults.add({.match = "", .kind = kind, .delay = 1s});
            auto failed = co_await f.bot->send_message(text_to(user, "x"));
            BOOST_TEST_REQUIRE(!failed.has_value());
            texts.push_back(failed.error().message());
            try {
                (void)failed.value();
            } catch (const std::exception& e) { // what a caller's .value() would log
                texts.emplace_back(e.what());
            }
        }
        // A file download URL carries the token too.
        auto missing = co_await f.bot->download_file("photos/none.jpg", "/tmp/tg_token_test_none", 1024);
        BOOST_TEST(!missing.has_value());
        texts.push_back(missing.error().message());
    });
    engine::log().configure({.level = engine::log_level::info});
    BOOST_TEST(captured.lines.size() >= 5U); // the client logged its failures
    for (const auto& token : {accepted, test_token}) {
        const std::string secret_part = token.substr(token.find(':') + 1);
        for (const auto& line : captured.lines) {
            BOOST_CHECK_MESSAGE(line.find(secret_part) == std::string::npos, line);
        }
        for (const auto& text : texts) {
            BOOST_CHECK_MESSAGE(text.find(secret_part) == std::string::npos, text);
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
