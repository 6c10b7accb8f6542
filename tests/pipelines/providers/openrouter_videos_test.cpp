// OpenRouter's videos backend against the OpenRouter simulator: whole jobs on two models with the
// reported cost (the content through a redirect that drops the key), refusals at the job's end
// and at create, a retired model, an empty balance, rate limits, a lost create answer, failed,
// cancelled and expired jobs, and a job resumed from its stored id by a new provider (a restart).
#include "pipelines/providers/openrouter_videos.hpp"
#include "tests/pipelines/providers/support.hpp"

#include <boost/test/unit_test.hpp>

namespace companion {
namespace {

/// The first frame these tests submit (a named constant: GCC 12 mishandles a braced temporary in a
/// co_await expression).
constexpr test::test_frame openrouter_frame{.width = 720, .height = 1280, .seed = 27};

using namespace std::chrono_literals;
using pipelines::video_error_kind;
using pipelines::video_poll;

constexpr std::string_view openrouter_key = "sk-or-v1-provider-secret-27182818";

sim::suite_config with_key() {
    auto c = test::fast_suite();
    c.openrouter.api_key = std::string(openrouter_key);
    c.openrouter.content_redirect = true; // every download goes through the "CDN" on another host
    c.openrouter.cost_per_second_usd = 0.10;
    return c;
}

struct openrouter_fixture : test::suite_fixture {
    openrouter_fixture() : suite_fixture(with_key()) {}

