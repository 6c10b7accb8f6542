// End-to-end tests of videos: both modes on both providers in three languages, the no-selfie
// message, a malformed LLM prompt, a refused flirty prompt retried clean, failed and timed-out
// jobs, restarts while submitted and between submitting and the stored id, two requests at
// once, the spend cap, and many jobs polling while another user's chat stays prompt.
#include "engine/task_group.hpp"
#include "sim/media/mp4.hpp"
#include "sim/media/png.hpp"
#include "storage/generated_content.hpp"
#include "storage/quotas.hpp"
#include "storage/video_jobs.hpp"
#include "tests/e2e/video_support.hpp"

#include <boost/test/unit_test.hpp>

#include <fstream>
#include <iterator>

using namespace companion;
using namespace companion::test;
using namespace std::chrono_literals;
using engine::awaitable;
using storage::job_state;

namespace {

struct openai_world : world {
    openai_world() { backend = video_backend::openai; }
};

/// What a previous run left behind: the world's database (the bot not started yet) with `user`
/// known and a job of theirs committed as `submitting`, its create sent. Returns the job's id.
std::int64_t
job_left_submitting(world& w, std::int64_t user, const std::string& lang, const std::string& persona) {
    w.open_db();
    const auto now =
        std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
    storage::user_repository users(*w.db);
    users.record_contact(user, lang, false, now);
    storage::video_job_repository jobs(*w.db);
    auto id = jobs.create(
        {.user_id = user, .chat_id = user, .persona_id = persona, .provider = "openai", .created = now});
    BOOST_TEST_REQUIRE(id.has_value());
    BOOST_TEST_REQUIRE(jobs.transition(*id, job_state::requested, job_state::prompting, {}, now).has_value());
    BOOST_TEST_REQUIRE(
        jobs.transition(*id, job_state::prompting, job_state::submitting, {}, now).has_value());
    BOOST_TEST_REQUIRE(jobs.mark_create(*id, now, now).has_value());
    return *id;
}

struct omni_world : world {
    omni_world() { backend = video_backend::omni; }
};

} // namespace

BOOST_AUTO_TEST_SUITE(video_e2e)

BOOST_FIXTURE_TEST_CASE(openai_videos_both_modes_in_three_languages, openai_world) {
    test::run_test(ioc, both_modes_in_three_languages(*this), std::chrono::seconds(60));
}

BOOST_FIXTURE_TEST_CASE(gemini_omni_both_modes_in_three_languages, omni_world) {
    test::run_test(ioc, both_modes_in_three_languages(*this), std::chrono::seconds(60));
}

BOOST_FIXTURE_TEST_CASE(from_last_selfie_without_a_selfie_asks_for_one_first, openai_world) {
    test::run_test(ioc, [&]() -> awaitable<void> {
        co_await start();
        const auto user = sims->telegram().add_user({.first_name = "Ivan", .language_code = "ru"});
        co_await onboard(*this, user, "anya");
        co_await ask_video(*this, user, "ru", "vid:last");
        auto reply = co_await next(user, [&](const item& i) {
            return text(i) && i.text == locales.text("ru", "video.no_selfie");
        });
        BOOST_TEST_REQUIRE(reply.has_value());
        BOOST_TEST(sims->openai().video_creates().empty());
        co_await finish();
    }());
}

BOOST_FIXTURE_TEST_CASE(a_malformed_llm_prompt_falls_back_to_the_template, openai_world) {
    test::run_test(ioc, [&]() -> awaitable<void> {
        co_await start();
        const auto user = sims->telegram().add_user({.first_name = "Emma", .language_code = "en"});
        co_await onboard(*this, user, "emma");
        co_await take_selfie(*this, user);
        sims->openai().faults.add(
            {.match = "chat.completions", .kind = sim::fault_kind::malformed_json, .count = 1});
        co_await ask_video(*this, user, "en", "vid:last");
        auto clip = co_await next(user, is_video, 20s);
        BOOST_TEST_REQUIRE(clip.has_value());
        const auto job = last_job(*this, user);
        BOOST_TEST_REQUIRE(job.has_value());
        BOOST_TEST(job->video_prompt.value_or("").find("Style: Cinematic vertical video") ==
                   0U); // the template
        co_await finish();
    }());
}

