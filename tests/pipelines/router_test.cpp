// Tests of pipelines/router: updates as Telegram sends them (parsed from JSON) to intents, in all
// three languages, with the limit that guards each; forged and stale buttons, groups, bots and
// edits included.
#include "pipelines/router.hpp"
#include "tests/common/print.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <sstream>
#include <string>
#include <vector>

using namespace companion;
using namespace companion::pipelines;

namespace {

const locale_catalog& locales() {
    static const auto catalog = *locale_catalog::load(COMPANION_DATA_DIR "/locales");
    return catalog;
}

std::string
message(const std::string& text, const std::string& chat_type = "private", bool from_bot = false) {
    std::string entities;
    if (!text.empty() && text[0] == '/') {
        const auto end = text.find(' ');
        entities = R"(,"entities":[{"type":"bot_command","offset":0,"length":)" +
                   std::to_string(end == std::string::npos ? text.size() : end) + "}]";
    }
    return R"({"update_id":10,"message":{"message_id":5,"date":1700000000,"from":{"id":42,"is_bot":)" +
           std::string(from_bot ? "true" : "false") +
           R"(,"first_name":"Ayşe","language_code":"tr"},"chat":{"id":)" +
           (chat_type == "private" ? "42" : "-100") + R"(,"type":")" + chat_type + R"("},"text":)" +
           boost::json::serialize(boost::json::value(text)) + entities + "}}";
}

std::string press(const std::string& data, const std::string& chat_type = "private") {
    return R"({"update_id":11,"callback_query":{"id":"cb1","from":{"id":42,"is_bot":false,"first_name":"Ayşe"},)"
           R"("chat_instance":"x","data":")" +
           data + R"(","message":{"message_id":6,"date":1700000000,"chat":{"id":)" +
           (chat_type == "private" ? "42" : "-100") + R"(,"type":")" + chat_type + R"("}}}})";
}

const std::string photo =
    R"({"update_id":12,"message":{"message_id":7,"date":1700000000,"from":{"id":42,"is_bot":false,"first_name":"A"},)"
    R"("chat":{"id":42,"type":"private"},"photo":[{"file_id":"p","file_unique_id":"u","width":90,"height":90}]}})";
const std::string voice =
    R"({"update_id":15,"message":{"message_id":8,"date":1700000000,"from":{"id":42,"is_bot":false,"first_name":"A"},)"
    R"("chat":{"id":42,"type":"private"},"voice":{"file_id":"AwAC","file_unique_id":"v1","duration":7,)"
    R"("mime_type":"audio/ogg","file_size":21000}}})";
const std::string voice_without_id =
    R"({"update_id":16,"message":{"message_id":9,"date":1700000000,"from":{"id":42,"is_bot":false,"first_name":"A"},)"
    R"("chat":{"id":42,"type":"private"},"voice":{"file_id":"","file_unique_id":"v1","duration":7}}})";
const std::string blocked =
    R"({"update_id":13,"my_chat_member":{"chat":{"id":42,"type":"private"},"from":{"id":42,"is_bot":false,)"
    R"("first_name":"A"},"date":1700000000,"old_chat_member":{"status":"member","user":{"id":1,"is_bot":true,)"
    R"("first_name":"bot"}},"new_chat_member":{"status":"kicked","user":{"id":1,"is_bot":true,"first_name":"bot"}}}})";
const std::string paid =
    R"({"update_id":17,"message":{"message_id":10,"date":1700000000,"from":{"id":42,"is_bot":false,"first_name":"A"},)"
    R"("chat":{"id":42,"type":"private"},"successful_payment":{"currency":"XTR","total_amount":150,)"
    R"("invoice_payload":"pack:3:150:42","telegram_payment_charge_id":"stx1","provider_payment_charge_id":""}}})";
const std::string refunded =
    R"({"update_id":18,"message":{"message_id":11,"date":1700000000,"from":{"id":42,"is_bot":false,"first_name":"A"},)"
    R"("chat":{"id":42,"type":"private"},"refunded_payment":{"currency":"XTR","total_amount":150,)"
    R"("invoice_payload":"pack:3:150:42","telegram_payment_charge_id":"stx1"}}})";
const std::string pre_checkout =
    R"({"update_id":19,"pre_checkout_query":{"id":"pq1","from":{"id":42,"is_bot":false,"first_name":"A",)"
    R"("language_code":"ru"},"currency":"XTR","total_amount":150,"invoice_payload":"pack:3:150:42"}})";
const std::string subscription_canceled =
    R"({"update_id":20,"subscription":{"user":{"id":42,"is_bot":false,"first_name":"A"},)"
    R"("invoice_payload":"sub:3:450:42","state":"canceled"}})";
const std::string edited =
    R"({"update_id":14,"edited_message":{"message_id":5,"date":1700000000,"edit_date":1700000001,)"
    R"("from":{"id":42,"is_bot":false,"first_name":"A"},"chat":{"id":42,"type":"private"},"text":"hi"}})";

struct route_case {
    std::string name;
    std::string update;
    std::string intent; ///< the intent as operator<< prints it
    gate limit;
};

std::ostream& operator<<(std::ostream& os, const route_case& c) {
    return os << c.name;
}

const std::vector<route_case> cases{
    {"free text is a chat turn", message("Bugün nasılsın?"), "chat \"Bugün nasılsın?\"", gate::chat},
    {"/start", message("/start"), "command start", gate::action},
    {"/persona", message("/persona"), "command persona", gate::action},
    {"/selfie", message("/selfie"), "command selfie", gate::action},
    {"/video", message("/video"), "command video", gate::action},
    {"/language", message("/language"), "command language", gate::action},
    {"/help", message("/help"), "command help", gate::action},
    {"/forget", message("/forget"), "command forget", gate::action},
    {"/delete is /forget", message("/delete"), "command forget", gate::action},
    {"/stats is /status", message("/stats"), "command status", gate::action},
    {"an unknown command", message("/dance"), "command unknown", gate::action},
    {"the Turkish selfie label", message("📸 Selfie"), "command selfie", gate::action},
    {"the Turkish video label", message("🎬 Video gönder"), "command video", gate::action},
    {"the Turkish persona label", message("👩 Karakter"), "command persona", gate::action},
    {"the Turkish language label", message("🌐 Dil"), "command language", gate::action},
    {"the Russian selfie label", message("📸 Селфи"), "command selfie", gate::action},
    {"the Russian video label", message("🎬 Отправь видео"), "command video", gate::action},
    {"the Russian persona label", message("👩 Персонаж"), "command persona", gate::action},
    {"the Russian language label", message("🌐 Язык"), "command language", gate::action},
    {"the English video label", message("🎬 Send a video"), "command video", gate::action},
    {"the English persona label", message("👩 Persona"), "command persona", gate::action},
    {"the English language label", message("🌐 Language"), "command language", gate::action},
    {"a label with extra words is chat",
     message("🎬 Send a video please"),
     "chat \"🎬 Send a video please\"",
     gate::chat},
    {"a photo is unsupported", photo, "unsupported photo", gate::action},
    {"a voice note is heard as a turn", voice, "voice note 7 s", gate::chat},
    {"a voice note without a file is unsupported", voice_without_id, "unsupported other", gate::action},
    {"replies by voice for voice", press("set:voice:mirror"), "voice replies mirror", gate::action},
    {"replies in text only", press("set:voice:text"), "voice replies text", gate::action},
    {"replies always by voice", press("set:voice:voice"), "voice replies voice", gate::action},
    {"replies in text and voice", press("set:voice:both"), "voice replies both", gate::action},
    {"an unknown voice setting", press("set:voice:loud"), "stale button", gate::action},
    {"a voice setting with no value", press("set:voice:"), "stale button", gate::action},
    {"a group message is ignored",
     message("hi", "group"),
     "ignore (not a private chat with a person)",
     gate::none},
    {"another bot is ignored",
     message("hi", "private", true),
     "ignore (not a private chat with a person)",
     gate::none},
    {"an edit is ignored", edited, "ignore (an edited message)", gate::none},
    {"blocking the bot", blocked, "blocked", gate::none},
    {"a persona button", press("p:elif"), "persona elif", gate::action},
    {"a language button", press("lang:ru"), "language ru", gate::action},
    {"a language this bot does not speak", press("lang:de"), "stale button", gate::action},
    {"the 18+ yes", press("adult:yes"), "adult yes", gate::action},
    {"the 18+ no", press("adult:no"), "adult no", gate::action},
    {"erasing confirmed", press("forget:yes"), "forget yes", gate::action},
    {"erasing declined", press("forget:no"), "forget no", gate::action},
    {"an unknown answer to the 18+ question", press("adult:maybe"), "stale button", gate::action},
    {"video from the last selfie", press("vid:last"), "video from_last_selfie", gate::action},
    {"a new video", press("vid:new"), "video new", gate::action},
    {"a 10 s video from the last selfie", press("vid:last:10"), "video from_last_selfie 10 s", gate::action},
    {"a 5 s new video", press("vid:new:5"), "video new 5 s", gate::action},
    {"a length of zero", press("vid:new:0"), "stale button", gate::action},
    {"a length with junk", press("vid:new:5s"), "stale button", gate::action},
    {"a length no provider makes", press("vid:last:601"), "stale button", gate::action},
    {"a length without digits", press("vid:last:"), "stale button", gate::action},
    {"an unknown video mode", press("vid:old:5"), "stale button", gate::action},
    {"a gallery button", press("h:42"), "resend content 42", gate::action},
    {"a gallery button with no id", press("h:"), "stale button", gate::action},
    {"a gallery button with a negative id", press("h:-3"), "stale button", gate::action},
    {"a gallery button with trailing junk", press("h:42x"), "stale button", gate::action},
    {"a gallery button past int64", press("h:99999999999999999999"), "stale button", gate::action},
    {"the gallery of videos", message("/videos"), "command videos", gate::action},
    {"the gallery of selfies", message("/selfies"), "command selfies", gate::action},
    {"an empty persona id", press("p:"), "stale button", gate::action},
    {"a forged button", press("rm -rf"), "stale button", gate::action},
    {"a video button pressed in a supergroup", press("vid:new", "supergroup"), "private only", gate::none},
    {"a persona button pressed in a group", press("p:elif", "group"), "private only", gate::none},
    {"a button pressed in a channel", press("lang:ru", "channel"), "private only", gate::none},
    {"a pack button", press("buy:3"), "buy pack 3", gate::action},
    {"a pack button of zero credits", press("buy:0"), "stale button", gate::action},
    {"a pack button with junk", press("buy:3x"), "stale button", gate::action},
    {"a pack button past any pack", press("buy:10001"), "stale button", gate::action},
    {"a successful payment, never rate-limited", paid, "payment 150 XTR", gate::none},
    {"a refund notice",
     refunded,
     "ignore (a refund notice (the refund was recorded when it was made))",
     gate::none},
    {"a pre-checkout query, never rate-limited", pre_checkout, "pre-checkout pack:3:150:42", gate::none},
    {"the subscribe button", press("sub:month"), "subscribe", gate::action},
    {"a subscribe button of another period", press("sub:year"), "stale button", gate::action},
    {"a subscription cancelled, never rate-limited",
     subscription_canceled,
     "subscription canceled",
     gate::none},
    {"the balance", message("/balance"), "command balance", gate::action},
    {"buying is the balance with its packs", message("/buy"), "command balance", gate::action},
    {"payment support", message("/paysupport"), "command paysupport", gate::action},
    {"an admin's refund", message("/refund stx1"), "refund stx1", gate::action},
    {"a refund without a charge id", message("/refund"), "refund ", gate::action},
    {"check-ins on", press("chk:on"), "check-ins on", gate::action},
    {"check-ins off", press("chk:off"), "check-ins off", gate::action},
    {"a check-in button of another kind", press("chk:maybe"), "stale button", gate::action},
    {"check-ins pressed in a group", press("chk:on", "group"), "private only", gate::none},
    {"the clock an hour back", press("tz:-60"), "clock -60 min", gate::action},
    {"the clock an hour ahead", press("tz:+60"), "clock 60 min", gate::action},
    {"the clock by a forged amount", press("tz:+600"), "stale button", gate::action},
    {"the clock without a sign", press("tz:60"), "stale button", gate::action},
    {"no more check-ins", message("/stop"), "command stop", gate::action},
    {"a command for this bot by name", message("/start@Companion_Bot"), "command start", gate::action},
    {"a command for another bot",
     message("/start@OtherBot"),
     "ignore (a command for another bot)",
     gate::none},
};

} // namespace

