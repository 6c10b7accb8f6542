// Scripted users: every message kind arrives as Telegram shapes it (its files real and
// downloadable, with their MIME types), edits, reactions (only when asked for), inline queries,
// group membership, payments, and raw updates that are re-numbered and whose queries register.
#include "sim/media/mp4.hpp"
#include "sim/media/png.hpp"
#include "tests/sim/telegram_world.hpp"

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>

#include <ostream>
#include <set>

using namespace companion;
using namespace companion::test;
using engine::awaitable;
using kind = sim::user_message::kind;

namespace {

struct kind_case {
    kind what;
    std::string_view field;     ///< the Message field that carries it
    std::string_view mime_type; ///< of the file behind it ("" when there is no file)
};

std::ostream& operator<<(std::ostream& os, const kind_case& c) {
    return os << c.what;
}

const std::vector<kind_case> kinds{
    {kind::text, "text", ""},
    {kind::photo, "photo", "image/png"},
    {kind::video, "video", "video/mp4"},
    {kind::voice, "voice", "audio/ogg"},
    {kind::video_note, "video_note", "video/mp4"},
    {kind::audio, "audio", "audio/mpeg"},
    {kind::document, "document", "text/plain"},
    {kind::animation, "animation", "video/mp4"},
    {kind::sticker, "sticker", "image/png"},
    {kind::location, "location", ""},
    {kind::contact, "contact", ""},
    {kind::dice, "dice", ""},
    {kind::poll, "poll", ""},
};

// The single update of a getUpdates that confirms everything before it.
awaitable<json::object> next_update(telegram_world& w, std::int64_t& offset) {
    auto r = co_await w.call("getUpdates", R"({"timeout":1,"offset":)" + std::to_string(offset) + "}");
    BOOST_TEST_REQUIRE(r.status == 200U);
    const auto& list = r.body.at("result").as_array();
    BOOST_TEST_REQUIRE(!list.empty());
    const auto& u = list.front().as_object();
    offset = u.at("update_id").as_int64() + 1;
    co_return u;
}

// Confirms everything the world queued; returns the offset of what comes next. `allowed` (a JSON
// array) is set for the polls that follow.
awaitable<std::int64_t> skip_world_updates(telegram_world& w, std::string allowed = "[]") {
    auto all = co_await w.call("getUpdates", R"({"timeout":0,"limit":100})");
    const auto& list = all.body.at("result").as_array();
    BOOST_TEST_REQUIRE(!list.empty());
    const auto offset = list.back().at("update_id").as_int64() + 1;
    co_await w.call("getUpdates",
                    R"({"timeout":0,"offset":)" + std::to_string(offset) + R"(,"allowed_updates":)" +
                        allowed + "}");
    co_return offset;
}

awaitable<net::response> download(telegram_world& w, const std::string& file_id) {
    auto file = co_await w.call("getFile", R"({"file_id":")" + file_id + R"("})");
    BOOST_TEST_REQUIRE(file.status == 200U);
    net::request req;
    req.url = w.sim.base_url() + "/file/bot" + world_token + "/" +
              std::string(file.body.at("result").at("file_path").as_string());
    auto r = co_await w.http.send(std::move(req));
    BOOST_TEST_REQUIRE(r.has_value());
    co_return std::move(*r);
}

} // namespace

BOOST_AUTO_TEST_SUITE(telegram_scripted_users)

BOOST_DATA_TEST_CASE(every_message_kind_arrives_as_telegram_shapes_it,
                     boost::unit_test::data::make(kinds),
                     c) {
    telegram_world w;
    w.run([&]() -> awaitable<void> {
        const auto user = std::stoll(w.names.at("$USER"));
        std::int64_t offset = co_await skip_world_updates(w);
        const auto id =
            w.sim.user_sends(user, {.what = c.what, .text = c.what == kind::text ? "hi /help" : ""});
        const auto update = co_await next_update(w, offset);
        BOOST_TEST(update.at("update_id").as_int64() == id);
        const auto& msg = update.at("message").as_object();
        BOOST_TEST_REQUIRE(msg.contains(c.field), json::serialize(msg));
        BOOST_TEST(msg.at("from").at("id").as_int64() == user);
        BOOST_TEST(msg.at("chat").at("type").as_string() == "private");
        if (c.what == kind::text) {
            BOOST_TEST(msg.at("entities").at(0).at("type").as_string() == "bot_command");
            BOOST_TEST(msg.at("entities").at(0).at("offset").as_int64() == 3);
        }
        if (c.mime_type.empty()) {
            co_return;
        }
        const auto& f = msg.at(c.field);
        const auto& file = f.is_array() ? f.as_array().back().as_object() : f.as_object();
        const auto body = co_await download(w, std::string(file.at("file_id").as_string()));
        BOOST_TEST(body.status == 200U);
        BOOST_TEST(body.header("Content-Type") == c.mime_type);
        BOOST_TEST(static_cast<std::int64_t>(body.body.size()) == file.at("file_size").as_int64());
        if (c.what == kind::video || c.what == kind::animation || c.what == kind::video_note) {
            BOOST_TEST(sim::media::read_mp4_info(body.body).has_value());
            BOOST_TEST(file.contains("thumbnail"));
        }
    });
}