BOOST_FIXTURE_TEST_CASE(a_refused_flirty_prompt_is_retried_once_without_flirting, openai_world) {
    test::run_test(ioc, [&]() -> awaitable<void> {
        cfg.video.flirty_probability = 1.0;
        co_await start();
        auto& t = sims->telegram();
        const auto user = t.add_user({.first_name = "Emma", .language_code = "en"});
        co_await onboard(*this, user, "emma");
        users_confirm_adult(user);
        co_await take_selfie(*this, user);
        sims->openai().faults.add({.match = "videos.create", .kind = sim::fault_kind::refusal, .count = 1});
        co_await ask_video(*this, user, "en", "vid:last");
        auto clip = co_await next(user, is_video, 20s);
        BOOST_TEST_REQUIRE(clip.has_value());
        BOOST_TEST(bot->videos()->stats().refusal_retries == 1U);
        const auto job = last_job(*this, user);
        BOOST_TEST_REQUIRE(job.has_value());
        BOOST_TEST(!job->flirty); // the retry dropped the flirty elements
        BOOST_TEST(sims->openai().video_creates().size() == 2U);
        co_await finish();
    }());
}

BOOST_FIXTURE_TEST_CASE(a_failed_job_gives_a_localized_message_and_no_charge, openai_world) {
    test::run_test(
        ioc,
        [&]() -> awaitable<void> {
            co_await start();
            auto& t = sims->telegram();
            const auto user = t.add_user({.first_name = "Elif", .language_code = "tr"});
            co_await onboard(*this, user, "elif");
            co_await take_selfie(*this, user);
            // The job ends failed at the provider (moderation; a non-flirty refusal is final).
            sims->openai().faults.add(
                {.match = "videos.create", .kind = sim::fault_kind::refusal, .count = 1});
            co_await ask_video(*this, user, "tr", "vid:last");
            auto refused = co_await next(
                user,
                [&](const item& i) { return text(i) && i.text == locales.text("tr", "video.refused"); },
                20s);
            BOOST_TEST_REQUIRE(refused.has_value());
            storage::quota_repository quotas(*db);
            const auto today = storage::utc_day(
                std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now()));
            const bool refunded = co_await eventually(
                [&] { return quotas.used(user, storage::quota_kind::video, today) == 0; });
            BOOST_TEST(refunded);
            co_await finish();
        }(),
        std::chrono::seconds(40));
}

BOOST_FIXTURE_TEST_CASE(a_job_past_the_poll_timeout_ends_with_a_localized_message, openai_world) {
    test::run_test(
        ioc,
        [&]() -> awaitable<void> {
            cfg.video.poll_timeout = 1500ms;
            sim_cfg.openai.render_time = 60s; // never done within the poll timeout
            co_await start();
            auto& t = sims->telegram();
            const auto user = t.add_user({.first_name = "Elif", .language_code = "tr"});
            co_await onboard(*this, user, "elif");
            co_await take_selfie(*this, user);
            co_await ask_video(*this, user, "tr", "vid:last");
            auto timeout = co_await next(
                user,
                [&](const item& i) { return text(i) && i.text == locales.text("tr", "video.timeout"); },
                20s);
            BOOST_TEST_REQUIRE(timeout.has_value());
            co_await finish();
        }(),
        std::chrono::seconds(40));
}

BOOST_FIXTURE_TEST_CASE(a_restart_while_submitted_finishes_with_one_create_per_job, openai_world) {
    test::run_test(ioc, [&]() -> awaitable<void> {
        sim_cfg.openai.render_time = 1500ms;
        co_await start();
        auto& t = sims->telegram();
        const auto user = t.add_user({.first_name = "Defne", .language_code = "tr"});
        co_await onboard(*this, user, "defne");
        co_await take_selfie(*this, user);
        co_await restart_while_rendering(*this, user, "tr");
        BOOST_TEST(sims->openai().video_creates().size() == 1U);
        co_await finish();
    }());
}

BOOST_FIXTURE_TEST_CASE(a_job_left_submitting_ends_submit_unknown_with_an_apology_and_no_second_create,
                        openai_world) {
    test::run_test(ioc, [&]() -> awaitable<void> {
        start_sims();
        const std::int64_t user = 555001;
        const auto id = job_left_submitting(*this, user, "ru", "masha");
        storage::video_job_repository jobs(*db);
        // The process was killed here, between committing `submitting` and storing the id.
        sims->telegram().add_user({.id = user, .first_name = "Masha fan", .language_code = "ru"});
        start_bot();
        auto apology = co_await next(user, text, 10s);
        BOOST_TEST_REQUIRE(apology.has_value());
        BOOST_TEST(apology->text == locales.text("ru", "video.lost"));
        BOOST_TEST((jobs.get(id)->state == job_state::submit_unknown));
        // Resumed and polling: whatever the start would have submitted, it would have by now.
        BOOST_TEST_REQUIRE(
            co_await eventually([&] { return bot->stats().polls >= 1U && bot->video_jobs_running() == 0U; }));
        BOOST_TEST(sims->openai().video_creates().empty());
        co_await finish();
    }());
}

