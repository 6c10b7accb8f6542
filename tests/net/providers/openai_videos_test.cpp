// The OpenAI videos client against the simulator over loopback: the job life cycle, the
// exact-size reference check, failed jobs, downloads (direct and redirected, SHA-256, a real MP4,
// no key at the CDN), expiry, every fault kind; and the parsers on the contract's samples.
#include "net/http_client.hpp"
#include "net/openai/videos.hpp"
#include "sim/media/mp4.hpp"
#include "sim/media/png.hpp"
#include "sim/openai/simulator.hpp"
#include "tests/net/providers/support.hpp"

#include <boost/test/unit_test.hpp>

namespace companion {
namespace {

using namespace std::chrono_literals;
using error_kind = net::api_error_kind;
using net::openai::video_status;

sim::openai_sim_config fast_sim(bool redirect = false) {
    sim::openai_sim_config c;
    c.queue_time = 20ms;
    c.render_time = 80ms;
    c.video_fps = 4;
    c.content_redirect = redirect;
    return c;
}

struct videos_fixture : test::sim_fixture<sim::openai_simulator> {
    std::optional<net::openai::videos_client> client;
    test::temp_dir dir;

    explicit videos_fixture(sim::openai_sim_config sc = fast_sim()) : sim_fixture(std::move(sc)) {
        net::openai::videos_config vc;
        vc.base_url = sim.base_url();
        vc.api_key = "sk-test-video-key-424242";
        vc.allowed_sizes.push_back("1024x1792"); // the client allows it; this gateway does not
        vc.response_timeout = 5s;
        client.emplace(http, std::move(vc));
    }

    engine::awaitable<net::openai::result<net::openai::video_job>>
    create(std::string prompt, std::optional<net::openai::reference_image> ref = {}, int seconds = 4) {
        net::openai::create_video_request req;
        req.prompt = std::move(prompt);
        req.seconds = std::chrono::seconds(seconds);
        req.reference = std::move(ref);
        auto r = co_await client->create(std::move(req));
        co_return r;
    }

