// Streamed drafts in the Telegram simulator (contracts/telegram-drafts-stars-voice.md §1, §4):
// every accepted sendMessageDraft recorded per chat with its flags and time, a draft left open
// until a real message (or the user's stop) follows it, the drafts' own flood bucket on manual
// time, a scripted stop served as stopped_message_generation only when the bot listed it, a press
// on an inline message (no `message` in the query), and the /_sim endpoints for all of it.
#include "engine/time_source.hpp"
#include "tests/sim/telegram_world.hpp"

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>

#include <algorithm>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

using namespace std::chrono_literals;

using namespace companion;
using namespace companion::test;
using engine::awaitable;

namespace {

using timed_world = timed_telegram_world;

/// With flood control: a message burst large enough for the world's own sends, drafts' default.
struct limited_world : manual_clock, telegram_world {
    limited_world()
        : telegram_world({.per_chat_rate = {.rate_per_second = 1.0, .burst = 50.0},
                          .enforce_rate_limits = true,
                          .max_poll_hold = std::chrono::milliseconds{200},
                          .time = &time}) {}
};

constexpr std::string_view open_draft = R"({"chat_id":$USER,"draft_id":7,"text":"Bir varmış"})";

struct follow_case {
    std::string_view name;
    std::string_view method;
    std::string_view params;
    bool still_open = false;
};

std::ostream& operator<<(std::ostream& os, const follow_case& c) {
    return os << c.name;
}

const std::vector<follow_case> follows{
    {"a text message", "sendMessage", R"({"chat_id":$USER,"text":"Bir varmış, bir yokmuş."})", false},
    {"a photo", "sendPhoto", R"({"chat_id":$USER,"photo":"$PHOTO_ID"})", false},
    {"a video", "sendVideo", R"({"chat_id":$USER,"video":"$VIDEO_ID"})", false},
    {"a voice note", "sendVoice", R"({"chat_id":$USER,"voice":"$VOICE_ID"})", false},
    {"a copied message",
     "copyMessage",
     R"({"chat_id":$USER,"from_chat_id":$USER,"message_id":$USER_MSG})",
     false},
    {"a typing action", "sendChatAction", R"({"chat_id":$USER,"action":"typing"})", true},
    {"an edit of an earlier message",
     "editMessageText",
     R"({"chat_id":$USER,"message_id":$BOT_MSG,"text":"new"})",
     true},
    {"a callback answer", "answerCallbackQuery", R"({"callback_query_id":"$CALLBACK"})", true},
    {"a reaction", "setMessageReaction", R"({"chat_id":$USER,"message_id":$USER_MSG,"reaction":[]})", true},
    {"the draft growing",
     "sendMessageDraft",
     R"({"chat_id":$USER,"draft_id":7,"text":"Bir varmış, bir"})",
     true},
    {"a message to another chat", "sendMessage", R"({"chat_id":$GROUP,"text":"hi"})", true},
};

// Confirms everything queued so far and sets `allowed` (a JSON array) for the polls after it;
// returns the next offset.
awaitable<std::int64_t> confirm_all(telegram_world& w, std::string allowed) {
    auto all = co_await w.call("getUpdates", R"({"timeout":0,"limit":100})");
    const auto& list = all.body.at("result").as_array();
    const auto offset = list.empty() ? std::int64_t{0} : list.back().at("update_id").as_int64() + 1;
    auto set = co_await w.call("getUpdates",
                               R"({"timeout":0,"offset":)" + std::to_string(offset) +
                                   R"(,"allowed_updates":)" + allowed + "}");
    BOOST_TEST_REQUIRE(set.status == 200U);
    co_return offset;
}

std::int64_t user_of(const telegram_world& w) {
    return std::stoll(w.names.at("$USER"));
}

} // namespace

BOOST_AUTO_TEST_SUITE(telegram_drafts)

BOOST_DATA_TEST_CASE(a_draft_stays_open_until_a_real_message_reaches_its_chat,
                     boost::unit_test::data::make(follows),
                     c) {
    telegram_world w;
    w.run([&]() -> awaitable<void> {
        const auto user = user_of(w);
        BOOST_TEST(!w.sim.draft_open(user)); // the world's own messages left nothing open
        auto drafted = co_await w.call("sendMessageDraft", w.expand(std::string(open_draft)));
        BOOST_TEST_REQUIRE(drafted.status == 200U);
        BOOST_TEST(w.sim.draft_open(user));
        auto next = co_await w.call(std::string(c.method), w.expand(std::string(c.params)));
        BOOST_TEST_REQUIRE(next.status == 200U, json::serialize(next.body));
        BOOST_TEST(w.sim.draft_open(user) == c.still_open);
    });
}

