// Webhook mode end to end (issue 23): the Telegram simulator delivers each update the way
// Telegram does (an HTTPS POST with the secret header, one chat's updates in order, at most
// max_connections at once, tried again until a 2xx) to the bot's own TLS endpoint, verified
// against a CA made for the test. A conversation, the receiver's refusals (401, 405, 400, 413, an
// unknown update kind skipped), a restart with updates waiting at Telegram, and a slice of a
// storm: many chats at once across a restart, nothing lost, every chat in order.
#include "engine/time.hpp"
#include "tests/e2e/world.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

using namespace companion;
using namespace companion::test;
using namespace std::chrono_literals;
using engine::awaitable;

namespace {

constexpr const char* secret = "e2e-webhook_secret-0123456789";

// A world whose bot runs in webhook mode behind its own TLS, on a port picked before the start
// (setWebhook needs the URL, so the port is known before the bot binds it).
struct webhook_world : world {
    key_and_cert ca = make_ca("companion webhook test CA");
    std::filesystem::path ca_file = dir.path / "webhook-ca.pem";
    std::uint16_t port = 0;

    webhook_world() {
        const auto leaf = make_leaf(ca, "localhost", -60, 3600);
        write_cert(ca_file, ca.cert);
        const auto cert_file = dir.path / "webhook.crt";
        const auto key_file = dir.path / "webhook.key";
        write_cert(cert_file, leaf.cert);
        write_key(key_file, leaf.key);
        auto tls = std::make_shared<boost::asio::ssl::context>(boost::asio::ssl::context::tls_server);
        tls->use_certificate_chain_file(cert_file.string());
        tls->use_private_key_file(key_file.string(), boost::asio::ssl::context::pem);
        {
            boost::asio::ip::tcp::acceptor probe(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
            port = probe.local_endpoint().port();
        }
        pipelines::webhook_config hook;
        hook.url = "https://localhost:" + std::to_string(port) + "/tg-hook";
        hook.path = "/tg-hook";
        hook.listen = "127.0.0.1";
        hook.port = port;
        hook.secret_token = secret;
        hook.max_connections = 4;
        hook.body_limit = 64 * 1024;
        hook.tls = tls;
        cfg.webhook = hook;
        sim_cfg.telegram.webhook_ca_file = ca_file.string();
        sim_cfg.telegram.webhook_retry_delay = 100ms;
        // A delivery that hangs (a connection to the stopped bot) is given up and sent again soon,
        // not after Telegram's minute: the restarts below must not wait on one.
        sim_cfg.telegram.webhook_timeout = 5s;
    }

    /// An HTTPS client that trusts the test CA (as Telegram trusts a public one).
    net::http_client client() {
        return net::http_client(ex, {.tls = {.ca_file = ca_file.string()}, .name = "hook"});
    }

    awaitable<net::result<net::response>>
    post(net::http_client& c, std::string body, std::string secret_header, std::string path = "/tg-hook") {
        net::request req;
        req.method = boost::beast::http::verb::post;
        req.url = "https://localhost:" + std::to_string(port) + path;
        req.headers.set(boost::beast::http::field::content_type, "application/json");
        if (!secret_header.empty()) {
            req.headers.set("X-Telegram-Bot-Api-Secret-Token", secret_header);
        }
        req.body = std::move(body);
        co_return co_await c.send(std::move(req));
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(webhook_e2e)

BOOST_FIXTURE_TEST_CASE(a_conversation_arrives_by_webhook_and_never_by_polling, webhook_world) {
    test::run_test(
        ioc,
        [&]() -> awaitable<void> {
            co_await start();
            auto& t = sims->telegram();
            BOOST_TEST_REQUIRE(co_await eventually([&] { return t.webhook_set(); }, 10s));
            const auto user = t.add_user({.first_name = "Emma", .language_code = "en"});
            co_await onboard(*this, user, "emma");
            t.user_sends_text(user, "What do you like to read?");
            auto reply = co_await next(user, text);
            BOOST_TEST_REQUIRE(reply.has_value());
            BOOST_TEST(!reply->text.empty());
            BOOST_TEST(t.counters().webhook_deliveries >= 3U); // /start, the persona button, the text
            BOOST_TEST(t.counters().webhook_unauthorized == 0U);
            BOOST_TEST(t.counters().get_updates_calls == 0U); // the webhook mode never polls
            BOOST_TEST(bot->polling());                       // /healthz's "updates flow"
            co_await finish();
        }(),
        60s);
}

BOOST_FIXTURE_TEST_CASE(the_receiver_refuses_what_is_not_a_delivery_and_skips_what_it_cannot_read,
                        webhook_world) {
    test::run_test(
        ioc,
        [&]() -> awaitable<void> {
            co_await start();
            auto& t = sims->telegram();
            BOOST_TEST_REQUIRE(co_await eventually([&] { return t.webhook_set(); }, 10s));
            auto c = client();
            const std::string update =
                R"({"update_id":77,"message":{"message_id":1,"date":1,"chat":{"id":5,"type":"private"},"from":{"id":5,"is_bot":false,"first_name":"X"},"text":"hi"}})";
            auto no_secret = co_await post(c, update, "");
            BOOST_TEST_REQUIRE(no_secret.has_value());
            BOOST_TEST(no_secret->status == 401U);
            auto wrong_secret = co_await post(c, update, "not-the-secret-not-the-secret");
            BOOST_TEST(wrong_secret->status == 401U);
            BOOST_TEST(bot->stats().updates_received == 0U); // neither reached the inbox

            net::request get;
            get.url = "https://localhost:" + std::to_string(port) + "/tg-hook";
            get.headers.set("X-Telegram-Bot-Api-Secret-Token", secret);
            auto wrong_method = co_await c.send(std::move(get));
            BOOST_TEST(wrong_method->status == 405U);

            auto not_json = co_await post(c, "{\"update_id\":78,", secret);
            BOOST_TEST(not_json->status == 400U);
            auto no_id = co_await post(c, R"({"message":{}})", secret);
            BOOST_TEST(no_id->status == 400U);
            auto too_big = co_await post(c, std::string(70 * 1024, ' ') + update, secret);
            BOOST_TEST_REQUIRE(too_big.has_value());
            BOOST_TEST(too_big->status == 413U);
            // An update kind from a newer Bot API: acknowledged and skipped, or Telegram would
            // resend it for ever.
            auto unknown = co_await post(c, R"({"update_id":79,"brand_new_update_type":{"x":1}})", secret);
            BOOST_TEST(unknown->status == 200U);
            auto unknown_again =
                co_await post(c, R"({"update_id":79,"brand_new_update_type":{"x":1}})", secret);
            BOOST_TEST(unknown_again->status == 200U);

            // The loop is still serving: a real conversation goes on.
            const auto user = t.add_user({.first_name = "Emma", .language_code = "en"});
            co_await onboard(*this, user, "emma");
            BOOST_TEST(bot->stats().updates_malformed == 2U); // the two 400s
            BOOST_TEST(bot->stats().updates_replayed >= 1U);  // the unknown kind's resend
            // The unknown kind, /start and the button (marked just after their replies).
            BOOST_TEST(co_await eventually([&] { return bot->stats().updates_processed >= 3U; }, 10s));
            co_await finish();
        }(),
        60s);
}

BOOST_FIXTURE_TEST_CASE(updates_sent_while_the_bot_is_down_arrive_after_its_restart, webhook_world) {
    test::run_test(
        ioc,
        [&]() -> awaitable<void> {
            co_await start();
            auto& t = sims->telegram();
            BOOST_TEST_REQUIRE(co_await eventually([&] { return t.webhook_set(); }, 10s));
            const auto user = t.add_user({.first_name = "Emma", .language_code = "en"});
            co_await onboard(*this, user, "emma");
            co_await stop_bot();
            const auto texts = [&] {
                const auto sent = t.sent_to(user);
                return std::count_if(sent.begin(), sent.end(), text);
            };
            const auto before = texts();
            // Down: Telegram's deliveries fail and it keeps the updates.
            for (const char* words : {"one", "two", "three"}) {
                t.user_sends_text(user, words);
            }
            BOOST_TEST_REQUIRE(co_await eventually([&] { return t.counters().webhook_failures >= 1U; }, 10s));
            BOOST_TEST(t.pending_updates() == 3U);
            start_bot();
            BOOST_TEST_REQUIRE(co_await bot->prepare());
            // Three replies, the updates confirmed, and marked processed (just after each reply).
            // Generous: under the sanitizers beside other suites a restart is slow.
            const bool all = co_await eventually(
                [&] {
                    return texts() >= before + 3 && t.pending_updates() == 0U &&
                           bot->stats().updates_processed == 3U;
                },
                60s);
            BOOST_TEST_REQUIRE(
                all,
                "replies " << texts() - before << ", pending " << t.pending_updates() << ", processed "
                           << bot->stats().updates_processed << ", received " << bot->stats().updates_received
                           << ", deliveries " << t.counters().webhook_deliveries << ", failures "
                           << t.counters().webhook_failures << ", in flight " << t.webhook_in_flight());
            co_await finish();
        }(),
        90s);
}

BOOST_FIXTURE_TEST_CASE(a_storm_slice_across_a_restart_loses_nothing_and_keeps_each_chat_in_order,
                        webhook_world) {
    test::run_test(
        ioc,
        [&]() -> awaitable<void> {
            co_await start();
            auto& t = sims->telegram();
            BOOST_TEST_REQUIRE(co_await eventually([&] { return t.webhook_set(); }, 10s));
            constexpr int chats = 12;
            constexpr int per_chat = 6;
            std::vector<std::int64_t> users;
            for (int i = 0; i < chats; ++i) {
                users.push_back(t.add_user({.first_name = "U" + std::to_string(i), .language_code = "en"}));
            }
            for (const auto u : users) {
                co_await onboard(*this, u, "emma");
            }
            std::size_t before = 0;
            std::map<std::int64_t, std::ptrdiff_t> texts_before; // what onboarding said, per chat
            for (const auto u : users) {
                const auto sent = t.sent_to(u);
                before += sent.size();
                texts_before[u] = std::count_if(sent.begin(), sent.end(), text);
            }
            // Half the messages, a restart in the middle of their delivery, the other half.
            for (int m = 0; m < per_chat; ++m) {
                for (const auto u : users) {
                    t.user_sends_text(u, "message " + std::to_string(m));
                }
                if (m == per_chat / 2) {
                    co_await stop_bot();
                    start_bot();
                    BOOST_TEST_REQUIRE(co_await bot->prepare());
                }
            }
            BOOST_TEST_REQUIRE(co_await eventually(
                [&] {
                    return t.pending_updates() == 0U &&
                           std::all_of(users.begin(), users.end(), [&](std::int64_t u) {
                               const auto sent = t.sent_to(u);
                               // One reply to each message, beyond what onboarding said.
                               return std::count_if(sent.begin(), sent.end(), text) >=
                                      texts_before[u] + per_chat;
                           });
                },
                60s));
            // At most max_connections deliveries at once, as Telegram opens.
            BOOST_TEST(t.webhook_in_flight() <= 4U);
            // Every chat's conversation, as stored, is in the order it was written.
            open_db();
            for (const auto u : users) {
                BOOST_TEST_CONTEXT("user " << u) {
                    std::vector<std::string> said;
                    SQLite::Statement q(
                        db->connection(),
                        "SELECT text FROM conversation_turns WHERE user_id = ? AND role = 'user' "
                        "ORDER BY id");
                    q.bind(1, u);
                    while (q.executeStep()) {
                        said.push_back(q.getColumn(0).getString());
                    }
                    BOOST_TEST_REQUIRE(said.size() == static_cast<std::size_t>(per_chat));
                    for (int m = 0; m < per_chat; ++m) {
                        BOOST_TEST(said[static_cast<std::size_t>(m)] == "message " + std::to_string(m));
                    }
                }
            }
            std::size_t after = 0;
            for (const auto u : users) {
                after += t.sent_to(u).size();
            }
            BOOST_TEST(after >= before + static_cast<std::size_t>(chats * per_chat));
            co_await finish();
        }(),
        120s);
}

BOOST_AUTO_TEST_SUITE_END()