BOOST_FIXTURE_TEST_CASE(a_job_that_ended_before_its_message_went_out_tells_the_user_at_the_next_start,
                        openai_world) {
    test::run_test(ioc, [&]() -> awaitable<void> {
        start_sims();
        const std::int64_t user = 555002;
        const auto id = job_left_submitting(*this, user, "tr", "elif");
        storage::video_job_repository jobs(*db);
        const auto now =
            std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
        storage::job_fields f;
        f.error = "moderation";
        f.notice = "video.refused";
        BOOST_TEST(jobs.transition(id, job_state::submitting, job_state::refused, f, now).has_value());
        // The process was killed here, after the job ended and before the user heard of it.
        sims->telegram().add_user({.id = user, .first_name = "Elif fan", .language_code = "tr"});
        start_bot();
        auto told = co_await next(user, text, 10s);
        BOOST_TEST_REQUIRE(told.has_value());
        BOOST_TEST(told->text == locales.text("tr", "video.refused"));
        const bool cleared = co_await eventually([&] { return jobs.pending_notices().empty(); });
        BOOST_TEST(cleared);
        // Told once: the next start has nothing more to say.
        co_await stop_bot();
        const auto before = sims->telegram().sent_to(user).size();
        start_bot();
        // Started and polling: a notice still owed would have been sent before the first poll.
        BOOST_TEST_REQUIRE(
            co_await eventually([&] { return bot->stats().polls >= 1U && bot->video_jobs_running() == 0U; }));
        BOOST_TEST(sims->telegram().sent_to(user).size() == before);
        BOOST_TEST((jobs.get(id)->state == job_state::refused));
        co_await finish();
    }());
}

BOOST_FIXTURE_TEST_CASE(two_requests_at_once_make_one_job, openai_world) {
    test::run_test(ioc, [&]() -> awaitable<void> {
        sim_cfg.openai.render_time = 1s;
        co_await start();
        auto& t = sims->telegram();
        const auto user = t.add_user({.first_name = "Katya", .language_code = "ru"});
        co_await onboard(*this, user, "katya");
        co_await take_selfie(*this, user);
        t.user_sends_text(user, locales.text("ru", "btn.video"));
        auto offer = co_await video_offer(user);
        BOOST_TEST_REQUIRE(offer.has_value());
        t.user_presses_button(user, offer->message_id, "vid:last");
        t.user_presses_button(user, offer->message_id, "vid:new");
        // The second press is answered with a toast, not a chat message.
        auto busy = co_await next(
            user,
            [&](const item& i) {
                return i.what == item::kind::callback_answer && i.text.find("🎬") != std::string::npos;
            },
            10s);
        BOOST_TEST_REQUIRE(busy.has_value());
        auto clip = co_await next(user, is_video, 20s);
        BOOST_TEST_REQUIRE(clip.has_value());
        BOOST_TEST(sims->openai().video_creates().size() == 1U);
        co_await finish();
    }());
}

BOOST_FIXTURE_TEST_CASE(the_daily_spend_cap_stops_videos_with_a_localized_message, openai_world) {
    test::run_test(ioc, [&]() -> awaitable<void> {
        cfg.video.daily_spend_cap_cents = 30; // below one 4-second clip at 10 cents a second
        co_await start();
        const auto user = sims->telegram().add_user({.first_name = "Aylin", .language_code = "tr"});
        co_await onboard(*this, user, "aylin");
        co_await take_selfie(*this, user);
        co_await ask_video(*this, user, "tr", "vid:last");
        auto capped = co_await next(
            user,
            [&](const item& i) { return text(i) && i.text == locales.text("tr", "quota.spend"); },
            10s);
        BOOST_TEST_REQUIRE(capped.has_value());
        BOOST_TEST(sims->openai().video_creates().empty());
        co_await finish();
    }());
}

BOOST_FIXTURE_TEST_CASE(presses_of_new_video_past_the_caps_make_no_paid_call, openai_world) {
    test::run_test(ioc, [&]() -> awaitable<void> {
        cfg.video.daily_spend_cap_cents = 30; // below one clip
        cfg.video.videos_per_day = 100;
        cfg.selfies_per_day = 2;
        co_await start();
        const auto user = sims->telegram().add_user({.first_name = "Aylin", .language_code = "tr"});
        co_await onboard(*this, user, "aylin");
        const auto images = sims->gemini().image_prompts().size();
        const auto llm = sims->openai().chat_requests();
        for (int i = 0; i < 3; ++i) {
            co_await ask_video(*this, user, "tr", "vid:new");
            auto capped = co_await next(
                user,
                [&](const item& it) { return text(it) && it.text == locales.text("tr", "quota.spend"); },
                10s);
            BOOST_TEST_REQUIRE(capped.has_value());
        }
        // Before the fix each press rendered a selfie (an LLM and an image call) first.
        BOOST_TEST(sims->gemini().image_prompts().size() == images);
        BOOST_TEST(sims->openai().chat_requests() == llm);
        BOOST_TEST(sims->openai().video_creates().empty());
        storage::quota_repository quotas(*db);
        const auto today = storage::utc_day(
            std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now()));
        BOOST_TEST(quotas.used(user, storage::quota_kind::video, today) == 0);
        BOOST_TEST(quotas.used(user, storage::quota_kind::selfie, today) == 0);
        co_await finish();
    }());
}