BOOST_AUTO_TEST_CASE(photo_sizes_are_distinct_real_files_and_videos_get_a_thumbnail) {
    telegram_world w;
    w.run([&]() -> awaitable<void> {
        auto sent = co_await w.call("sendPhoto", w.expand(R"({"chat_id":$USER,"photo":"$PHOTO_ID"})"));
        const auto& sizes = sent.body.at("result").at("photo").as_array();
        BOOST_TEST_REQUIRE(sizes.size() == 3U); // 90, 320 and the 640x360 original
        std::set<std::int64_t> file_sizes;
        for (const auto& s : sizes) {
            const auto got = co_await download(w, std::string(s.at("file_id").as_string()));
            const auto dims = sim::media::read_image_size(got.body);
            BOOST_TEST_REQUIRE(dims.has_value());
            BOOST_TEST(static_cast<std::int64_t>(dims->width) == s.at("width").as_int64());
            BOOST_TEST(static_cast<std::int64_t>(dims->height) == s.at("height").as_int64());
            BOOST_TEST(got.header("Content-Type") == "image/png"); // what the bytes are
            file_sizes.insert(s.at("file_size").as_int64());
        }
        BOOST_TEST(file_sizes.size() == 3U);
        auto video = co_await w.call("sendVideo", w.expand(R"({"chat_id":$USER,"video":"$VIDEO_ID"})"));
        const auto& v = video.body.at("result").at("video").as_object();
        BOOST_TEST(v.at("mime_type").as_string() == "video/mp4");
        BOOST_TEST_REQUIRE(v.contains("thumbnail"));
        BOOST_TEST(v.at("thumbnail").at("width").as_int64() <= 320);
    });
}

BOOST_AUTO_TEST_CASE(edits_reactions_inline_queries_and_groups_reach_the_bot_as_their_updates) {
    telegram_world w;
    w.run([&]() -> awaitable<void> {
        const auto user = std::stoll(w.names.at("$USER"));
        const auto group = std::stoll(w.names.at("$GROUP"));
        std::int64_t offset = co_await skip_world_updates(
            w,
            R"(["message","edited_message","inline_query","chat_member","message_reaction"])");

        const auto msg = std::stoll(w.names.at("$USER_MSG"));
        w.sim.user_edits_message(user, msg, "hello again");
        auto edited = co_await next_update(w, offset);
        BOOST_TEST(edited.at("edited_message").at("text").as_string() == "hello again");
        BOOST_TEST(edited.at("edited_message").as_object().contains("edit_date"));

        w.sim.user_reacts(user, std::stoll(w.names.at("$BOT_MSG")), {"👍"});
        auto reaction = co_await next_update(w, offset);
        BOOST_TEST(reaction.at("message_reaction").at("new_reaction").at(0).at("emoji").as_string() == "👍");

        const auto query = w.sim.user_queries_inline(user, "cats");
        auto inline_query = co_await next_update(w, offset);
        BOOST_TEST(inline_query.at("inline_query").at("id").as_string() == query);

        const auto newcomer = w.sim.add_user({.first_name = "Ayşe"});
        w.sim.user_joins_group(newcomer, group);
        auto joined = co_await next_update(w, offset);
        BOOST_TEST(joined.at("message").at("new_chat_members").at(0).at("id").as_int64() == newcomer);
        auto member = co_await next_update(w, offset);
        BOOST_TEST(member.at("chat_member").at("new_chat_member").at("status").as_string() == "member");
        w.sim.user_sends(newcomer, {.text = "hi all", .chat_id = group});
        auto in_group = co_await next_update(w, offset);
        BOOST_TEST(in_group.at("message").at("chat").at("id").as_int64() == group);
        BOOST_TEST(in_group.at("message").at("chat").at("type").as_string() == "supergroup");
        w.sim.user_leaves_group(newcomer, group);
        auto left = co_await next_update(w, offset);
        BOOST_TEST(left.at("message").at("left_chat_member").at("id").as_int64() == newcomer);
    });
}

