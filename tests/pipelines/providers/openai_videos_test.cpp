// The OpenAI videos backend against the OpenAI simulator: the whole job, refusals, a retired
// model, rate limits, a lost create answer, expired content, and one create per submit.
#include "pipelines/providers/openai_videos.hpp"
#include "tests/pipelines/providers/support.hpp"

#include <boost/test/unit_test.hpp>

namespace companion {
namespace {

using namespace std::chrono_literals;
using pipelines::video_error_kind;
using pipelines::video_poll;

struct openai_fixture : test::suite_fixture {
    std::unique_ptr<pipelines::video_provider> provider;

    explicit openai_fixture(sim::suite_config cfg = test::fast_suite()) : suite_fixture(std::move(cfg)) {
        provider = make("sora-2");
    }

    std::unique_ptr<pipelines::video_provider> make(std::string model) {
        pipelines::openai_videos_settings s;
        s.base_url = sims.openai().base_url();
        s.api_key = "sk-video-provider-test-key";
        s.model = std::move(model);
        return pipelines::make_openai_videos_provider(http, std::move(s));
    }

    static pipelines::video_submit request(std::string prompt, int seconds = 5) {
        pipelines::video_submit r;
        r.prompt = std::move(prompt);
        r.image = sim::media::make_png(720, 1280, {.seed = 11});
        r.image_mime = "image/png";
        r.seconds = seconds;
        return r;
    }