    std::unique_ptr<pipelines::video_provider> make(std::string model = "google/veo-3.1",
                                                    std::vector<int> allowed = {4, 6, 8},
                                                    std::optional<bool> audio = std::nullopt) {
        pipelines::openrouter_videos_settings s;
        s.base_url = sims.openrouter().base_url();
        s.api_key = std::string(openrouter_key);
        s.model = std::move(model);
        s.allowed_seconds = std::move(allowed);
        s.generate_audio = audio;
        return pipelines::make_openrouter_videos_provider(http, std::move(s));
    }
};

BOOST_AUTO_TEST_SUITE(openrouter_videos_provider)

BOOST_FIXTURE_TEST_CASE(whole_jobs_report_their_cost_and_download_without_the_key, openrouter_fixture) {
    run([this]() -> engine::awaitable<void> {
        struct row {
            std::string model;
            std::vector<int> allowed;
            std::optional<bool> audio;
            std::string sent_duration;
            double seconds;
            double cost_usd;
        };
        const std::vector<row> rows{
            {"google/veo-3.1", {4, 6, 8}, std::nullopt, "4", 4.0, 0.4}, // 5 s: ties to the shorter
            {"alibaba/wan-2.6", {5, 10, 15}, true, "5", 5.0, 0.5},
        };
        for (const auto& r : rows) {
            auto provider = make(r.model, r.allowed, r.audio);
            BOOST_TEST(provider->info().name == "openrouter");
            BOOST_TEST(provider->info().model == r.model);
            BOOST_TEST(!provider->info().reports_progress);
            auto id =
                co_await test::submit_with_frame(*provider, "openrouter-each: " + r.model, openrouter_frame);
            BOOST_REQUIRE_MESSAGE(id.has_value(), r.model << ": " << (id ? "" : id.error().message));
            BOOST_TEST(id->starts_with("gen-vid-"));
            const auto& created = sims.openrouter().video_creates().back();
            BOOST_TEST(created.model == r.model);
            BOOST_TEST(created.duration == r.sent_duration, r.model);
            BOOST_TEST(created.resolution == "720p");
            BOOST_TEST(created.aspect_ratio == "9:16");
            BOOST_TEST(created.frame_mime == "image/png");
            BOOST_TEST(created.generate_audio.has_value() == r.audio.has_value());
            auto done = co_await test::wait_for(*provider, *id);
            BOOST_REQUIRE(done.has_value());
            BOOST_TEST(done->status == video_poll::state::completed, r.model);
            BOOST_TEST(done->progress.value_or(0) == 100);
            BOOST_REQUIRE(done->cost_usd.has_value());
            BOOST_TEST(*done->cost_usd == r.cost_usd, boost::test_tools::tolerance(1e-9));
            const auto path =
                dir.path / "videos" / (std::to_string(sims.openrouter().video_creates().size()) + ".mp4");
            auto file = co_await provider->download(*id, path);
            BOOST_REQUIRE_MESSAGE(file.has_value(), r.model << ": " << (file ? "" : file.error().message));
            test::check_mp4(*file, 720, 1280, r.seconds);
        }
        BOOST_TEST(sims.openrouter().video_creates().size() == rows.size()); // one create per job
        BOOST_TEST(sims.openrouter().cdn_requests() == rows.size());
        BOOST_TEST(sims.openrouter().cdn_requests_with_authorization() == 0U);
    });
}

BOOST_FIXTURE_TEST_CASE(a_restarted_provider_resumes_from_the_stored_id, openrouter_fixture) {
    run([this]() -> engine::awaitable<void> {
        std::string stored;
        {
            auto before = make();
            auto id = co_await test::submit_with_frame(*before, "openrouter-restart", openrouter_frame);
            BOOST_REQUIRE(id.has_value());
            stored = *id;
        }
        auto after = make();
        auto done = co_await test::wait_for(*after, stored);
        BOOST_REQUIRE(done.has_value());
        BOOST_TEST(done->status == video_poll::state::completed);
        BOOST_TEST(done->cost_usd.has_value());
        auto file = co_await after->download(stored, dir.path / "r.mp4");
        BOOST_REQUIRE(file.has_value());
        test::check_mp4(*file, 720, 1280, 4.0);
        BOOST_TEST(sims.openrouter().video_creates().size() == 1U);
    });
}

BOOST_FIXTURE_TEST_CASE(refusals_are_refused_at_the_end_and_at_create, openrouter_fixture) {
    run([this]() -> engine::awaitable<void> {
        auto p = make();
        // The provider's moderation fails the job after it was accepted.
        auto id = co_await test::submit_with_frame(*p, "flirty [[refuse]]", openrouter_frame);
        BOOST_REQUIRE(id.has_value());
        auto done = co_await test::wait_for(*p, *id);
        BOOST_REQUIRE(done.has_value());
        BOOST_TEST(done->status == video_poll::state::refused);
        BOOST_TEST(done->error.find("moderation") != std::string::npos, done->error);
        BOOST_TEST(!done->cost_usd.has_value());

        sims.openrouter().faults.add(test::fault_of(sim::fault_kind::refusal, "videos.create"));
        auto later = co_await test::submit_with_frame(*p, "openrouter-refused-later", openrouter_frame);
        BOOST_REQUIRE(later.has_value());
        auto later_done = co_await test::wait_for(*p, *later);
        BOOST_REQUIRE(later_done.has_value());
        BOOST_TEST(later_done->status == video_poll::state::refused);

        // OpenRouter's own moderation answers the create with a 403: a refusal, not a bad key.
        sims.openrouter().faults.add(test::fault_of(sim::fault_kind::refusal, "videos.create", "at_submit"));
        auto at_once = co_await test::submit_with_frame(*p, "openrouter-refused-at-create", openrouter_frame);
        BOOST_REQUIRE(at_once.has_error());
        BOOST_TEST(at_once.error().kind == video_error_kind::refused, at_once.error().message);
        BOOST_TEST(at_once.error().message.find("HTTP 403") != std::string::npos, at_once.error().message);
    });
}

BOOST_FIXTURE_TEST_CASE(submit_errors_are_typed_and_a_lost_answer_is_never_resubmitted, openrouter_fixture) {
    run([this]() -> engine::awaitable<void> {
        auto p = make();
        // A model OpenRouter does not serve (any more): the create's 404.
        auto gone = make("kwaivgi/kling-v3", {5, 10});
        auto missing = co_await test::submit_with_frame(*gone, "x", openrouter_frame);
        BOOST_REQUIRE(missing.has_error());
        BOOST_TEST(missing.error().kind == video_error_kind::model_gone);
        sims.openrouter().faults.add(test::fault_of(sim::fault_kind::custom, "videos.create", "model_gone"));
        auto retired = co_await test::submit_with_frame(*p, "x", openrouter_frame);
        BOOST_REQUIRE(retired.has_error());
        BOOST_TEST(retired.error().kind == video_error_kind::model_gone);

        sims.openrouter().faults.add(test::fault_of(sim::fault_kind::custom, "videos.create", "quota"));
        auto broke = co_await test::submit_with_frame(*p, "x", openrouter_frame);
        BOOST_REQUIRE(broke.has_error());
        BOOST_TEST(broke.error().kind == video_error_kind::quota);
        BOOST_TEST(broke.error().message.find("HTTP 402") != std::string::npos, broke.error().message);

        sims.openrouter().faults.add(test::fault_of(sim::fault_kind::rate_limited, "videos.create", "", 3s));
        auto limited = co_await test::submit_with_frame(*p, "x", openrouter_frame);
        BOOST_REQUIRE(limited.has_error());
        BOOST_TEST(limited.error().kind == video_error_kind::rate_limited);
        BOOST_TEST(limited.error().retry_after.value_or(0ms) == 3000ms);
        BOOST_TEST(sims.openrouter().video_creates().empty());

        sims.openrouter().faults.add(test::fault_of(sim::fault_kind::reset, "videos.create"));
        auto lost = co_await test::submit_with_frame(*p, "openrouter-lost-answer", openrouter_frame);
        BOOST_REQUIRE(lost.has_error());
        BOOST_TEST(lost.error().kind == video_error_kind::unknown_outcome);
        // The simulator dropped the request it read; a retry would have been accepted and shown here.
        BOOST_TEST(sims.openrouter().video_creates().empty());
        BOOST_TEST(sims.openrouter().creates_with("openrouter-lost-answer") == 0U);

        // The answer cut after the job was made: the job exists, the provider says it may.
        sims.openrouter().faults.add(test::fault_of(sim::fault_kind::reset_mid_body, "videos.create"));
        auto cut = co_await test::submit_with_frame(*p, "openrouter-cut-answer", openrouter_frame);
        BOOST_REQUIRE(cut.has_error());
        BOOST_TEST(cut.error().kind == video_error_kind::unknown_outcome);
        BOOST_TEST(sims.openrouter().creates_with("openrouter-cut-answer") == 1U);

        sims.openrouter().faults.add(
            test::fault_of(sim::fault_kind::server_error, "videos.retrieve", "", 0ms, 503));
        auto id = co_await test::submit_with_frame(*p, "openrouter-poll-503", openrouter_frame);
        BOOST_REQUIRE(id.has_value());
        auto polled = co_await p->poll(*id);
        BOOST_REQUIRE(polled.has_error());
        BOOST_TEST(polled.error().kind == video_error_kind::transient);
        sims.openrouter().faults.add(
            test::fault_of(sim::fault_kind::rate_limited, "videos.retrieve", "", 2s));
        auto slowed = co_await p->poll(*id);
        BOOST_REQUIRE(slowed.has_error());
        BOOST_TEST(slowed.error().kind == video_error_kind::rate_limited);
        BOOST_TEST(slowed.error().retry_after.value_or(0ms) == 2000ms);
    });
}

BOOST_FIXTURE_TEST_CASE(failed_cancelled_and_expired_jobs_end_failed_saying_which, openrouter_fixture) {
    run([this]() -> engine::awaitable<void> {
        auto p = make();
        struct row {
            std::string detail;
            std::string error_has;
            video_error_kind download_kind;
        };
        const std::vector<row> rows{
            {"failed", "Provider returned error", video_error_kind::bad_request},
            {"cancelled", "cancelled", video_error_kind::bad_request},
            {"expired", "expired", video_error_kind::expired},
        };
        for (const auto& r : rows) {
            sims.openrouter().faults.add(test::fault_of(sim::fault_kind::custom, "videos.create", r.detail));
            auto id = co_await test::submit_with_frame(*p, "openrouter-ends-" + r.detail, openrouter_frame);
            BOOST_REQUIRE(id.has_value());
            auto done = co_await test::wait_for(*p, *id);
            BOOST_REQUIRE(done.has_value());
            BOOST_TEST(done->status == video_poll::state::failed, r.detail);
            BOOST_TEST(done->error.find(r.error_has) != std::string::npos, done->error);
            BOOST_TEST(!done->cost_usd.has_value());
            const auto path = dir.path / (r.detail + ".mp4");
            auto file = co_await p->download(*id, path);
            BOOST_REQUIRE(file.has_error());
            BOOST_TEST(file.error().kind == r.download_kind, r.detail << ": " << file.error().message);
            BOOST_TEST(!std::filesystem::exists(path));
        }
    });
}

BOOST_FIXTURE_TEST_CASE(a_stored_id_that_is_no_openrouter_id_fails_the_job, openrouter_fixture) {
    run([this]() -> engine::awaitable<void> {
        auto p = make();
        for (const std::string id : {R"({"request_id":"r","status_url":"x"})", "../models", ""}) {
            auto polled = co_await p->poll(id);
            BOOST_REQUIRE(polled.has_error());
            BOOST_TEST(polled.error().kind == video_error_kind::failed, id);
            auto file = co_await p->download(id, dir.path / "x.mp4");
            BOOST_REQUIRE(file.has_error());
            BOOST_TEST(file.error().kind == video_error_kind::failed, id);
        }
        BOOST_TEST(sims.openrouter().retrieve_requests() == 0U);
    });
}

BOOST_FIXTURE_TEST_CASE(the_job_less_check_finds_the_model_and_its_lengths, openrouter_fixture) {
    run([this]() -> engine::awaitable<void> {
        auto wan = make("alibaba/wan-2.6", {5, 10});
        auto ok = co_await wan->check();
        BOOST_REQUIRE_MESSAGE(ok.has_value(), (ok ? std::string() : ok.error().message));
        BOOST_TEST(ok->find("takes 5 s") != std::string::npos, *ok);

        auto retired = make("openai/sora-2");
        auto gone = co_await retired->check();
        BOOST_REQUIRE(gone.has_error());
        BOOST_TEST(gone.error().kind == video_error_kind::model_gone);

        // Veo 3.1 takes 4, 6 or 8 s: configured for 5 s only, the check says so.
        std::vector<int> five_only{5};
        auto veo = make("google/veo-3.1", five_only);
        auto wrong_length = co_await veo->check();
        BOOST_REQUIRE(wrong_length.has_error());
        BOOST_TEST(wrong_length.error().kind == video_error_kind::bad_request);
        BOOST_TEST(wrong_length.error().message.find("allowed_seconds") != std::string::npos);
        BOOST_TEST(sims.openrouter().video_creates().empty());
    });
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace
} // namespace companion
