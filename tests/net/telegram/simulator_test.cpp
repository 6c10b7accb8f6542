// The simulator on the wire, as third-party bots would use it: case-insensitive methods, GET with
// a query, form and multipart bodies with JSON-string fields, the error envelope, the /_sim control
// endpoints, and the in-process wait_for.
#include "engine/time.hpp"
#include "net/multipart.hpp"
#include "net/url.hpp"
#include "sim/media/png.hpp"
#include "tests/net/telegram/fixture.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

using namespace companion;
using namespace companion::test;
using namespace std::chrono_literals;
using boost::asio::experimental::awaitable_operators::operator&&;
using engine::awaitable;

namespace {

struct wire_reply {
    unsigned status = 0;
    boost::json::value body;
};

// One raw request; the body must be JSON (every API answer is).
awaitable<wire_reply> exchange(net::http_client& http,
                               net::http::verb method,
                               std::string url,
                               std::string content_type = {},
                               std::string body = {}) {
    net::request req;
    req.method = method;
    req.url = std::move(url);
    if (!content_type.empty()) {
        req.headers.set(net::http::field::content_type, content_type);
    }
    req.body = std::move(body);
    auto r = co_await http.send(std::move(req));
    BOOST_TEST_REQUIRE(r.has_value());
    boost::system::error_code ec;
    auto v = boost::json::parse(r->body, ec);
    BOOST_REQUIRE_MESSAGE(!ec, "not JSON: " << r->body);
    co_return wire_reply{r->status, std::move(v)};
}

} // namespace

BOOST_AUTO_TEST_SUITE(telegram_simulator)

BOOST_FIXTURE_TEST_CASE(methods_are_case_insensitive_and_take_query_and_form_parameters, telegram_fixture) {
    const auto user = sim.add_user({.first_name = "Elif"});
    const std::string api = sim.base_url() + "/bot" + test_token + "/";
    run([&]() -> awaitable<void> {
        auto me = co_await exchange(http, net::http::verb::get, api + "GETME");
        BOOST_TEST(me.status == 200U);
        BOOST_TEST(me.body.at("ok").as_bool());
        BOOST_TEST(me.body.at("result").at("username").as_string() == "companion_bot");

        auto by_query = co_await exchange(http,
                                          net::http::verb::get,
                                          api + "sendmessage?chat_id=" + std::to_string(user) +
                                              "&text=" + net::url_encode("hi there"));
        BOOST_TEST(by_query.status == 200U);
        BOOST_TEST(by_query.body.at("result").at("text").as_string() == "hi there");

        auto by_form = co_await exchange(
            http,
            net::http::verb::post,
            api + "sendMessage",
            "application/x-www-form-urlencoded",
            "chat_id=" + std::to_string(user) + "&text=" + net::url_encode("с клавиатурой") +
                "&reply_markup=" +
                net::url_encode(R"({"inline_keyboard":[[{"text":"A","callback_data":"a:1"}]]})"));
        BOOST_TEST(by_form.status == 200U);
        BOOST_TEST(by_form.body.at("result").at("reply_markup").at("inline_keyboard").as_array().size() ==
                   1U);

        auto unknown =
            co_await exchange(http, net::http::verb::post, api + "sendSticker", "application/json", "{}");
        BOOST_TEST(unknown.status == 404U);
        BOOST_TEST(unknown.body.at("error_code").as_int64() == 404);
        BOOST_TEST(unknown.body.at("description").as_string() == "Not Found");

        auto bad_token = co_await exchange(http, net::http::verb::get, sim.base_url() + "/bot123:abc/getMe");
        BOOST_TEST(bad_token.status == 401U);
        BOOST_TEST(bad_token.body.at("ok").as_bool() == false);
        BOOST_TEST(bad_token.body.at("description").as_string() == "Unauthorized");
    });
}

BOOST_FIXTURE_TEST_CASE(multipart_uploads_parse_json_string_fields_like_the_contract_example,
                        telegram_fixture) {
    const auto user = sim.add_user({});
    const std::string api = sim.base_url() + "/bot" + test_token + "/";
    run([&]() -> awaitable<void> {
        net::multipart_form form;
        form.field("chat_id", std::to_string(user));
        form.field("caption", "🎬");
        form.field("reply_markup",
                   R"({"inline_keyboard":[[{"text":"🔁 Again","callback_data":"video:again"}]]})");
        form.file("photo", "p.png", "image/png", sim::media::make_png(40, 30, {}));
        auto ct = form.content_type();
        auto sent = co_await exchange(http, net::http::verb::post, api + "sendPhoto", ct, form.take_body());
        BOOST_TEST_REQUIRE(sent.status == 200U);
        const auto& photos = sent.body.at("result").at("photo").as_array();
        BOOST_TEST(photos.back().at("width").as_int64() == 40);
        BOOST_TEST(sent.body.at("result")
                       .at("reply_markup")
                       .at("inline_keyboard")
                       .at(0)
                       .at(0)
                       .at("callback_data")
                       .as_string() == "video:again");

        // attach://<part> references a part by name.
        net::multipart_form attached;
        attached.field("chat_id", std::to_string(user));
        attached.field("photo", "attach://pic");
        attached.file("pic", "p.png", "image/png", sim::media::make_png(20, 20, {}));
        auto act = attached.content_type();
        auto by_ref =
            co_await exchange(http, net::http::verb::post, api + "sendPhoto", act, attached.take_body());
        BOOST_TEST(by_ref.status == 200U);

        net::multipart_form bad;
        bad.field("chat_id", std::to_string(user));
        bad.field("reply_markup",
                  R"({"inline_keyboard":[[{"text":"x","callback_data":")" + std::string(65, 'z') +
                      R"("}]]})");
        bad.file("photo", "p.png", "image/png", sim::media::make_png(20, 20, {}));
        auto bct = bad.content_type();
        auto rejected =
            co_await exchange(http, net::http::verb::post, api + "sendPhoto", bct, bad.take_body());
        BOOST_TEST(rejected.status == 400U);
        BOOST_TEST(rejected.body.at("description").as_string() == "Bad Request: BUTTON_DATA_INVALID");
    });
}