    /// Polls until the job ends; records whether it was seen in progress with a percentage.
    engine::awaitable<net::openai::video_job> wait_done(std::string id, bool* saw_progress = nullptr) {
        for (int i = 0; i < 200; ++i) {
            auto r = co_await client->retrieve(id);
            BOOST_REQUIRE(r.has_value());
            if (r->status == video_status::in_progress && r->progress && *r->progress > 0 && saw_progress) {
                *saw_progress = true;
            }
            if (r->status == video_status::completed || r->status == video_status::failed) {
                co_return *r;
            }
            co_await engine::sleep(10ms);
        }
        BOOST_FAIL("job never finished");
        co_return net::openai::video_job{};
    }
};

net::openai::reference_image png_reference(std::uint32_t w, std::uint32_t h) {
    return {.mime_type = "image/png",
            .bytes = sim::media::make_png(w, h, {.seed = 7}),
            .filename = "selfie.png"};
}

BOOST_AUTO_TEST_SUITE(openai_videos)

BOOST_FIXTURE_TEST_CASE(a_job_runs_to_completion_and_downloads_a_real_mp4, videos_fixture) {
    run([this]() -> engine::awaitable<void> {
        auto job = co_await create("marker-A: she waves", png_reference(720, 1280));
        BOOST_REQUIRE(job.has_value());
        BOOST_TEST(job->status == video_status::queued);
        BOOST_TEST(job->seconds == "4");
        BOOST_TEST(job->size == "720x1280");
        bool saw_progress = false;
        auto done = co_await wait_done(job->id, &saw_progress);
        BOOST_TEST(done.status == video_status::completed);
        BOOST_TEST(saw_progress);
        BOOST_TEST(done.progress.value_or(0) == 100);
        BOOST_REQUIRE(done.expires_at.has_value());

        auto file = co_await client->download(job->id, dir.path / "a.mp4");
        BOOST_REQUIRE(file.has_value());
        const auto bytes = test::read_file(file->path);
        BOOST_TEST(file->sha256_hex == test::sha256_hex(bytes));
        BOOST_TEST(file->redirects == 0);
        const auto info = sim::media::read_mp4_info(bytes);
        BOOST_REQUIRE(info.has_value());
        BOOST_TEST(info->width == 720U);
        BOOST_TEST(info->height == 1280U);
        BOOST_TEST(info->duration.count() == 4.0, boost::test_tools::tolerance(0.01));

        BOOST_TEST(sim.creates_with("marker-A") == 1U);
        BOOST_REQUIRE(sim.video_creates().size() == 1U);
        BOOST_TEST(sim.video_creates()[0].reference_mime == "image/png");
        BOOST_TEST(sim.video_creates()[0].seconds == "4");
    });
}

struct redirect_fixture : videos_fixture {
    redirect_fixture() : videos_fixture(fast_sim(true)) {}
};

BOOST_FIXTURE_TEST_CASE(a_redirected_download_does_not_carry_the_key_to_the_cdn, redirect_fixture) {
    run([this]() -> engine::awaitable<void> {
        auto job = co_await create("cdn", std::nullopt, 8);
        BOOST_REQUIRE(job.has_value());
        co_await wait_done(job->id);
        auto file = co_await client->download(job->id, dir.path / "b.mp4");
        BOOST_REQUIRE(file.has_value());
        BOOST_TEST(file->redirects == 1);
        BOOST_TEST(sim.cdn_requests() == 1U);
        BOOST_TEST(sim.cdn_requests_with_authorization() == 0U);
        const auto info = sim::media::read_mp4_info(test::read_file(file->path));
        BOOST_REQUIRE(info.has_value());
        BOOST_TEST(info->duration.count() == 8.0, boost::test_tools::tolerance(0.01));
    });
}

BOOST_FIXTURE_TEST_CASE(invalid_creates_are_bad_requests, videos_fixture) {
    run([this]() -> engine::awaitable<void> {
        auto mismatch = co_await create("m", png_reference(768, 1376));
        BOOST_REQUIRE(mismatch.has_error());
        BOOST_TEST(mismatch.error().kind == error_kind::bad_request);
        BOOST_TEST(mismatch.error().detail == "Inpaint image must match the requested width and height");

        auto five = co_await create("five seconds", std::nullopt, 5);
        BOOST_REQUIRE(five.has_error());
        BOOST_TEST(five.error().kind == error_kind::bad_request);
        BOOST_TEST(five.error().status == 0U); // refused locally, nothing sent

        net::openai::create_video_request big;
        big.prompt = "big";
        big.size = "1024x1792";
        auto size = co_await client->create(std::move(big));
        BOOST_REQUIRE(size.has_error());
        BOOST_TEST(size.error().status == 400U);
        BOOST_TEST(sim.video_creates().empty());
    });
}

BOOST_FIXTURE_TEST_CASE(refused_jobs_fail_with_a_code_and_have_no_content, videos_fixture) {
    run([this]() -> engine::awaitable<void> {
        sim.faults.add(test::fault_of(sim::fault_kind::refusal, "videos.create"));
        auto job = co_await create("flirty");
        BOOST_REQUIRE(job.has_value());
        auto done = co_await wait_done(job->id);
        BOOST_TEST(done.status == video_status::failed);
        BOOST_REQUIRE(done.error.has_value());
        BOOST_TEST(done.error->code == "moderation_blocked");
        auto content = co_await client->download(job->id, dir.path / "c.mp4");
        BOOST_REQUIRE(content.has_error());
        BOOST_TEST(content.error().kind == error_kind::bad_request);

        auto marked = co_await create("please [[refuse]]");
        auto marked_done = co_await wait_done(marked->id);
        BOOST_TEST(marked_done.status == video_status::failed);
    });
}

BOOST_FIXTURE_TEST_CASE(content_before_completion_and_unknown_ids_are_errors, videos_fixture) {
    run([this]() -> engine::awaitable<void> {
        auto job = co_await create("early");
        auto early = co_await client->download(job->id, dir.path / "d.mp4");
        BOOST_REQUIRE(early.has_error());
        BOOST_TEST(early.error().kind == error_kind::bad_request);
        BOOST_TEST(early.error().code == "video_not_ready");
        BOOST_TEST(!std::filesystem::exists(dir.path / "d.mp4"));

        auto unknown = co_await client->retrieve("video_nope");
        BOOST_REQUIRE(unknown.has_error());
        BOOST_TEST(unknown.error().kind == error_kind::not_found);
        auto unknown_content = co_await client->download("video_nope", dir.path / "e.mp4");
        BOOST_TEST(unknown_content.error().kind == error_kind::not_found);
    });
}

struct expiring_fixture : videos_fixture {
    static sim::openai_sim_config config() {
        auto c = fast_sim();
        c.expiry = 30ms;
        return c;
    }
    expiring_fixture() : videos_fixture(config()) {}
};

BOOST_FIXTURE_TEST_CASE(content_expires, expiring_fixture) {
    run([this]() -> engine::awaitable<void> {
        auto job = co_await create("late");
        co_await wait_done(job->id);
        co_await engine::sleep(60ms);
        auto gone = co_await client->download(job->id, dir.path / "f.mp4");
        BOOST_REQUIRE(gone.has_error());
        BOOST_TEST(gone.error().kind == error_kind::not_found);
        BOOST_TEST(gone.error().code == "expired");
    });
}

BOOST_FIXTURE_TEST_CASE(faults_map_to_kinds, videos_fixture) {
    run([this]() -> engine::awaitable<void> {
        sim.faults.add(test::fault_of(sim::fault_kind::rate_limited, "videos.create", "", 3s));
        auto limited = co_await create("x");
        BOOST_TEST(limited.error().kind == error_kind::rate_limited);
        BOOST_TEST(limited.error().retry_after->count() == 3000);
        sim.faults.add(test::fault_of(sim::fault_kind::custom, "videos.create", "quota"));
        auto quota = co_await create("x");
        BOOST_TEST(quota.error().kind == error_kind::quota_exhausted);
        BOOST_TEST(sim.video_creates().empty());

        auto job = co_await create("ok");
        BOOST_REQUIRE(job.has_value());
        sim.faults.add(test::fault_of(sim::fault_kind::server_error, "videos.retrieve", "", 0ms, 502));
        auto server = co_await client->retrieve(job->id);
        BOOST_TEST(server.error().kind == error_kind::server);
        // The HTTP client replays a GET once when a pooled connection dies: reset both attempts.
        sim.faults.add(test::fault_of(sim::fault_kind::reset, "videos.retrieve", "", 0ms, 0, 2));
        auto reset = co_await client->retrieve(job->id);
        BOOST_REQUIRE(reset.has_error());
        BOOST_TEST(reset.error().kind == error_kind::transport);
        sim.faults.add(test::fault_of(sim::fault_kind::malformed_json, "videos.retrieve"));
        auto garbled = co_await client->retrieve(job->id);
        BOOST_TEST(garbled.error().kind == error_kind::malformed_response);
        sim.faults.add(test::fault_of(sim::fault_kind::latency, "videos.retrieve", "", 10ms));
        sim.faults.add(test::fault_of(sim::fault_kind::slow_body, "videos.retrieve", "", 1ms));
        BOOST_TEST((co_await client->retrieve(job->id)).has_value());
        BOOST_TEST((co_await client->retrieve(job->id)).has_value());

        co_await wait_done(job->id);
        sim.faults.add(test::fault_of(sim::fault_kind::reset_mid_body, "videos.content"));
        auto cut = co_await client->download(job->id, dir.path / "g.mp4");
        BOOST_REQUIRE(cut.has_error());
        BOOST_TEST(cut.error().kind == error_kind::transport);
        BOOST_TEST(!std::filesystem::exists(dir.path / "g.mp4"));
        auto whole = co_await client->download(job->id, dir.path / "g.mp4");
        BOOST_TEST(whole.has_value());
    });
}

// Sans-I/O: the contract's samples and the gateway deviations.

BOOST_AUTO_TEST_CASE(parses_the_contract_video_objects) {
    auto queued = net::openai::parse_video_job(
        200,
        R"({"id":"video_123","object":"video","model":"sora-2","status":"queued","progress":0,
 "created_at":1758941485,"completed_at":null,"expires_at":null,"prompt":"x",
 "seconds":"8","size":"720x1280","remixed_from_video_id":null,"error":null})",
        {});
    BOOST_REQUIRE(queued.has_value());
    BOOST_TEST(queued->status == video_status::queued);
    BOOST_TEST(!queued->completed_at.has_value());
    BOOST_TEST(!queued->error.has_value());
    auto running = net::openai::parse_video_job(
        200,
        R"({"id":"video_123","object":"video","model":"sora-2","status":"in_progress","progress":33,
 "created_at":1758941485,"seconds":"8","size":"720x1280"})",
        {});
    BOOST_TEST(running->progress.value() == 33);
    auto completed = net::openai::parse_video_job(
        200,
        R"({"id":"video_123","object":"video","model":"sora-2","status":"completed","progress":100,
 "created_at":1758941485,"completed_at":1758941601,"expires_at":1758945201,
 "seconds":"8","size":"720x1280","remixed_from_video_id":null,"error":null})",
        {});
    BOOST_TEST(completed->expires_at.value() == 1758945201);
    auto failed = net::openai::parse_video_job(
        200,
        R"({"id":"video_456","object":"video","model":"sora-2","status":"failed","progress":0,
 "created_at":1758941485,"completed_at":null,"expires_at":null,"seconds":"8","size":"720x1280",
 "error":{"code":"moderation_blocked","message":"blocked"}})",
        {});
    BOOST_TEST(failed->status == video_status::failed);
    BOOST_TEST(failed->error->code == "moderation_blocked");
}

