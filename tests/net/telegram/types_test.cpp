// The update model without sockets: every sample payload of the contract, malformed and unknown
// updates, UTF-16 entity offsets, command extraction, keyboards and error classification, and the
// Bot API 10.x shapes (contracts/telegram-drafts-stars-voice.md §1, §4): a stopped draft, a
// callback with inline_message_id and no message, message_id 0, getMe's BotFullInfo, the update
// kinds the bot ignores, and voice notes (§3).
#include "net/telegram/error.hpp"
#include "net/telegram/types.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

using namespace companion::net::telegram;
namespace json = boost::json;

namespace {

// Samples copied from contracts/telegram-bot-api.md §9 (the ellipses in file ids included).
constexpr const char* text_message_envelope = R"({"ok":true,"result":[{"update_id":734591201,
 "message":{"message_id":58,"date":1764000000,
  "from":{"id":412345678,"is_bot":false,"first_name":"Elif","username":"elif_k","language_code":"tr"},
  "chat":{"id":412345678,"first_name":"Elif","username":"elif_k","type":"private"},
  "text":"Bugün nasılsın?"}}]})";

constexpr const char* start_update = R"({"update_id":734591202,
 "message":{"message_id":1,"date":1764000100,
  "from":{"id":512000111,"is_bot":false,"first_name":"Иван","language_code":"ru"},
  "chat":{"id":512000111,"first_name":"Иван","type":"private"},
  "text":"/start ref_42",
  "entities":[{"offset":0,"length":6,"type":"bot_command"}]}})";

constexpr const char* callback_update = R"({"update_id":734591203,
 "callback_query":{"id":"2199023255552017",
  "from":{"id":512000111,"is_bot":false,"first_name":"Иван","language_code":"ru"},
  "message":{"message_id":77,"date":1764000200,
   "from":{"id":7000000001,"is_bot":true,"first_name":"Companion","username":"companion_bot"},
   "chat":{"id":512000111,"first_name":"Иван","type":"private"},
   "text":"Какое видео хочешь?",
   "reply_markup":{"inline_keyboard":[[{"text":"📸➡️🎬","callback_data":"vid:last"},{"text":"✨","callback_data":"vid:new"}]]}},
  "chat_instance":"-5317843091238470111",
  "data":"vid:last"}})";

constexpr const char* photo_update = R"({"update_id":734591204,
 "message":{"message_id":80,"date":1764000300,
  "from":{"id":412345678,"is_bot":false,"first_name":"Elif"},
  "chat":{"id":412345678,"first_name":"Elif","type":"private"},
  "photo":[
   {"file_id":"AgACAgIAAxkBAAM1aAbc…small","file_unique_id":"AQADs1","file_size":1410,"width":51,"height":90},
   {"file_id":"AgACAgIAAxkBAAM1aAbc…mid","file_unique_id":"AQADs2","file_size":18222,"width":180,"height":320},
   {"file_id":"AgACAgIAAxkBAAM1aAbc…large","file_unique_id":"AQADs3","file_size":121004,"width":720,"height":1280}],
  "caption":"bak 😊"}})";

constexpr const char* send_video_envelope = R"({"ok":true,"result":{"message_id":91,"date":1764000400,
 "from":{"id":7000000001,"is_bot":true,"first_name":"Companion","username":"companion_bot"},
 "chat":{"id":412345678,"first_name":"Elif","type":"private"},
 "video":{"duration":8,"width":720,"height":1280,"file_name":"clip.mp4","mime_type":"video/mp4",
  "thumbnail":{"file_id":"AAMCAgAD…","file_unique_id":"AQADt","file_size":9120,"width":180,"height":320},
  "file_id":"BAACAgIAAxkDAAM…","file_unique_id":"AgADv","file_size":4718230},
 "caption":"🎬"}})";

constexpr const char* flood_body =
    R"({"ok":false,"error_code":429,"description":"Too Many Requests: retry after 35","parameters":{"retry_after":35}})";
constexpr const char* conflict_body =
    R"({"ok":false,"error_code":409,"description":"Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"})";
constexpr const char* blocked_body =
    R"({"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user"})";

update parse_one(const char* text) {
    auto u = parse_update(json::parse(text));
    BOOST_REQUIRE_MESSAGE(u, "sample did not parse");
    return *u;
}

// One update of `key` carrying `payload` (JSON text), numbered `id`.
json::value update_of(std::int64_t id, std::string_view key, std::string_view payload) {
    return json::parse(R"({"update_id":)" + std::to_string(id) + R"(,")" + std::string(key) + R"(":)" +
                       std::string(payload) + "}");
}

message text_message(std::string text, std::vector<message_entity> entities) {
    message m;
    m.message_id = 1;
    m.date = 1;
    m.text = std::move(text);
    m.entities = std::move(entities);
    return m;
}

} // namespace

BOOST_AUTO_TEST_SUITE(telegram_types)

BOOST_AUTO_TEST_CASE(text_message_sample_parses_from_the_envelope) {
    auto envelope = json::parse(text_message_envelope);
    auto batch = parse_updates(envelope.at("result"));
    BOOST_TEST_REQUIRE(batch.updates.size() == 1U);
    BOOST_TEST(batch.malformed.empty());
    const auto& u = batch.updates[0];
    BOOST_TEST(u.update_id == 734591201);
    BOOST_TEST(u.what == update::kind::message);
    BOOST_TEST(u.message->text == "Bugün nasılsın?");
    BOOST_TEST(u.message->from->language_code == "tr");
    BOOST_TEST(u.message->from->username == "elif_k");
    BOOST_TEST(u.message->chat.type == "private");
    BOOST_TEST(*u.chat_id() == 412345678);
    BOOST_TEST(*batch.next_offset() == 734591202);
}

BOOST_AUTO_TEST_CASE(start_with_deep_link_payload_yields_the_command_and_payload) {
    auto u = parse_one(start_update);
    BOOST_TEST(u.message->from->first_name == "Иван");
    auto cmd = extract_command(*u.message);
    BOOST_TEST_REQUIRE(cmd.has_value());
    BOOST_TEST(cmd->name == "start");
    BOOST_TEST(cmd->bot.empty());
    BOOST_TEST(cmd->payload == "ref_42");
}