BOOST_FIXTURE_TEST_CASE(control_endpoints_script_users_and_read_what_the_bot_sent, telegram_fixture) {
    const std::string control = sim.base_url() + "/_sim/";
    run([&]() -> awaitable<void> {
        auto created = co_await exchange(http,
                                         net::http::verb::post,
                                         control + "users",
                                         "application/json",
                                         R"({"first_name":"Ayşe","language_code":"tr"})");
        const auto user = created.body.at("id").as_int64();
        auto text = co_await exchange(http,
                                      net::http::verb::post,
                                      control + "text",
                                      "application/json",
                                      R"({"user_id":)" + std::to_string(user) + R"(,"text":"/start"})");
        BOOST_TEST(text.body.at("update_id").as_int64() > 0);

        tg::get_updates_params polled_params{.timeout = 0s};
        auto polled = co_await bot->get_updates(std::move(polled_params));
        BOOST_TEST_REQUIRE(polled->updates.size() == 1U);
        BOOST_TEST(polled->updates[0].message->from->first_name == "Ayşe");
        BOOST_TEST(tg::extract_command(*polled->updates[0].message)->name == "start");

        // A reader waiting on /_sim/sent sees the bot's reply as soon as it is sent.
        auto read_sent = [&]() -> awaitable<wire_reply> {
            auto r = co_await exchange(http,
                                       net::http::verb::get,
                                       control + "sent?chat_id=" + std::to_string(user) + "&wait_ms=2000");
            co_return r;
        };
        auto reply_later = [&]() -> awaitable<void> {
            co_await engine::sleep(50ms);
            tg::send_message_params r_params{.chat_id = user, .text = "Hoş geldin!"};
            auto r = co_await bot->send_message(std::move(r_params));
            BOOST_TEST(r.has_value());
        };
        auto both = read_sent() && reply_later();
        auto sent = co_await std::move(both);
        const auto& items = sent.body.at("items").as_array();
        BOOST_TEST_REQUIRE(items.size() == 1U);
        BOOST_TEST(items[0].at("kind").as_string() == "text");
        BOOST_TEST(items[0].at("text").as_string() == "Hoş geldin!");

        auto fault = co_await exchange(http,
                                       net::http::verb::post,
                                       control + "faults",
                                       "application/json",
                                       R"({"match":"getMe","kind":"server_error","status":503})");
        BOOST_TEST(fault.status == 200U);
        auto me = co_await bot->get_me();
        BOOST_TEST(me.error().status == 503U);

        auto counters = co_await exchange(http, net::http::verb::get, control + "counters");
        BOOST_TEST(counters.body.at("get_updates_calls").as_int64() == 1);
        BOOST_TEST(counters.body.at("sends_per_chat").at(std::to_string(user)).as_int64() == 1);
    });
}

BOOST_FIXTURE_TEST_CASE(wait_for_returns_the_matching_item_or_nothing_after_its_timeout, telegram_fixture) {
    const auto user = sim.add_user({});
    run([&]() -> awaitable<void> {
        const auto start = engine::clock::now();
        auto none = co_await sim.wait_for(
            user,
            [](const sim::sent_item&) { return true; },
            60ms);
        BOOST_TEST(!none.has_value());
        BOOST_TEST(elapsed_ms(start) >= 50);

        auto send_two = [&]() -> awaitable<void> {
            co_await engine::sleep(20ms);
            auto a = co_await bot->send_chat_action(user, tg::chat_action::upload_video);
            BOOST_TEST(a.has_value());
            tg::send_message_params b_params{.chat_id = user, .text = "done"};
            auto b = co_await bot->send_message(std::move(b_params));
            BOOST_TEST(b.has_value());
        };
        auto waiting = sim.wait_for(
            user,
            [](const sim::sent_item& s) { return s.what == sim::sent_item::kind::text; },
            2s);
        auto both = std::move(waiting) && send_two();
        auto found = co_await std::move(both);
        BOOST_TEST_REQUIRE(found.has_value());
        BOOST_TEST(found->text == "done");
        const auto items = sim.sent_to(user);
        BOOST_TEST_REQUIRE(items.size() == 2U);
        BOOST_TEST(items[0].what == sim::sent_item::kind::action);
        BOOST_TEST(items[0].text == "upload_video");
    });
}

BOOST_FIXTURE_TEST_CASE(a_negative_offset_keeps_only_the_last_updates, telegram_fixture) {
    const auto user = sim.add_user({});
    for (int i = 0; i < 5; ++i) {
        sim.user_sends_text(user, "m" + std::to_string(i));
    }
    run([&]() -> awaitable<void> {
        tg::get_updates_params last_two_params{.offset = -2, .timeout = 0s};
        auto last_two = co_await bot->get_updates(std::move(last_two_params));
        BOOST_TEST_REQUIRE(last_two->updates.size() == 2U);
        BOOST_TEST(last_two->updates[0].message->text == "m3");
        BOOST_TEST(sim.pending_updates() == 2U);
    });
}

BOOST_AUTO_TEST_SUITE_END()