BOOST_AUTO_TEST_CASE(gateway_deviations_are_normalized) {
    auto g = net::openai::parse_video_job(
        200,
        R"({"id":"task_9","task_id":"task_9","status":"succeeded","seconds":10,"progress":99.6,"cost":1.2})",
        {});
    BOOST_REQUIRE(g.has_value());
    BOOST_TEST(g->status == video_status::completed);
    BOOST_TEST(g->seconds == "10");
    BOOST_TEST(g->progress.value() == 100);
    auto no_progress = net::openai::parse_video_job(200, R"({"id":"x","status":"submitted"})", {});
    BOOST_TEST(no_progress->status == video_status::in_progress);
    BOOST_TEST(!no_progress->progress.has_value());
    auto no_id = net::openai::parse_video_job(200, R"({"status":"queued"})", {});
    BOOST_TEST(no_id.error().kind == error_kind::malformed_response);

    using net::openai::normalize_video_status;
    for (auto w : {"in_progress", "submitted", "processing", "pending", "rendering_now"}) {
        BOOST_TEST(normalize_video_status(w) == video_status::in_progress, w);
    }
    for (auto w : {"completed", "succeeded", "SUCCEEDED"}) {
        BOOST_TEST(normalize_video_status(w) == video_status::completed, w);
    }
    for (auto w : {"failed", "error", "cancelled", "expired", "user_cancelled", "ERRORED"}) {
        BOOST_TEST(normalize_video_status(w) == video_status::failed, w);
    }
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace
} // namespace companion