BOOST_FIXTURE_TEST_CASE(a_new_video_counts_its_selfie_against_the_selfie_quota, openai_world) {
    test::run_test(ioc, [&]() -> awaitable<void> {
        cfg.selfies_per_day = 1;
        co_await start();
        const auto user = sims->telegram().add_user({.first_name = "Aylin", .language_code = "tr"});
        co_await onboard(*this, user, "aylin");
        co_await take_selfie(*this, user); // the day's only selfie
        const auto images = sims->gemini().image_prompts().size();
        co_await ask_video(*this, user, "tr", "vid:new");
        auto refused = co_await next(
            user,
            [&](const item& it) { return text(it) && it.text == locales.text("tr", "quota.selfies"); },
            10s);
        BOOST_TEST_REQUIRE(refused.has_value());
        BOOST_TEST(sims->gemini().image_prompts().size() == images); // no free image
        storage::quota_repository quotas(*db);
        const auto today = storage::utc_day(
            std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now()));
        BOOST_TEST(quotas.used(user, storage::quota_kind::video, today) == 0); // not charged either
        co_await finish();
    }());
}

BOOST_FIXTURE_TEST_CASE(a_thousand_jobs_poll_while_another_chat_is_answered, openai_world) {
    test::run_test(
        ioc,
        [&]() -> awaitable<void> {
            constexpr int jobs = 1000;
            sim_cfg.openai.render_time = 1h; // they stay in flight
            cfg.video.poll_interval = 200ms;
            cfg.video.progress_every = 1h;
            cfg.video.action_every = 1h;
            start_sims();
            open_db();
            // Users who already have a selfie.
            const auto selfie = dir.path / "selfie.png";
            { std::ofstream(selfie, std::ios::binary) << sim::media::make_png(720, 1280, {}); }
            const auto now =
                std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
            storage::user_repository users(*db);
            storage::generated_content_repository content(*db);
            db->in_transaction([&] {
                for (int i = 0; i < jobs; ++i) {
                    const std::int64_t id = 700000000 + i;
                    users.record_contact(id, "en", false, now);
                    storage::new_content c;
                    c.user_id = id;
                    c.persona_id = "emma";
                    c.prompt = "A candid selfie of Emma.";
                    c.media_path = selfie.string();
                    c.mime = "image/png";
                    c.created = now;
                    content.insert(c);
                }
            });
            start_bot();
            for (int i = 0; i < jobs; ++i) {
                const std::int64_t id = 700000000 + i;
                co_await bot->request_video(id, id, "emma", "en", storage::video_mode::from_last_selfie);
            }
            const bool all_submitted = co_await eventually(
                [&] {
                    SQLite::Statement q(db->connection(),
                                        "SELECT count(*) FROM video_jobs WHERE state = 'submitted'");
                    q.executeStep();
                    return q.getColumn(0).getInt() == jobs;
                },
                60s);
            BOOST_TEST_REQUIRE(all_submitted);
            // While they poll, another user's chat is answered.
            const auto polls_before = bot->videos()->stats().polls;
            const auto user = sims->telegram().add_user({.first_name = "Chat", .language_code = "en"});
            co_await onboard(*this, user, "elif");
            for (int k = 0; k < 5; ++k) {
                sims->telegram().user_sends_text(user, "hi, are you there?");
                auto reply = co_await next(user, text, 10s);
                BOOST_TEST_REQUIRE(reply.has_value());
            }
            BOOST_TEST(bot->videos()->stats().polls > polls_before); // they were polling meanwhile
            // Between polls the jobs are records in one scheduler, not tasks (no frame, no timer
            // each): the process runs far fewer tasks than jobs, however many are due at once.
            BOOST_TEST(bot->videos()->running() == static_cast<std::size_t>(jobs));
            BOOST_TEST(bot->videos()->sleeping() > 0U);
            BOOST_TEST(engine::task_group::live_tasks() < static_cast<std::size_t>(jobs) / 4);
            BOOST_TEST(sims->openai().video_creates().size() ==
                       static_cast<std::size_t>(jobs)); // one create per job
            co_await finish();
        }(),
        std::chrono::seconds(120));
}

BOOST_AUTO_TEST_SUITE_END()
