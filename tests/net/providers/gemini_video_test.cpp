// The Gemini Omni and Veo clients against the Gemini simulator over loopback (both Veo flavours),
// downloads through the redirect hop without the key, and the parsers on the contracts' samples.
#include "net/gemini/omni.hpp"
#include "net/gemini/veo.hpp"
#include "net/http_client.hpp"
#include "sim/gemini/simulator.hpp"
#include "sim/media/mp4.hpp"
#include "sim/media/png.hpp"
#include "tests/net/providers/support.hpp"

#include <boost/test/unit_test.hpp>

namespace companion {
namespace {

using namespace std::chrono_literals;
using error_kind = net::api_error_kind;
using net::gemini::omni_state;
using net::gemini::veo_state;

sim::gemini_sim_config fast_sim() {
    sim::gemini_sim_config c;
    c.queue_time = 20ms;
    c.render_time = 60ms;
    c.video_fps = 4;
    c.vertex_token = "ya29.sim-vertex-token";
    return c;
}

struct video_fixture : test::sim_fixture<sim::gemini_simulator> {
    std::optional<net::gemini::omni_client> omni;
    std::optional<net::gemini::veo_client> veo;
    test::temp_dir dir;

    video_fixture() : sim_fixture(fast_sim()) {
        omni.emplace(
            http,
            net::gemini::omni_config{.base_url = sim.base_url(), .api_key = "AIzaSy-omni-test-key-77"});
        veo.emplace(http, veo_config());
    }

    net::gemini::veo_config veo_config(std::string model = "veo-3.1-fast-generate-preview") const {
        net::gemini::veo_config c;
        c.base_url = sim.base_url();
        c.api_key = "AIzaSy-veo-test-key-7788";
        c.model = std::move(model);
        return c;
    }

    engine::awaitable<net::gemini::result<net::gemini::omni_interaction>> omni_create(std::string prompt,
                                                                                      int seconds = 4) {
        net::gemini::omni_create_request req;
        req.prompt = std::move(prompt);
        req.first_frame = net::gemini::inline_image{"image/png", sim::media::make_png(72, 128, {.seed = 3})};
        req.duration = std::chrono::seconds(seconds);
        auto r = co_await omni->create(std::move(req));
        co_return r;
    }

    engine::awaitable<net::gemini::omni_interaction> omni_wait(std::string id) {
        for (int i = 0; i < 200; ++i) {
            auto r = co_await omni->poll(id);
            BOOST_REQUIRE(r.has_value());
            if (r->state != omni_state::running) {
                co_return *r;
            }
            co_await engine::sleep(10ms);
        }
        BOOST_FAIL("interaction never finished");
        co_return net::gemini::omni_interaction{};
    }

    engine::awaitable<net::gemini::result<std::string>>
    veo_create(net::gemini::veo_client& client, std::string prompt, int seconds = 6) {
        net::gemini::veo_create_request req;
        req.prompt = std::move(prompt);
        req.first_frame = net::gemini::inline_image{"image/png", sim::media::make_png(72, 128, {.seed = 4})};
        req.duration = std::chrono::seconds(seconds);
        auto r = co_await client.create(std::move(req));
        co_return r;
    }

    engine::awaitable<net::gemini::veo_operation>
    veo_wait(net::gemini::veo_client& client, std::string name, int* running_polls = nullptr) {
        for (int i = 0; i < 200; ++i) {
            auto r = co_await client.poll(name);
            BOOST_REQUIRE(r.has_value());
            if (r->state != veo_state::running) {
                co_return *r;
            }
            if (running_polls) {
                ++*running_polls;
            }
            co_await engine::sleep(10ms);
        }
        BOOST_FAIL("operation never finished");
        co_return net::gemini::veo_operation{};
    }