BOOST_FIXTURE_TEST_CASE(every_draft_is_recorded_with_its_flags_and_time_in_any_encoding, timed_world) {
    run([&]() -> awaitable<void> {
        const auto user = user_of(*this);
        const auto sends_before = sim.counters().sends_per_chat.at(user);
        const auto start = time.now();
        auto json_draft = co_await call(
            "sendMessageDraft",
            expand(
                R"({"chat_id":$USER,"draft_id":9,"text":"<i>Düşünüyorum</i>","parse_mode":"HTML","message_thread_id":4})"));
        BOOST_TEST_REQUIRE(json_draft.status == 200U);
        time.advance(400ms);
        // A form, as other frameworks send it: booleans and numbers as text.
        net::request req;
        req.method = net::http::verb::post;
        req.url = api("sendMessageDraft");
        req.headers.set(net::http::field::content_type, "application/x-www-form-urlencoded");
        req.body =
            "chat_id=" + names.at("$USER") + "&draft_id=9&text=D%C3%BC%C5%9F&can_stop=true&keep_on_stop=true";
        auto form_draft = co_await http.send(std::move(req));
        BOOST_TEST_REQUIRE(form_draft.has_value());
        BOOST_TEST_REQUIRE(form_draft->status == 200U, form_draft->body);
        // A refused draft is not recorded.
        auto refused =
            co_await call("sendMessageDraft", expand(R"({"chat_id":$GROUP,"draft_id":9,"text":"x"})"));
        BOOST_TEST(refused.status == 400U);

        const auto drafts = sim.drafts(user);
        BOOST_TEST_REQUIRE(drafts.size() == 2U);
        BOOST_TEST(drafts[0].chat_id == user);
        BOOST_TEST(drafts[0].draft_id == 9);
        BOOST_TEST(drafts[0].text == "Düşünüyorum"); // after parse_mode
        BOOST_TEST(!drafts[0].can_stop);
        BOOST_TEST(drafts[0].message_thread_id.value_or(0) == 4);
        BOOST_TEST((drafts[0].at == start));
        BOOST_TEST(drafts[1].text == "Düş");
        BOOST_TEST(drafts[1].can_stop);
        BOOST_TEST(drafts[1].keep_on_stop);
        BOOST_TEST(!drafts[1].message_thread_id.has_value());
        BOOST_TEST((drafts[1].at - drafts[0].at == 400ms));
        BOOST_TEST(sim.drafts(std::stoll(names.at("$GROUP"))).empty());
        // The transcript has them too, as drafts (message_id is the draft id), and they are not
        // counted as messages sent.
        const auto sent = sim.sent_to(user);
        const auto draft_items = std::count_if(sent.begin(), sent.end(), [](const sim::sent_item& s) {
            return s.what == sim::sent_item::kind::draft && s.message_id == 9;
        });
        BOOST_TEST(draft_items == 2);
        BOOST_TEST(sim.counters().sends_per_chat.at(user) == sends_before);
    });
}

BOOST_FIXTURE_TEST_CASE(drafts_have_their_own_flood_bucket_and_its_429_is_a_retry_after, limited_world) {
    run([&]() -> awaitable<void> {
        const auto user = user_of(*this);
        for (int i = 1; i <= 3; ++i) {
            auto ok = co_await call("sendMessageDraft",
                                    expand(R"({"chat_id":$USER,"draft_id":3,"text":")" +
                                           std::string(static_cast<std::size_t>(i), 'a') + R"("})"));
            BOOST_TEST(ok.status == 200U);
        }
        auto flooded =
            co_await call("sendMessageDraft", expand(R"({"chat_id":$USER,"draft_id":3,"text":"aaaa"})"));
        BOOST_TEST_REQUIRE(flooded.status == 429U);
        BOOST_TEST(flooded.body.at("parameters").at("retry_after").as_int64() == 1);
        BOOST_TEST(flooded.body.at("description").as_string() == "Too Many Requests: retry after 1");
        BOOST_TEST(sim.counters().rate_limited == 1U);

        // The final message is paced by the chat's message bucket, untouched by the drafts.
        auto final_message = co_await call("sendMessage", expand(R"({"chat_id":$USER,"text":"aaaa"})"));
        BOOST_TEST(final_message.status == 200U);

        // After retry_after the draft goes through, and waiting that long is no violation.
        time.advance(1s);
        auto again =
            co_await call("sendMessageDraft", expand(R"({"chat_id":$USER,"draft_id":4,"text":"b"})"));
        BOOST_TEST(again.status == 200U);
        BOOST_TEST(sim.counters().retry_after_violations == 0U);
        BOOST_TEST(sim.drafts(user).size() == 4U);
    });
}