BOOST_AUTO_TEST_CASE(callback_query_sample_parses_with_its_message) {
    auto u = parse_one(callback_update);
    BOOST_TEST(u.what == update::kind::callback_query);
    const auto& q = *u.callback_query;
    BOOST_TEST(q.id == "2199023255552017");
    BOOST_TEST(q.data == "vid:last");
    BOOST_TEST(q.chat_instance == "-5317843091238470111");
    BOOST_TEST(q.message->message_id == 77);
    BOOST_TEST(q.message->from->is_bot);
    BOOST_TEST(q.message->from->id == 7000000001); // beyond 32 bits
    BOOST_TEST(!q.message->inaccessible());
    BOOST_TEST(*u.chat_id() == 512000111);
}

BOOST_AUTO_TEST_CASE(photo_sample_keeps_the_largest_size_last) {
    auto u = parse_one(photo_update);
    BOOST_TEST_REQUIRE(u.message->photo.size() == 3U);
    BOOST_TEST(u.message->largest_photo()->file_id == "AgACAgIAAxkBAAM1aAbc…large");
    BOOST_TEST(u.message->largest_photo()->width == 720);
    BOOST_TEST(u.message->caption == "bak 😊");
}

BOOST_AUTO_TEST_CASE(send_video_result_sample_parses_the_video) {
    auto envelope = json::parse(send_video_envelope);
    auto m = parse_message(envelope.at("result"));
    BOOST_TEST_REQUIRE(m.has_value());
    BOOST_TEST_REQUIRE(m->video.has_value());
    BOOST_TEST(m->video->file_id == "BAACAgIAAxkDAAM…");
    BOOST_TEST(m->video->duration == 8);
    BOOST_TEST(m->video->width == 720);
    BOOST_TEST(m->video->height == 1280);
    BOOST_TEST(m->video->file_size == 4718230);
    BOOST_TEST(m->caption == "🎬");
}

BOOST_AUTO_TEST_CASE(a_copied_message_owns_its_own_video_and_a_moved_one_gives_it_up) {
    auto envelope = json::parse(send_video_envelope);
    auto parsed = parse_message(envelope.at("result"));
    BOOST_TEST_REQUIRE(parsed.has_value());
    message copy = *parsed;
    BOOST_TEST_REQUIRE(copy.video.has_value());
    BOOST_TEST(&*copy.video != &*parsed->video); // a copy of the part, not a share of it
    copy.video->duration = 9;
    BOOST_TEST(parsed->video->duration == 8);

    message moved = std::move(copy);
    BOOST_TEST(moved.video->duration == 9);
    BOOST_TEST(!copy.video); // NOLINT(bugprone-use-after-move): a moved-from part is empty
    BOOST_TEST((copy.video == std::nullopt));
    BOOST_CHECK_THROW(copy.video.value(), std::bad_optional_access);

    copy = moved; // assignment copies too
    BOOST_TEST(copy.video->duration == 9);
    moved.video.reset();
    BOOST_TEST(copy.video->duration == 9);
    BOOST_TEST(!parse_one(start_update).message->video);
}

BOOST_AUTO_TEST_CASE(a_message_keeps_its_rare_parts_out_of_line) {
    // Every update, callback and send result holds a message, and so does each coroutine frame
    // that awaits one: the video, voice and payment parts (over 500 bytes inline) stay boxed.
    BOOST_TEST(sizeof(message) <= 512U);
}

BOOST_AUTO_TEST_CASE(an_update_holds_only_its_message_inline) {
    // An update is held by the intake's and the router's frames for its whole turn: the kinds it
    // rarely carries (a callback, a member change, a payment query) stay boxed, the message not.
    BOOST_TEST(sizeof(update) <= sizeof(message) + 192U);
    const auto cb = parse_update(boost::json::parse(
        R"({"update_id":7,"callback_query":{"id":"q1","from":{"id":5,"is_bot":false,"first_name":"A"},)"
        R"("chat_instance":"ci","data":"persona:1"}})"));
    BOOST_TEST_REQUIRE(cb.has_value());
    const update copy = *cb; // NOLINT(performance-unnecessary-copy-initialization): the copy is the test
    BOOST_TEST_REQUIRE(copy.callback_query.has_value());
    BOOST_TEST(copy.callback_query->data == "persona:1");
    BOOST_TEST(&*copy.callback_query != &*cb->callback_query);
}

BOOST_AUTO_TEST_CASE(error_samples_are_classified_by_status_and_description) {
    auto flood = classify_failure("sendMessage", 429, flood_body, "");
    BOOST_TEST(flood.kind == error_kind::rate_limited);
    BOOST_TEST(*flood.retry_after == std::chrono::seconds(35));
    auto conflict = classify_failure("getUpdates", 409, conflict_body, "");
    BOOST_TEST(conflict.kind == error_kind::conflict);
    auto blocked = classify_failure("sendMessage", 403, blocked_body, "");
    BOOST_TEST(blocked.kind == error_kind::forbidden);
    BOOST_TEST(companion::net::telegram::blocked(blocked));

    auto not_modified = classify_failure(
        "editMessageText",
        400,
        R"({"ok":false,"error_code":400,"description":"Bad Request: message is not modified: specified new message content and reply markup are exactly the same"})",
        "");
    BOOST_TEST(not_modified.kind == error_kind::not_modified);
    auto too_old = classify_failure(
        "answerCallbackQuery",
        400,
        R"({"ok":false,"error_code":400,"description":"Bad Request: query is too old and response timeout expired or query ID is invalid"})",
        "");
    BOOST_TEST(too_old.kind == error_kind::query_too_old);
    auto migrated = classify_failure(
        "sendMessage",
        400,
        R"({"ok":false,"error_code":400,"description":"Bad Request: group chat was upgraded to a supergroup chat","parameters":{"migrate_to_chat_id":-1001234567890}})",
        "");
    BOOST_TEST(migrated.kind == error_kind::bad_request);
    BOOST_TEST(*migrated.migrate_to_chat_id == -1001234567890);
    // A flood answer without parameters still yields the wait from its description.
    auto bare = classify_failure("sendMessage",
                                 429,
                                 R"({"ok":false,"description":"Too Many Requests: retry after 7"})",
                                 "");
    BOOST_TEST(*bare.retry_after == std::chrono::seconds(7));
    // A proxy's HTML 502 is a server error; a 200 that is not JSON would be malformed.
    auto html = classify_failure("getMe", 502, "<html><body>502 Bad Gateway</body></html>", "");
    BOOST_TEST(html.kind == error_kind::server);
    auto unauthorized =
        classify_failure("getMe", 401, R"({"ok":false,"error_code":401,"description":"Unauthorized"})", "");
    BOOST_TEST(unauthorized.kind == error_kind::unauthorized);
}

