// The Gemini image client against the Gemini simulator over loopback, and its parsers on the
// contract's sample bodies: images at each model's size, every non-image outcome, every error.
#include "net/gemini/base64.hpp"
#include "net/gemini/image.hpp"
#include "net/http_client.hpp"
#include "sim/gemini/simulator.hpp"
#include "sim/media/png.hpp"
#include "tests/net/providers/support.hpp"

#include <boost/test/unit_test.hpp>

namespace companion {
namespace {

using namespace std::chrono_literals;
using error_kind = net::api_error_kind;
using net::gemini::image_outcome;

struct image_fixture : test::sim_fixture<sim::gemini_simulator> {
    net::gemini::image_config cfg;

    explicit image_fixture(sim::gemini_sim_config sc = {}) : sim_fixture(std::move(sc)) {
        cfg.base_url = sim.base_url();
        cfg.api_key = "AIzaSy-test-image-key-0001";
        cfg.response_timeout = 5s;
    }

    engine::awaitable<net::gemini::result<net::gemini::image_result>> generate(std::string prompt,
                                                                               std::string model = {}) {
        auto c = cfg;
        if (!model.empty()) {
            c.model = std::move(model);
        }
        net::gemini::image_client client(http, c);
        net::gemini::image_request
            req; // a local: g++ 12 mis-destroys braced temporaries passed to coroutines
        req.prompt = std::move(prompt);
        auto r = co_await client.generate(std::move(req));
        co_return r;
    }

    engine::awaitable<net::gemini::image_result> outcome_with(sim::fault f) {
        sim.faults.add(std::move(f));
        auto r = co_await generate("a selfie in a cafe");
        BOOST_REQUIRE(r.has_value());
        co_return *r;
    }