    void check_mp4(const net::download_result& file, std::uint32_t w, std::uint32_t h, double seconds) {
        const auto bytes = test::read_file(file.path);
        BOOST_TEST(file.sha256_hex == test::sha256_hex(bytes));
        const auto info = sim::media::read_mp4_info(bytes);
        BOOST_REQUIRE(info.has_value());
        BOOST_TEST(info->width == w);
        BOOST_TEST(info->height == h);
        BOOST_TEST(info->duration.count() == seconds, boost::test_tools::tolerance(0.01));
    }
};

BOOST_AUTO_TEST_SUITE(gemini_video)

BOOST_FIXTURE_TEST_CASE(omni_completes_with_a_uri_downloaded_without_leaking_the_key, video_fixture) {
    run([this]() -> engine::awaitable<void> {
        auto created = co_await omni_create("omni-marker: <FIRST_FRAME> she waves");
        BOOST_REQUIRE(created.has_value());
        BOOST_TEST(created->state == omni_state::running);
        auto done = co_await omni_wait(created->id);
        BOOST_REQUIRE(done.state == omni_state::completed);
        BOOST_REQUIRE(done.video->uri.has_value());
        auto file = co_await omni->download(*done.video->uri, dir.path / "omni.mp4");
        BOOST_REQUIRE(file.has_value());
        BOOST_TEST(file->redirects == 1);
        BOOST_TEST(sim.storage_requests() == 1U);
        BOOST_TEST(sim.storage_requests_with_key() == 0U);
        check_mp4(*file, 720, 1280, 4.0);
        BOOST_TEST(sim.creates_with("omni-marker") == 1U);
        BOOST_TEST(sim.video_creates()[0].with_image);

        auto foreign =
            co_await omni->download("http://203.0.113.9/v1beta/files/x:download", dir.path / "x.mp4");
        BOOST_REQUIRE(foreign.has_error());
        BOOST_TEST(foreign.error().kind == error_kind::bad_request);
    });
}

BOOST_FIXTURE_TEST_CASE(omni_outcomes_inline_blocked_and_failed, video_fixture) {
    run([this]() -> engine::awaitable<void> {
        sim.faults.add(test::fault_of(sim::fault_kind::custom, "interactions.create", "inline"));
        auto in = co_await omni_create("inline", 3);
        auto inline_done = co_await omni_wait(in->id);
        BOOST_REQUIRE(inline_done.state == omni_state::completed);
        BOOST_REQUIRE(inline_done.video->bytes.has_value());
        const auto info = sim::media::read_mp4_info(*inline_done.video->bytes);
        BOOST_REQUIRE(info.has_value());
        BOOST_TEST(info->duration.count() == 3.0, boost::test_tools::tolerance(0.01));

        sim.faults.add(test::fault_of(sim::fault_kind::refusal, "interactions.create"));
        auto refused = co_await omni_create("flirty");
        auto blocked = co_await omni_wait(refused->id);
        BOOST_TEST(blocked.state == omni_state::blocked);
        BOOST_TEST(!blocked.text.empty());

        sim.faults.add(test::fault_of(sim::fault_kind::custom, "interactions.create", "failed"));
        auto f1 = co_await omni_create("fails");
        auto failed = co_await omni_wait(f1->id);
        BOOST_TEST(failed.state == omni_state::failed);
        BOOST_TEST(failed.error->code.find("video_generation_failed") != std::string::npos);

        sim.faults.add(test::fault_of(sim::fault_kind::custom, "interactions.create", "model_output_error"));
        auto f2 = co_await omni_create("fails in the step");
        auto step_failed = co_await omni_wait(f2->id);
        BOOST_TEST(step_failed.state == omni_state::failed);
        BOOST_TEST(step_failed.error->code == "13");
    });
}

BOOST_FIXTURE_TEST_CASE(omni_errors_are_typed, video_fixture) {
    run([this]() -> engine::awaitable<void> {
        auto unknown = co_await omni->poll("v1_nope");
        BOOST_REQUIRE(unknown.has_error());
        BOOST_TEST(unknown.error().kind == error_kind::not_found);
        BOOST_TEST(unknown.error().status == 400U);

        sim.faults.add(test::fault_of(sim::fault_kind::custom, "interactions.create", "safety_400"));
        auto safety = co_await omni_create("x");
        BOOST_TEST(safety.error().kind == error_kind::bad_request);
        BOOST_TEST(safety.error().code == "invalid_request");
        BOOST_TEST(safety.error().detail.find("safety") != std::string::npos);

        sim.faults.add(test::fault_of(sim::fault_kind::rate_limited, "interactions.create", "", 20s));
        auto limited = co_await omni_create("x");
        BOOST_TEST(limited.error().kind == error_kind::rate_limited);
        BOOST_TEST(limited.error().retry_after->count() == 20000);
        sim.faults.add(test::fault_of(sim::fault_kind::custom, "interactions.create", "model_gone"));
        auto gone = co_await omni_create("x");
        BOOST_TEST(gone.error().kind == error_kind::model_gone);
        sim.faults.add(test::fault_of(sim::fault_kind::server_error, "interactions.get", "", 0ms, 503, 2));
        auto busy = co_await omni->poll("v1_nope");
        BOOST_TEST(busy.error().kind == error_kind::server);
        sim.faults.add(test::fault_of(sim::fault_kind::reset, "interactions.create"));
        auto reset = co_await omni_create("x");
        BOOST_TEST(reset.error().kind == error_kind::transport);
        BOOST_TEST(sim.video_creates().empty());
    });
}

BOOST_FIXTURE_TEST_CASE(veo_polls_without_done_then_downloads_through_a_redirect, video_fixture) {
    run([this]() -> engine::awaitable<void> {
        auto name = co_await veo_create(*veo, "veo-marker: she smiles", 6);
        BOOST_REQUIRE(name.has_value());
        BOOST_TEST(name->starts_with("models/veo-3.1-fast-generate-preview/operations/"));
        int running = 0;
        auto op = co_await veo_wait(*veo, *name, &running);
        BOOST_TEST(running >= 2);
        BOOST_REQUIRE(op.state == veo_state::video);
        BOOST_REQUIRE(op.samples.front().uri.has_value());
        auto file = co_await veo->download(*op.samples.front().uri, dir.path / "veo.mp4");
        BOOST_REQUIRE(file.has_value());
        BOOST_TEST(file->redirects == 1);
        BOOST_TEST(sim.storage_requests_with_key() == 0U);
        check_mp4(*file, 720, 1280, 6.0);
        BOOST_TEST(sim.creates_with("veo-marker") == 1U);
    });
}

BOOST_FIXTURE_TEST_CASE(veo_outcomes_filtered_failed_and_gone, video_fixture) {
    run([this]() -> engine::awaitable<void> {
        sim.faults.add(test::fault_of(sim::fault_kind::refusal, "predictLongRunning"));
        auto n1 = co_await veo_create(*veo, "flirty");
        auto filtered = co_await veo_wait(*veo, *n1);
        BOOST_TEST(filtered.state == veo_state::filtered);
        BOOST_TEST(filtered.rai_filtered_count == 1);
        BOOST_TEST(filtered.rai_filtered_reasons.size() == 1U);

        sim.faults.add(test::fault_of(sim::fault_kind::custom, "predictLongRunning", "operation_error"));
        auto n2 = co_await veo_create(*veo, "breaks");
        auto failed = co_await veo_wait(*veo, *n2);
        BOOST_TEST(failed.state == veo_state::failed);
        BOOST_TEST(failed.error_code.value_or(0) == 13);

        net::gemini::veo_client retired(http, veo_config("veo-3.0-generate-001"));
        auto gone = co_await veo_create(retired, "x");
        BOOST_REQUIRE(gone.has_error());
        BOOST_TEST(gone.error().kind == error_kind::model_gone);

        auto five = co_await veo_create(*veo, "x", 5);
        BOOST_TEST(five.error().kind == error_kind::bad_request);
        auto unknown = co_await veo->poll("models/veo-3.1-fast-generate-preview/operations/nope");
        BOOST_TEST(unknown.error().kind == error_kind::not_found);

        sim.faults.add(test::fault_of(sim::fault_kind::rate_limited, "predictLongRunning", "", 12s));
        auto limited = co_await veo_create(*veo, "x");
        BOOST_TEST(limited.error().retry_after->count() == 12000);
        sim.faults.add(test::fault_of(sim::fault_kind::malformed_json, "operations.get"));
        auto garbled = co_await veo->poll(*n1);
        BOOST_TEST(garbled.error().kind == error_kind::malformed_response);
    });
}

BOOST_FIXTURE_TEST_CASE(vertex_flavour_polls_with_fetch_predict_operation_and_gets_bytes, video_fixture) {
    run([this]() -> engine::awaitable<void> {
        auto cfg = veo_config("veo-3.1-fast-generate-001");
        cfg.flavour = net::gemini::veo_flavour::vertex;
        cfg.api_version = "v1";
        cfg.vertex_model_path = "projects/p1/locations/us-central1/publishers/google/models/";
        cfg.authorization = "Bearer ya29.sim-vertex-token";
        net::gemini::veo_client vertex(http, cfg);
        auto name = co_await veo_create(vertex, "vertex", 4);
        BOOST_REQUIRE(name.has_value());
        BOOST_TEST(name->starts_with("projects/p1/locations/us-central1/publishers/google/models/"));
        auto op = co_await veo_wait(vertex, *name);
        BOOST_REQUIRE(op.state == veo_state::video);
        BOOST_REQUIRE(op.samples.front().bytes.has_value());
        const auto info = sim::media::read_mp4_info(*op.samples.front().bytes);
        BOOST_REQUIRE(info.has_value());
        BOOST_TEST(info->height == 1280U);

        cfg.authorization = "Bearer ya29.wrong";
        net::gemini::veo_client wrong(http, cfg);
        auto denied = co_await veo_create(wrong, "x");
        BOOST_REQUIRE(denied.has_error());
        BOOST_TEST(denied.error().kind == error_kind::unauthorized);
        BOOST_TEST(denied.error().status == 401U);
    });
}

// Sans-I/O: the contracts' samples.

BOOST_AUTO_TEST_CASE(parses_the_veo_contract_operations) {
    auto running = net::gemini::parse_operation(
        200,
        R"({"name": "models/veo-3.1-fast-generate-preview/operations/8x1k2m3n4p5q"})");
    BOOST_TEST(running->state == veo_state::running);
    auto video = net::gemini::parse_operation(200, R"({
  "name": "models/veo-3.1-fast-generate-preview/operations/8x1k2m3n4p5q", "done": true,
  "response": {"@type": "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse",
    "generateVideoResponse": {"generatedSamples": [
        {"video": {"uri": "https://generativelanguage.googleapis.com/v1beta/files/3k9f2a7b1c:download?alt=media"}}]}}})");
    BOOST_TEST(video->state == veo_state::video);
    BOOST_TEST(*video->samples[0].uri ==
               "https://generativelanguage.googleapis.com/v1beta/files/3k9f2a7b1c:download?alt=media");
    auto filtered = net::gemini::parse_operation(200, R"({
  "name": "models/x/operations/y", "done": true,
  "response": {"@type": "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse",
    "generateVideoResponse": {"raiMediaFilteredCount": 1, "raiMediaFilteredReasons": ["<human-readable reason>"]}}})");
    BOOST_TEST(filtered->state == veo_state::filtered);
    BOOST_TEST(filtered->rai_filtered_reasons[0] == "<human-readable reason>");
    auto failed = net::gemini::parse_operation(
        200,
        R"({"name": "models/x/operations/y", "done": true, "error": {"code": 3, "message": "<reason>"}})");
    BOOST_TEST(failed->state == veo_state::failed);
    BOOST_TEST(*failed->error_code == 3);
    auto vertex = net::gemini::parse_operation(200, R"({"name":"projects/P/operations/a1","done":true,
      "response":{"@type":"type.googleapis.com/cloud.ai.large_models.vision.GenerateVideoResponse",
      "raiMediaFilteredCount":0,"videos":[{"bytesBase64Encoded":"AAAAIGZ0eXA=","mimeType":"video/mp4"}]}})");
    BOOST_TEST(vertex->state == veo_state::video);
    BOOST_TEST(vertex->samples[0].bytes->size() == 8U);
    auto nameless = net::gemini::parse_operation(200, "{}");
    BOOST_TEST(nameless.error().kind == error_kind::malformed_response);
}

