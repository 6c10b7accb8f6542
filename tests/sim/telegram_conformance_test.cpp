// The Telegram simulator's conformance table: for every Bot API method it implements, requests
// with the answer each must get (success with the result's shape, and each documented error with
// Telegram's exact code and description), so that no method drifts from Telegram silently. A
// second case checks that the table covers every implemented method both ways.
#include "tests/sim/telegram_world.hpp"

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>

#include <algorithm>
#include <ostream>
#include <set>
#include <string_view>
#include <vector>

using namespace companion;
using namespace companion::test;
using engine::awaitable;

namespace {

// `expect`, for an error: the exact description. For a success, the result's shape:
//   "true"               the result is true
//   "link"               a t.me invoice link
//   "array:<n>"          an array of n items ("array" for any length)
//   "object:<key>"       an object with <key>
//   "message:<field>"    a Message (message_id, chat, date) with <field>
struct conformance_case {
    std::string_view method;
    std::string_view params; ///< a JSON object with $placeholders (tests/sim/telegram_world.hpp)
    unsigned status;
    std::string_view expect;
    std::string_view token = world_token;
};

std::ostream& operator<<(std::ostream& os, const conformance_case& c) {
    return os << c.method << ' ' << c.params << " -> " << c.status << ' ' << c.expect;
}

constexpr std::string_view bad_token = "123:short";
constexpr std::string_view too_old =
    "Bad Request: query is too old and response timeout expired or query ID is invalid";
constexpr std::string_view not_modified = "Bad Request: message is not modified: specified new message "
                                          "content and reply markup are exactly the same as "
                                          "a current content and reply markup of the message";

const std::vector<conformance_case> table{
    // identity and updates
    {"getMe", "{}", 200, "object:username"},
    {"getMe", "{}", 401, "Unauthorized", bad_token},
    {"getUpdates", R"({"timeout":0})", 200, "array"},
    {"getUpdates", R"({"allowed_updates":"not json"})", 400, "Bad Request: can't parse allowed updates"},
    {"setWebhook", R"({"url":"https://example.com/hook"})", 200, "true"},
    {"setWebhook",
     R"({"url":"http://example.com/hook"})",
     400,
     "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"},
    {"setWebhook",
     R"({"url":"https://example.com/hook","secret_token":"no spaces"})",
     400,
     "Bad Request: secret token contains unallowed characters"},
    {"deleteWebhook", R"({"drop_pending_updates":true})", 200, "true"},
    {"deleteWebhook", "{}", 401, "Unauthorized", bad_token},
    {"getWebhookInfo", "{}", 200, "object:pending_update_count"},
    {"getWebhookInfo", "{}", 401, "Unauthorized", bad_token},
    // text messages
    {"sendMessage", R"({"chat_id":$USER,"text":"hi"})", 200, "message:text"},
    {"sendMessage",
     R"({"chat_id":$USER,"text":"<b>hi</b> there","parse_mode":"HTML"})",
     200,
     "message:entities"},
    {"sendMessage",
     R"({"chat_id":$USER,"text":"x","reply_parameters":{"message_id":$USER_MSG}})",
     200,
     "message:reply_to_message"},
    {"sendMessage", R"({"chat_id":$USER})", 400, "Bad Request: message text is empty"},
    {"sendMessage", R"({"chat_id":$USER,"text":"$LONG4097"})", 400, "Bad Request: message is too long"},
    {"sendMessage", R"({"text":"x"})", 400, "Bad Request: chat_id is empty"},
    {"sendMessage", R"({"chat_id":1,"text":"x"})", 400, "Bad Request: chat not found"},
    {"sendMessage", R"({"chat_id":$BLOCKED,"text":"x"})", 403, "Forbidden: bot was blocked by the user"},
    {"sendMessage",
     R"({"chat_id":$USER,"text":"<b>x","parse_mode":"HTML"})",
     400,
     "Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"b\""},
    {"sendMessage",
     R"({"chat_id":$USER,"text":"1.5","parse_mode":"MarkdownV2"})",
     400,
     "Bad Request: can't parse entities: Character '.' is reserved and must be escaped with the preceding "
     "'\\'"},
    {"sendMessage",
     R"({"chat_id":$USER,"text":"x","parse_mode":"Markdown3"})",
     400,
     "Bad Request: unsupported parse_mode"},
    {"sendMessage",
     R"({"chat_id":$USER,"text":"x","reply_parameters":{"message_id":99999}})",
     400,
     "Bad Request: message to be replied not found"},
    {"sendMessage",
     R"({"chat_id":$USER,"text":"x","reply_markup":{"inline_keyboard":[[{"text":"A"}]]}})",
     400,
     "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"},
    {"sendMessageDraft", R"({"chat_id":$USER,"draft_id":7,"text":"thinking"})", 200, "true"},
    {"sendMessageDraft",
     R"({"chat_id":$GROUP,"draft_id":7,"text":"x"})",
     400,
     "Bad Request: method is available only for private chats"},
    {"sendMessageDraft",
     R"({"chat_id":$USER,"draft_id":0,"text":"x"})",
     400,
     "Bad Request: draft_id must be non-zero"},
    {"sendMessageDraft", R"({"chat_id":$USER,"text":"x"})", 400, "Bad Request: draft_id must be non-zero"},
    {"sendMessageDraft", R"({"chat_id":$USER,"draft_id":7})", 200, "true"}, // "Thinking..."
    {"sendMessageDraft",
     R"({"chat_id":$USER,"draft_id":7,"text":"$LONG1025","can_stop":true,"keep_on_stop":true})",
     200,
     "true"}, // a message's limit, not a caption's
    {"sendMessageDraft",
     R"({"chat_id":$USER,"draft_id":7,"text":"$LONG4097"})",
     400,
     "Bad Request: message is too long"},
    {"sendMessageDraft",
     R"({"chat_id":$USER,"draft_id":7,"text":"<b>x","parse_mode":"HTML"})",
     400,
     "Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"b\""},
    {"sendMessageDraft", R"({"draft_id":7,"text":"x"})", 400, "Bad Request: chat_id is empty"},
    {"sendMessageDraft", R"({"chat_id":1,"draft_id":7,"text":"x"})", 400, "Bad Request: chat not found"},
    {"sendMessageDraft",
     R"({"chat_id":$BLOCKED,"draft_id":7,"text":"x"})",
     403,
     "Forbidden: bot was blocked by the user"},
    // edits
    {"editMessageText", R"({"chat_id":$USER,"message_id":$BOT_MSG,"text":"new"})", 200, "message:edit_date"},
    {"editMessageText",
     R"({"chat_id":$USER,"message_id":$BOT_MSG,"text":"menu","reply_markup":$KEYBOARD})",
     400,
     not_modified},
    {"editMessageText",
     R"({"chat_id":$USER,"message_id":99999,"text":"new"})",
     400,
     "Bad Request: message to edit not found"},
    {"editMessageText",
     R"({"chat_id":$USER,"message_id":$PHOTO_MSG,"text":"new"})",
     400,
     "Bad Request: there is no text in the message to edit"},
    {"editMessageText",
     R"({"chat_id":$USER,"message_id":$USER_MSG,"text":"new"})",
     400,
     "Bad Request: message can't be edited"},
    {"editMessageCaption",
     R"({"chat_id":$USER,"message_id":$PHOTO_MSG,"caption":"new"})",
     200,
     "message:caption"},
    {"editMessageCaption",
     R"({"chat_id":$USER,"message_id":$BOT_MSG,"caption":"new"})",
     400,
     "Bad Request: there is no caption in the message to edit"},
    {"editMessageCaption",
     R"({"chat_id":$USER,"message_id":99999,"caption":"new"})",
     400,
     "Bad Request: message to edit not found"},
    {"editMessageReplyMarkup",
     R"({"chat_id":$USER,"message_id":$BOT_MSG,"reply_markup":{"inline_keyboard":[[{"text":"B","callback_data":"b"}]]}})",
     200,
     "message:reply_markup"},
    {"editMessageReplyMarkup",
     R"({"chat_id":$USER,"message_id":$BOT_MSG,"reply_markup":$KEYBOARD})",
     400,
     not_modified},
    {"editMessageReplyMarkup",
     R"({"chat_id":$USER,"message_id":$BOT_MSG,"reply_markup":"{"})",
     400,
     "Bad Request: can't parse reply keyboard markup JSON object"},
    {"editMessageMedia",
     R"({"chat_id":$USER,"message_id":$PHOTO_MSG,"media":{"type":"video","media":"$VIDEO_ID"}})",
     200,
     "message:video"},
    {"editMessageMedia",
     R"({"chat_id":$USER,"message_id":$BOT_MSG,"media":{"type":"photo","media":"$PHOTO_ID"}})",
     400,
     "Bad Request: message can't be edited"},
    {"editMessageMedia",
     R"({"chat_id":$USER,"message_id":$PHOTO_MSG,"media":{"type":"sticker","media":"x"}})",
     400,
     "Bad Request: can't parse InputMedia: type \"sticker\" is unsupported"},
    // deletion, forwarding, reactions
    {"deleteMessage", R"({"chat_id":$USER,"message_id":$BOT_MSG})", 200, "true"},
    {"deleteMessage",
     R"({"chat_id":$USER,"message_id":99999})",
     400,
     "Bad Request: message to delete not found"},
    {"deleteMessages", R"({"chat_id":$USER,"message_ids":[$BOT_MSG,99999]})", 200, "true"},
    {"deleteMessages", R"({"chat_id":$USER})", 400, "Bad Request: message identifiers are not specified"},
    {"deleteMessages",
     R"({"chat_id":$USER,"message_ids":[$IDS101]})",
     400,
     "Bad Request: too many message identifiers specified"},
    {"forwardMessage",
     R"({"chat_id":$GROUP,"from_chat_id":$USER,"message_id":$USER_MSG})",
     200,
     "message:forward_origin"},
    {"forwardMessage",
     R"({"chat_id":$GROUP,"from_chat_id":$USER,"message_id":99999})",
     400,
     "Bad Request: message to forward not found"},
    {"forwardMessage",
     R"({"chat_id":$GROUP,"from_chat_id":1,"message_id":$USER_MSG})",
     400,
     "Bad Request: chat not found"},
    {"copyMessage",
     R"({"chat_id":$GROUP,"from_chat_id":$USER,"message_id":$PHOTO_MSG,"caption":"copy"})",
     200,
     "object:message_id"},
    {"copyMessage",
     R"({"chat_id":$GROUP,"from_chat_id":$USER,"message_id":99999})",
     400,
     "Bad Request: message to copy not found"},
    {"setMessageReaction",
     R"({"chat_id":$USER,"message_id":$USER_MSG,"reaction":[{"type":"emoji","emoji":"👍"}]})",
     200,
     "true"},
    {"setMessageReaction",
     R"({"chat_id":$USER,"message_id":$USER_MSG,"reaction":[{"type":"emoji","emoji":"🐈"}]})",
     400,
     "Bad Request: REACTION_INVALID"},
    {"setMessageReaction",
     R"({"chat_id":$USER,"message_id":$USER_MSG,"reaction":[{"type":"emoji","emoji":"👍"},{"type":"emoji","emoji":"🔥"}]})",
     400,
     "Bad Request: REACTIONS_TOO_MANY"},
    {"setMessageReaction",
     R"({"chat_id":$USER,"message_id":$USER_MSG,"reaction":[{"type":"sound"}]})",
     400,
     "Bad Request: invalid reaction type specified"},
    {"setMessageReaction",
     R"({"chat_id":$USER,"message_id":99999,"reaction":[]})",
     400,
     "Bad Request: message to react not found"},
    // files
    {"sendPhoto",
     R"({"chat_id":$USER,"photo":"$PHOTO_ID","caption":"<i>again</i>","parse_mode":"HTML"})",
     200,
     "message:caption_entities"},
    {"sendPhoto", R"({"chat_id":$USER,"photo":"$VIDEO_ID"})", 400, "Bad Request: type of file mismatch"},
    {"sendPhoto",
     R"({"chat_id":$USER,"photo":"AgACAgIAAxkBAAMnope"})",
     400,
     "Bad Request: wrong file identifier/HTTP URL specified"},
    {"sendPhoto", R"({"chat_id":$USER})", 400, "Bad Request: there is no photo in the request"},
    {"sendPhoto",
     R"({"chat_id":$USER,"photo":"$PHOTO_ID","caption":"$LONG1025"})",
     400,
     "Bad Request: message caption is too long"},
    {"sendVideo", R"({"chat_id":$USER,"video":"$VIDEO_ID"})", 200, "message:video"},
    {"sendVideo", R"({"chat_id":$USER,"video":"$PHOTO_ID"})", 400, "Bad Request: type of file mismatch"},
    {"sendDocument", R"({"chat_id":$USER,"document":"$DOC_ID"})", 200, "message:document"},
    {"sendDocument",
     R"({"chat_id":$USER,"document":"$VOICE_ID"})",
     400,
     "Bad Request: type of file mismatch"},
    {"sendAudio", R"({"chat_id":$USER,"audio":"$AUDIO_ID"})", 200, "message:audio"},
    {"sendAudio", R"({"chat_id":$USER})", 400, "Bad Request: there is no audio in the request"},
    {"sendVoice", R"({"chat_id":$USER,"voice":"$VOICE_ID"})", 200, "message:voice"},
    {"sendVoice", R"({"chat_id":$USER})", 400, "Bad Request: there is no voice in the request"},
    {"sendAnimation", R"({"chat_id":$USER,"animation":"$ANIM_ID"})", 200, "message:animation"},
    {"sendAnimation",
     R"({"chat_id":$USER,"animation":"https://example.com/a.gif"})",
     400,
     "Bad Request: failed to get HTTP URL content"},
    {"sendMediaGroup",
     R"({"chat_id":$USER,"media":[{"type":"photo","media":"$PHOTO_ID"},{"type":"video","media":"$VIDEO_ID","caption":"both"}]})",
     200,
     "array:2"},
    {"sendMediaGroup",
     R"({"chat_id":$USER,"media":[{"type":"photo","media":"$PHOTO_ID"},{"type":"document","media":"$DOC_ID"}]})",
     400,
     "Bad Request: can't use the media of the specified type in the album"},
    {"sendMediaGroup", R"({"chat_id":$USER})", 400, "Bad Request: parameter \"media\" is required"},
    {"sendMediaGroup",
     R"({"chat_id":$USER,"media":{"type":"photo","media":"$PHOTO_ID"}})",
     400,
     "Bad Request: expected an Array of InputMedia"},
    {"sendMediaGroup",
     R"({"chat_id":$USER,"media":[]})",
     400,
     "Bad Request: media to send are not specified"},
    {"sendMediaGroup",
     R"({"chat_id":$USER,"media":[{"type":"photo"}]})",
     400,
     "Bad Request: can't parse InputMedia: media not found"},
    {"getFile", R"({"file_id":"$PHOTO_ID"})", 200, "object:file_path"},
    {"getFile", R"({"file_id":"nope"})", 400, "Bad Request: invalid file_id"},
    {"getFile", "{}", 400, "Bad Request: file_id not specified"},
    // chats
    {"sendChatAction", R"({"chat_id":$USER,"action":"typing"})", 200, "true"},
    {"sendChatAction",
     R"({"chat_id":$USER,"action":"dancing"})",
     400,
     "Bad Request: wrong parameter action in request"},
    {"getChat", R"({"chat_id":$GROUP})", 200, "object:title"},
    {"getChat", R"({"chat_id":1})", 400, "Bad Request: chat not found"},
    {"getChat", "{}", 400, "Bad Request: chat_id is empty"},
    {"getChatMember", R"({"chat_id":$GROUP,"user_id":$USER})", 200, "object:status"},
    {"getChatMember", R"({"chat_id":$GROUP,"user_id":42})", 400, "Bad Request: user not found"},
    {"getChatMember", R"({"chat_id":1,"user_id":$USER})", 400, "Bad Request: chat not found"},
    // queries
    {"answerCallbackQuery", R"({"callback_query_id":"$CALLBACK","text":"ok"})", 200, "true"},
    {"answerCallbackQuery", R"({"callback_query_id":"123"})", 400, too_old},
    {"answerCallbackQuery",
     R"({"callback_query_id":"$CALLBACK","text":"$LONG201"})",
     400,
     "Bad Request: MESSAGE_TOO_LONG"},
    {"answerInlineQuery",
     R"({"inline_query_id":"$INLINE","results":[{"type":"article","id":"1","title":"Cats","input_message_content":{"message_text":"meow"}}]})",
     200,
     "true"},
    {"answerInlineQuery", R"({"inline_query_id":"123","results":[]})", 400, too_old},
    {"answerInlineQuery",
     R"({"inline_query_id":"$INLINE"})",
     400,
     "Bad Request: parameter \"results\" is required"},
    {"answerInlineQuery",
     R"({"inline_query_id":"$INLINE","results":[{"type":"article"}]})",
     400,
     "Bad Request: can't parse inline query result: Field \"id\" must be of type String"},
    // commands
    {"setMyCommands", R"({"commands":[{"command":"start","description":"Start"}]})", 200, "true"},
    {"setMyCommands",
     R"({"commands":[{"command":"start","description":"Начать"}],"scope":{"type":"chat","chat_id":$USER},"language_code":"ru"})",
     200,
     "true"},
    {"setMyCommands",
     R"({"commands":[{"command":"Start!","description":"x"}]})",
     400,
     "Bad Request: BOT_COMMAND_INVALID"},
    {"setMyCommands",
     R"({"commands":[{"command":"start","description":""}]})",
     400,
     "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID"},
    {"setMyCommands",
     R"({"commands":[],"scope":{"type":"everyone"}})",
     400,
     "Bad Request: can't parse BotCommandScope: Unsupported type specified"},
    {"setMyCommands",
     R"({"commands":[],"scope":{"type":"chat","chat_id":1}})",
     400,
     "Bad Request: chat not found"},
    {"getMyCommands", R"({"scope":{"type":"all_private_chats"},"language_code":"tr"})", 200, "array:0"},
    {"getMyCommands",
     R"({"scope":{"type":"chat_member","chat_id":$GROUP,"user_id":0}})",
     400,
     "Bad Request: can't parse BotCommandScope: Invalid user_id specified"},
    {"deleteMyCommands", R"({"scope":{"type":"all_group_chats"}})", 200, "true"},
    {"deleteMyCommands",
     R"({"scope":"[]"})",
     400,
     "Bad Request: can't parse BotCommandScope: BotCommandScope must be an Object"},
    // Telegram Stars
    {"sendInvoice",
     R"({"chat_id":$USER,"title":"Credits","description":"5 videos","payload":"p2","currency":"XTR","prices":[{"label":"5","amount":50}]})",
     200,
     "message:invoice"},
    {"sendInvoice",
     R"({"chat_id":$USER,"title":"Credits","description":"d","payload":"p","currency":"XTR","prices":[{"label":"a","amount":1},{"label":"b","amount":2}]})",
     400,
     "Bad Request: STARS_INVOICE_INVALID"},
    {"sendInvoice",
     R"({"chat_id":$USER,"description":"d","payload":"p","currency":"XTR","prices":[]})",
     400,
     "Bad Request: parameter \"title\" is required"},
    {"createInvoiceLink",
     R"({"title":"Monthly","description":"3 videos a day","payload":"sub:3:450:1","currency":"XTR","prices":[{"label":"30 days","amount":450}],"subscription_period":2592000})",
     200,
     "link"},
    {"createInvoiceLink",
     R"({"title":"Monthly","description":"d","payload":"p","currency":"XTR","prices":[{"label":"a","amount":450}],"subscription_period":86400})",
     400,
     "Bad Request: SUBSCRIPTION_PERIOD_INVALID"},
    {"createInvoiceLink",
     R"({"title":"Monthly","description":"d","payload":"p","currency":"XTR","prices":[{"label":"a","amount":20000}],"subscription_period":2592000})",
     400,
     "Bad Request: SUBSCRIPTION_INVALID"},
    {"answerPreCheckoutQuery", R"({"pre_checkout_query_id":"$PRECHECKOUT","ok":true})", 200, "true"},
    {"answerPreCheckoutQuery", R"({"pre_checkout_query_id":"123","ok":true})", 400, too_old},
    {"answerPreCheckoutQuery",
     R"({"pre_checkout_query_id":"$PRECHECKOUT","ok":false})",
     400,
     "Bad Request: ERROR_MESSAGE_EMPTY"},
    {"refundStarPayment", R"({"user_id":$USER,"telegram_payment_charge_id":"$CHARGE"})", 200, "true"},
    {"refundStarPayment",
     R"({"user_id":$USER,"telegram_payment_charge_id":"stxnope"})",
     400,
     "Bad Request: CHARGE_NOT_FOUND"},
    {"getStarTransactions", R"({"offset":0,"limit":10})", 200, "object:transactions"},
    {"getStarTransactions", R"({"limit":101})", 400, "Bad Request: LIMIT_INVALID"},
};

// Checks the shape of a successful result.
void check_shape(const json::value& result, std::string_view expect) {
    const auto colon = expect.find(':');
    const auto kind = expect.substr(0, colon);
    const auto arg = colon == std::string_view::npos ? std::string_view{} : expect.substr(colon + 1);
    if (kind == "true") {
        BOOST_TEST(result.is_bool());
        BOOST_TEST((result.is_bool() && result.get_bool()));
    } else if (kind == "array") {
        BOOST_TEST_REQUIRE(result.is_array());
        if (!arg.empty()) {
            BOOST_TEST(result.get_array().size() == std::stoul(std::string(arg)));
        }
    } else if (kind == "object") {
        BOOST_TEST_REQUIRE(result.is_object());
        BOOST_TEST(result.get_object().contains(arg), "no " << arg << " in " << json::serialize(result));
    } else if (kind == "link") {
        BOOST_TEST_REQUIRE(result.is_string());
        BOOST_TEST(result.get_string().starts_with("https://t.me/$"));
    } else if (kind == "message") {
        BOOST_TEST_REQUIRE(result.is_object());
        const auto& m = result.get_object();
        BOOST_TEST(m.contains("message_id"));
        BOOST_TEST(m.contains("chat"));
        BOOST_TEST(m.contains("date"));
        BOOST_TEST(m.contains(arg), "no " << arg << " in " << json::serialize(result));
    } else {
        BOOST_FAIL("unknown expectation " << expect);
    }
}

} // namespace

BOOST_AUTO_TEST_SUITE(telegram_conformance)

BOOST_DATA_TEST_CASE(each_method_answers_as_telegram_does, boost::unit_test::data::make(table), row) {
    telegram_world w;
    w.run([&]() -> awaitable<void> {
        auto reply = co_await w.call(std::string(row.method),
                                     w.expand(std::string(row.params)),
                                     std::string(row.token));
        const auto& body = reply.body.as_object();
        BOOST_TEST(reply.status == row.status, json::serialize(reply.body));
        BOOST_TEST(body.at("ok").as_bool() == (row.status == 200));
        if (row.status == 200) {
            BOOST_TEST_REQUIRE(body.contains("result"));
            check_shape(body.at("result"), row.expect);
        } else {
            BOOST_TEST(body.at("error_code").as_int64() == static_cast<std::int64_t>(row.status));
            BOOST_TEST(body.at("description").as_string() == row.expect);
        }
    });
}

BOOST_AUTO_TEST_CASE(the_table_covers_every_implemented_method_with_a_success_and_an_error) {
    std::set<std::string_view> succeeds;
    std::set<std::string_view> fails;
    for (const auto& row : table) {
        (row.status == 200 ? succeeds : fails).insert(row.method);
    }
    const auto methods = sim::telegram_simulator::implemented_methods();
    for (auto m : methods) {
        BOOST_TEST(succeeds.contains(m), m << " has no success row");
        BOOST_TEST(fails.contains(m), m << " has no error row");
    }
    for (const auto& row : table) {
        const bool implemented = std::find(methods.begin(), methods.end(), row.method) != methods.end();
        BOOST_TEST(implemented, row.method << " is in the table but not implemented");
    }
    BOOST_TEST(methods.size() == 37U);
}

BOOST_AUTO_TEST_SUITE_END()
