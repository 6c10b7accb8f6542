// End-to-end tests of the aggregator backends (contracts/video-aggregators.md): fal's queue with
// Kling v3 and OpenRouter with Wan 2.6 take the seed's 5 s exactly, in both modes and three
// languages; on each, a refused input, an output gone before download, a retired model and a
// restart while the job is queued end as a user of a production bot expects.
#include "engine/metrics.hpp"
#include "storage/quotas.hpp"
#include "tests/e2e/video_support.hpp"

#include <boost/test/unit_test.hpp>

using namespace companion;
using namespace companion::test;
using namespace std::chrono_literals;
using engine::awaitable;
using storage::job_state;

namespace {

struct fal_world : world {
    fal_world() {
        backend = video_backend::fal;
        sim_cfg.fal.api_key = "fal-e2e-id:fal-e2e-secret-0004"; // the key is checked
    }
};

/// The user's quota for today is back to zero (the failed or refused video was not charged).
awaitable<bool> quota_refunded(world& w, std::int64_t user) {
    storage::quota_repository quotas(*w.db);
    const auto today = storage::utc_day(
        std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now()));
    co_return co_await eventually([&] { return quotas.used(user, storage::quota_kind::video, today) == 0; });
}

awaitable<std::optional<item>>
localized(world& w, std::int64_t user, const std::string& lang, const std::string& key) {
    auto got = co_await w.next(
        user,
        [&](const item& i) { return text(i) && i.text == w.locales.text(lang, key); },
        20s);
    co_return got;
}

struct openrouter_world : world {
    openrouter_world() {
        backend = video_backend::openrouter;
        sim_cfg.openrouter.api_key = "sk-or-v1-e2e-secret-0005";
    }
};

/// A user who chose `persona` and has a selfie: ready to ask for a video from it.
awaitable<std::int64_t>
user_with_selfie(world& w, const std::string& name, const std::string& lang, const std::string& persona) {
    const auto user = w.sims->telegram().add_user({.first_name = name, .language_code = lang});
    co_await onboard(w, user, persona);
    co_await take_selfie(w, user);
    co_return user;
}

/// Asks for a video from the last selfie and expects it to end in `state` with `notice` in the
/// user's language and the video quota given back. Returns the job as it ended.
awaitable<storage::video_job> video_ends_with(world& w,
                                              std::int64_t user,
                                              const std::string& lang,
                                              const std::string& notice,
                                              job_state state) {
    co_await ask_video(w, user, lang, "vid:last");
    BOOST_TEST_REQUIRE((co_await localized(w, user, lang, notice)).has_value());
    BOOST_TEST(co_await quota_refunded(w, user));
    const auto job = last_job(w, user);
    BOOST_TEST_REQUIRE(job.has_value());
    BOOST_TEST((job->state == state), job->error.value_or(""));
    co_return *job;
}

} // namespace

BOOST_AUTO_TEST_SUITE(aggregators_e2e)

BOOST_FIXTURE_TEST_CASE(fal_kling_both_modes_in_three_languages_at_exactly_five_seconds, fal_world) {
    test::run_test(
        ioc,
        [&]() -> awaitable<void> {
            co_await both_modes_in_three_languages(*this, 5.0);
            BOOST_TEST(sims->fal().video_creates().size() == 3U);
            for (const auto& c : sims->fal().video_creates()) {
                BOOST_TEST(c.duration == "\"5\""); // Kling's string, the seed's 5 s
                BOOST_TEST(c.endpoint == fal_model);
            }
            BOOST_TEST(sims->fal().cdn_requests_with_authorization() == 0U);
        }(),
        std::chrono::seconds(60));
}

namespace {

/// The user's /status while a video renders: "video.status" with `seconds` and some elapsed time.
bool shows_status(const world& w, const std::string& lang, const std::string& got, int seconds) {
    const auto pattern =
        w.locales.text(lang, "video.status", {{"seconds", std::to_string(seconds)}, {"elapsed", "\x01"}});
    const auto cut = pattern.find('\x01');
    return cut != std::string::npos && got.size() > pattern.size() - 1 &&
           got.starts_with(pattern.substr(0, cut)) && got.ends_with(pattern.substr(cut + 1));
}

} // namespace

