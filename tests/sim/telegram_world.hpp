// A Telegram simulator with a small world for the sim tests: a user, a user who blocked the bot, a
// group, and the bot's own messages and files of every kind (sent through the API as a bot would),
// each named by a placeholder ($USER, $PHOTO_ID, ...) that request templates can use.
#pragma once

#include "engine/time_source.hpp"
#include "net/http_client.hpp"
#include "net/multipart.hpp"
#include "sim/media/mp4.hpp"
#include "sim/media/ogg_opus.hpp"
#include "sim/media/png.hpp"
#include "sim/telegram/simulator.hpp"
#include "tests/common/sim_fixture.hpp"
#include "tests/net/net_test_support.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <map>
#include <string>

namespace companion::test {

namespace json = boost::json;

inline const std::string world_token = "123456789:AAHfake-token_for_tests_0123456789abcdef";

struct api_reply {
    unsigned status = 0;
    json::value body;
};

struct telegram_world : sim_fixture<sim::telegram_simulator> {
    std::map<std::string, std::string> names; ///< placeholder -> its value

    explicit telegram_world(
        sim::telegram_simulator_config cfg = {.enforce_rate_limits = false,
                                              .max_poll_hold = std::chrono::milliseconds{200}})
        : sim_fixture(std::move(cfg), "sim_test") {}

    std::string api(std::string_view method, std::string_view token = world_token) const {
        return sim.base_url() + "/bot" + std::string(token) + "/" + std::string(method);
    }

    /// One API call with a JSON body; the answer must be JSON.
    engine::awaitable<api_reply>
    call(std::string method, std::string json_body, std::string token = world_token) {
        net::request req;
        req.method = net::http::verb::post;
        req.url = api(method, token);
        req.headers.set(net::http::field::content_type, "application/json");
        req.body = std::move(json_body);
        auto r = co_await http.send(std::move(req));
        BOOST_TEST_REQUIRE(r.has_value());
        boost::system::error_code ec;
        auto v = json::parse(r->body, ec);
        BOOST_REQUIRE_MESSAGE(!ec, "not JSON: " << r->body);
        co_return api_reply{r->status, std::move(v)};
    }

    /// One multipart upload of `bytes` as `field`; returns the result Message.
    engine::awaitable<json::object> upload(std::string method,
                                           std::string field,
                                           std::string file_name,
                                           std::string content_type,
                                           std::string bytes) {
        net::multipart_form form;
        form.field("chat_id", names.at("$USER"));
        form.file(field, file_name, content_type, std::move(bytes));
        net::request req;
        req.method = net::http::verb::post;
        req.url = api(method);
        req.headers.set(net::http::field::content_type, form.content_type());
        req.body = form.take_body();
        auto r = co_await http.send(std::move(req));
        BOOST_TEST_REQUIRE(r.has_value());
        auto v = json::parse(r->body);
        BOOST_REQUIRE_MESSAGE(r->status == 200U, method << " failed: " << r->body);
        co_return v.at("result").as_object();
    }

    /// Replaces every placeholder in `text`.
    std::string expand(std::string text) const {
        for (auto it = names.rbegin(); it != names.rend();
             ++it) { // longer names first: $PHOTO_ID before $PHOTO
            for (auto pos = text.find(it->first); pos != std::string::npos; pos = text.find(it->first, pos)) {
                text.replace(pos, it->first.size(), it->second);
                pos += it->second.size();
            }
        }
        return text;
    }

    static std::string id_of(const json::object& msg) {
        return std::to_string(msg.at("message_id").as_int64());
    }
    static std::string file_of(const json::object& msg, std::string_view field) {
        const auto& f = msg.at(field);
        const auto& o = f.is_array() ? f.as_array().back().as_object() : f.as_object();
        return std::string(o.at("file_id").as_string());
    }

