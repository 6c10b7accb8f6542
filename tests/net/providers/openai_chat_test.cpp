// The chat completions client against the OpenAI simulator over loopback, and its parsers on the
// contract's sample bodies: every typed outcome, every error shape, every fault kind.
#include "net/http_client.hpp"
#include "net/openai/chat.hpp"
#include "sim/openai/simulator.hpp"
#include "tests/net/providers/support.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

namespace companion {
namespace {

using namespace std::chrono_literals;
using error_kind = net::api_error_kind;
using net::openai::finish_reason;

struct chat_fixture : test::sim_fixture<sim::openai_simulator> {
    std::optional<net::openai::chat_client> client;

    explicit chat_fixture(sim::openai_sim_config sc = {}, net::openai::chat_config cc = {})
        : sim_fixture(std::move(sc)) {
        cc.base_url = sim.base_url();
        if (cc.api_key.empty()) {
            cc.api_key = "sk-test-chat-key-123456";
        }
        cc.response_timeout = 5s;
        client.emplace(http, std::move(cc));
    }

    engine::awaitable<net::openai::result<net::openai::chat_completion>> ask(std::string system,
                                                                             std::string user) {
        net::openai::chat_request req;
        req.messages = {{net::openai::role::system, std::move(system)},
                        {net::openai::role::user, std::move(user)}};
        auto r = co_await client->complete(std::move(req));
        co_return r;
    }