BOOST_AUTO_TEST_CASE(unknown_update_types_and_fields_are_ignored) {
    auto u = parse_update(json::parse(
        R"({"update_id":9,"message_reaction":{"chat":{"id":1,"type":"private"}},"future_field":[1,2]})"));
    BOOST_TEST_REQUIRE(u.has_value());
    BOOST_TEST(u->what == update::kind::other);
    BOOST_TEST(!u->chat_id().has_value());

    auto m = parse_update(json::parse(
        R"({"update_id":10,"message":{"message_id":1,"date":5,"chat":{"id":-1001234567890123,"type":"supergroup","is_forum":true},"text":"hi","new_thing":{"x":1},"reply_markup":"ignored"}})"));
    BOOST_TEST_REQUIRE(m.has_value());
    BOOST_TEST(m->message->chat.id == -1001234567890123); // negative and beyond 32 bits
}

BOOST_AUTO_TEST_CASE(edited_message_and_my_chat_member_parse) {
    auto edited = parse_one(
        R"({"update_id":11,"edited_message":{"message_id":3,"date":5,"edit_date":6,"chat":{"id":4,"type":"private"},"text":"fixed"}})");
    BOOST_TEST(edited.what == update::kind::edited_message);
    BOOST_TEST(edited.message->edit_date == 6);

    auto blocked = parse_one(
        R"({"update_id":12,"my_chat_member":{"chat":{"id":4,"type":"private"},"from":{"id":4,"is_bot":false,"first_name":"A"},"date":7,
        "old_chat_member":{"user":{"id":1,"is_bot":true,"first_name":"B"},"status":"member"},
        "new_chat_member":{"user":{"id":1,"is_bot":true,"first_name":"B"},"status":"kicked","until_date":0}}})");
    BOOST_TEST(blocked.what == update::kind::my_chat_member);
    BOOST_TEST(blocked.my_chat_member->old_status == "member");
    BOOST_TEST(blocked.my_chat_member->new_status == "kicked");
}

BOOST_AUTO_TEST_CASE(inaccessible_callback_message_has_date_zero) {
    auto u = parse_one(
        R"({"update_id":13,"callback_query":{"id":"q","from":{"id":5,"is_bot":false,"first_name":"A"},"chat_instance":"1","data":"x",
        "message":{"chat":{"id":5,"type":"private"},"message_id":99,"date":0}}})");
    BOOST_TEST(u.callback_query->message->inaccessible());
    BOOST_TEST(u.callback_query->message->message_id == 99);
}

BOOST_AUTO_TEST_CASE(wrong_types_make_only_that_update_malformed_and_keep_its_id) {
    auto batch = parse_updates(json::parse(R"([
        {"update_id":20,"message":{"message_id":1,"date":1,"chat":{"id":1,"type":"private"},"text":"ok"}},
        {"update_id":21,"message":{"message_id":"one","date":1,"chat":{"id":1,"type":"private"}}},
        {"update_id":22,"message":"not an object"},
        {"update_id":23,"callback_query":{"id":5,"from":{"id":1,"first_name":"A"}}},
        {"update_id":24,"message":{"message_id":1,"date":1,"chat":{"id":1,"type":"private"},"entities":[{"type":"bold","offset":-1,"length":2}]}},
        {"update_id":"25","message":{}},
        {"update_id":26.5},
        42,
        {"update_id":27,"message":{"message_id":1,"date":1,"chat":{"id":18446744073709551615,"type":"private"}}}
    ])"));
    BOOST_TEST(batch.updates.size() == 1U);
    BOOST_TEST_REQUIRE(batch.malformed.size() == 8U);
    BOOST_TEST(*batch.malformed[0].update_id == 21);
    BOOST_TEST(*batch.malformed[1].update_id == 22);
    BOOST_TEST(*batch.malformed[2].update_id == 23);
    BOOST_TEST(*batch.malformed[3].update_id == 24);
    BOOST_TEST(!batch.malformed[4].update_id.has_value());
    BOOST_TEST(!batch.malformed[5].update_id.has_value());
    BOOST_TEST(!batch.malformed[6].update_id.has_value());
    BOOST_TEST(*batch.malformed[7].update_id == 27); // an id that does not fit int64
    BOOST_TEST(!batch.malformed[0].reason.empty());
    BOOST_TEST(*batch.next_offset() == 28);

    auto not_array = parse_updates(json::parse(R"({"update_id":1})"));
    BOOST_TEST(not_array.malformed.size() == 1U);
    BOOST_TEST(!not_array.next_offset().has_value());
}

BOOST_AUTO_TEST_CASE(entity_offsets_count_utf16_units_with_cyrillic_and_emoji) {
    // "Привет " is 7 units (13 bytes), "😀" is 2 units (4 bytes): the mention starts at unit 10.
    const std::string text = "Привет 😀 @user_name!";
    BOOST_TEST(utf16_length(text) == 21);
    auto mention = entity_text(text, {.type = "mention", .offset = 10, .length = 10});
    BOOST_TEST_REQUIRE(mention.has_value());
    BOOST_TEST(*mention == "@user_name");
    auto emoji = entity_text(text, {.type = "custom_emoji", .offset = 7, .length = 2});
    BOOST_TEST(*emoji == "😀");
    // Half a surrogate pair is not a valid boundary.
    BOOST_TEST(!entity_text(text, {.type = "bold", .offset = 8, .length = 1}).has_value());
    BOOST_TEST(!entity_text(text, {.type = "bold", .offset = 20, .length = 5}).has_value());
}

BOOST_AUTO_TEST_CASE(commands_with_bot_suffix_and_unicode_payloads_are_extracted) {
    auto with_bot = extract_command(
        text_message("/Start@companion_bot 😀 привет", {{.type = "bot_command", .offset = 0, .length = 20}}));
    BOOST_TEST_REQUIRE(with_bot.has_value());
    BOOST_TEST(with_bot->name == "start");
    BOOST_TEST(with_bot->bot == "companion_bot");
    BOOST_TEST(with_bot->payload == "😀 привет");

    auto bare = extract_command(text_message("/help", {{.type = "bot_command", .offset = 0, .length = 5}}));
    BOOST_TEST(bare->name == "help");
    BOOST_TEST(bare->payload.empty());

    // A command entity not at the start, or no entity at all, is not a command.
    BOOST_TEST(
        !extract_command(text_message("hi /start", {{.type = "bot_command", .offset = 3, .length = 6}}))
             .has_value());
    BOOST_TEST(!extract_command(text_message("/start", {})).has_value());
    // An entity longer than the text is ignored, never a crash.
    BOOST_TEST(!extract_command(text_message("/st", {{.type = "bot_command", .offset = 0, .length = 40}}))
                    .has_value());
}

