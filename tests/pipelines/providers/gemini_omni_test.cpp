// The Gemini Omni backend against the Gemini simulator: uri and inline deliveries, refusals,
// failures, a retired model, rate limits, a lost create answer, and one create per submit.
#include "pipelines/providers/common.hpp"
#include "pipelines/providers/gemini_omni.hpp"
#include "storage/media_store.hpp"
#include "tests/pipelines/providers/support.hpp"

#include <boost/test/unit_test.hpp>

namespace companion {
namespace {

/// The first frame these tests submit (a named constant: GCC 12 mishandles a braced temporary in a
/// co_await expression).
constexpr test::test_frame omni_frame{.width = 72, .height = 128, .seed = 5};

using namespace std::chrono_literals;
using pipelines::video_error_kind;
using pipelines::video_poll;

struct omni_fixture : test::suite_fixture {
    std::unique_ptr<pipelines::video_provider> provider = make();

    std::unique_ptr<pipelines::video_provider> make(std::string model = "gemini-omni-1.1-flash",
                                                    std::string delivery = "uri") {
        pipelines::gemini_omni_settings s;
        s.base_url = sims.gemini().base_url();
        s.api_key = "AIzaSy-omni-provider-test-key";
        s.model = std::move(model);
        s.delivery = std::move(delivery);
        return pipelines::make_gemini_omni_provider(http, std::move(s));
    }
};

BOOST_AUTO_TEST_SUITE(gemini_omni_provider)

BOOST_FIXTURE_TEST_CASE(a_job_is_downloaded_from_its_uri_without_leaking_the_key, omni_fixture) {
    run([this]() -> engine::awaitable<void> {
        BOOST_TEST(!provider->info().reports_progress);
        auto id = co_await test::submit_with_frame(*provider, "omni-full: she waves", omni_frame);
        BOOST_REQUIRE(id.has_value());
        const auto& created = sims.gemini().video_creates();
        BOOST_REQUIRE(created.size() == 1U);
        BOOST_TEST(created.front().seconds == 5); // Omni 1.1 takes 3-10 s
        BOOST_TEST(created.front().with_image);
        BOOST_TEST(created.front().prompt.starts_with("<FIRST_FRAME> omni-full"));

        auto first = co_await provider->poll(*id);
        BOOST_REQUIRE(first.has_value());
        BOOST_TEST(
            (first->status == video_poll::state::queued || first->status == video_poll::state::running));
        BOOST_TEST(!first->progress.has_value());
        auto done = co_await test::wait_for(*provider, *id);
        BOOST_REQUIRE(done.has_value());
        BOOST_TEST(done->status == video_poll::state::completed);

        auto file = co_await provider->download(*id, dir.path / "omni" / "uri.mp4");
        BOOST_REQUIRE(file.has_value());
        test::check_mp4(*file, 720, 1280, 5.0);
        BOOST_TEST(sims.gemini().storage_requests() == 1U);
        BOOST_TEST(sims.gemini().storage_requests_with_key() == 0U);
        BOOST_TEST(sims.gemini().video_creates().size() == 1U);
    });
}

BOOST_FIXTURE_TEST_CASE(inline_data_is_written_atomically_with_its_sha256, omni_fixture) {
    run([this]() -> engine::awaitable<void> {
        auto inline_provider = make("gemini-omni-1.1-flash", "inline");
        auto id = co_await test::submit_with_frame(*inline_provider, "omni-inline", omni_frame);
        BOOST_REQUIRE(id.has_value());
        auto done = co_await test::wait_for(*inline_provider, *id);
        BOOST_REQUIRE(done.has_value());
        BOOST_TEST(done->status == video_poll::state::completed);
        const auto path = dir.path / "inline.mp4";
        auto file = co_await inline_provider->download(*id, path);
        BOOST_REQUIRE(file.has_value());
        test::check_mp4(*file, 720, 1280, 5.0);
        BOOST_TEST(file->sha256 == storage::sha256_hex(test::read_file(path)));
        BOOST_TEST(sims.gemini().storage_requests() == 0U);
        std::size_t entries = 0;
        for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path)) {
            ++entries; // no temporary file left behind
        }
        BOOST_TEST(entries == 1U);
    });
}

BOOST_FIXTURE_TEST_CASE(blocked_and_failed_jobs_are_refused_or_failed, omni_fixture) {
    run([this]() -> engine::awaitable<void> {
        auto blocked = co_await test::submit_with_frame(*provider, "flirty [[block]]", omni_frame);
        BOOST_REQUIRE(blocked.has_value());
        auto refused = co_await test::wait_for(*provider, *blocked);
        BOOST_REQUIRE(refused.has_value());
        BOOST_TEST(refused->status == video_poll::state::refused);
        BOOST_TEST(!refused->error.empty());
        auto no_file = co_await provider->download(*blocked, dir.path / "blocked.mp4");
        BOOST_TEST(no_file.error().kind == video_error_kind::refused);

        sims.gemini().faults.add(test::fault_of(sim::fault_kind::custom, "interactions.create", "failed"));
        auto fails = co_await test::submit_with_frame(*provider, "fails", omni_frame);
        auto failed = co_await test::wait_for(*provider, *fails);
        BOOST_REQUIRE(failed.has_value());
        BOOST_TEST(failed->status == video_poll::state::failed);
        BOOST_TEST(failed->error.find("video_generation_failed") != std::string::npos);

        sims.gemini().faults.add(
            test::fault_of(sim::fault_kind::custom, "interactions.create", "safety_400"));
        auto safety = co_await test::submit_with_frame(*provider, "unsafe", omni_frame);
        BOOST_REQUIRE(safety.has_error());
        BOOST_TEST(safety.error().kind == video_error_kind::refused);

        auto unknown = co_await provider->poll("v1_unknown");
        BOOST_TEST(unknown.error().kind == video_error_kind::failed);
        BOOST_TEST(sims.gemini().video_creates().size() == 2U);
    });
}

BOOST_FIXTURE_TEST_CASE(a_retired_model_rate_limits_and_a_lost_create_are_typed, omni_fixture) {
    run([this]() -> engine::awaitable<void> {
        auto retired = make("gemini-omni-1.1-flash-preview");
        auto gone = co_await test::submit_with_frame(*retired, "x", omni_frame);
        BOOST_REQUIRE(gone.has_error());
        BOOST_TEST(gone.error().kind == video_error_kind::model_gone);

        sims.gemini().faults.add(
            test::fault_of(sim::fault_kind::rate_limited, "interactions.create", "", 12s));
        auto limited = co_await test::submit_with_frame(*provider, "x", omni_frame);
        BOOST_REQUIRE(limited.has_error());
        BOOST_TEST(limited.error().kind == video_error_kind::rate_limited);
        BOOST_REQUIRE(limited.error().retry_after.has_value());
        BOOST_TEST(limited.error().retry_after->count() == 12000);

        sims.gemini().faults.add(test::fault_of(sim::fault_kind::reset, "interactions.create"));
        auto lost = co_await test::submit_with_frame(*provider, "lost", omni_frame);
        BOOST_REQUIRE(lost.has_error());
        BOOST_TEST(lost.error().kind == video_error_kind::unknown_outcome);

        sims.gemini().faults.add(
            test::fault_of(sim::fault_kind::server_error, "interactions.get", "", 0ms, 503));
        auto poll = co_await provider->poll("v1_any");
        BOOST_TEST(poll.error().kind == video_error_kind::transient);
        BOOST_TEST(sims.gemini().video_creates().empty());
    });
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace
} // namespace companion
