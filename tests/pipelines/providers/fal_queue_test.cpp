// fal's queue backend against the fal simulator: one whole job per shipped template (the duration
// written as each model wants it), refusals naming the flagged input, failed-but-COMPLETED jobs,
// a retired model, a locked account, rate limits, a lost submit answer, an expired output, and a
// job resumed from its stored ticket by a new provider (a restart). Also the request templates.
#include "pipelines/providers/fal_queue.hpp"
#include "tests/pipelines/providers/support.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

namespace companion {
namespace {

using namespace std::chrono_literals;
using pipelines::fal_duration_format;
using pipelines::fal_request_template;
using pipelines::video_error_kind;
using pipelines::video_poll;

constexpr std::string_view fal_key = "fal-key-id:fal-provider-secret-31337";

sim::suite_config with_key() {
    auto c = test::fast_suite();
    c.fal.api_key = std::string(fal_key);
    return c;
}

struct fal_fixture : test::suite_fixture {
    fal_fixture() : suite_fixture(with_key()) {}

    std::unique_ptr<pipelines::video_provider>
    make(std::string endpoint, fal_request_template t = {}, std::vector<int> allowed = {5, 10}) {
        pipelines::fal_queue_settings s;
        s.base_url = sims.fal().base_url();
        s.api_key = std::string(fal_key);
        s.model = std::move(endpoint);
        s.request = std::move(t);
        s.allowed_seconds = std::move(allowed);
        return pipelines::make_fal_queue_provider(http, std::move(s));
    }
};

BOOST_AUTO_TEST_SUITE(fal_queue_provider)

BOOST_AUTO_TEST_CASE(templates_write_the_duration_and_aspect_each_model_wants) {
    struct row {
        fal_request_template t;
        int seconds;
        std::string duration_json;
        bool has_aspect;
    };
    const std::vector<row> rows{
        {{}, 5, R"("5")", false},
        {{.image_field = "image_url",
          .duration_field = "duration",
          .duration = fal_duration_format::number,
          .aspect_field = {},
          .aspect_ratio = "9:16",
          .extra_json = {}},
         5,
         "5",
         false},
        {{.image_field = "image_url",
          .duration_field = "duration",
          .duration = fal_duration_format::string_seconds,
          .aspect_field = "aspect_ratio",
          .aspect_ratio = "9:16",
          .extra_json = R"({"generate_audio": false, "safety_tolerance": "4"})"},
         4,
         R"("4s")",
         true},
    };
    for (const auto& r : rows) {
        auto body = net::fal::request_body(r.t, "p", "data:image/png;base64,AA==", r.seconds);
        BOOST_REQUIRE(body.has_value());
        const auto v = boost::json::parse(*body).as_object();
        BOOST_TEST(boost::json::serialize(v.at("duration")) == r.duration_json);
        BOOST_TEST(v.at("prompt").as_string() == "p");
        BOOST_TEST(v.at("image_url").as_string() == "data:image/png;base64,AA==");
        BOOST_TEST(v.contains("aspect_ratio") == r.has_aspect);
        if (r.has_aspect) {
            BOOST_TEST(v.at("aspect_ratio").as_string() == "9:16");
            BOOST_TEST(v.at("generate_audio").as_bool() == false);
        }
    }
}

BOOST_AUTO_TEST_CASE(an_unusable_template_is_refused_with_its_reason) {
    fal_request_template not_object;
    not_object.extra_json = "[1]";
    auto a = net::fal::request_body(not_object, "p", "", 5);
    BOOST_REQUIRE(a.has_error());
    BOOST_TEST(a.error().find("JSON object") != std::string::npos);
    fal_request_template overrides;
    overrides.extra_json = R"({"prompt": "ignore the user"})";
    auto b = net::fal::request_body(overrides, "p", "", 5);
    BOOST_REQUIRE(b.has_error());
    BOOST_TEST(b.error().find("'prompt'") != std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(each_shipped_model_runs_a_whole_job_at_its_own_length, fal_fixture) {
    run([this]() -> engine::awaitable<void> {
        struct row {
            std::string endpoint;
            fal_request_template t;
            std::vector<int> allowed;
            std::string sent_duration;
            double seconds;
        };
        fal_request_template number;
        number.duration = fal_duration_format::number;
        fal_request_template veo;
        veo.duration = fal_duration_format::string_seconds;
        veo.aspect_field = "aspect_ratio";
        fal_request_template omni = number;
        omni.aspect_field = "aspect_ratio";
        const std::vector<row> rows{
            {"fal-ai/kling-video/v3/standard/image-to-video", {}, {3, 5, 10, 15}, R"("5")", 5.0},
            {"minimax/h3/image-to-video", number, {5, 6, 10}, "5", 5.0},
            {"fal-ai/veo3.1/fast/image-to-video", veo, {4, 6, 8}, R"("4s")", 4.0}, // 5: ties to the shorter
            {"google/gemini-omni-flash/image-to-video", omni, {3, 4, 5, 6, 7, 8, 9, 10}, "5", 5.0},
            {"wan/v2.6/image-to-video", {}, {5, 10, 15}, R"("5")", 5.0},
        };
        for (const auto& r : rows) {
            auto provider = make(r.endpoint, r.t, r.allowed);
            BOOST_TEST(provider->info().name == "fal");
            BOOST_TEST(!provider->info().reports_progress);
            auto id = co_await test::submit_with_frame(*provider, "fal-each: " + r.endpoint);
            BOOST_REQUIRE_MESSAGE(id.has_value(), r.endpoint << ": " << (id ? "" : id.error().message));
            const auto& created = sims.fal().video_creates().back();
            BOOST_TEST(created.endpoint == r.endpoint);
            BOOST_TEST(created.duration == r.sent_duration, r.endpoint);
            BOOST_TEST(created.image_mime == "image/png");
            auto done = co_await test::wait_for(*provider, *id);
            BOOST_REQUIRE(done.has_value());
            BOOST_TEST(done->status == video_poll::state::completed, r.endpoint);
            const auto path =
                dir.path / "videos" / (std::to_string(sims.fal().video_creates().size()) + ".mp4");
            auto file = co_await provider->download(*id, path);
            BOOST_REQUIRE_MESSAGE(file.has_value(), r.endpoint << ": " << (file ? "" : file.error().message));
            test::check_mp4(*file, 720, 1280, r.seconds);
        }
        BOOST_TEST(sims.fal().video_creates().size() == rows.size()); // one create per job
        BOOST_TEST(sims.fal().cdn_requests_with_authorization() == 0U);
    });
}

BOOST_FIXTURE_TEST_CASE(a_restarted_provider_resumes_from_the_stored_ticket, fal_fixture) {
    run([this]() -> engine::awaitable<void> {
        std::string stored;
        {
            auto before = make("wan/v2.6/image-to-video");
            auto id = co_await test::submit_with_frame(*before, "fal-restart");
            BOOST_REQUIRE(id.has_value());
            stored = *id;
        }
        auto after = make("wan/v2.6/image-to-video");
        auto done = co_await test::wait_for(*after, stored);
        BOOST_REQUIRE(done.has_value());
        BOOST_TEST(done->status == video_poll::state::completed);
        auto file = co_await after->download(stored, dir.path / "r.mp4");
        BOOST_REQUIRE(file.has_value());
        BOOST_TEST(sims.fal().video_creates().size() == 1U);
    });
}

BOOST_FIXTURE_TEST_CASE(refusals_name_the_flagged_input, fal_fixture) {
    run([this]() -> engine::awaitable<void> {
        auto p = make("wan/v2.6/image-to-video");
        // The prompt is flagged: the job still ends COMPLETED, the result says why.
        auto id = co_await test::submit_with_frame(*p, "flirty [[refuse]]");
        BOOST_REQUIRE(id.has_value());
        auto done = co_await test::wait_for(*p, *id);
        BOOST_REQUIRE(done.has_value());
        BOOST_TEST(done->status == video_poll::state::refused);
        BOOST_TEST(done->error.find("flagged by a content checker: prompt") != std::string::npos,
                   done->error);

        sims.fal().faults.add(test::fault_of(sim::fault_kind::refusal, "queue.submit"));
        auto image = co_await test::submit_with_frame(*p, "fal-image-flagged");
        BOOST_REQUIRE(image.has_value());
        auto image_done = co_await test::wait_for(*p, *image);
        BOOST_REQUIRE(image_done.has_value());
        BOOST_TEST(image_done->status == video_poll::state::refused);
        BOOST_TEST(image_done->error.find("image_url") != std::string::npos, image_done->error);

        sims.fal().faults.add(test::fault_of(sim::fault_kind::refusal, "queue.submit", "at_submit"));
        auto at_once = co_await test::submit_with_frame(*p, "fal-refused-at-submit");
        BOOST_REQUIRE(at_once.has_error());
        BOOST_TEST(at_once.error().kind == video_error_kind::refused);
        BOOST_TEST(at_once.error().message.find("image_url") != std::string::npos);
    });
}

BOOST_FIXTURE_TEST_CASE(a_job_that_failed_but_completed_is_failed, fal_fixture) {
    run([this]() -> engine::awaitable<void> {
        auto p = make("wan/v2.6/image-to-video");
        sims.fal().faults.add(test::fault_of(sim::fault_kind::custom, "queue.submit", "failed"));
        auto id = co_await test::submit_with_frame(*p, "fal-fails");
        BOOST_REQUIRE(id.has_value());
        auto done = co_await test::wait_for(*p, *id);
        BOOST_REQUIRE(done.has_value());
        BOOST_TEST(done->status == video_poll::state::failed);
        BOOST_TEST(done->error.find("HTTP 500") != std::string::npos, done->error);
    });
}

BOOST_FIXTURE_TEST_CASE(submit_errors_are_typed_and_a_lost_answer_is_never_resubmitted, fal_fixture) {
    run([this]() -> engine::awaitable<void> {
        auto p = make("wan/v2.6/image-to-video");
        auto gone = make("fal-ai/retired-model/image-to-video");
        auto missing = co_await test::submit_with_frame(*gone, "x");
        BOOST_REQUIRE(missing.has_error());
        BOOST_TEST(missing.error().kind == video_error_kind::model_gone);

        sims.fal().faults.add(test::fault_of(sim::fault_kind::custom, "queue.submit", "locked"));
        auto locked = co_await test::submit_with_frame(*p, "x");
        BOOST_REQUIRE(locked.has_error());
        BOOST_TEST(locked.error().kind == video_error_kind::quota);

        sims.fal().faults.add(test::fault_of(sim::fault_kind::rate_limited, "queue.submit", "", 3s));
        auto limited = co_await test::submit_with_frame(*p, "x");
        BOOST_REQUIRE(limited.has_error());
        BOOST_TEST(limited.error().kind == video_error_kind::rate_limited);
        BOOST_TEST(limited.error().retry_after.value_or(0ms) == 3000ms);

        const auto before = sims.fal().video_creates().size();
        sims.fal().faults.add(test::fault_of(sim::fault_kind::reset, "queue.submit"));
        auto lost = co_await test::submit_with_frame(*p, "fal-lost-answer");
        BOOST_REQUIRE(lost.has_error());
        BOOST_TEST(lost.error().kind == video_error_kind::unknown_outcome);
        // The simulator dropped the request it read; a retry would have been accepted and shown here.
        BOOST_TEST(sims.fal().video_creates().size() == before);
        BOOST_TEST(sims.fal().creates_with("fal-lost-answer") == 0U);

        sims.fal().faults.add(test::fault_of(sim::fault_kind::server_error, "queue.status", "", 0ms, 503));
        auto id = co_await test::submit_with_frame(*p, "fal-status-503");
        BOOST_REQUIRE(id.has_value());
        auto polled = co_await p->poll(*id);
        BOOST_REQUIRE(polled.has_error());
        BOOST_TEST(polled.error().kind == video_error_kind::transient);
    });
}

BOOST_FIXTURE_TEST_CASE(an_output_gone_from_the_cdn_is_expired, fal_fixture) {
    run([this]() -> engine::awaitable<void> {
        auto p = make("wan/v2.6/image-to-video");
        sims.fal().faults.add(test::fault_of(sim::fault_kind::custom, "queue.submit", "expired"));
        auto id = co_await test::submit_with_frame(*p, "fal-expired");
        BOOST_REQUIRE(id.has_value());
        auto done = co_await test::wait_for(*p, *id);
        BOOST_REQUIRE(done.has_value());
        BOOST_TEST(done->status == video_poll::state::completed);
        auto file = co_await p->download(*id, dir.path / "gone.mp4");
        BOOST_REQUIRE(file.has_error());
        BOOST_TEST(file.error().kind == video_error_kind::expired, file.error().message);
        BOOST_TEST(!std::filesystem::exists(dir.path / "gone.mp4"));
    });
}

BOOST_FIXTURE_TEST_CASE(the_job_less_check_takes_the_key_and_creates_nothing, fal_fixture) {
    run([this]() -> engine::awaitable<void> {
        auto p = make("wan/v2.6/image-to-video");
        auto ok = co_await p->check();
        BOOST_REQUIRE_MESSAGE(ok.has_value(), (ok ? std::string() : ok.error().message));
        BOOST_TEST(ok->find("takes the key") != std::string::npos);

        pipelines::fal_queue_settings s;
        s.base_url = sims.fal().base_url();
        s.api_key = "fal-wrong:key";
        s.model = "wan/v2.6/image-to-video";
        auto wrong = pipelines::make_fal_queue_provider(http, std::move(s));
        auto refused = co_await wrong->check();
        BOOST_REQUIRE(refused.has_error());
        BOOST_TEST(refused.error().kind == video_error_kind::auth);

        sims.fal().faults.add(test::fault_of(sim::fault_kind::custom, "queue.status", "locked"));
        auto locked = co_await p->check();
        BOOST_REQUIRE(locked.has_error());
        BOOST_TEST(locked.error().kind == video_error_kind::quota);
        BOOST_TEST(sims.fal().video_creates().empty());
    });
}

BOOST_FIXTURE_TEST_CASE(a_stored_id_that_is_no_ticket_fails_the_job, fal_fixture) {
    run([this]() -> engine::awaitable<void> {
        auto p = make("wan/v2.6/image-to-video");
        auto polled = co_await p->poll("video_sim1abc");
        BOOST_REQUIRE(polled.has_error());
        BOOST_TEST(polled.error().kind == video_error_kind::failed);
    });
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace
} // namespace companion