BOOST_AUTO_TEST_CASE(callback_data_is_limited_to_64_bytes_not_characters) {

    std::string ok_cyr;
    for (int i = 0; i < 32; ++i) {
        ok_cyr += "ж"; // 2 bytes each: 64 bytes
    }
    std::string ok_emoji;
    for (int i = 0; i < 16; ++i) {
        ok_emoji += "🎬"; // 4 bytes each: 64 bytes
    }
    auto fits = inline_keyboard{}.button("a", ok_cyr).row().button("b", ok_emoji).build();
    BOOST_TEST_REQUIRE(fits.has_value());
    BOOST_TEST(json::serialize(*fits).find("inline_keyboard") != std::string::npos);
    BOOST_TEST(fits->at("inline_keyboard").as_array().size() == 2U);

    BOOST_TEST(!inline_keyboard{}.button("a", ok_cyr + "ж").build().has_value());
    BOOST_TEST(!inline_keyboard{}.button("a", ok_emoji + "!").build().has_value());
    BOOST_TEST(!inline_keyboard{}.button("a", "").build().has_value());
    BOOST_TEST(inline_keyboard::valid_callback_data(std::string(64, 'x')));
    BOOST_TEST(!inline_keyboard::valid_callback_data(std::string(65, 'x')));
}

BOOST_AUTO_TEST_CASE(reply_keyboard_and_remove_keyboard_have_the_contract_shape) {
    auto kb = reply_keyboard{}
                  .button("📸 Selfie")
                  .button("🎬 Video")
                  .row()
                  .button("👩 Persona")
                  .button("🌐 Language")
                  .is_persistent()
                  .resize_keyboard()
                  .input_field_placeholder("Write to her…")
                  .build();
    BOOST_TEST_REQUIRE(kb.has_value());
    const auto expected = json::parse(
        R"({"keyboard": [[{"text":"📸 Selfie"},{"text":"🎬 Video"}],[{"text":"👩 Persona"},{"text":"🌐 Language"}]],
 "is_persistent": true, "resize_keyboard": true, "input_field_placeholder": "Write to her…"})");
    BOOST_TEST(*kb == expected);
    BOOST_TEST(
        !reply_keyboard{}.button("x").input_field_placeholder(std::string(65, 'p')).build().has_value());
    BOOST_TEST(json::serialize(remove_keyboard()) == R"({"remove_keyboard":true})");
}

BOOST_AUTO_TEST_CASE(parser_never_throws_on_hostile_values) {
    for (const char* text :
         {"null",
          "[]",
          "\"x\"",
          R"({"update_id":1,"message":{"message_id":1,"date":1,"chat":null}})",
          R"({"update_id":1,"message":{"message_id":1,"date":1,"chat":{"id":true}}})",
          R"({"update_id":1,"message":{"message_id":1,"date":1,"chat":{"id":1,"type":"p"},"photo":{}}})",
          R"({"update_id":1,"message":{"message_id":1,"date":1,"chat":{"id":1,"type":"p"},"from":[]}})",
          R"({"update_id":1,"my_chat_member":{"chat":{"id":1,"type":"p"}}})",
          R"({"update_id":-5,"callback_query":[]})"}) {
        BOOST_CHECK_NO_THROW((void)parse_update(json::parse(text)));
        BOOST_TEST(!parse_update(json::parse(text)).has_value());
    }
}

// --- Bot API 10.x ------------------------------------------------------------------------------

namespace {

struct stopped_case {
    std::string_view name;
    std::string_view payload; ///< the stopped_message_generation object
    bool parses = true;
    std::int64_t chat = 0;
    std::optional<std::int64_t> thread{};
    std::int64_t draft = 0;
};

std::ostream& operator<<(std::ostream& os, const stopped_case& c) {
    return os << c.name;
}

const std::vector<stopped_case> stopped_cases{
    {"a stop in a private chat",
     R"({"chat":{"id":412345678,"first_name":"Elif","type":"private"},"draft_id":7})",
     true,
     412345678,
     std::nullopt,
     7},
    {"a stop in a topic, with the largest 31-bit draft id",
     R"({"chat":{"id":5,"type":"private"},"message_thread_id":3,"draft_id":2147483647,"new_field":{}})",
     true,
     5,
     3,
     2147483647},
    {"a draft id beyond 32 bits",
     R"({"chat":{"id":5,"type":"private"},"draft_id":8589934592})",
     true,
     5,
     std::nullopt,
     8589934592},
    {"no draft id", R"({"chat":{"id":5,"type":"private"}})", false},
    {"no chat", R"({"draft_id":7})", false},
    {"a draft id as text", R"({"chat":{"id":5,"type":"private"},"draft_id":"7"})", false},
    {"a thread id as text",
     R"({"chat":{"id":5,"type":"private"},"message_thread_id":"3","draft_id":7})",
     false},
    {"not an object", R"("stop")", false},
};

} // namespace

BOOST_DATA_TEST_CASE(a_stopped_generation_parses_with_its_chat_and_draft_or_is_malformed_with_its_id,
                     boost::unit_test::data::make(stopped_cases),
                     c) {
    auto batch = parse_updates(json::array{update_of(30, "stopped_message_generation", c.payload)});
    if (!c.parses) {
        BOOST_TEST(batch.updates.empty());
        BOOST_TEST_REQUIRE(batch.malformed.size() == 1U);
        BOOST_TEST(*batch.malformed[0].update_id == 30); // still confirmed past
        BOOST_TEST(*batch.next_offset() == 31);
        return;
    }
    BOOST_TEST(batch.malformed.empty());
    BOOST_TEST_REQUIRE(batch.updates.size() == 1U);
    const auto& u = batch.updates[0];
    BOOST_TEST(u.what == update::kind::stopped_message_generation);
    BOOST_TEST(u.other_kind.empty());
    BOOST_TEST_REQUIRE(u.stopped_generation.has_value());
    BOOST_TEST(u.stopped_generation->chat_id == c.chat);
    BOOST_TEST(u.stopped_generation->draft_id == c.draft);
    BOOST_TEST(u.stopped_generation->message_thread_id.value_or(-1) == c.thread.value_or(-1));
    BOOST_TEST(*u.chat_id() == c.chat); // ordered with the chat it stops
    BOOST_TEST(!u.message.has_value());
}

