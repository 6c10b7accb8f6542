// The Telegram simulator's webhook deliveries (issue 23), against a receiving HTTPS server of the
// test's own with a certificate from a CA made here: the secret header on every POST, a failed
// delivery tried again (and shown by getWebhookInfo), each chat's updates in order, at most
// max_connections in flight, getUpdates refused while the webhook is set, deleteWebhook
// handing the updates back to polling, and a user's stop of a draft delivered like any update.
#include "engine/time.hpp"
#include "net/http_server.hpp"
#include "tests/common/temp_dir.hpp"
#include "tests/net/test_certs.hpp"
#include "tests/sim/telegram_world.hpp"

#include <boost/asio/ssl/context.hpp>

#include <algorithm>
#include <functional>
#include <map>
#include <string>
#include <vector>

using namespace companion;
using namespace companion::test;
using namespace std::chrono_literals;
using engine::awaitable;

namespace {

struct hook_certs {
    temp_dir dir;
    key_and_cert ca = make_ca("webhook sim test CA");
    std::filesystem::path ca_file = dir.path / "ca.pem";
    std::shared_ptr<boost::asio::ssl::context> tls;

    hook_certs() {
        const auto leaf = make_leaf(ca, "localhost", -60, 3600);
        write_cert(ca_file, ca.cert);
        write_cert(dir.path / "leaf.crt", leaf.cert);
        write_key(dir.path / "leaf.key", leaf.key);
        tls = std::make_shared<boost::asio::ssl::context>(boost::asio::ssl::context::tls_server);
        tls->use_certificate_chain_file((dir.path / "leaf.crt").string());
        tls->use_private_key_file((dir.path / "leaf.key").string(), boost::asio::ssl::context::pem);
    }
};

struct delivery {
    std::string secret;
    std::string kind; ///< the update's key ("message", "stopped_message_generation")
    std::string text; ///< the message's text
    std::int64_t chat = 0;
    unsigned answered = 0;
};

sim::telegram_simulator_config hook_config(const std::filesystem::path& ca_file) {
    sim::telegram_simulator_config c{.enforce_rate_limits = false, .max_poll_hold = 200ms};
    c.webhook_ca_file = ca_file.string();
    c.webhook_retry_delay = 50ms;
    return c;
}

// The receiving end: records each delivery, answers what `answer` says after `delay`.
struct webhook_world : hook_certs, telegram_world {
    net::http_server receiver;
    std::vector<delivery> deliveries;
    std::function<unsigned(const delivery&)> answer = [](const delivery&) { return 200U; };
    engine::duration delay = 0ms;
    int in_flight = 0;
    int max_in_flight = 0;
    std::map<std::int64_t, int> in_flight_per_chat;
    int max_per_chat = 0;

    webhook_world()
        : telegram_world(hook_config(ca_file)),
          receiver(ioc.get_executor(), net::server_config{.name = "receiver", .tls = tls}) {
        receiver.route(net::http::verb::post,
                       "/hook",
                       [this](net::server_request& r) -> awaitable<net::server_response> {
                           delivery d;
                           d.secret = r.header("X-Telegram-Bot-Api-Secret-Token");
                           // Every update here is a user's text or a stop (the world's own were
                           // dropped at setWebhook).
                           const auto update = json::parse(r.msg.body());
                           for (const auto& kv : update.as_object()) {
                               if (kv.key() != "update_id") {
                                   d.kind = std::string(kv.key());
                               }
                           }
                           if (const auto* message = update.as_object().if_contains("message")) {
                               d.text = std::string(message->at("text").as_string());
                               d.chat = message->at("chat").at("id").as_int64();
                           }
                           if (const auto* stopped =
                                   update.as_object().if_contains("stopped_message_generation")) {
                               d.chat = stopped->at("chat").at("id").as_int64();
                           }
                           ++in_flight;
                           max_in_flight = std::max(max_in_flight, in_flight);
                           max_per_chat = std::max(max_per_chat, ++in_flight_per_chat[d.chat]);
                           if (delay > 0ms) {
                               co_await engine::sleep(delay);
                           }
                           --in_flight;
                           --in_flight_per_chat[d.chat];
                           d.answered = answer(d);
                           deliveries.push_back(d);
                           co_return net::json_response(d.answered, "{}");
                       });
        BOOST_REQUIRE(receiver.start());
    }

    std::string hook_url() const { return "https://localhost:" + std::to_string(receiver.port()) + "/hook"; }

    std::vector<std::string> confirmed_texts(std::int64_t chat) const {
        std::vector<std::string> out;
        for (const auto& d : deliveries) {
            if (d.chat == chat && d.answered == 200U) {
                out.push_back(d.text);
            }
        }
        return out;
    }