// Kling on fal makes 5 s and 10 s clips; the offer shows both for each mode, in the user's
// language. A 10 s press makes a 10 s clip (the request, the file, the job row), /status shows
// its length while it renders, and a length the bot does not offer is refused without a job.
struct fal_lengths_world : fal_world {
    fal_lengths_world() { cfg.video.offered_seconds = {5, 10}; } // the shipped configuration's
};

BOOST_FIXTURE_TEST_CASE(fal_a_ten_second_video_chosen_by_button_in_three_languages, fal_lengths_world) {
    test::run_test(
        ioc,
        [&]() -> awaitable<void> {
            co_await start();
            auto& t = sims->telegram();
            const std::vector<std::tuple<std::string, std::string, std::string>> cases{
                {"tr", "elif", "vid:last:10"},
                {"ru", "masha", "vid:new:10"},
                {"en", "emma", "vid:last:10"}};
            std::size_t creates = 0;
            for (const auto& c : cases) {
                const std::string lang = std::get<0>(c);
                const std::string persona = std::get<1>(c);
                const std::string press = std::get<2>(c);
                BOOST_TEST_CONTEXT(lang) {
                    const auto user = co_await user_with_selfie(*this, "L" + lang, lang, persona);
                    t.user_sends_text(user, locales.text(lang, "btn.video"));
                    const auto offer = co_await video_offer(user);
                    BOOST_TEST_REQUIRE(offer.has_value());
                    for (const char* data : {"vid:last:5", "vid:last:10", "vid:new:5", "vid:new:10"}) {
                        BOOST_TEST(offer->reply_markup.find(std::string("\"") + data + "\"") !=
                                       std::string::npos,
                                   offer->reply_markup);
                    }
                    const auto ten = locales.text(lang, "video.new") + " · " +
                                     locales.text(lang, "video.length", {{"seconds", "10"}});
                    BOOST_TEST(offer->reply_markup.find(ten) != std::string::npos, offer->reply_markup);

                    t.user_presses_button(user, offer->message_id, press);
                    BOOST_TEST_REQUIRE(
                        co_await eventually([&] { return last_job(*this, user).has_value(); }));
                    t.user_sends_text(user, "/status");
                    auto status = co_await next(user, [&](const item& i) {
                        return text(i) && shows_status(*this, lang, i.text, 10);
                    });
                    BOOST_TEST(status.has_value());

                    auto clip = co_await next(user, is_video, 20s);
                    BOOST_TEST_REQUIRE(clip.has_value());
                    const auto info = sim::media::read_mp4_info(*t.file_bytes(clip->file_id));
                    BOOST_TEST_REQUIRE(info.has_value());
                    BOOST_TEST(info->duration.count() == 10.0, boost::test_tools::tolerance(0.01));
                    const auto job = last_job(*this, user);
                    BOOST_TEST_REQUIRE(job.has_value());
                    BOOST_TEST(job->seconds.value_or(0) == 10);
                    BOOST_TEST_REQUIRE(sims->fal().video_creates().size() == ++creates);
                    BOOST_TEST(sims->fal().video_creates().back().duration == "\"10\"");

                    // Done: /status says nothing is being made.
                    BOOST_TEST(co_await eventually([&] {
                        auto j = last_job(*this, user);
                        return j && j->state == job_state::delivered;
                    }));
                    t.user_sends_text(user, "/status");
                    BOOST_TEST((co_await localized(*this, user, lang, "video.status_none")).has_value());

                    // A length the bot does not make (a forged or outdated button): no job, no charge.
                    t.user_presses_button(user, offer->message_id, "vid:new:7");
                    BOOST_TEST((co_await localized(*this, user, lang, "button.expired")).has_value());
                    BOOST_TEST(last_job(*this, user)->id == job->id);
                }
            }
            BOOST_TEST(sims->fal().video_creates().size() == 3U);
            co_await finish();
        }(),
        std::chrono::seconds(90));
}

