// End-to-end tests of /healthz and /readyz (issue 18, finding 2): health that says ok only when
// users can be served. A key the LLM refuses made the bot answer every chat with an apology while
// /healthz said {"ok":true}; now the refused service is named, with 503, and a working service
// stays "ok". /readyz answers once the first poll succeeded.
#include "app/admin.hpp"
#include "tests/common/files.hpp"
#include "tests/e2e/world.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <regex>
#include <set>
#include <string>

using namespace companion;
using namespace companion::test;
using namespace std::chrono_literals;
using engine::awaitable;

namespace {

struct answer {
    unsigned status = 0;
    boost::json::value body;
};

awaitable<answer> get(net::http_client& http, std::uint16_t port, std::string path) {
    net::request req;
    req.method = boost::beast::http::verb::get;
    req.url = "http://127.0.0.1:" + std::to_string(port) + path;
    auto r = co_await http.send(std::move(req));
    BOOST_TEST_REQUIRE(r.has_value());
    co_return answer{r->status, boost::json::parse(r->body)};
}

std::string state_of(const answer& a, const char* service) {
    return std::string(a.body.at("services").at(service).at("state").as_string());
}

} // namespace

BOOST_AUTO_TEST_SUITE(health_e2e)

BOOST_FIXTURE_TEST_CASE(a_refused_llm_key_makes_healthz_503_naming_the_service, world) {
    test::run_test(
        ioc,
        [&]() -> awaitable<void> {
            sim_cfg.openai.api_key = "sk-the-key-the-server-knows"; // the bot's own key is refused
            co_await start();
            app::admin_server admin(ex, "127.0.0.1", 0, *bot, app->db(), app->health());
            const auto port = admin.start();
            BOOST_TEST_REQUIRE(port.has_value());
            auto& t = sims->telegram();
            const auto user = t.add_user({.first_name = "Emma", .language_code = "en"});
            co_await onboard(*this, user, "emma"); // polling works: Telegram is fine

            auto ready = co_await get(app->http(), *port, "/readyz");
            BOOST_TEST(ready.status == 200U);
            auto before = co_await get(app->http(), *port, "/healthz");
            BOOST_TEST(before.status == 200U); // nothing refused yet: the LLM was not called
            BOOST_TEST(state_of(before, "telegram") == "ok");
            BOOST_TEST(state_of(before, "llm") == "unknown");
            BOOST_TEST(state_of(before, "videos") == "unused");

            t.user_sends_text(user, "Hi!");
            auto apology = co_await next(user, text);
            BOOST_TEST_REQUIRE(apology.has_value());
            auto after = co_await get(app->http(), *port, "/healthz");
            BOOST_TEST(after.status == 503U);
            BOOST_TEST(after.body.at("ok").as_bool() == false);
            BOOST_TEST(state_of(after, "llm") == "refused");
            BOOST_TEST(state_of(after, "telegram") == "ok");
            const auto& reasons = after.body.at("reasons").as_array();
            BOOST_TEST_REQUIRE(reasons.size() == 1U);
            BOOST_TEST(std::string(reasons[0].as_string()).starts_with("llm: refused"));
            // The key itself never shows.
            BOOST_TEST(boost::json::serialize(after.body).find("sk-e2e-secret") == std::string::npos);
            auto metrics_text = co_await [&]() -> awaitable<std::string> {
                net::request req;
                req.method = boost::beast::http::verb::get;
                req.url = "http://127.0.0.1:" + std::to_string(*port) + "/metrics";
                auto r = co_await app->http().send(std::move(req));
                co_return r ? r->body : std::string();
            }();
            BOOST_TEST(metrics_text.find("bot_service_errors_total{service=\"llm\",kind=\"unauthorized\"}") !=
                       std::string::npos);
            BOOST_TEST(metrics_text.find("bot_chat_turns_total") != std::string::npos);
            co_await admin.stop();
            co_await finish();
        }(),
        60s);
}