BOOST_FIXTURE_TEST_CASE(planned_faults_apply_to_drafts, timed_world) {
    run([&]() -> awaitable<void> {
        sim.faults.add({.match = "sendMessageDraft", .kind = sim::fault_kind::rate_limited, .delay = 5s});
        auto flooded = co_await call("sendMessageDraft", expand(std::string(open_draft)));
        BOOST_TEST(flooded.status == 429U);
        BOOST_TEST(flooded.body.at("parameters").at("retry_after").as_int64() == 5);
        sim.faults.add({.match = "sendMessageDraft", .kind = sim::fault_kind::server_error});
        auto failed = co_await call("sendMessageDraft", expand(std::string(open_draft)));
        BOOST_TEST(failed.status == 500U);
        BOOST_TEST(sim.drafts(user_of(*this)).empty());
        BOOST_TEST(!sim.draft_open(user_of(*this)));
        BOOST_TEST(sim.faults.applied() == 2U);
    });
}

BOOST_FIXTURE_TEST_CASE(a_stop_is_served_only_when_listed_and_names_the_chat_draft_and_topic, timed_world) {
    run([&]() -> awaitable<void> {
        const auto user = user_of(*this);
        auto drafted = co_await call(
            "sendMessageDraft",
            expand(R"({"chat_id":$USER,"draft_id":12,"text":"x","can_stop":true,"message_thread_id":3})"));
        BOOST_TEST_REQUIRE(drafted.status == 200U);
        // Not listed (the sticky list is the default set): not served.
        auto offset = co_await confirm_all(*this, R"(["message","callback_query"])");
        const auto stop = sim.press_stop(user, 12);
        BOOST_TEST(!sim.draft_open(user));
        auto unlisted =
            co_await call("getUpdates", R"({"timeout":0,"offset":)" + std::to_string(offset) + "}");
        BOOST_TEST(unlisted.body.at("result").as_array().empty());
        BOOST_TEST(sim.pending_updates() == 1U); // kept, as Telegram keeps what it does not serve

        auto listed = co_await call("getUpdates",
                                    R"({"timeout":0,"offset":)" + std::to_string(offset) +
                                        R"(,"allowed_updates":["message","stopped_message_generation"]})");
        const auto& result = listed.body.at("result").as_array();
        BOOST_TEST_REQUIRE(result.size() == 1U);
        const auto& u = result[0].as_object();
        BOOST_TEST(u.at("update_id").as_int64() == stop);
        const auto& stopped = u.at("stopped_message_generation").as_object();
        BOOST_TEST(stopped.at("chat").at("id").as_int64() == user);
        BOOST_TEST(stopped.at("chat").at("type").as_string() == "private");
        BOOST_TEST(stopped.at("draft_id").as_int64() == 12);
        BOOST_TEST(stopped.at("message_thread_id").as_int64() == 3);

        // A late stop, for a draft the chat never had, is served all the same (without a topic).
        const auto late = sim.press_stop(user, 99);
        auto late_poll =
            co_await call("getUpdates", R"({"timeout":0,"offset":)" + std::to_string(stop + 1) + "}");
        const auto& late_result = late_poll.body.at("result").as_array();
        BOOST_TEST_REQUIRE(late_result.size() == 1U);
        BOOST_TEST(late_result[0].at("update_id").as_int64() == late);
        BOOST_TEST(late_result[0].at("stopped_message_generation").at("draft_id").as_int64() == 99);
        BOOST_TEST(
            !late_result[0].at("stopped_message_generation").as_object().contains("message_thread_id"));

        BOOST_CHECK_THROW(sim.press_stop(std::stoll(names.at("$GROUP")), 12), std::invalid_argument);
        BOOST_CHECK_THROW(sim.press_stop(1, 12), std::invalid_argument);
    });
}

BOOST_FIXTURE_TEST_CASE(a_stop_of_another_draft_leaves_the_open_one_open, timed_world) {
    run([&]() -> awaitable<void> {
        const auto user = user_of(*this);
        auto drafted = co_await call("sendMessageDraft", expand(std::string(open_draft)));
        BOOST_TEST_REQUIRE(drafted.status == 200U);
        const auto stop = sim.press_stop(user, 8);
        BOOST_TEST(stop > 0);
        BOOST_TEST(sim.draft_open(user)); // draft 7 is still streaming
    });
}