BOOST_FIXTURE_TEST_CASE(fal_flagged_image_is_refused_kindly_counted_and_not_charged, fal_world) {
    test::run_test(
        ioc,
        [&]() -> awaitable<void> {
            co_await start();
            const auto user = co_await user_with_selfie(*this, "Masha fan", "ru", "masha");
            // The content checker flags the first frame; a non-flirty refusal is final.
            sims->fal().faults.add({.match = "queue.submit", .kind = sim::fault_kind::refusal, .count = 1});
            const auto job = co_await video_ends_with(*this, user, "ru", "video.refused", job_state::refused);
            BOOST_TEST(job.error.value_or("").find("image_url") != std::string::npos, job.error.value_or(""));
            BOOST_TEST(bot->videos()->stats().refused == 1U);
            const auto exposition = engine::metrics().expose();
            BOOST_TEST(exposition.find("bot_video_refusals_total{provider=\"fal\",model=\"" + fal_model +
                                       "\",input=\"image\"}") != std::string::npos,
                       exposition);
            co_await finish();
        }(),
        std::chrono::seconds(40));
}

BOOST_FIXTURE_TEST_CASE(fal_output_expired_before_download_fails_with_a_refund, fal_world) {
    test::run_test(
        ioc,
        [&]() -> awaitable<void> {
            co_await start();
            const auto user = co_await user_with_selfie(*this, "Elif", "tr", "elif");
            sims->fal().faults.add(
                {.match = "queue.submit", .kind = sim::fault_kind::custom, .count = 1, .detail = "expired"});
            co_await video_ends_with(*this, user, "tr", "video.failed", job_state::failed);
            BOOST_TEST(sims->fal().video_creates().size() == 1U); // an expired output is not bought twice
            co_await finish();
        }(),
        std::chrono::seconds(40));
}

BOOST_FIXTURE_TEST_CASE(fal_retired_model_tells_the_user_and_the_operator, fal_world) {
    test::run_test(
        ioc,
        [&]() -> awaitable<void> {
            fal_model = "fal-ai/retired-model/image-to-video";
            co_await start();
            const auto user = co_await user_with_selfie(*this, "Emma", "en", "emma");
            // A configuration problem: "videos are unavailable", and the operator is alerted.
            const auto job =
                co_await video_ends_with(*this, user, "en", "video.unavailable", job_state::failed);
            BOOST_TEST(job.error.value_or("").find("HTTP 404") != std::string::npos, job.error.value_or(""));
            BOOST_TEST(sims->fal().video_creates().empty());
            co_await finish();
        }(),
        std::chrono::seconds(40));
}

BOOST_FIXTURE_TEST_CASE(fal_restart_while_queued_resumes_from_the_stored_ticket_with_one_create, fal_world) {
    test::run_test(ioc, [&]() -> awaitable<void> {
        sim_cfg.fal.render_time = 1500ms;
        co_await start();
        const auto user = co_await user_with_selfie(*this, "Defne", "tr", "defne");
        const auto job = co_await restart_while_rendering(*this, user, "tr");
        // fal's URLs are the job's identity across the restart.
        BOOST_TEST(job.provider_job_id.value_or("").find("status_url") != std::string::npos);
        BOOST_TEST(sims->fal().video_creates().size() == 1U);
        co_await finish();
    }());
}

BOOST_FIXTURE_TEST_CASE(openrouter_wan_both_modes_in_three_languages_at_exactly_five_seconds,
                        openrouter_world) {
    test::run_test(
        ioc,
        [&]() -> awaitable<void> {
            co_await both_modes_in_three_languages(*this, 5.0);
            BOOST_TEST(sims->openrouter().video_creates().size() == 3U);
            for (const auto& c : sims->openrouter().video_creates()) {
                BOOST_TEST(c.duration == "5"); // a number on OpenRouter's wire
                BOOST_TEST(c.model == openrouter_model);
                BOOST_TEST(c.aspect_ratio == "9:16");
                BOOST_TEST(!c.frame_mime.empty()); // the first frame went along
            }
        }(),
        std::chrono::seconds(60));
}