    engine::awaitable<net::api_error> error_with(sim::fault f) {
        sim.faults.add(std::move(f));
        auto r = co_await generate("a selfie in a cafe");
        BOOST_REQUIRE(r.has_error());
        co_return r.error();
    }
};

BOOST_AUTO_TEST_SUITE(gemini_image)

BOOST_FIXTURE_TEST_CASE(images_have_the_documented_9_16_size_per_model, image_fixture) {
    run([this]() -> engine::awaitable<void> {
        // Several prompts: some answers start with thought parts (with an interim image), and the
        // text part moves around; the picked image must always be the final one.
        for (int i = 0; i < 6; ++i) {
            auto r = co_await generate("selfie number " + std::to_string(i));
            BOOST_REQUIRE(r.has_value());
            BOOST_REQUIRE(r->outcome == image_outcome::image);
            BOOST_TEST(r->image->mime_type == "image/png");
            const auto size = sim::media::read_png_header(r->image->bytes);
            BOOST_REQUIRE(size.has_value());
            BOOST_TEST(size->width == 768U);
            BOOST_TEST(size->height == 1376U);
        }
        auto old = co_await generate("legacy", "gemini-2.5-flash-image");
        BOOST_REQUIRE(old.has_value());
        const auto size = sim::media::read_png_header(old->image->bytes);
        BOOST_TEST(size->height == 1344U);
        BOOST_TEST(sim.image_prompts().size() == 7U);
    });
}

BOOST_FIXTURE_TEST_CASE(a_reference_image_keeps_its_face_and_a_non_image_is_refused, image_fixture) {
    run([this]() -> engine::awaitable<void> {
        net::gemini::image_client client(http, cfg);
        net::gemini::image_request portrait_req;
        portrait_req.prompt = "a portrait of Elif";
        auto portrait = co_await client.generate(std::move(portrait_req));
        BOOST_REQUIRE(portrait.has_value());
        BOOST_REQUIRE(portrait->image.has_value());
        const auto face = sim::face_of(portrait->image->bytes);
        BOOST_REQUIRE(face.has_value());

        // Two selfies with the portrait as input: new pictures (other prompts), the same face.
        const std::vector<std::string> places{"a cafe", "a beach"};
        for (const auto& place : places) {
            net::gemini::image_request req;
            req.prompt = "a selfie in " + place;
            req.references.push_back(*portrait->image);
            auto r = co_await client.generate(std::move(req));
            BOOST_REQUIRE(r.has_value());
            BOOST_REQUIRE(r->image.has_value());
            BOOST_TEST(r->image->bytes != portrait->image->bytes);
            BOOST_TEST(sim::face_of(r->image->bytes).value_or("none") == *face);
        }
        // Without a reference each picture gets a face of its own.
        auto other = co_await generate("a selfie somewhere else");
        BOOST_REQUIRE(other.has_value());
        BOOST_TEST(sim::face_of(other->image->bytes).value_or(*face) != *face);

        BOOST_REQUIRE(sim.image_requests().size() == 4U);
        BOOST_TEST(sim.image_requests()[0].faces.empty());
        BOOST_REQUIRE(sim.image_requests()[1].faces.size() == 1U);
        BOOST_TEST(sim.image_requests()[1].faces[0] == *face);
        BOOST_TEST(sim.image_requests()[3].faces.empty());

        // Base64 that is not a picture: Google's 400, and nothing drawn.
        net::gemini::image_request bad;
        bad.prompt = "a selfie";
        bad.references.push_back(
            net::gemini::inline_image{.mime_type = "image/png", .bytes = "not a picture"});
        auto refused = co_await client.generate(std::move(bad));
        BOOST_REQUIRE(refused.has_error());
        BOOST_TEST(refused.error().status == 400U);
        BOOST_TEST(refused.error().message().find("input image") != std::string::npos);
        BOOST_TEST(sim.image_requests().size() == 4U);
    });
}

BOOST_FIXTURE_TEST_CASE(blocked_and_imageless_answers_are_typed_outcomes, image_fixture) {
    run([this]() -> engine::awaitable<void> {
        auto blocked = co_await outcome_with(test::fault_of(sim::fault_kind::refusal, "generateContent"));
        BOOST_TEST(blocked.outcome == image_outcome::prompt_blocked);
        BOOST_TEST(blocked.reason == "PROHIBITED_CONTENT");
        auto marker = co_await generate("please [[block]] this");
        BOOST_TEST(marker->outcome == image_outcome::prompt_blocked);

        auto safety = co_await outcome_with(test::fault_of(sim::fault_kind::custom, "", "image_safety"));
        BOOST_TEST(safety.outcome == image_outcome::output_blocked);
        BOOST_TEST(safety.reason == "IMAGE_SAFETY");
        auto text = co_await outcome_with(test::fault_of(sim::fault_kind::custom, "", "text_only"));
        BOOST_TEST(text.outcome == image_outcome::no_image);
        BOOST_TEST(!text.text.empty());
        auto none = co_await outcome_with(test::fault_of(sim::fault_kind::custom, "", "no_image"));
        BOOST_TEST(none.outcome == image_outcome::no_image);
        BOOST_TEST(none.reason == "NO_IMAGE");
        auto recited = co_await outcome_with(test::fault_of(sim::fault_kind::custom, "", "recitation"));
        BOOST_TEST(recited.outcome == image_outcome::recitation);
    });
}

BOOST_FIXTURE_TEST_CASE(errors_carry_kinds_and_retry_delays, image_fixture) {
    run([this]() -> engine::awaitable<void> {
        auto limited = co_await error_with(test::fault_of(sim::fault_kind::rate_limited, "", "", 2500ms));
        BOOST_TEST(limited.kind == error_kind::rate_limited);
        BOOST_TEST(limited.google_status == "RESOURCE_EXHAUSTED");
        BOOST_REQUIRE(limited.retry_after.has_value());
        BOOST_TEST(limited.retry_after->count() == 2500);
        BOOST_TEST(limited.retryable());

        auto daily = co_await error_with(test::fault_of(sim::fault_kind::custom, "", "per_day_quota"));
        BOOST_TEST(daily.kind == error_kind::quota_exhausted);
        BOOST_TEST(!daily.retryable());

        auto overloaded =
            co_await error_with(test::fault_of(sim::fault_kind::server_error, "", "", 0ms, 503));
        BOOST_TEST(overloaded.kind == error_kind::server);
        BOOST_TEST(overloaded.google_status == "UNAVAILABLE");

        auto gone = co_await error_with(test::fault_of(sim::fault_kind::custom, "", "model_gone"));
        BOOST_TEST(gone.kind == error_kind::model_gone);
        auto wrapped = co_await error_with(test::fault_of(sim::fault_kind::custom, "", "wrapped_error"));
        BOOST_TEST(wrapped.kind == error_kind::bad_request);
        BOOST_TEST(wrapped.google_status == "INVALID_ARGUMENT");

        auto retired = co_await generate("x", "gemini-3.1-flash-image-preview");
        BOOST_REQUIRE(retired.has_error());
        BOOST_TEST(retired.error().kind == error_kind::model_gone);
        BOOST_TEST(retired.error().detail.find("no longer available") != std::string::npos);
        auto unknown = co_await generate("x", "gemini-9-image");
        BOOST_TEST(unknown.error().kind == error_kind::not_found);

        auto reset = co_await error_with(test::fault_of(sim::fault_kind::reset));
        BOOST_TEST(reset.kind == error_kind::transport);
        auto mid = co_await error_with(test::fault_of(sim::fault_kind::reset_mid_body));
        BOOST_TEST(mid.kind == error_kind::transport);
        auto garbled = co_await error_with(test::fault_of(sim::fault_kind::malformed_json));
        BOOST_TEST(garbled.kind == error_kind::malformed_response);
        sim.faults.add(test::fault_of(sim::fault_kind::slow_body, "", "", 1ms));
        auto slow = co_await generate("slowly");
        BOOST_TEST(slow.has_value());
        sim.faults.add(test::fault_of(sim::fault_kind::latency, "", "", 20ms));
        auto late = co_await generate("later");
        BOOST_TEST(late.has_value());
    });
}

struct keyed_image_fixture : image_fixture {
    keyed_image_fixture() : image_fixture(sim::gemini_sim_config{.api_key = "AIzaSy-the-right-one-000"}) {}
};

BOOST_FIXTURE_TEST_CASE(a_wrong_key_is_an_auth_error_without_the_key_in_it, keyed_image_fixture) {
    run([this]() -> engine::awaitable<void> {
        auto r = co_await generate("x");
        BOOST_REQUIRE(r.has_error());
        BOOST_TEST(r.error().kind == error_kind::unauthorized);
        BOOST_TEST(r.error().reason == "API_KEY_INVALID");
        BOOST_TEST(r.error().detail.find(cfg.api_key) == std::string::npos);
        BOOST_CHECK_THROW(r.value(), boost::system::system_error);
    });
}

// Sans-I/O: the contract's sample bodies.

BOOST_AUTO_TEST_CASE(parses_the_contract_success_sample_and_trusts_its_mime_type) {
    const std::string jpeg_like = "\xff\xd8\xff\xe0 not really a jpeg";
    const std::string body = R"({"candidates": [{"content": {"role": "model", "parts": [
        {"text": "Here is Aylin in the cafe."},
        {"inlineData": {"mimeType": "image/jpeg", "data": ")" +
                             net::gemini::encode_base64(jpeg_like) + R"("}}]},
      "finishReason": "STOP", "index": 0}],
      "usageMetadata": {"promptTokenCount": 38, "candidatesTokenCount": 1290, "totalTokenCount": 1328},
      "modelVersion": "gemini-2.5-flash-image", "responseId": "mN0kaYKQH8qZ-8YP1aXc2QI"})";
    auto r = net::gemini::parse_image_response(200, body);
    BOOST_REQUIRE(r.has_value());
    BOOST_TEST(r->outcome == image_outcome::image);
    BOOST_TEST(r->image->mime_type == "image/jpeg");
    BOOST_TEST(r->image->bytes == jpeg_like);
    BOOST_TEST(r->text == "Here is Aylin in the cafe.");
    BOOST_TEST(r->model_version == "gemini-2.5-flash-image");
}