BOOST_FIXTURE_TEST_CASE(an_inline_button_press_has_no_message_and_is_answered_once, timed_world) {
    run([&]() -> awaitable<void> {
        const auto user = user_of(*this);
        auto offset = co_await confirm_all(*this, "[]");
        const auto query = sim.press_inline_button(user, "AgAAAH8AAAB-AAAADg", "p:luna");
        auto polled = co_await call("getUpdates", R"({"timeout":0,"offset":)" + std::to_string(offset) + "}");
        const auto& result = polled.body.at("result").as_array();
        BOOST_TEST_REQUIRE(result.size() == 1U);
        const auto& q = result[0].at("callback_query").as_object();
        BOOST_TEST(q.at("id").as_string() == query);
        BOOST_TEST(!q.contains("message"));
        BOOST_TEST(q.at("inline_message_id").as_string() == "AgAAAH8AAAB-AAAADg");
        BOOST_TEST(q.at("data").as_string() == "p:luna");
        BOOST_TEST(q.at("from").at("id").as_int64() == user);
        BOOST_TEST(q.contains("chat_instance"));

        auto answered =
            co_await call("answerCallbackQuery", R"({"callback_query_id":")" + query + R"(","text":"ok"})");
        BOOST_TEST(answered.status == 200U);
        auto twice = co_await call("answerCallbackQuery", R"({"callback_query_id":")" + query + R"("})");
        BOOST_TEST(twice.status == 400U);
        const auto sent = sim.sent_to(user);
        BOOST_TEST_REQUIRE(!sent.empty());
        BOOST_TEST(sent.back().what == sim::sent_item::kind::callback_answer);
        BOOST_TEST(sent.back().callback_query_id == query);
        BOOST_CHECK_THROW(sim.press_inline_button(42, "x", "y"), std::invalid_argument);
    });
}

BOOST_FIXTURE_TEST_CASE(the_control_api_lists_drafts_and_stops_and_presses_inline_buttons, timed_world) {
    run([&]() -> awaitable<void> {
        const auto user = user_of(*this);
        const std::string control = sim.base_url() + "/_sim/";
        const auto post = [&](std::string endpoint, std::string body) -> awaitable<net::response> {
            net::request req;
            req.method = net::http::verb::post;
            req.url = control + endpoint;
            req.headers.set(net::http::field::content_type, "application/json");
            req.body = std::move(body);
            auto r = co_await http.send(std::move(req));
            BOOST_TEST_REQUIRE(r.has_value());
            co_return std::move(*r);
        };
        auto drafted =
            co_await call("sendMessageDraft",
                          expand(R"({"chat_id":$USER,"draft_id":5,"text":"yarım","can_stop":true})"));
        BOOST_TEST_REQUIRE(drafted.status == 200U);

        net::request list_req;
        list_req.url = control + "drafts?chat_id=" + names.at("$USER");
        auto listed = co_await http.send(std::move(list_req));
        BOOST_TEST_REQUIRE(listed.has_value());
        const auto list = json::parse(listed->body);
        BOOST_TEST(list.at("open").as_bool());
        BOOST_TEST_REQUIRE(list.at("drafts").as_array().size() == 1U);
        const auto& d = list.at("drafts").at(0);
        BOOST_TEST(d.at("draft_id").as_int64() == 5);
        BOOST_TEST(d.at("text").as_string() == "yarım");
        BOOST_TEST(d.at("can_stop").as_bool());
        BOOST_TEST(!d.at("keep_on_stop").as_bool());

        const std::string stop_body = R"({"chat_id":)" + names.at("$USER") + R"(,"draft_id":5})";
        const std::string stop_endpoint = "stop";
        auto stopped = co_await post(stop_endpoint, stop_body);
        BOOST_TEST(stopped.status == 200U, stopped.body);
        BOOST_TEST(json::parse(stopped.body).at("update_id").as_int64() > 0);
        BOOST_TEST(!sim.draft_open(user));
        const std::string group_stop = R"({"chat_id":)" + names.at("$GROUP") + R"(,"draft_id":5})";
        auto refused = co_await post(stop_endpoint, group_stop);
        BOOST_TEST(refused.status == 400U);

        const std::string press_body =
            R"({"user_id":)" + names.at("$USER") + R"(,"inline_message_id":"AgAB","data":"lang:tr"})";
        const std::string press_endpoint = "press_inline";
        auto pressed = co_await post(press_endpoint, press_body);
        BOOST_TEST(pressed.status == 200U, pressed.body);
        BOOST_TEST(!json::parse(pressed.body).at("callback_query_id").as_string().empty());
        BOOST_TEST(sim.pending_updates() >= 2U);
    });
}

BOOST_AUTO_TEST_SUITE_END()