    engine::awaitable<net::api_error> ask_with_fault(sim::fault f) {
        sim.faults.add(std::move(f));
        auto r = co_await ask("You are Aylin.", "hi");
        BOOST_REQUIRE(r.has_error());
        co_return r.error();
    }
};

BOOST_AUTO_TEST_SUITE(openai_chat)

BOOST_FIXTURE_TEST_CASE(persona_reply_follows_the_language_of_the_system_prompt, chat_fixture) {
    run([this]() -> engine::awaitable<void> {
        auto tr = co_await ask("You are Aylin, 27, a barista from Istanbul. Reply in Turkish.",
                               "Bug\xc3\xbcn ne yapt\xc4\xb1n?");
        BOOST_REQUIRE(tr.has_value());
        BOOST_TEST(tr->finish == finish_reason::stop);
        BOOST_REQUIRE(tr->content.has_value());
        BOOST_TEST(!tr->content->empty());
        BOOST_TEST(!tr->refusal.has_value());
        BOOST_REQUIRE(tr->usage.has_value());
        BOOST_TEST(tr->usage->total_tokens == tr->usage->prompt_tokens + tr->usage->completion_tokens);
        BOOST_TEST(tr->request_id == "req_sim1");

        auto again = co_await ask("You are Aylin, 27, a barista from Istanbul. Reply in Turkish.",
                                  "Bug\xc3\xbcn ne yapt\xc4\xb1n?");
        BOOST_REQUIRE(again.has_value());
        BOOST_TEST(*again->content == *tr->content); // deterministic

        auto ru = co_await ask("You are Masha. Reply in Russian.", "Hello");
        BOOST_REQUIRE(ru.has_value());
        BOOST_TEST(ru->content->find("\xd0") != std::string::npos); // Cyrillic
        auto en = co_await ask("You are Emma. Reply in English.", "Hello");
        BOOST_REQUIRE(en.has_value());
        BOOST_TEST(en->content->find("\xd0") == std::string::npos);
        BOOST_TEST(sim.chat_requests() == 4U);
        BOOST_TEST(sim.completion_tokens_total() > 0);
    });
}

BOOST_FIXTURE_TEST_CASE(default_request_sends_max_completion_tokens_and_no_temperature, chat_fixture) {
    run([this]() -> engine::awaitable<void> {
        auto r = co_await ask("You are Aylin.", "hi");
        BOOST_REQUIRE(r.has_value());
        const auto body = boost::json::parse(sim.last_chat_body()).as_object();
        BOOST_TEST(body.contains("max_completion_tokens"));
        BOOST_TEST(!body.contains("max_tokens"));
        BOOST_TEST(!body.contains("temperature"));
        BOOST_TEST(body.at("model").as_string() == "gpt-5-mini");
    });
}

struct legacy_fixture : chat_fixture {
    legacy_fixture()
        : chat_fixture({},
                       net::openai::chat_config{.model = "llama3",
                                                .limit_field = net::openai::token_limit_field::max_tokens,
                                                .max_output_tokens = 300,
                                                .temperature = 0.9}) {}
};

BOOST_FIXTURE_TEST_CASE(legacy_servers_get_max_tokens_and_the_configured_temperature, legacy_fixture) {
    run([this]() -> engine::awaitable<void> {
        auto r = co_await ask("You are Aylin.", "hi");
        BOOST_REQUIRE(r.has_value());
        const auto body = boost::json::parse(sim.last_chat_body()).as_object();
        BOOST_TEST(body.at("max_tokens").as_int64() == 300);
        BOOST_TEST(!body.contains("max_completion_tokens"));
        BOOST_TEST(body.at("temperature").as_double() == 0.9);
        BOOST_TEST(body.at("model").as_string() == "llama3");
    });
}

boost::json::object video_prompt_schema() {
    return boost::json::parse(R"({
      "type": "object", "additionalProperties": false,
      "required": ["style", "scene", "cinematography", "actions", "background_sound"],
      "properties": {"style": {"type": "string"}, "scene": {"type": "string"},
        "cinematography": {"type": "string"}, "actions": {"type": "string"},
        "background_sound": {"type": "string"}}})")
        .as_object();
}

BOOST_FIXTURE_TEST_CASE(structured_output_is_a_json_string_matching_the_schema, chat_fixture) {
    run([this]() -> engine::awaitable<void> {
        net::openai::chat_request req;
        req.messages = {{net::openai::role::system, "Write a video prompt."},
                        {net::openai::role::user, "Selfie of Aylin in a cafe"}};
        req.format = net::openai::json_schema_format{.name = "video_prompt", .schema = video_prompt_schema()};
        auto r = co_await client->complete(req);
        BOOST_REQUIRE(r.has_value());
        BOOST_REQUIRE(r->content.has_value());
        const auto v = boost::json::parse(*r->content);
        for (const auto* key : {"style", "scene", "cinematography", "actions", "background_sound"}) {
            BOOST_TEST(v.as_object().at(key).as_string().size() > 10U);
        }
        const auto sent = boost::json::parse(sim.last_chat_body()).as_object();
        BOOST_TEST(sent.at("response_format").at("json_schema").at("name").as_string() == "video_prompt");
        BOOST_TEST(sent.at("response_format").at("json_schema").at("strict").as_bool());

        sim.faults.add(test::fault_of(sim::fault_kind::custom, "chat.completions", "malformed_content"));
        auto bad = co_await client->complete(req);
        BOOST_REQUIRE(bad.has_value());
        boost::system::error_code ec;
        boost::json::parse(*bad->content, ec);
        BOOST_TEST(ec.failed()); // the caller's template fallback must take over
    });
}

BOOST_FIXTURE_TEST_CASE(refusal_has_no_content_and_a_refusal_text, chat_fixture) {
    run([this]() -> engine::awaitable<void> {
        sim.faults.add(test::fault_of(sim::fault_kind::refusal, "chat.completions"));
        auto r = co_await ask("You are Aylin.", "hi");
        BOOST_REQUIRE(r.has_value());
        BOOST_TEST(!r->content.has_value());
        BOOST_REQUIRE(r->refusal.has_value());
        BOOST_TEST(!r->refusal->empty());
    });
}

BOOST_FIXTURE_TEST_CASE(truncation_and_filtering_are_finish_reasons, chat_fixture) {
    run([this]() -> engine::awaitable<void> {
        sim.faults.add(test::fault_of(sim::fault_kind::custom, "chat.completions", "length_empty"));
        auto r = co_await ask("You are Aylin.", "hi");
        BOOST_REQUIRE(r.has_value());
        BOOST_TEST(r->finish == finish_reason::length);
        BOOST_TEST(r->content.value_or("x").empty());
        sim.faults.add(test::fault_of(sim::fault_kind::custom, "chat.completions", "content_filter"));
        auto f = co_await ask("You are Aylin.", "hi");
        BOOST_REQUIRE(f.has_value());
        BOOST_TEST(f->finish == finish_reason::content_filter);
        BOOST_TEST(!f->content.has_value());
    });
}

BOOST_FIXTURE_TEST_CASE(rate_limit_is_retryable_with_the_servers_delay, chat_fixture) {
    run([this]() -> engine::awaitable<void> {
        auto e = co_await ask_with_fault(test::fault_of(sim::fault_kind::rate_limited, "", "", 1500ms));
        BOOST_TEST(e.kind == error_kind::rate_limited);
        BOOST_TEST(e.status == 429U);
        BOOST_TEST(e.code == "rate_limit_exceeded");
        BOOST_TEST(e.retryable());
        BOOST_REQUIRE(e.retry_after.has_value());
        BOOST_TEST(e.retry_after->count() == 1500);
    });
}

BOOST_FIXTURE_TEST_CASE(error_shapes_map_to_kinds, chat_fixture) {
    run([this]() -> engine::awaitable<void> {
        auto quota =
            co_await ask_with_fault(test::fault_of(sim::fault_kind::custom, "", "insufficient_quota"));
        BOOST_TEST(quota.kind == error_kind::quota_exhausted);
        BOOST_TEST(!quota.retryable());
        BOOST_TEST(!quota.retry_after.has_value());

        auto context = co_await ask_with_fault(test::fault_of(sim::fault_kind::custom, "", "context_length"));
        BOOST_TEST(context.kind == error_kind::context_length);
        BOOST_TEST(context.status == 400U);

        auto model = co_await ask_with_fault(test::fault_of(sim::fault_kind::custom, "", "model_not_found"));
        BOOST_TEST(model.kind == error_kind::not_found);

        auto openrouter = co_await ask_with_fault(test::fault_of(sim::fault_kind::custom, "", "openrouter"));
        BOOST_TEST(openrouter.kind == error_kind::quota_exhausted); // 402: out of credits
        BOOST_TEST(openrouter.code == "402");

        auto in_200 =
            co_await ask_with_fault(test::fault_of(sim::fault_kind::custom, "", "openrouter_in_200"));
        BOOST_TEST(in_200.kind == error_kind::server);
        BOOST_TEST(in_200.status == 502U);

        auto vllm = co_await ask_with_fault(test::fault_of(sim::fault_kind::custom, "", "vllm"));
        BOOST_TEST(vllm.kind == error_kind::bad_request);
        BOOST_TEST(vllm.type == "BadRequestError");
        BOOST_TEST(vllm.detail.find("max_tokens") != std::string::npos);

        auto overloaded =
            co_await ask_with_fault(test::fault_of(sim::fault_kind::server_error, "", "", 0ms, 503));
        BOOST_TEST(overloaded.kind == error_kind::server);
        BOOST_TEST(overloaded.retryable());
        auto internal = co_await ask_with_fault(test::fault_of(sim::fault_kind::server_error));
        BOOST_TEST(internal.status == 500U);
    });
}

BOOST_FIXTURE_TEST_CASE(wire_faults_are_transport_or_malformed, chat_fixture) {
    run([this]() -> engine::awaitable<void> {
        auto reset = co_await ask_with_fault(test::fault_of(sim::fault_kind::reset));
        BOOST_TEST(reset.kind == error_kind::transport);
        BOOST_REQUIRE(reset.transport.has_value());
        BOOST_TEST(reset.retryable());

        auto mid = co_await ask_with_fault(test::fault_of(sim::fault_kind::reset_mid_body));
        BOOST_TEST(mid.kind == error_kind::transport, mid.message());

        auto garbled = co_await ask_with_fault(test::fault_of(sim::fault_kind::malformed_json));
        BOOST_TEST(garbled.kind == error_kind::malformed_response, garbled.message());

        sim.faults.add(test::fault_of(sim::fault_kind::slow_body, "", "", 5ms));
        auto slow = co_await ask("You are Aylin.", "hi");
        BOOST_TEST(slow.has_value(), (slow ? std::string() : slow.error().message()));

        sim.faults.add(test::fault_of(sim::fault_kind::latency, "", "", 50ms));
        const auto t0 = std::chrono::steady_clock::now();
        auto late = co_await ask("You are Aylin.", "hi");
        BOOST_TEST(late.has_value());
        BOOST_TEST((std::chrono::steady_clock::now() - t0) >= 50ms);
        BOOST_TEST(sim.faults.applied() == 5U);
    });
}

struct keyed_fixture : chat_fixture {
    keyed_fixture()
        : chat_fixture(
              sim::openai_sim_config{.api_key = "sk-the-right-key-000", .chat_models = {"gpt-5-mini"}},
              net::openai::chat_config{.api_key = "sk-the-wrong-key-999"}) {}
};

BOOST_FIXTURE_TEST_CASE(wrong_key_and_unknown_model_are_configuration_errors, keyed_fixture) {
    run([this]() -> engine::awaitable<void> {
        auto r = co_await ask("You are Aylin.", "hi");
        BOOST_REQUIRE(r.has_error());
        BOOST_TEST(r.error().kind == error_kind::unauthorized);
        BOOST_TEST(r.error().status == 401U);
        BOOST_TEST(r.error().detail.find("sk-the-wrong-key-999") == std::string::npos);
        BOOST_TEST(!r.error().retryable());
        BOOST_CHECK_THROW(r.value(), boost::system::system_error);
    });
}

// Sans-I/O: the contract's sample bodies.

BOOST_AUTO_TEST_CASE(parses_the_contract_success_sample) {
    const auto body = R"({
  "id": "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG", "object": "chat.completion", "created": 1764000000,
  "model": "gpt-5-mini-2025-08-07",
  "choices": [{"index": 0,
    "message": {"role": "assistant", "content": "Tabii! Kafede \u00e7ekiyorum, bekle biraz", "refusal": null, "annotations": []},
    "logprobs": null, "finish_reason": "stop"}],
  "usage": {"prompt_tokens": 212, "completion_tokens": 31, "total_tokens": 243,
    "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
    "completion_tokens_details": {"reasoning_tokens": 0}},
  "service_tier": "default", "system_fingerprint": "fp_fc9f1d7035"})";
    auto r = net::openai::parse_chat_response(200, body, {});
    BOOST_REQUIRE(r.has_value());
    BOOST_TEST(r->id == "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG");
    BOOST_TEST(r->model == "gpt-5-mini-2025-08-07");
    BOOST_TEST(r->content->starts_with("Tabii!"));
    BOOST_TEST(!r->refusal.has_value());
    BOOST_TEST(r->finish == finish_reason::stop);
    BOOST_TEST(r->usage->total_tokens == 243);
}

