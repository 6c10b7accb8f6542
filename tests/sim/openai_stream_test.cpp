// The OpenAI simulator's streamed chat completions (server-sent events as the official SDKs read
// them: role, content pieces, finish_reason, usage chunk, [DONE]; an error event mid-stream) and
// its model list.
#include "net/http_client.hpp"
#include "sim/openai/simulator.hpp"
#include "tests/common/sim_fixture.hpp"
#include "tests/net/net_test_support.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <ostream>
#include <string>
#include <vector>

using namespace companion;
using namespace companion::test;
using namespace std::chrono_literals;
using engine::awaitable;
namespace json = boost::json;

namespace {

struct openai_world : sim_fixture<sim::openai_simulator> {
    explicit openai_world(sim::openai_sim_config cfg = {}) : sim_fixture(std::move(cfg), "openai_test") {}

    awaitable<net::response> send(net::http::verb method, std::string path, std::string body = {}) {
        net::request req;
        req.method = method;
        req.url = sim.base_url() + path;
        if (!body.empty()) {
            req.headers.set(net::http::field::content_type, "application/json");
        }
        req.body = std::move(body);
        auto r = co_await http.send(std::move(req));
        BOOST_TEST_REQUIRE(r.has_value());
        co_return std::move(*r);
    }
};

// The "data:" payloads of an event stream, in order.
std::vector<std::string> events(const std::string& body) {
    std::vector<std::string> out;
    std::size_t pos = 0;
    while ((pos = body.find("data: ", pos)) != std::string::npos) {
        const auto end = body.find("\n\n", pos);
        out.push_back(body.substr(pos + 6, end - pos - 6));
        pos = end == std::string::npos ? body.size() : end;
    }
    return out;
}

const std::string request_body =
    R"({"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are Emma. Reply in English."},{"role":"user","content":"How was your day?"}])";

struct stream_case {
    std::string_view name;
    std::string options; ///< extra fields of the request
    bool usage_chunk;
};

std::ostream& operator<<(std::ostream& os, const stream_case& c) {
    return os << c.name;
}

const std::vector<stream_case> stream_cases{
    {"plain stream", R"(,"stream":true})", false},
    {"stream with usage", R"(,"stream":true,"stream_options":{"include_usage":true}})", true},
};

} // namespace

BOOST_AUTO_TEST_SUITE(openai_simulator_streaming)

BOOST_DATA_TEST_CASE(a_streamed_answer_carries_the_same_text_in_chunks_then_done,
                     boost::unit_test::data::make(stream_cases),
                     c) {
    openai_world w;
    w.run([&]() -> awaitable<void> {
        auto whole = co_await w.send(net::http::verb::post, "/chat/completions", request_body + "}");
        BOOST_TEST_REQUIRE(whole.status == 200U);
        const std::string expected(
            json::parse(whole.body).at("choices").at(0).at("message").at("content").as_string());

        auto streamed = co_await w.send(net::http::verb::post, "/chat/completions", request_body + c.options);
        BOOST_TEST_REQUIRE(streamed.status == 200U);
        BOOST_TEST(streamed.header("Content-Type").starts_with("text/event-stream"));
        const auto list = events(streamed.body);
        BOOST_TEST_REQUIRE(list.size() >= 4U);
        BOOST_TEST(list.back() == "[DONE]");
        const auto first = json::parse(list.front());
        BOOST_TEST(first.at("object").as_string() == "chat.completion.chunk");
        BOOST_TEST(first.at("choices").at(0).at("delta").at("role").as_string() == "assistant");
        std::string text;
        std::string finish;
        bool saw_usage = false;
        int content_chunks = 0;
        for (std::size_t i = 1; i + 1 < list.size(); ++i) {
            const auto chunk = json::parse(list[i]).as_object();
            const auto& choices = chunk.at("choices").as_array();
            if (choices.empty()) {
                saw_usage = true;
                BOOST_TEST(chunk.at("usage").at("total_tokens").as_int64() > 0);
                continue;
            }
            const auto& choice = choices.front().as_object();
            if (const auto* content = choice.at("delta").as_object().if_contains("content")) {
                text += std::string(content->as_string());
                ++content_chunks;
            }
            if (choice.at("finish_reason").is_string()) {
                finish = std::string(choice.at("finish_reason").as_string());
            }
        }
        BOOST_TEST(text == expected);
        BOOST_TEST(content_chunks >= 2); // really in pieces
        BOOST_TEST(finish == "stop");
        BOOST_TEST(saw_usage == c.usage_chunk);
    });
}

BOOST_AUTO_TEST_CASE(an_error_mid_stream_arrives_as_an_error_event_without_done) {
    openai_world w;
    w.run([&]() -> awaitable<void> {
        w.sim.faults.add(
            {.match = "chat.completions", .kind = sim::fault_kind::custom, .detail = "stream_error"});
        auto streamed =
            co_await w.send(net::http::verb::post, "/chat/completions", request_body + R"(,"stream":true})");
        BOOST_TEST_REQUIRE(streamed.status == 200U);
        const auto list = events(streamed.body);
        BOOST_TEST_REQUIRE(list.size() == 3U); // the role, one piece, the error
        BOOST_TEST(json::parse(list.back()).at("error").at("type").as_string() == "server_error");
    });
}

BOOST_AUTO_TEST_CASE(a_slow_stream_still_parses_whole) {
    openai_world w({.stream_chunk_delay = 1ms});
    w.run([&]() -> awaitable<void> {
        auto streamed =
            co_await w.send(net::http::verb::post, "/chat/completions", request_body + R"(,"stream":true})");
        BOOST_TEST_REQUIRE(streamed.status == 200U);
        BOOST_TEST(events(streamed.body).back() == "[DONE]");
    });
}

BOOST_AUTO_TEST_CASE(models_list_the_configured_chat_and_video_models_and_refuse_unknown_ones) {
    openai_world w({.chat_models = {"gpt-4o-mini"}, .video_models = {"sora-2"}});
    w.run([&]() -> awaitable<void> {
        auto list = co_await w.send(net::http::verb::get, "/models");
        BOOST_TEST_REQUIRE(list.status == 200U);
        const auto body = json::parse(list.body);
        BOOST_TEST(body.at("object").as_string() == "list");
        std::vector<std::string> ids;
        for (const auto& m : body.at("data").as_array()) {
            ids.emplace_back(m.at("id").as_string());
            BOOST_TEST(m.at("object").as_string() == "model");
        }
        BOOST_TEST(ids == (std::vector<std::string>{"gpt-4o-mini", "sora-2"}),
                   boost::test_tools::per_element());
        auto one = co_await w.send(net::http::verb::get, "/models/gpt-4o-mini");
        BOOST_TEST(one.status == 200U);
        auto unknown = co_await w.send(net::http::verb::get, "/models/gpt-2");
        BOOST_TEST(unknown.status == 404U);
        BOOST_TEST(json::parse(unknown.body).at("error").at("code").as_string() == "model_not_found");
    });
}

BOOST_AUTO_TEST_SUITE_END()