BOOST_AUTO_TEST_CASE(parses_the_omni_contract_interactions) {
    auto created = net::gemini::parse_interaction(
        200,
        R"({"id":"v1_ChdXa2","status":"in_progress","object":"interaction","model":"gemini-omni-1.1-flash"})");
    BOOST_TEST(created->state == omni_state::running);
    auto done =
        net::gemini::parse_interaction(200, R"({"id":"v1_ChdXa2","status":"completed","object":"interaction",
 "usage":{"output_tokens_by_modality":[{"modality":"video","tokens":46336}]},
 "steps":[{"type":"user_input","content":[]},{"type":"thought","signature":"s"},
  {"type":"model_output","content":[{"type":"video","mime_type":"video/mp4",
    "uri":"https://generativelanguage.googleapis.com/v1beta/files/abc123:download?alt=media"}]}]})");
    BOOST_TEST(done->state == omni_state::completed);
    BOOST_TEST(done->video->uri->ends_with("abc123:download?alt=media"));
    auto blocked = net::gemini::parse_interaction(
        200,
        R"({"id":"v1_x","status":"completed","steps":[{"type":"model_output","content":[{"type":"text","text":"I can't"}]}]})");
    BOOST_TEST(blocked->state == omni_state::blocked);
    BOOST_TEST(blocked->text == "I can't");
    auto failed = net::gemini::parse_interaction(
        200,
        R"({"id":"v1_x","status":"failed","errors":[{"code":"some/uri-like","message":"m"}]})");
    BOOST_TEST(failed->state == omni_state::failed);
    BOOST_TEST(failed->error->code == "some/uri-like");
    auto cancelled = net::gemini::parse_interaction(200, R"({"id":"v1_x","status":"budget_exceeded"})");
    BOOST_TEST(cancelled->state == omni_state::failed);
    auto odd = net::gemini::parse_interaction(200, R"({"id":"v1_x","status":"warming_up"})");
    BOOST_TEST(odd->state == omni_state::running);
    const auto body = net::gemini::build_omni_body({}, {.prompt = "p", .duration = 8s});
    BOOST_TEST(body.find(R"("duration":"8s")") != std::string::npos);
    BOOST_TEST(body.find(R"("background":true)") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(veo_body_sends_an_integer_duration_and_allow_adult) {
    net::gemini::veo_config cfg;
    net::gemini::veo_create_request req;
    req.prompt = "p";
    req.first_frame = net::gemini::inline_image{"image/jpeg", "abc"};
    const auto body = net::gemini::build_veo_body(cfg, req);
    BOOST_TEST(body.find(R"("durationSeconds":8)") != std::string::npos);
    BOOST_TEST(body.find(R"("personGeneration":"allow_adult")") != std::string::npos);
    BOOST_TEST(body.find(R"("bytesBase64Encoded":"YWJj","mimeType":"image/jpeg")") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace
} // namespace companion