BOOST_AUTO_TEST_CASE(unknown_finish_reasons_and_missing_usage_are_tolerated) {
    auto r = net::openai::parse_chat_response(
        200,
        R"({"id":"x","choices":[{"message":{"content":null},"finish_reason":"eos"}]})",
        {});
    BOOST_REQUIRE(r.has_value());
    BOOST_TEST(r->finish == finish_reason::other);
    BOOST_TEST(r->raw_finish_reason == "eos");
    BOOST_TEST(!r->content.has_value());
    BOOST_TEST(!r->usage.has_value());
    auto empty = net::openai::parse_chat_response(200, R"({"id":"x","choices":[]})", {});
    BOOST_REQUIRE(empty.has_error());
    BOOST_TEST(empty.error().kind == error_kind::malformed_response);
}

BOOST_AUTO_TEST_CASE(parses_the_contract_error_samples) {
    boost::beast::http::fields h;
    h.set("x-request-id", "req_8f3");
    h.set("x-ratelimit-remaining-requests", "4999");
    h.set("x-ratelimit-remaining-tokens", "0");
    h.set("x-ratelimit-reset-requests", "12ms");
    h.set("x-ratelimit-reset-tokens", "6m0s");
    auto rate = net::openai::parse_error(
        429,
        R"({"error": {"message": "Rate limit reached for gpt-5-mini in organization org-x on tokens per min (TPM): Limit 200000, Used 199500, Requested 1200. Please try again in 210ms.", "type": "tokens", "param": null, "code": "rate_limit_exceeded"}})",
        h);
    BOOST_TEST(rate.kind == error_kind::rate_limited);
    BOOST_TEST(rate.request_id == "req_8f3");
    BOOST_TEST(rate.retry_after->count() == 360000); // the tokens bucket is the empty one

    auto quota = net::openai::parse_error(
        429,
        R"({"error": {"message": "You exceeded your current quota, please check your plan and billing details.", "type": "insufficient_quota", "param": null, "code": "insufficient_quota"}})",
        {});
    BOOST_TEST(quota.kind == error_kind::quota_exhausted);
    auto spend = net::openai::parse_error(
        429,
        R"({"error":{"message":"x","type":"requests","param":null,"code":"project_spend_limit_exceeded"}})",
        {});
    BOOST_TEST(spend.kind == error_kind::quota_exhausted);

    auto vllm = net::openai::parse_error(
        400,
        R"({"object":"error","message":"bad","type":"BadRequestError","param":null,"code":400})",
        {});
    BOOST_TEST(vllm.kind == error_kind::bad_request);
    BOOST_TEST(vllm.code == "400");

    auto html = net::openai::parse_error(502, "<html>Bad Gateway</html>", {});
    BOOST_TEST(html.kind == error_kind::server);
    BOOST_TEST(html.detail.find("Bad Gateway") != std::string::npos);

    auto key = net::openai::parse_error(
        401,
        R"({"error":{"message":"Incorrect API key provided","type":"invalid_request_error","param":null,"code":"invalid_api_key"}})",
        {});
    BOOST_TEST(key.kind == error_kind::unauthorized);
}