namespace {

struct callback_case {
    std::string_view name;
    std::string_view payload; ///< the callback_query object
    bool has_message = false;
    std::optional<std::string> inline_message_id{};
    std::int64_t chat = 0; ///< update::chat_id()
};

std::ostream& operator<<(std::ostream& os, const callback_case& c) {
    return os << c.name;
}

const std::vector<callback_case> callback_cases{
    {"a press on a message in a group",
     R"({"id":"1","from":{"id":512000111,"is_bot":false,"first_name":"A"},"chat_instance":"-1","data":"p:luna",
        "message":{"message_id":77,"date":1764000200,"chat":{"id":-1001234567890,"type":"supergroup","title":"G"}}})",
     true,
     std::nullopt,
     -1001234567890},
    {"a 10.5 press with inline_message_id and no message",
     R"({"id":"2","from":{"id":512000111,"is_bot":false,"first_name":"A"},"inline_message_id":"AgAAAH8AAAB-AAAADg",
        "chat_instance":"-5317843091238470111","data":"p:luna"})",
     false,
     "AgAAAH8AAAB-AAAADg",
     512000111},
    {"a press with neither (a game)",
     R"({"id":"3","from":{"id":7,"is_bot":false,"first_name":"A"},"chat_instance":"-1","game_short_name":"g"})",
     false,
     std::nullopt,
     7},
    {"an inaccessible message numbered 0",
     R"({"id":"4","from":{"id":9,"is_bot":false,"first_name":"A"},"chat_instance":"-1","data":"x",
        "message":{"message_id":0,"date":0,"chat":{"id":9,"type":"private"}}})",
     true,
     std::nullopt,
     9},
};

} // namespace

BOOST_DATA_TEST_CASE(a_callback_query_parses_with_a_message_or_an_inline_message_id,
                     boost::unit_test::data::make(callback_cases),
                     c) {
    auto parsed = parse_update(update_of(31, "callback_query", c.payload));
    BOOST_TEST_REQUIRE(parsed.has_value());
    const auto& u = *parsed;
    BOOST_TEST(u.what == update::kind::callback_query);
    BOOST_TEST_REQUIRE(u.callback_query.has_value());
    BOOST_TEST(u.callback_query->message.has_value() == c.has_message);
    BOOST_TEST(u.callback_query->inline_message_id.value_or("(none)") ==
               c.inline_message_id.value_or("(none)"));
    BOOST_TEST(*u.chat_id() == c.chat);
}