BOOST_AUTO_TEST_SUITE(router_suite)

BOOST_DATA_TEST_CASE(updates_route_to_their_intent, boost::unit_test::data::make(cases), c) {
    const auto parsed = net::telegram::parse_update(boost::json::parse(c.update));
    BOOST_TEST_REQUIRE(parsed.has_value());
    const auto r = route_update(*parsed, locales(), "companion_bot");
    std::ostringstream printed;
    printed << r.what;
    BOOST_TEST(printed.str() == c.intent);
    BOOST_TEST(r.limit == c.limit);
}

BOOST_AUTO_TEST_CASE(a_button_press_carries_its_callback_id_and_chat) {
    const auto r =
        route_update(*net::telegram::parse_update(boost::json::parse(press("vid:new"))), locales());
    BOOST_TEST(r.from.callback_id == std::optional<std::string>("cb1"));
    BOOST_TEST(r.from.chat_id == 42);
    BOOST_TEST(r.from.user_id == 42);
}

BOOST_AUTO_TEST_CASE(a_message_carries_the_senders_language_tag) {
    const auto r =
        route_update(*net::telegram::parse_update(boost::json::parse(message("merhaba"))), locales());
    BOOST_TEST(r.from.language_code == "tr");
    BOOST_TEST(r.from.first_name == "Ayşe");
    BOOST_TEST(!r.from.callback_id.has_value());
}

BOOST_AUTO_TEST_SUITE_END()