BOOST_AUTO_TEST_CASE(thought_parts_are_skipped_and_the_last_image_wins) {
    const std::string body = R"({"candidates":[{"content":{"parts":[
        {"inlineData":{"mimeType":"image/png","data":")" +
                             net::gemini::encode_base64("thought") +
                             R"("},"thought":true},
        {"inlineData":{"mimeType":"image/png","data":")" +
                             net::gemini::encode_base64("first") + R"("}},
        {"inlineData":{"mimeType":"image/png","data":")" +
                             net::gemini::encode_base64("final") + R"("}}]},
        "finishReason":"STOP"}]})";
    auto r = net::gemini::parse_image_response(200, body);
    BOOST_REQUIRE(r.has_value());
    BOOST_TEST(r->image->bytes == "final");
    auto bad = net::gemini::parse_image_response(
        200,
        R"({"candidates":[{"content":{"parts":[{"inlineData":{"mimeType":"image/png","data":"***"}}]}}]})");
    BOOST_REQUIRE(bad.has_error());
    BOOST_TEST(bad.error().kind == error_kind::malformed_response);
}

BOOST_AUTO_TEST_CASE(parses_the_contract_blocked_samples) {
    auto prompt =
        net::gemini::parse_image_response(200,
                                          R"({"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"},
            "usageMetadata": {"promptTokenCount": 41, "totalTokenCount": 41}, "modelVersion": "gemini-3.1-flash-image"})");
    BOOST_TEST(prompt->outcome == image_outcome::prompt_blocked);
    auto output = net::gemini::parse_image_response(
        200,
        R"({"candidates": [{"content": {"role": "model", "parts": [{"text": "I can't create that image."}]},
            "finishReason": "IMAGE_SAFETY", "index": 0}], "modelVersion": "gemini-3.1-flash-image"})");
    BOOST_TEST(output->outcome == image_outcome::output_blocked);
    BOOST_TEST(output->text == "I can't create that image.");
    auto no_content =
        net::gemini::parse_image_response(200, R"({"candidates":[{"finishReason":"IMAGE_OTHER"}]})");
    BOOST_TEST(no_content->outcome == image_outcome::no_image);
    BOOST_TEST(no_content->reason == "IMAGE_OTHER");
}