BOOST_AUTO_TEST_CASE(retry_hints_come_from_headers_in_the_sdks_order) {
    using std::chrono::milliseconds;
    BOOST_TEST(net::openai::parse_go_duration("12ms")->count() == 12);
    BOOST_TEST(net::openai::parse_go_duration("1s")->count() == 1000);
    BOOST_TEST(net::openai::parse_go_duration("6m0s")->count() == 360000);
    BOOST_TEST(net::openai::parse_go_duration("1h2m3.5s")->count() == 3723500);
    BOOST_TEST(!net::openai::parse_go_duration("soon").has_value());
    BOOST_TEST(!net::openai::parse_go_duration("").has_value());

    boost::beast::http::fields h;
    h.set("retry-after", "20");
    BOOST_TEST(net::openai::parse_retry_after(h)->count() == 20000);
    h.set("retry-after-ms", "250.5");
    BOOST_TEST(net::openai::parse_retry_after(h)->count() == 251);
    boost::beast::http::fields none;
    BOOST_TEST(!net::openai::parse_retry_after(none).has_value());
}

BOOST_AUTO_TEST_CASE(request_body_carries_messages_in_order) {
    net::openai::chat_config cfg;
    net::openai::chat_request req;
    req.messages = {{net::openai::role::system, "s"},
                    {net::openai::role::user, "u"},
                    {net::openai::role::assistant, "a"},
                    {net::openai::role::user, "u2"}};
    const auto v = boost::json::parse(net::openai::build_chat_body(cfg, req));
    const auto& m = v.at("messages").as_array();
    BOOST_REQUIRE(m.size() == 4U);
    BOOST_TEST(m[0].at("role").as_string() == "system");
    BOOST_TEST(m[2].at("role").as_string() == "assistant");
    BOOST_TEST(m[3].at("content").as_string() == "u2");
    BOOST_TEST(v.at("max_completion_tokens").as_int64() == 1000);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace
} // namespace companion