    engine::awaitable<pipelines::video_result<std::string>> submit(std::string prompt) {
        auto req = request(std::move(prompt));
        auto id = co_await provider->submit(std::move(req));
        co_return id;
    }
};

struct expiring_fixture : openai_fixture {
    static sim::suite_config config() {
        auto c = test::fast_suite();
        c.openai.expiry = 100ms; // the simulator compares real time since completion
        return c;
    }
    expiring_fixture() : openai_fixture(config()) {}
};

BOOST_AUTO_TEST_SUITE(openai_videos_provider)

BOOST_FIXTURE_TEST_CASE(a_job_is_submitted_polled_and_downloaded_as_a_real_mp4, openai_fixture) {
    run([this]() -> engine::awaitable<void> {
        BOOST_TEST(provider->info().name == "openai");
        BOOST_TEST(provider->info().reports_progress);
        BOOST_TEST(provider->info().exact_size_frame);
        auto id = co_await submit("openai-full: she smiles");
        BOOST_REQUIRE(id.has_value());
        BOOST_TEST(sims.openai().video_creates().size() == 1U);
        const auto& created = sims.openai().video_creates().front();
        BOOST_TEST(created.seconds == "4"); // 5 requested: nearest allowed, ties to the shorter
        BOOST_TEST(created.size == "720x1280");
        BOOST_TEST(created.reference_mime == "image/png");

        bool saw_progress = false;
        std::optional<video_poll> last;
        for (int i = 0; i < 200; ++i) {
            auto p = co_await provider->poll(*id);
            BOOST_REQUIRE(p.has_value());
            if (p->status == video_poll::state::running && p->progress && *p->progress > 0) {
                saw_progress = true;
            }
            if (p->status == video_poll::state::completed) {
                last = *p;
                break;
            }
            co_await engine::sleep(5ms);
        }
        BOOST_REQUIRE(last.has_value());
        BOOST_TEST(last->progress.value_or(-1) == 100);
        BOOST_TEST(saw_progress);

        auto file = co_await provider->download(*id, dir.path / "videos" / "job-1.mp4");
        BOOST_REQUIRE(file.has_value());
        BOOST_TEST(file->path == dir.path / "videos" / "job-1.mp4");
        test::check_mp4(*file, 720, 1280, 4.0);
        BOOST_TEST(sims.openai().video_creates().size() == 1U);
    });
}

BOOST_FIXTURE_TEST_CASE(a_moderated_job_ends_refused, openai_fixture) {
    run([this]() -> engine::awaitable<void> {
        auto id = co_await submit("flirty [[refuse]]");
        BOOST_REQUIRE(id.has_value());
        auto done = co_await test::wait_for(*provider, *id);
        BOOST_REQUIRE(done.has_value());
        BOOST_TEST(done->status == video_poll::state::refused);
        BOOST_TEST(done->error.find("moderation_blocked") != std::string::npos);
        BOOST_TEST(sims.openai().creates_with("[[refuse]]") == 1U);
    });
}

BOOST_FIXTURE_TEST_CASE(a_retired_model_is_model_gone, openai_fixture) {
    run([this]() -> engine::awaitable<void> {
        auto gone = make("sora-1-retired");
        auto req = request("x");
        auto id = co_await gone->submit(std::move(req));
        BOOST_REQUIRE(id.has_error());
        BOOST_TEST(id.error().kind == video_error_kind::model_gone);
        BOOST_TEST(id.error().message.find("sora-1-retired") != std::string::npos);
        BOOST_TEST(sims.openai().video_creates().empty());
    });
}

BOOST_FIXTURE_TEST_CASE(rate_limits_quota_and_server_errors_are_typed, openai_fixture) {
    run([this]() -> engine::awaitable<void> {
        sims.openai().faults.add(test::fault_of(sim::fault_kind::rate_limited, "videos.create", "", 3s));
        auto limited = co_await submit("x");
        BOOST_REQUIRE(limited.has_error());
        BOOST_TEST(limited.error().kind == video_error_kind::rate_limited);
        BOOST_REQUIRE(limited.error().retry_after.has_value());
        BOOST_TEST(limited.error().retry_after->count() == 3000);

        sims.openai().faults.add(test::fault_of(sim::fault_kind::custom, "videos.create", "quota"));
        auto quota = co_await submit("x");
        BOOST_TEST(quota.error().kind == video_error_kind::quota);

        sims.openai().faults.add(
            test::fault_of(sim::fault_kind::server_error, "videos.create", "", 0ms, 500));
        auto server = co_await submit("x");
        BOOST_TEST(server.error().kind == video_error_kind::transient);
        BOOST_TEST(sims.openai().video_creates().empty());

        sims.openai().faults.add(
            test::fault_of(sim::fault_kind::server_error, "videos.retrieve", "", 0ms, 503));
        auto poll = co_await provider->poll("video_whatever");
        BOOST_TEST(poll.error().kind == video_error_kind::transient);

        auto unknown = co_await provider->poll("video_unknown");
        BOOST_TEST(unknown.error().kind == video_error_kind::failed);
    });
}

BOOST_FIXTURE_TEST_CASE(a_create_reset_after_the_write_is_an_unknown_outcome, openai_fixture) {
    run([this]() -> engine::awaitable<void> {
        sims.openai().faults.add(test::fault_of(sim::fault_kind::reset, "videos.create"));
        auto lost = co_await submit("lost answer");
        BOOST_REQUIRE(lost.has_error());
        BOOST_TEST(lost.error().kind == video_error_kind::unknown_outcome);

        auto ok = co_await submit("second");
        BOOST_REQUIRE(ok.has_value());
        BOOST_TEST(sims.openai().creates_with("second") == 1U);
    });
}

BOOST_FIXTURE_TEST_CASE(content_downloaded_after_expiry_is_expired, expiring_fixture) {
    run([this]() -> engine::awaitable<void> {
        auto id = co_await submit("late download");
        BOOST_REQUIRE(id.has_value());
        auto done = co_await test::wait_for(*provider, *id);
        BOOST_REQUIRE(done.has_value());
        BOOST_TEST(done->status == video_poll::state::completed);
        co_await engine::sleep(150ms);
        auto file = co_await provider->download(*id, dir.path / "late.mp4");
        BOOST_REQUIRE(file.has_error());
        BOOST_TEST(file.error().kind == video_error_kind::expired);
        BOOST_TEST(!std::filesystem::exists(dir.path / "late.mp4"));
    });
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace
} // namespace companion