    /// Builds the world: users, a group, the bot's messages and files, open queries.
    engine::awaitable<void> populate() {
        const auto user = sim.add_user({.first_name = "Elif", .language_code = "tr", .username = "elif_k"});
        const auto blocked = sim.add_user({.first_name = "Ivan", .language_code = "ru"});
        sim.user_blocks_bot(blocked);
        const auto group = sim.add_group("Friends", {user});
        names["$USER"] = std::to_string(user);
        names["$BLOCKED"] = std::to_string(blocked);
        names["$GROUP"] = std::to_string(group);
        names["$KEYBOARD"] = R"({"inline_keyboard":[[{"text":"A","callback_data":"a"}]]})";
        names["$LONG4097"] = std::string(4097, 'a');
        names["$LONG1025"] = std::string(1025, 'a');
        names["$LONG201"] = std::string(201, 'a');
        std::string ids;
        for (int i = 1; i <= 101; ++i) {
            ids += (i > 1 ? "," : "") + std::to_string(i);
        }
        names["$IDS101"] = ids;

        auto menu = co_await call("sendMessage",
                                  expand(R"({"chat_id":$USER,"text":"menu","reply_markup":$KEYBOARD})"));
        BOOST_TEST_REQUIRE(menu.status == 200U);
        names["$BOT_MSG"] = id_of(menu.body.at("result").as_object());
        sim.user_sends_text(user, "hello bot");
        names["$USER_MSG"] = std::to_string(sim.last_user_message(user));

        const auto photo =
            co_await upload("sendPhoto", "photo", "p.png", "image/png", sim::media::make_png(640, 360, {}));
        names["$PHOTO_MSG"] = id_of(photo);
        names["$PHOTO_ID"] = file_of(photo, "photo");
        const auto clip =
            sim::media::make_mp4({.width = 64, .height = 96, .seconds = std::chrono::seconds(1), .fps = 2});
        const auto video = co_await upload("sendVideo", "video", "v.mp4", "video/mp4", clip);
        names["$VIDEO_MSG"] = id_of(video);
        names["$VIDEO_ID"] = file_of(video, "video");
        const auto doc = co_await upload("sendDocument", "document", "a.txt", "text/plain", "some text");
        names["$DOC_ID"] = file_of(doc, "document");
        const auto audio =
            co_await upload("sendAudio", "audio", "a.mp3", "audio/mpeg", "ID3\x03 not really music");
        names["$AUDIO_ID"] = file_of(audio, "audio");
        const auto note = sim::media::make_ogg_opus({.seconds = 1.0});
        const auto voice = co_await upload("sendVoice", "voice", "v.ogg", "audio/ogg", note);
        names["$VOICE_ID"] = file_of(voice, "voice");
        const auto anim = co_await upload("sendAnimation", "animation", "a.mp4", "video/mp4", clip);
        names["$ANIM_ID"] = file_of(anim, "animation");

        names["$CALLBACK"] = sim.user_presses_button(user, std::stoll(names["$BOT_MSG"]), "a");
        names["$INLINE"] = sim.user_queries_inline(user, "cats");
        auto invoice = co_await call(
            "sendInvoice",
            expand(
                R"({"chat_id":$USER,"title":"Credits","description":"5 videos","payload":"p1","currency":"XTR","prices":[{"label":"5 videos","amount":50}]})"));
        BOOST_TEST_REQUIRE(invoice.status == 200U);
        const auto invoice_id = invoice.body.at("result").at("message_id").as_int64();
        names["$INVOICE_MSG"] = std::to_string(invoice_id);
        // One payment completed (its charge can be refunded), one waiting for the bot's answer.
        const auto paid = sim.user_pays(user, invoice_id);
        auto answered = co_await call("answerPreCheckoutQuery",
                                      R"({"pre_checkout_query_id":")" + paid + R"(","ok":true})");
        BOOST_TEST_REQUIRE(answered.status == 200U);
        names["$PRECHECKOUT"] = sim.user_pays(user, invoice_id);
        auto updates = co_await call("getUpdates", R"({"timeout":0})");
        for (const auto& u : updates.body.at("result").as_array()) {
            const auto* msg = u.as_object().if_contains("message");
            if (msg != nullptr && msg->as_object().contains("successful_payment")) {
                names["$CHARGE"] = std::string(
                    msg->as_object().at("successful_payment").at("telegram_payment_charge_id").as_string());
            }
        }
        BOOST_TEST_REQUIRE(names.contains("$CHARGE"));
    }

    /// Runs `body` after populate(), then stops the simulator.
    template <class F>
    void run(F&& body) {
        auto populated = [&]() -> engine::awaitable<void> {
            co_await populate();
            co_await body();
        };
        sim_fixture::run(populated);
    }
};

/// Holds the time of a world on manual time: a base that goes first, since the simulator keeps a
/// pointer to it.
struct manual_clock {
    engine::manual_time time;
};

/// The world on manual time, without flood control.
struct timed_telegram_world : manual_clock, telegram_world {
    timed_telegram_world()
        : telegram_world({.enforce_rate_limits = false,
                          .max_poll_hold = std::chrono::milliseconds{200},
                          .time = &time}) {}
};

} // namespace companion::test