BOOST_AUTO_TEST_CASE(an_inline_message_id_that_is_not_text_makes_the_callback_malformed) {
    auto u = parse_update(update_of(
        32,
        "callback_query",
        R"({"id":"2","from":{"id":5,"is_bot":false,"first_name":"A"},"inline_message_id":17,"data":"x"})"));
    BOOST_TEST_REQUIRE(!u.has_value());
    BOOST_TEST(*u.error().update_id == 32);
    BOOST_TEST(u.error().reason.find("inline_message_id") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(message_id_zero_is_accepted_in_updates_and_send_results) {
    // 10.2 ephemeral messages, and a big video Telegram schedules instead of sending at once.
    auto u = parse_one(
        R"({"update_id":33,"message":{"message_id":0,"date":1764000500,"chat":{"id":4,"type":"private"},"text":"ephemeral"}})");
    BOOST_TEST(u.what == update::kind::message);
    BOOST_TEST(u.message->message_id == 0);
    BOOST_TEST(u.message->text == "ephemeral");
    BOOST_TEST(!u.message->inaccessible());

    auto scheduled = parse_message(json::parse(
        R"({"message_id":0,"date":1764000400,"chat":{"id":4,"type":"private"},"video":{"file_id":"BAAC","duration":8}})"));
    BOOST_TEST_REQUIRE(scheduled.has_value());
    BOOST_TEST(scheduled->message_id == 0);
    BOOST_TEST(scheduled->video->file_id == "BAAC");
}

BOOST_AUTO_TEST_CASE(get_me_bot_full_info_parses_as_the_bot_user_and_ignores_the_rest) {
    // 10.5: getMe answers BotFullInfo. Bot-only fields moved off User, the bot's own fields stay.
    auto me = parse_user(json::parse(R"({"id":7000000001,"is_bot":true,"first_name":"Companion",
        "username":"companion_bot","can_join_groups":true,"can_read_all_group_messages":false,
        "supports_inline_queries":true,"can_connect_to_business":false,"has_main_web_app":false,
        "callback_query_mode":"inline_message_id","commands":[{"command":"start","description":"Start"}],
        "menu_button":{"type":"commands"}})"));
    BOOST_TEST_REQUIRE(me.has_value());
    BOOST_TEST(me->id == 7000000001);
    BOOST_TEST(me->is_bot);
    BOOST_TEST(me->username == "companion_bot");
    BOOST_TEST(me->first_name == "Companion");

    // A user without the bot-only fields, as a User now always is, parses the same way.
    auto plain = parse_user(json::parse(R"({"id":5,"is_bot":false,"first_name":"Elif"})"));
    BOOST_TEST_REQUIRE(plain.has_value());
    BOOST_TEST(!plain->is_bot);
}

BOOST_AUTO_TEST_CASE(every_mix_of_optional_fields_is_read_whatever_was_read_before) {
    // The readers stop looking up fields once every member of the object was read (issue 16): each
    // subset of the optional fields, nulls included, must still come out whole.
    const std::pair<std::string_view, std::string_view> user_fields[] = {{"last_name", "Yılmaz"},
                                                                         {"username", "elif"},
                                                                         {"language_code", "tr"}};
    for (unsigned mask = 0; mask < 16; ++mask) {
        json::object o{{"id", 5}, {"is_bot", false}, {"first_name", "Elif"}};
        for (unsigned i = 0; i < 3; ++i) {
            if ((mask & (1U << i)) != 0) {
                o[user_fields[i].first] = user_fields[i].second;
            }
        }
        if ((mask & 8U) != 0) {
            o["is_premium"] = nullptr; // a member no reader asks for
        }
        const auto u = parse_user(o);
        BOOST_TEST_REQUIRE(u.has_value(), "mask " << mask);
        BOOST_TEST(u->last_name == ((mask & 1U) != 0 ? "Yılmaz" : ""), "mask " << mask);
        BOOST_TEST(u->username == ((mask & 2U) != 0 ? "elif" : ""), "mask " << mask);
        BOOST_TEST(u->language_code == ((mask & 4U) != 0 ? "tr" : ""), "mask " << mask);

        json::object c{{"id", -100}, {"type", (mask & 1U) != 0 ? "group" : "private"}};
        if ((mask & 2U) != 0) {
            c["title"] = "Kulüp";
        }
        if ((mask & 4U) != 0) {
            c["username"] = "kulup";
        }
        if ((mask & 8U) != 0) {
            c["first_name"] = "Elif";
        }
        const auto in_chat =
            parse_message(json::object{{"message_id", 1}, {"date", 1764000000}, {"chat", c}});
        BOOST_TEST_REQUIRE(in_chat.has_value(), "mask " << mask);
        const auto* ch = &in_chat->chat;
        BOOST_TEST(ch->title == ((mask & 2U) != 0 ? "Kulüp" : ""), "mask " << mask);
        BOOST_TEST(ch->username == ((mask & 4U) != 0 ? "kulup" : ""), "mask " << mask);
        BOOST_TEST(ch->first_name == ((mask & 8U) != 0 ? "Elif" : ""), "mask " << mask);

        // A message: the rare fields are read when present, after from and text (or without them).
        json::object m{{"message_id", 3}, {"date", 1764000000}, {"chat", {{"id", 5}, {"type", "private"}}}};
        if ((mask & 1U) != 0) {
            m["from"] = o;
        }
        if ((mask & 2U) != 0) {
            m["text"] = "/start x";
        }
        if ((mask & 4U) != 0) {
            m["entities"] = json::array{{{"type", "bot_command"}, {"offset", 0}, {"length", 6}}};
        }
        if ((mask & 8U) != 0) {
            m["caption"] = "altyazı";
            m["edit_date"] = 1764000001;
        }
        const auto msg = parse_message(m);
        BOOST_TEST_REQUIRE(msg.has_value(), "mask " << mask);
        BOOST_TEST(msg->from.has_value() == ((mask & 1U) != 0), "mask " << mask);
        BOOST_TEST(msg->text == ((mask & 2U) != 0 ? "/start x" : ""), "mask " << mask);
        BOOST_TEST(msg->entities.size() == ((mask & 4U) != 0 ? 1U : 0U), "mask " << mask);
        BOOST_TEST(msg->caption == ((mask & 8U) != 0 ? "altyazı" : ""), "mask " << mask);
        BOOST_TEST(msg->edit_date == ((mask & 8U) != 0 ? 1764000001 : 0), "mask " << mask);
    }
}

namespace {

struct ignored_case {
    std::string_view key;
    std::string_view payload;
};

std::ostream& operator<<(std::ostream& os, const ignored_case& c) {
    return os << c.key;
}

// Payloads shaped as Telegram sends them where known; a few are odd on purpose: an ignored kind is
// never read, so nothing inside it can make the update malformed.
const std::vector<ignored_case> ignored_cases{
    {"guest_message", R"({"message_id":0,"date":1764000600,"chat":{"id":5,"type":"private"},"text":"hi"})"},
    {"managed_bot",
     R"({"user":{"id":5,"is_bot":false,"first_name":"A"},"bot":{"id":6,"is_bot":true,"first_name":"B"}})"},
    {"widget_query", R"({"id":"w1","from":{"id":5,"is_bot":false,"first_name":"A"},"query":"x"})"},
    {"shared_widget_query", R"({"id":"w2","from":{"id":5}})"},
    {"purchased_paid_media",
     R"({"from":{"id":5,"is_bot":false,"first_name":"A"},"paid_media_payload":"clip"})"},
    {"message_reaction", R"({"chat":{"id":5,"type":"private"},"message_id":3,"date":1,"new_reaction":[]})"},
    {"business_message", R"({"message_id":"not even a number","chat":{}})"},
    {"chat_join_request", R"({"chat":{"id":-100,"type":"supergroup"},"from":{"id":5},"date":1})"},
    {"inline_query",
     R"({"id":"q","from":{"id":5,"is_bot":false,"first_name":"A"},"query":"cats","offset":""})"},
    {"a_kind_of_bot_api_11", R"("a string, where an object would be")"},
};

} // namespace

BOOST_DATA_TEST_CASE(update_kinds_the_bot_does_not_handle_are_other_with_their_key_and_never_malformed,
                     boost::unit_test::data::make(ignored_cases),
                     c) {
    auto batch = parse_updates(json::array{update_of(40, c.key, c.payload)});
    BOOST_TEST(batch.malformed.empty());
    BOOST_TEST_REQUIRE(batch.updates.size() == 1U);
    const auto& u = batch.updates[0];
    BOOST_TEST(u.what == update::kind::other);
    BOOST_TEST(u.other_kind == c.key);
    BOOST_TEST(!u.chat_id().has_value());
    BOOST_TEST(!u.message.has_value());
    BOOST_TEST(!u.stopped_generation.has_value());
    BOOST_TEST(!u.raw.empty()); // kept for the inbox like any update
    BOOST_TEST(*batch.next_offset() == 41);
}

BOOST_AUTO_TEST_CASE(an_update_with_only_its_id_or_a_huge_unknown_key_stays_countable) {
    auto bare = parse_update(json::parse(R"({"update_id":50,"nothing":null})"));
    BOOST_TEST_REQUIRE(bare.has_value());
    BOOST_TEST(bare->what == update::kind::other);
    BOOST_TEST(bare->other_kind.empty());

    const std::string long_key(300, 'k');
    auto huge = parse_update(update_of(51, long_key, "{}"));
    BOOST_TEST_REQUIRE(huge.has_value());
    BOOST_TEST(huge->other_kind == long_key.substr(0, update::max_other_kind));
}

BOOST_AUTO_TEST_CASE(typed_update_kinds_are_the_keys_the_parser_types_stop_included) {
    const auto kinds = typed_update_kinds();
    const std::vector<std::string> expected{"message",
                                            "edited_message",
                                            "callback_query",
                                            "my_chat_member",
                                            "stopped_message_generation",
                                            "pre_checkout_query",
                                            "subscription"};
    BOOST_TEST(kinds == expected, boost::test_tools::per_element());
    // Each name, used as an update's key with a valid payload, gives that kind: the list and the
    // parser cannot drift apart.
    const std::string message = R"({"message_id":1,"date":1,"chat":{"id":4,"type":"private"},"text":"x"})";
    const std::map<std::string, std::string> payloads{
        {"message", message},
        {"edited_message", message},
        {"callback_query", R"({"id":"q","from":{"id":4,"is_bot":false,"first_name":"A"},"data":"x"})"},
        {"my_chat_member",
         R"({"chat":{"id":4,"type":"private"},"from":{"id":4,"first_name":"A"},"new_chat_member":{"status":"kicked"}})"},
        {"stopped_message_generation", R"({"chat":{"id":4,"type":"private"},"draft_id":1})"},
        {"pre_checkout_query",
         R"({"id":"p","from":{"id":4,"is_bot":false,"first_name":"A"},"currency":"XTR","total_amount":1})"},
        {"subscription", R"({"user":{"id":4,"is_bot":false,"first_name":"A"},"state":"active"})"},
    };
    for (const auto& k : kinds) {
        auto u = parse_update(update_of(60, k, payloads.at(k)));
        BOOST_TEST_REQUIRE(u.has_value(), k);
        BOOST_TEST(to_string(u->what) == k);
        BOOST_TEST(*u->chat_id() == 4);
    }
}

BOOST_AUTO_TEST_CASE(stars_payments_parse_and_a_wrong_type_is_malformed_with_its_id) {
    // Contract §2's shapes: a pre-checkout query, a successful payment (a subscription's fields
    // too) and a refund notice; then a total_amount of the wrong type.
    auto batch = parse_updates(json::parse(R"([
        {"update_id":40,"pre_checkout_query":{"id":"4399023255552001","from":{"id":7,"is_bot":false,"first_name":"E"},
         "currency":"XTR","total_amount":150,"invoice_payload":"pack:3:150:7"}},
        {"update_id":41,"message":{"message_id":9,"date":1764000600,"from":{"id":7,"is_bot":false,"first_name":"E"},
         "chat":{"id":7,"type":"private"},"successful_payment":{"currency":"XTR","total_amount":150,
         "invoice_payload":"pack:3:150:7","telegram_payment_charge_id":"stxA","provider_payment_charge_id":"",
         "subscription_expiration_date":1766592600,"is_recurring":true,"is_first_recurring":true}}},
        {"update_id":42,"message":{"message_id":10,"date":1764000700,"chat":{"id":7,"type":"private"},
         "refunded_payment":{"currency":"XTR","total_amount":150,"invoice_payload":"pack:3:150:7",
         "telegram_payment_charge_id":"stxA"}}},
        {"update_id":43,"pre_checkout_query":{"id":"q","from":{"id":7,"is_bot":false,"first_name":"E"},
         "currency":"XTR","total_amount":"150"}},
        {"update_id":44,"subscription":{"user":{"id":7,"is_bot":false,"first_name":"E"},
         "invoice_payload":"sub:3:450:7","state":"canceled"}},
        {"update_id":45,"subscription":{"invoice_payload":"sub:3:450:7","state":"failed"}}
    ])"));
    BOOST_TEST_REQUIRE(batch.updates.size() == 4U);
    const auto& sub = batch.updates[3];
    BOOST_TEST((sub.what == update::kind::subscription));
    BOOST_TEST_REQUIRE(sub.subscription.has_value());
    BOOST_TEST(sub.subscription->from.id == 7);
    BOOST_TEST(sub.subscription->invoice_payload == "sub:3:450:7");
    BOOST_TEST(sub.subscription->state == "canceled");
    BOOST_TEST(sub.chat_id().value_or(0) == 7);
    const auto& q = batch.updates[0];
    BOOST_TEST((q.what == update::kind::pre_checkout_query));
    BOOST_TEST_REQUIRE(q.pre_checkout.has_value());
    BOOST_TEST(q.pre_checkout->id == "4399023255552001");
    BOOST_TEST(q.pre_checkout->from.id == 7);
    BOOST_TEST(q.pre_checkout->total_amount == 150);
    BOOST_TEST(q.pre_checkout->invoice_payload == "pack:3:150:7");
    BOOST_TEST(q.chat_id().value_or(0) == 7); // the payer's private chat
    const auto& paid = batch.updates[1].message->successful_payment;
    BOOST_TEST_REQUIRE(paid.has_value());
    BOOST_TEST(paid->currency == "XTR");
    BOOST_TEST(paid->telegram_payment_charge_id == "stxA");
    BOOST_TEST(paid->subscription_expiration_date.value_or(0) == 1766592600);
    BOOST_TEST(paid->is_recurring);
    BOOST_TEST(paid->is_first_recurring);
    const auto& back = batch.updates[2].message->refunded_payment;
    BOOST_TEST_REQUIRE(back.has_value());
    BOOST_TEST(back->telegram_payment_charge_id == "stxA");
    BOOST_TEST_REQUIRE(batch.malformed.size() == 2U); // a wrong type; a subscription without its user
    BOOST_TEST(batch.malformed[0].update_id.value_or(0) == 43);
    BOOST_TEST(batch.malformed[1].update_id.value_or(0) == 45);
}

BOOST_AUTO_TEST_CASE(a_voice_note_parses_tolerantly_and_a_wrong_type_is_malformed_with_its_id) {
    // The contract's shape (§3), plus an unknown field; then the optional fields left out.
    auto batch = parse_updates(json::parse(R"([
        {"update_id":30,"message":{"message_id":5,"date":1764000600,
         "from":{"id":412345678,"is_bot":false,"first_name":"Elif"},
         "chat":{"id":412345678,"type":"private"},
         "voice":{"file_id":"AwACAgIAAxkBAAM…","file_unique_id":"AgADw","duration":7,"mime_type":"audio/ogg",
                  "file_size":23415,"waveform":"ignored"}}},
        {"update_id":31,"message":{"message_id":6,"date":1,"chat":{"id":1,"type":"private"},
         "voice":{"file_id":"AwAC-bare","duration":null}}},
        {"update_id":32,"message":{"message_id":7,"date":1,"chat":{"id":1,"type":"private"},
         "voice":{"file_id":"AwAC-long","duration":99999999999}}},
        {"update_id":33,"message":{"message_id":8,"date":1,"chat":{"id":1,"type":"private"},
         "voice":{"duration":3}}},
        {"update_id":34,"message":{"message_id":9,"date":1,"chat":{"id":1,"type":"private"},
         "voice":{"file_id":"x","file_size":"big"}}},
        {"update_id":35,"message":{"message_id":10,"date":1,"chat":{"id":1,"type":"private"},"voice":[]}}
    ])"));
    BOOST_TEST_REQUIRE(batch.updates.size() == 3U);
    const auto& full = batch.updates[0].message->voice;
    BOOST_TEST_REQUIRE(full.has_value());
    BOOST_TEST(full->file_id == "AwACAgIAAxkBAAM…");
    BOOST_TEST(full->file_unique_id == "AgADw");
    BOOST_TEST(full->duration == 7);
    BOOST_TEST(full->mime_type == "audio/ogg");
    BOOST_TEST(full->file_size.value_or(0) == 23415);
    BOOST_TEST(batch.updates[0].message->text.empty());
    const auto& bare = batch.updates[1].message->voice;
    BOOST_TEST_REQUIRE(bare.has_value());
    BOOST_TEST(bare->duration == 0);
    BOOST_TEST(bare->mime_type.empty());
    BOOST_TEST(!bare->file_size.has_value());
    BOOST_TEST(batch.updates[2].message->voice->duration == 0); // beyond int: unknown, not broken
    BOOST_TEST(!parse_one(start_update).message->voice.has_value());
    // No file_id, a file_size that is not a number, a voice that is not an object.
    BOOST_TEST_REQUIRE(batch.malformed.size() == 3U);
    BOOST_TEST(batch.malformed[0].update_id.value_or(0) == 33);
    BOOST_TEST(batch.malformed[1].update_id.value_or(0) == 34);
    BOOST_TEST(batch.malformed[2].update_id.value_or(0) == 35);
    BOOST_TEST(batch.next_offset().value_or(0) == 36);
}

BOOST_AUTO_TEST_SUITE_END()

namespace {

// sendMessage answers read by read_sent_message (the reply path, issue 16): a plain success is
// read without a DOM; anything else is left to the general reader, which classifies it.
struct sent_case {
    std::string_view name;
    std::string_view body;
    bool lean = true; ///< read_sent_message reads it
    std::int64_t id = 0;
    std::int64_t date = 0;
    std::string_view text{};
};

std::ostream& operator<<(std::ostream& os, const sent_case& c) {
    return os << c.name;
}

const std::vector<sent_case> sent_cases{
    {"the contract's answer, chat and sender skipped",
     R"({"ok":true,"result":{"message_id":59,"from":{"id":7000000001,"is_bot":true,"first_name":"Elif"},
        "chat":{"id":412345678,"first_name":"Elif","type":"private"},"date":1764000005,
        "text":"İyiyim, sen? 😊","entities":[{"offset":0,"length":6,"type":"bold"}]}})",
     true,
     59,
     1764000005,
     "İyiyim, sen? 😊"},
    {"escapes in the text, result before ok",
     R"({"result":{"date":1764000006,"text":"\u0130yi\n\"x\" \ud83d\ude0a","message_id":60},"ok":true})",
     true,
     60,
     1764000006,
     "İyi\n\"x\" 😊"},
    {"message_id 0 (a scheduled message)",
     R"({"ok":true,"result":{"message_id":0,"date":1764000007,"chat":{"id":1,"type":"private"}}})",
     true,
     0,
     1764000007,
     ""},
    {"a repeated result: the last one counts",
     R"({"ok":true,"result":{"message_id":1,"date":2,"text":"old"},"result":{"message_id":3,"date":4}})",
     true,
     3,
     4,
     ""},
    {"ok false", R"({"ok":false,"error_code":400,"description":"Bad Request: chat not found"})", false},
    {"ok as a string", R"({"ok":"true","result":{"message_id":1,"date":2}})", false},
    {"no ok", R"({"result":{"message_id":1,"date":2}})", false},
    {"result true", R"({"ok":true,"result":true})", false},
    {"result an array", R"({"ok":true,"result":[{"message_id":1,"date":2}]})", false},
    {"no message_id", R"({"ok":true,"result":{"date":2}})", false},
    {"message_id as text", R"({"ok":true,"result":{"message_id":"1","date":2}})", false},
    {"message_id fractional", R"({"ok":true,"result":{"message_id":1.5,"date":2}})", false},
    {"message_id beyond 64 bits",
     R"({"ok":true,"result":{"message_id":18446744073709551615,"date":2}})",
     false},
    {"date 0 (inaccessible)", R"({"ok":true,"result":{"message_id":1,"date":0}})", false},
    {"a repeated result whose last has no id",
     R"({"ok":true,"result":{"message_id":1,"date":2},"result":{"date":3}})",
     false},
    {"cut short", R"({"ok":true,"result":{"message_id":1,"date":2)", false},
    {"data after the document", R"({"ok":true,"result":{"message_id":1,"date":2}} {})", false},
    {"not JSON", "<html>502 Bad Gateway</html>", false},
    {"an array", R"([{"ok":true}])", false},
    {"invalid UTF-8 in the text",
     "{\"ok\":true,\"result\":{\"message_id\":1,\"date\":2,\"text\":\"\xff\"}}",
     false},
};

} // namespace

BOOST_DATA_TEST_CASE(a_send_answer_is_read_without_a_dom_only_when_it_is_a_plain_success,
                     boost::unit_test::data::make(sent_cases),
                     c) {
    const auto sent = read_sent_message(c.body, 412345678);
    BOOST_TEST(sent.has_value() == c.lean);
    if (sent) {
        BOOST_TEST(sent->message_id == c.id);
        BOOST_TEST(sent->date == c.date);
        BOOST_TEST(sent->text == c.text);
        BOOST_TEST(sent->chat.id == 412345678);
    }
    // What the lean reader reads agrees with the DOM reader wherever both read the answer.
    boost::system::error_code ec;
    const auto v = json::parse(c.body, ec);
    if (ec || !sent) {
        return;
    }
    const auto full = parse_message(v.at("result"));
    if (full) {
        BOOST_TEST(full->message_id == sent->message_id);
        BOOST_TEST(full->date == sent->date);
        BOOST_TEST(full->text == sent->text);
    }
}