    awaitable<bool> until(std::function<bool()> pred) {
        for (int i = 0; i < 400; ++i) {
            if (pred()) {
                co_return true;
            }
            co_await engine::sleep(10ms);
        }
        co_return pred();
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(telegram_webhook)

BOOST_FIXTURE_TEST_CASE(deliveries_carry_the_secret_and_a_failure_is_tried_again_in_order, webhook_world) {
    run([&]() -> awaitable<void> {
        bool failed_once = false;
        answer = [&](const delivery&) {
            if (!failed_once) {
                failed_once = true;
                return 500U;
            }
            return 200U;
        };
        auto set = co_await call("setWebhook",
                                 R"({"drop_pending_updates":true,"url":")" + hook_url() +
                                     R"(","secret_token":"s3cret_1","max_connections":1})");
        BOOST_TEST_REQUIRE(set.status == 200U);
        const auto user = sim.add_user({.first_name = "Ayşe", .language_code = "tr"});
        for (const char* text : {"bir", "iki", "üç"}) {
            sim.user_sends_text(user, text);
        }
        // The receiver records its 200 before the simulator reads it: wait for both sides.
        BOOST_TEST_REQUIRE(co_await until(
            [&] { return confirmed_texts(user).size() == 3U && sim.pending_updates() == 0U; }));
        BOOST_TEST((confirmed_texts(user) == std::vector<std::string>{"bir", "iki", "üç"}));
        BOOST_TEST_REQUIRE(deliveries.size() == 4U); // the first one twice
        BOOST_TEST(deliveries[0].text == "bir");
        BOOST_TEST(deliveries[0].answered == 500U);
        for (const auto& d : deliveries) {
            BOOST_TEST(d.secret == "s3cret_1");
        }
        BOOST_TEST(sim.pending_updates() == 0U);
        BOOST_TEST(sim.counters().webhook_failures == 1U);
        auto info = co_await call("getWebhookInfo", "{}");
        const auto& result = info.body.at("result").as_object();
        BOOST_TEST(result.at("url").as_string() == hook_url());
        BOOST_TEST(result.at("max_connections").as_int64() == 1);
        BOOST_TEST(std::string(result.at("last_error_message").as_string()).find("500") != std::string::npos);
        auto poll = co_await call("getUpdates", R"({"timeout":0})");
        BOOST_TEST(poll.status == 409U); // one way to receive updates at a time
        co_await receiver.stop();
    });
}

BOOST_FIXTURE_TEST_CASE(max_connections_bounds_the_deliveries_and_each_chat_waits_for_its_previous,
                        webhook_world) {
    run([&]() -> awaitable<void> {
        delay = 30ms;
        auto set = co_await call("setWebhook",
                                 R"({"drop_pending_updates":true,"url":")" + hook_url() +
                                     R"(","max_connections":2})");
        BOOST_TEST_REQUIRE(set.status == 200U);
        std::vector<std::int64_t> users;
        for (int i = 0; i < 4; ++i) {
            users.push_back(sim.add_user({.first_name = "U" + std::to_string(i), .language_code = "en"}));
        }
        for (int m = 0; m < 3; ++m) {
            for (const auto u : users) {
                sim.user_sends_text(u, "m" + std::to_string(m));
            }
        }
        BOOST_TEST_REQUIRE(co_await until([&] { return deliveries.size() == 12U; }));
        BOOST_TEST(max_in_flight == 2); // parallel across chats, never beyond max_connections
        BOOST_TEST(max_per_chat == 1);  // never two of one chat at once
        for (const auto u : users) {
            BOOST_TEST((confirmed_texts(u) == std::vector<std::string>{"m0", "m1", "m2"}));
        }
        co_await receiver.stop();
    });
}

BOOST_FIXTURE_TEST_CASE(delete_webhook_hands_the_updates_back_to_polling, webhook_world) {
    run([&]() -> awaitable<void> {
        auto set =
            co_await call("setWebhook", R"({"drop_pending_updates":true,"url":")" + hook_url() + R"("})");
        BOOST_TEST_REQUIRE(set.status == 200U);
        auto removed = co_await call("deleteWebhook", "{}");
        BOOST_TEST_REQUIRE(removed.status == 200U);
        const auto user = sim.add_user({.first_name = "Маша", .language_code = "ru"});
        sim.user_sends_text(user, "привет");
        co_await engine::sleep(200ms);
        BOOST_TEST(deliveries.empty());
        auto poll = co_await call("getUpdates", R"({"timeout":0})");
        BOOST_TEST_REQUIRE(poll.status == 200U);
        BOOST_TEST(poll.body.at("result").as_array().size() == 1U);
        co_await receiver.stop();
    });
}

BOOST_FIXTURE_TEST_CASE(a_stop_is_delivered_to_the_webhook_in_its_chat_order_once_listed, webhook_world) {
    run([&]() -> awaitable<void> {
        auto set = co_await call("setWebhook",
                                 R"({"drop_pending_updates":true,"url":")" + hook_url() +
                                     R"(","allowed_updates":["message","stopped_message_generation"]})");
        BOOST_TEST_REQUIRE(set.status == 200U);
        const auto user = sim.add_user({.first_name = "Elif", .language_code = "tr"});
        sim.user_sends_text(user, "bir masal anlat");
        auto drafted = co_await call("sendMessageDraft",
                                     R"({"chat_id":)" + std::to_string(user) +
                                         R"(,"draft_id":3,"text":"Bir varmış","can_stop":true})");
        BOOST_TEST_REQUIRE(drafted.status == 200U);
        sim.press_stop(user, 3);
        BOOST_TEST_REQUIRE(
            co_await until([&] { return deliveries.size() == 2U && sim.pending_updates() == 0U; }));
        BOOST_TEST(deliveries[0].kind == "message");
        BOOST_TEST(deliveries[1].kind == "stopped_message_generation");
        BOOST_TEST(deliveries[1].chat == user);
        BOOST_TEST(deliveries[1].answered == 200U);
        co_await receiver.stop();
    });
}

BOOST_AUTO_TEST_SUITE_END()