BOOST_FIXTURE_TEST_CASE(openrouter_reported_cost_is_what_the_spend_cap_counts_and_status_shows,
                        openrouter_world) {
    test::run_test(
        ioc,
        [&]() -> awaitable<void> {
            sim_cfg.openrouter.cost_per_second_usd = 0.07; // $0.35 for 5 s; the estimate is 10 cents/s
            cfg.admins = {9001};
            co_await start();
            auto& t = sims->telegram();
            const auto user = co_await user_with_selfie(*this, "Emma", "en", "emma");
            co_await ask_video(*this, user, "en", "vid:last");
            BOOST_TEST_REQUIRE((co_await next(user, is_video, 20s)).has_value());
            storage::quota_repository quotas(*db);
            const auto today = storage::utc_day(
                std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now()));
            BOOST_TEST(co_await eventually([&] { return quotas.spent_total(today) == 35; }),
                       quotas.spent_total(today));
            const auto job = last_job(*this, user);
            BOOST_TEST_REQUIRE(job.has_value());
            BOOST_TEST(job->spend_reserved_cents == 35);
            // The admin's /status names where the money went.
            const auto admin = t.add_user({.id = 9001, .first_name = "Admin", .language_code = "en"});
            t.user_sends_text(admin, "/status");
            auto status = co_await next(
                admin,
                [](const item& i) { return text(i) && i.text.find("spend today") != std::string::npos; },
                10s);
            BOOST_TEST_REQUIRE(status.has_value());
            BOOST_TEST(status->text.find("openrouter alibaba/wan-2.6: 35 cents") != std::string::npos,
                       status->text);
            co_await finish();
        }(),
        std::chrono::seconds(40));
}

BOOST_FIXTURE_TEST_CASE(openrouter_moderated_job_is_refused_kindly_and_not_charged, openrouter_world) {
    test::run_test(
        ioc,
        [&]() -> awaitable<void> {
            co_await start();
            const auto user = co_await user_with_selfie(*this, "Elif", "tr", "elif");
            sims->openrouter().faults.add(
                {.match = "videos.create", .kind = sim::fault_kind::refusal, .count = 1});
            co_await video_ends_with(*this, user, "tr", "video.refused", job_state::refused);
            co_await finish();
        }(),
        std::chrono::seconds(40));
}

BOOST_FIXTURE_TEST_CASE(openrouter_expired_job_fails_with_a_refund, openrouter_world) {
    test::run_test(
        ioc,
        [&]() -> awaitable<void> {
            co_await start();
            const auto user = co_await user_with_selfie(*this, "Masha fan", "ru", "masha");
            sims->openrouter().faults.add(
                {.match = "videos.create", .kind = sim::fault_kind::custom, .count = 1, .detail = "expired"});
            const auto job = co_await video_ends_with(*this, user, "ru", "video.failed", job_state::failed);
            BOOST_TEST(job.error.value_or("").find("expired") != std::string::npos, job.error.value_or(""));
            BOOST_TEST(sims->openrouter().video_creates().size() == 1U);
            co_await finish();
        }(),
        std::chrono::seconds(40));
}

BOOST_FIXTURE_TEST_CASE(openrouter_retired_model_tells_the_user_and_the_operator, openrouter_world) {
    test::run_test(
        ioc,
        [&]() -> awaitable<void> {
            openrouter_model = "openai/sora-2"; // no gateway serves it any more
            co_await start();
            const auto user = co_await user_with_selfie(*this, "Emma", "en", "emma");
            co_await video_ends_with(*this, user, "en", "video.unavailable", job_state::failed);
            BOOST_TEST(sims->openrouter().video_creates().empty());
            co_await finish();
        }(),
        std::chrono::seconds(40));
}

BOOST_FIXTURE_TEST_CASE(openrouter_restart_while_rendering_resumes_with_one_create, openrouter_world) {
    test::run_test(ioc, [&]() -> awaitable<void> {
        sim_cfg.openrouter.render_time = 1500ms;
        co_await start();
        const auto user = co_await user_with_selfie(*this, "Defne", "tr", "defne");
        co_await restart_while_rendering(*this, user, "tr");
        BOOST_TEST(sims->openrouter().video_creates().size() == 1U);
        co_await finish();
    }());
}

BOOST_AUTO_TEST_SUITE_END()