// Issue 23: the Grafana dashboard shipped in packaging/grafana queries only what /metrics exports.
// The bot runs a conversation (an LLM refusal and a Telegram connection reset included, so the
// error families exist), then every metric name in the dashboard's queries must have its
// `# TYPE` line in the scrape.
BOOST_FIXTURE_TEST_CASE(the_grafana_dashboard_queries_only_metrics_the_bot_exports, world) {
    const auto dashboard = boost::json::parse(
        companion::test::read_file(COMPANION_SOURCE_DIR "/packaging/grafana/companion-dashboard.json"));
    std::set<std::string> queried;
    const std::regex metric(R"(\b((?:bot|telegram|http_client|loop|engine|storage)_[a-z_]+)\b)");
    std::size_t queries = 0;
    for (const auto& panel : dashboard.at("panels").as_array()) {
        for (const auto& target : panel.at("targets").as_array()) {
            const std::string expr(target.at("expr").as_string());
            ++queries;
            for (std::sregex_iterator it(expr.begin(), expr.end(), metric), end; it != end; ++it) {
                std::string name = (*it)[1];
                for (const std::string suffix : {"_bucket", "_sum", "_count"}) {
                    if (name.ends_with(suffix)) {
                        name.resize(name.size() - suffix.size()); // a histogram's series
                    }
                }
                queried.insert(name);
            }
        }
    }
    BOOST_TEST_REQUIRE(queries >= 12U);
    test::run_test(
        ioc,
        [&]() -> awaitable<void> {
            sim_cfg.openai.api_key = "sk-the-key-the-server-knows"; // the LLM refuses: an error kind
            co_await start();
            app::loop_lag_histogram().observe(0.001); // what main's probe does each tick
            app::admin_server admin(ex, "127.0.0.1", 0, *bot, app->db(), app->health());
            const auto port = admin.start();
            BOOST_TEST_REQUIRE(port.has_value());
            auto& t = sims->telegram();
            const auto user = t.add_user({.first_name = "Emma", .language_code = "en"});
            co_await onboard(*this, user, "emma");
            t.faults.add({.match = "getUpdates", .kind = sim::fault_kind::reset, .count = 1});
            t.user_sends_text(user, "Hi!");
            auto apology = co_await next(user, text);
            BOOST_TEST_REQUIRE(apology.has_value());
            net::request req;
            req.method = boost::beast::http::verb::get;
            req.url = "http://127.0.0.1:" + std::to_string(*port) + "/metrics";
            auto r = co_await app->http().send(std::move(req));
            BOOST_TEST_REQUIRE(r.has_value());
            for (const auto& name : queried) {
                BOOST_TEST_CONTEXT(name) {
                    BOOST_TEST(r->body.find("# TYPE " + name + " ") != std::string::npos);
                }
            }
            co_await admin.stop();
            co_await finish();
        }(),
        60s);
}

BOOST_FIXTURE_TEST_CASE(the_start_check_names_a_refused_key_and_an_unknown_model_before_anyone_is_served,
                        world) {
    test::run_test(
        ioc,
        [&]() -> awaitable<void> {
            sim_cfg.openai.api_key = "sk-the-key-the-server-knows";
            sim_cfg.openai.chat_models = {"gpt-5-mini"};
            co_await start();
            const auto checks = co_await app->check_services();
            BOOST_TEST_REQUIRE(checks.size() == 2U);
            const auto& llm = checks[0];
            BOOST_TEST(!llm.ok);
            BOOST_TEST(llm.fatal);
            BOOST_TEST(llm.line.find("the chat model: refused") == 0U, llm.line);
            BOOST_TEST(llm.line.find("OPENAI_API_KEY") != std::string::npos);
            BOOST_TEST(llm.line.find("sk-e2e-secret") == std::string::npos); // never the key
            BOOST_TEST(checks[1].ok, checks[1].line);
            BOOST_TEST(checks[1].line == "the image model: ok");
            BOOST_TEST(
                (app->health().status(pipelines::service::llm).state == pipelines::service_state::refused));
            BOOST_TEST(
                (app->health().status(pipelines::service::images).state == pipelines::service_state::ok));
            co_await finish();
        }(),
        60s);
}

BOOST_FIXTURE_TEST_CASE(the_start_check_passes_with_good_keys_and_names_a_model_the_server_lacks, world) {
    test::run_test(
        ioc,
        [&]() -> awaitable<void> {
            sim_cfg.openai.chat_models = {"some-other-model"};
            co_await start();
            const auto checks = co_await app->check_services();
            BOOST_TEST_REQUIRE(checks.size() == 2U);
            BOOST_TEST(checks[0].fatal);
            BOOST_TEST(checks[0].line.find("lists no model") != std::string::npos, checks[0].line);
            BOOST_TEST(checks[1].ok);
            co_await finish();
        }(),
        60s);
}

BOOST_FIXTURE_TEST_CASE(the_start_check_asks_for_the_video_model_with_the_video_key, world) {
    test::run_test(
        ioc,
        [&]() -> awaitable<void> {
            backend = video_backend::openai;
            sim_cfg.openai.api_key = "sk-e2e-secret-key-0001"; // the chat key; the video key is refused
            co_await start();
            const auto checks = co_await app->check_services();
            BOOST_TEST_REQUIRE(checks.size() == 3U);
            BOOST_TEST(checks[0].ok, checks[0].line);
            BOOST_TEST((checks[2].which == pipelines::service::videos));
            BOOST_TEST(checks[2].fatal);
            BOOST_TEST(checks[2].line.find("the video model (openai sora-2): refused: auth") == 0U,
                       checks[2].line);
            BOOST_TEST(checks[2].line.find("VIDEO_API_KEY") != std::string::npos);
            co_await finish();
        }(),
        60s);
}

BOOST_AUTO_TEST_SUITE_END()