BOOST_AUTO_TEST_CASE(parses_the_contract_error_samples) {
    auto limited = net::gemini::parse_error(
        429,
        R"({"error": {"code": 429, "message": "You exceeded your current quota... Please retry in 12.59s.", "status": "RESOURCE_EXHAUSTED",
          "details": [
            {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [{"quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests", "quotaId": "GenerateRequestsPerDayPerProjectPerModel-FreeTier", "quotaValue": "10"}]},
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "12s"}]}})");
    BOOST_TEST(limited.kind == error_kind::quota_exhausted); // a per-day quota
    BOOST_TEST(limited.retry_after->count() == 12000);
    BOOST_TEST(limited.code == "429");

    auto message_only = net::gemini::parse_error(
        429,
        R"([{"error":{"code":429,"message":"Quota exceeded. Please retry in 2.5s.","status":"RESOURCE_EXHAUSTED"}}])");
    BOOST_TEST(message_only.kind == error_kind::rate_limited);
    BOOST_TEST(message_only.retry_after->count() == 2500);

    auto key = net::gemini::parse_error(
        400,
        R"({"error": {"code": 400, "message": "API key not valid.", "status": "INVALID_ARGUMENT",
          "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID", "domain": "googleapis.com"}]}})");
    BOOST_TEST(key.kind == error_kind::unauthorized);
    auto gone = net::gemini::parse_error(
        404,
        R"({"error":{"code":404,"message":"This model models/gemini-2.5-flash-image is no longer available. Please update your code to use models/gemini-3.1-flash-image.","status":"NOT_FOUND"}})");
    BOOST_TEST(gone.kind == error_kind::model_gone);
    BOOST_TEST(net::gemini::parse_error(504, "upstream timeout").kind == error_kind::server);
    BOOST_TEST(net::gemini::parse_proto_duration("2.500s")->count() == 2500);
    BOOST_TEST(!net::gemini::parse_proto_duration("12").has_value());
}

BOOST_AUTO_TEST_CASE(request_body_asks_for_an_image_at_9_16) {
    net::gemini::image_config cfg;
    const auto body =
        net::gemini::build_image_body(cfg, {.prompt = "p", .references = {{"image/jpeg", "abc"}}});
    BOOST_TEST(body.find(R"("responseModalities":["IMAGE"])") != std::string::npos);
    BOOST_TEST(body.find(R"("aspectRatio":"9:16")") != std::string::npos);
    BOOST_TEST(body.find(R"("mimeType":"image/jpeg","data":"YWJj")") != std::string::npos);
    BOOST_TEST(body.find("imageSize") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(base64_rejects_what_is_not_base64) {
    BOOST_TEST(*net::gemini::decode_base64("aGVsbG8=") == "hello");
    BOOST_TEST(!net::gemini::decode_base64("aGVs bG8=").has_value());
    BOOST_TEST(!net::gemini::decode_base64("a===").has_value());
    BOOST_TEST(net::gemini::encode_base64("hello") == "aGVsbG8=");
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace
} // namespace companion