BOOST_AUTO_TEST_CASE(reactions_are_not_delivered_unless_the_bot_asked_for_them) {
    telegram_world w;
    w.run([&]() -> awaitable<void> {
        const auto user = std::stoll(w.names.at("$USER"));
        const auto offset = co_await skip_world_updates(w);
        w.sim.user_reacts(user, std::stoll(w.names.at("$BOT_MSG")), {"🔥"});
        auto none = co_await w.call("getUpdates", R"({"timeout":0,"offset":)" + std::to_string(offset) + "}");
        BOOST_TEST(none.body.at("result").as_array().empty());
    });
}

BOOST_AUTO_TEST_CASE(a_raw_callback_query_is_renumbered_and_its_answer_is_recorded) {
    telegram_world w;
    w.run([&]() -> awaitable<void> {
        const auto user = std::stoll(w.names.at("$USER"));
        const auto id = w.sim.inject_raw_update(
            R"({"update_id":5,"callback_query":{"id":"raw-1","from":{"id":)" + w.names.at("$USER") +
            R"(,"is_bot":false,"first_name":"Elif"},"chat_instance":"1","data":"x"}})");
        BOOST_TEST(id != 5); // a fresh id, after the ones already issued
        auto answered =
            co_await w.call("answerCallbackQuery", R"({"callback_query_id":"raw-1","text":"seen"})");
        BOOST_TEST(answered.status == 200U);
        const auto items = w.sim.sent_to(user);
        BOOST_TEST_REQUIRE(!items.empty());
        BOOST_TEST(items.back().what == sim::sent_item::kind::callback_answer);
        BOOST_TEST(items.back().text == "seen");
    });
}

BOOST_AUTO_TEST_CASE(a_raw_update_kept_below_the_offset_is_confirmed_not_served_forever) {
    telegram_world w;
    w.run([&]() -> awaitable<void> {
        const auto offset = co_await skip_world_updates(w);
        w.sim.inject_raw_update(
            R"({"update_id":3,"message":{"message_id":1,"date":1,"chat":{"id":1,"type":"private"}}})",
            {.assign_id = false});
        auto next = co_await w.call("getUpdates", R"({"timeout":0,"offset":)" + std::to_string(offset) + "}");
        BOOST_TEST(next.body.at("result").as_array().empty());
        BOOST_TEST(w.sim.pending_updates() == 0U);
    });
}

BOOST_AUTO_TEST_CASE(a_paid_invoice_brings_a_successful_payment_once_the_bot_says_ok) {
    telegram_world w;
    w.run([&]() -> awaitable<void> {
        std::int64_t offset = co_await skip_world_updates(w);
        const auto user = std::stoll(w.names.at("$USER"));
        const auto query = w.sim.user_pays(user, std::stoll(w.names.at("$INVOICE_MSG")));
        auto pre = co_await next_update(w, offset);
        BOOST_TEST(pre.at("pre_checkout_query").at("invoice_payload").as_string() == "p1");
        BOOST_TEST(pre.at("pre_checkout_query").at("currency").as_string() == "XTR");
        auto ok = co_await w.call("answerPreCheckoutQuery",
                                  R"({"pre_checkout_query_id":")" + query + R"(","ok":true})");
        BOOST_TEST(ok.status == 200U);
        auto paid = co_await next_update(w, offset);
        const auto& payment = paid.at("message").at("successful_payment").as_object();
        BOOST_TEST(payment.at("total_amount").as_int64() == 50);
        const std::string charge(payment.at("telegram_payment_charge_id").as_string());
        auto refund = co_await w.call("refundStarPayment",
                                      R"({"user_id":)" + w.names.at("$USER") +
                                          R"(,"telegram_payment_charge_id":")" + charge + R"("})");
        BOOST_TEST(refund.status == 200U);
        auto again = co_await w.call("refundStarPayment",
                                     R"({"user_id":)" + w.names.at("$USER") +
                                         R"(,"telegram_payment_charge_id":")" + charge + R"("})");
        BOOST_TEST(again.body.at("description").as_string() == "Bad Request: CHARGE_ALREADY_REFUNDED");
    });
}

BOOST_AUTO_TEST_SUITE_END()
