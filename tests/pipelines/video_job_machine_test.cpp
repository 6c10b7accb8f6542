// Tests of pipelines/video_job_machine: every money and delivery rule of a video job, as tables of
// (row, event) -> action and as short sequences, with scripted randomness and no I/O: one create
// per job ever, a refund whenever nothing is delivered, a flirty refusal retried once clean,
// submit_unknown never resubmitted, the poll timeout, retry_after honoured, the spend reserved
// once and given back when the provider refused or failed for sure.
#include "pipelines/video_job_machine.hpp"
#include "tests/common/print.hpp"

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <functional>
#include <limits>
#include <ostream>
#include <string>
#include <vector>

using namespace companion;
using namespace companion::pipelines;
using namespace std::chrono_literals;
using storage::job_state;

namespace {

const engine::wall_time t0{std::chrono::milliseconds{1'764'547'200'000}};

const video_machine_config config{.poll_interval = 5s,
                                  .poll_timeout = 10min,
                                  .poll_jitter = 0.2,
                                  .submit_attempts = 3,
                                  .download_attempts = 3,
                                  .seconds = 4,
                                  .price_cents_per_second = 10,
                                  .reports_progress = true};
constexpr std::int64_t cents = 40; // 4 s at 10 cents a second

storage::video_job
row(job_state s, bool flirty = false, storage::video_mode mode = storage::video_mode::new_video) {
    storage::video_job j;
    j.id = 7;
    j.user_id = 100;
    j.chat_id = 100;
    j.persona_id = "elif";
    j.provider = "openai";
    j.mode = mode;
    j.flirty = flirty;
    j.state = s;
    j.created = t0;
    j.updated = t0;
    if (s >= job_state::submitting) {
        j.selfie_prompt = "A selfie.";
        j.video_prompt = "Style: ...";
        j.image_path = "/media/selfie.png";
        j.image_content_id = 3;
    }
    if (s >= job_state::submitted) {
        j.provider_job_id = "video_1";
    }
    return j;
}

video_error error(video_error_kind k, std::optional<std::chrono::milliseconds> retry_after = std::nullopt) {
    return {k, "provider said no", retry_after};
}

video_poll poll_status(video_poll::state s, std::optional<int> progress = std::nullopt) {
    return {s, progress, s == video_poll::state::refused ? "moderation" : ""};
}

// What a case expects of the action: its kind and, for transitions and endings, the details.
struct expect {
    std::string kind;                    ///< "transition", "finish", "wait", "stop", "submit", ...
    job_state state = job_state::failed; ///< transition's target / finish's terminal state
    std::string notice{};                ///< finish's notice
    std::int64_t refund = 0;             ///< spend given back
    bool alert = false;
};

std::string kind_of(const video_job_action& a) {
    static const char* names[] = {"transition",
                                  "find_last_selfie",
                                  "make_selfie",
                                  "write_prompt",
                                  "prepare_frame",
                                  "check_spend",
                                  "submit",
                                  "wait",
                                  "poll",
                                  "download",
                                  "deliver",
                                  "finish",
                                  "complete",
                                  "stop"};
    return names[a.index()];
}

struct step_case {
    std::string name;
    storage::video_job job;
    video_job_event event;
    expect want;
};

std::ostream& operator<<(std::ostream& os, const step_case& c) {
    return os << c.name;
}

video_job_event ok_file() {
    return job_event::downloaded{video_file{"/media/video-7.mp4", 1000, "ab", "video/mp4"}};
}

const std::vector<step_case> single_steps{
    {"a new job starts prompting",
     row(job_state::requested),
     job_event::entered{},
     {"transition", job_state::prompting}},
    {"a new video renders its first frame",
     row(job_state::prompting),
     job_event::entered{},
     {"transition", job_state::rendering_image}},
    {"from the last selfie the selfie is looked up",
     row(job_state::prompting, false, storage::video_mode::from_last_selfie),
     job_event::entered{},
     {"find_last_selfie"}},
    {"no last selfie ends the job, refunded",
     row(job_state::prompting, false, storage::video_mode::from_last_selfie),
     job_event::last_selfie_found{},
     {"finish", job_state::failed, "video.no_selfie"}},
    {"the selfie for a new video is made",
     row(job_state::rendering_image),
     job_event::entered{},
     {"make_selfie"}},
    {"a selfie that could not be made ends the job",
     row(job_state::rendering_image),
     job_event::selfie_made{},
     {"finish", job_state::failed, "video.failed"}},
    {"a first frame the image model refused ends the job refused, with one message",
     row(job_state::rendering_image),
     job_event::selfie_made{std::nullopt, true},
     {"finish", job_state::refused, "video.refused"}},
    {"a made selfie gets its video prompt",
     row(job_state::rendering_image),
     job_event::selfie_made{selfie_ref{3, "A selfie.", "/media/s.png"}},
     {"write_prompt"}},
    {"submitting first prepares the frame",
     row(job_state::submitting),
     job_event::entered{},
     {"prepare_frame"}},
    {"a missing frame ends the job before any spend",
     row(job_state::submitting),
     job_event::frame_prepared{"the first frame is missing"},
     {"finish", job_state::failed, "video.failed", 0}},
    {"a prepared frame reserves the spend",
     row(job_state::submitting),
     job_event::frame_prepared{},
     {"check_spend"}},
    {"over the daily spend cap nothing is created",
     row(job_state::submitting),
     job_event::spend_checked{false},
     {"finish", job_state::failed, "quota.spend"}},
    {"an admitted spend creates the job",
     row(job_state::submitting),
     job_event::spend_checked{true},
     {"submit"}},
    {"a created job is stored with its provider id",
     row(job_state::submitting),
     job_event::submitted{std::string("video_1")},
     {"transition", job_state::submitted}},
    {"a create of unknown outcome is never repeated",
     row(job_state::submitting),
     job_event::submitted{error(video_error_kind::unknown_outcome)},
     {"finish", job_state::submit_unknown, "video.lost", 0}},
    {"a create that certainly failed is retried after a wait",
     row(job_state::submitting),
     job_event::submitted{error(video_error_kind::transient)},
     {"wait"}},
    {"a refused create of a flirty prompt goes back to prompting once",
     row(job_state::submitting, true),
     job_event::submitted{error(video_error_kind::refused)},
     {"transition", job_state::prompting}},
    {"a refused create of a clean prompt ends refused",
     row(job_state::submitting),
     job_event::submitted{error(video_error_kind::refused)},
     {"finish", job_state::refused, "video.refused"}},
    {"a retired model ends the job and alerts the operator",
     row(job_state::submitting),
     job_event::submitted{error(video_error_kind::model_gone)},
     {"finish", job_state::failed, "video.unavailable", 0, true}},
    {"a refused key ends the job and alerts the operator",
     row(job_state::submitting),
     job_event::submitted{error(video_error_kind::auth)},
     {"finish", job_state::failed, "video.failed", 0, true}},
    {"a submitted job is polled", row(job_state::submitted), job_event::entered{}, {"poll"}},
    {"a running job waits for its next poll",
     row(job_state::submitted),
     job_event::polled{poll_status(video_poll::state::running, 40)},
     {"wait"}},
    {"a completed job is downloaded",
     row(job_state::submitted),
     job_event::polled{poll_status(video_poll::state::completed)},
     {"transition", job_state::downloading}},
    {"a flirty video refused while rendering is retried clean",
     row(job_state::submitted, true),
     job_event::polled{poll_status(video_poll::state::refused)},
     {"transition", job_state::prompting, "", cents}},
    {"a clean video refused while rendering ends refused, the spend back",
     row(job_state::submitted),
     job_event::polled{poll_status(video_poll::state::refused)},
     {"finish", job_state::refused, "video.refused", cents}},
    {"a failed render ends the job, refunded",
     row(job_state::submitted),
     job_event::polled{poll_status(video_poll::state::failed)},
     {"finish", job_state::failed, "video.failed"}},
    {"a poll that failed transiently waits",
     row(job_state::submitted),
     job_event::polled{error(video_error_kind::transient)},
     {"wait"}},
    {"a poll refused for good ends the job",
     row(job_state::submitted),
     job_event::polled{error(video_error_kind::auth)},
     {"finish", job_state::failed, "video.failed"}},
    {"a downloading job downloads", row(job_state::downloading), job_event::entered{}, {"download"}},
    {"a downloaded video is delivered", row(job_state::downloading), ok_file(), {"deliver"}},
    {"a download refused for good ends the job",
     row(job_state::downloading),
     job_event::downloaded{error(video_error_kind::expired)},
     {"finish", job_state::failed, "video.failed"}},
    {"a sent video completes the job",
     row(job_state::downloading),
     job_event::delivered{delivery::sent},
     {"complete"}},
    {"an uncertain delivery ends 'lost', refunded",
     row(job_state::downloading),
     job_event::delivered{delivery::uncertain},
     {"finish", job_state::failed, "video.lost"}},
    {"a failed delivery ends the job, refunded",
     row(job_state::downloading),
     job_event::delivered{delivery::failed},
     {"finish", job_state::failed, "video.failed"}},
    {"a delivered job does nothing more", row(job_state::delivered), job_event::entered{}, {"stop"}},
    {"a submit_unknown job is never resumed", row(job_state::submit_unknown), job_event::entered{}, {"stop"}},
    {"a refused job does nothing more", row(job_state::refused), job_event::entered{}, {"stop"}},
    {"a job whose persona is gone ends",
     row(job_state::submitted),
     job_event::entered{false},
     {"finish", job_state::failed, "video.failed"}},
    {"a row moved by someone else stops this run",
     row(job_state::submitted),
     job_event::stored{false},
     {"stop"}},
};

} // namespace

BOOST_AUTO_TEST_SUITE(video_job_machine_suite)

BOOST_DATA_TEST_CASE(one_step, boost::unit_test::data::make(single_steps), c) {
    engine::scripted_random random({0.5});
    video_job_machine m(config, random);
    const auto step = m.on(c.job, c.event, t0 + 1s);
    BOOST_TEST_INFO("event: " << c.event << ", action: " << step.action);
    BOOST_TEST(kind_of(step.action) == c.want.kind);
    if (const auto* t = std::get_if<job_action::transition>(&step.action)) {
        BOOST_TEST(t->to == c.want.state);
        BOOST_TEST(t->refund_spend_cents == c.want.refund);
    }
    if (const auto* f = std::get_if<job_action::finish>(&step.action)) {
        BOOST_TEST(f->terminal == c.want.state);
        BOOST_TEST(f->notice == c.want.notice);
        BOOST_TEST(f->refund_spend_cents == c.want.refund);
        BOOST_TEST(f->alert_operator == c.want.alert);
    }
    if (const auto* w = std::get_if<job_action::wait_until>(&step.action)) {
        BOOST_TEST((w->at > t0 + 1s)); // always a real wait, never a busy loop
    }
}

BOOST_AUTO_TEST_CASE(a_created_job_is_polled_one_interval_later) {
    engine::scripted_random random({0.0});
    video_job_machine m(config, random);
    const auto step = m.on(row(job_state::submitting), job_event::submitted{std::string("video_9")}, t0);
    const auto& t = std::get<job_action::transition>(step.action);
    BOOST_TEST(t.fields.provider_job_id == std::optional<std::string>("video_9"));
    BOOST_TEST((t.fields.next_poll_at == std::optional<engine::wall_time>(t0 + 5s)));
}

BOOST_AUTO_TEST_CASE(the_spend_is_reserved_once_however_often_the_create_is_retried) {
    engine::scripted_random random({0.5});
    video_job_machine m(config, random);
    const auto job = row(job_state::submitting);
    auto now = t0;
    BOOST_TEST(kind_of(m.on(job, job_event::entered{}, now).action) == "prepare_frame");
    BOOST_TEST(kind_of(m.on(job, job_event::frame_prepared{}, now).action) == "check_spend");
    BOOST_TEST(kind_of(m.on(job, job_event::spend_checked{true}, now).action) == "submit");
    int checks = 0;
    int submits = 0;
    // Two creates that certainly failed: each waits, then submits again without a new spend.
    for (int i = 0; i < 2; ++i) {
        const auto wait = m.on(job, job_event::submitted{error(video_error_kind::transient)}, now);
        BOOST_TEST_REQUIRE(kind_of(wait.action) == "wait");
        now = std::get<job_action::wait_until>(wait.action).at;
        const auto again = m.on(job, job_event::entered{}, now);
        checks += kind_of(again.action) == "check_spend" ? 1 : 0;
        submits += kind_of(again.action) == "submit" ? 1 : 0;
    }
    BOOST_TEST(checks == 0);
    BOOST_TEST(submits == 2);
    // The third failure, once the submit budget (5 min) is spent too, is the last: the job ends
    // and the reserved spend goes back.
    const auto end = m.on(job, job_event::submitted{error(video_error_kind::transient)}, t0 + 5min);
    const auto& f = std::get<job_action::finish>(end.action);
    BOOST_TEST(f.notice == "video.failed");
    BOOST_TEST(f.refund_spend_cents == cents);
}

BOOST_AUTO_TEST_CASE(the_length_chosen_with_a_job_sets_its_price_and_refund) {
    struct length_case {
        std::optional<int> chosen;
        int seconds;         ///< the clip the job makes
        std::int64_t priced; ///< what its create reserves and a refusal gives back
    };
    for (const auto& c :
         {length_case{std::nullopt, 4, cents}, length_case{10, 10, 100}, length_case{4, 4, 40}}) {
        BOOST_TEST_CONTEXT("chosen " << c.chosen.value_or(0)) {
            engine::scripted_random random({0.5});
            video_job_machine m(config, random);
            auto job = row(job_state::submitting);
            job.seconds = c.chosen;
            BOOST_TEST(m.seconds_of(job) == c.seconds);
            BOOST_TEST(kind_of(m.on(job, job_event::entered{}, t0).action) == "prepare_frame");
            const auto check = m.on(job, job_event::frame_prepared{}, t0);
            BOOST_TEST(std::get<job_action::check_spend>(check.action).cents == c.priced);
            BOOST_TEST(kind_of(m.on(job, job_event::spend_checked{true}, t0).action) == "submit");
            const auto end = m.on(job, job_event::submitted{error(video_error_kind::refused)}, t0);
            BOOST_TEST(std::get<job_action::finish>(end.action).refund_spend_cents == c.priced);
        }
    }
}

BOOST_AUTO_TEST_CASE(a_job_resumed_in_submitting_reserves_its_spend_once_across_the_restart) {
    struct resume_case {
        std::string name;
        std::int64_t reserved_before; ///< the row's spend_reserved_cents at the restart
        std::string after_frame;      ///< the action once the frame is ready again
    };
    for (const auto& c : {resume_case{"killed before its spend was reserved", 0, "check_spend"},
                          resume_case{"killed while waiting to create again", cents, "submit"}}) {
        engine::scripted_random random({0.5});
        video_job_machine m(config, random);
        auto job = row(job_state::submitting);
        job.spend_reserved_cents = c.reserved_before;
        // The frame lived in the killed process: it is prepared again either way.
        BOOST_TEST(kind_of(m.on(job, job_event::entered{}, t0).action) == "prepare_frame", c.name);
        BOOST_TEST(kind_of(m.on(job, job_event::frame_prepared{}, t0).action) == c.after_frame, c.name);
        // A refused create gives back what the job holds, whichever run reserved it.
        if (c.after_frame == "check_spend") {
            m.on(job, job_event::spend_checked{true}, t0);
        }
        const auto end = m.on(job, job_event::submitted{error(video_error_kind::refused)}, t0);
        BOOST_TEST(std::get<job_action::finish>(end.action).refund_spend_cents == cents, c.name);
    }
}

BOOST_AUTO_TEST_CASE(a_reported_cost_settles_the_reserved_spend) {
    struct cost_case {
        std::string name;
        std::optional<double> cost_usd;
        std::int64_t reserved; ///< the row's spend_reserved_cents (resumed)
        std::optional<std::int64_t> settled;
    };
    const std::vector<cost_case> cases{
        {"a reported cost replaces the estimate", 0.35, cents, 35},
        {"a fraction of a cent is still spent", 0.351, cents, 36},
        {"a cost above the estimate is settled too", 1.20, cents, 120},
        {"no reported cost keeps the estimate", std::nullopt, cents, std::nullopt},
        {"a negative cost is nonsense, not a refund", -1.0, cents, std::nullopt},
        {"an infinite cost is nonsense", std::numeric_limits<double>::infinity(), cents, std::nullopt},
        {"a job holding no spend settles nothing", 0.35, 0, std::nullopt},
    };
    for (const auto& c : cases) {
        engine::scripted_random random({0.5});
        video_job_machine m(config, random);
        auto job = row(job_state::submitted);
        job.spend_reserved_cents = c.reserved;
        BOOST_TEST(kind_of(m.on(job, job_event::entered{}, t0).action) == "poll", c.name);
        auto done = poll_status(video_poll::state::completed);
        done.cost_usd = c.cost_usd;
        const auto step = m.on(job, job_event::polled{done}, t0);
        const auto& t = std::get<job_action::transition>(step.action);
        BOOST_TEST((t.to == job_state::downloading), c.name);
        BOOST_TEST(t.settle_spend_cents.value_or(-1) == c.settled.value_or(-1), c.name);
        BOOST_TEST(t.refund_spend_cents == 0, c.name);
    }
}

BOOST_AUTO_TEST_CASE(a_rate_limited_create_waits_exactly_what_the_provider_asked) {
    engine::scripted_random random({0.5});
    video_job_machine m(config, random);
    const auto step = m.on(row(job_state::submitting),
                           job_event::submitted{error(video_error_kind::rate_limited, 7000ms)},
                           t0);
    BOOST_TEST((std::get<job_action::wait_until>(step.action).at == t0 + 7s));
}

BOOST_AUTO_TEST_CASE(a_refused_create_gives_the_reserved_spend_back) {
    engine::scripted_random random({0.5});
    video_job_machine m(config, random);
    const auto job = row(job_state::submitting, true);
    m.on(job, job_event::frame_prepared{}, t0);
    m.on(job, job_event::spend_checked{true}, t0);
    const auto back = m.on(job, job_event::submitted{error(video_error_kind::refused)}, t0);
    BOOST_TEST(std::get<job_action::transition>(back.action).refund_spend_cents == cents);
    // Back in prompting (and no longer flirty, as the repository stores it), a second refusal ends.
    auto clean = row(job_state::submitting, false);
    BOOST_TEST(kind_of(m.on(clean, job_event::entered{}, t0).action) == "prepare_frame"); // spend again
    m.on(clean, job_event::frame_prepared{}, t0);
    m.on(clean, job_event::spend_checked{true}, t0);
    const auto end = m.on(clean, job_event::submitted{error(video_error_kind::refused)}, t0);
    const auto& f = std::get<job_action::finish>(end.action);
    BOOST_TEST(f.terminal == job_state::refused);
    BOOST_TEST(f.refund_spend_cents == cents);
}

BOOST_AUTO_TEST_CASE(a_job_past_its_poll_timeout_ends_with_the_timeout_message) {
    engine::scripted_random random({0.5});
    video_job_machine m(config, random);
    const auto step = m.on(row(job_state::submitted), job_event::entered{}, t0 + 10min + 1s);
    const auto& f = std::get<job_action::finish>(step.action);
    BOOST_TEST(f.notice == "video.timeout");
    BOOST_TEST(f.terminal == job_state::failed);
}

BOOST_AUTO_TEST_CASE(a_job_resumed_before_its_next_poll_waits_for_it) {
    engine::scripted_random random({0.5});
    video_job_machine m(config, random);
    auto job = row(job_state::submitted);
    job.next_poll_at = t0 + 4s;
    const auto step = m.on(job, job_event::entered{}, t0 + 1s);
    BOOST_TEST((std::get<job_action::wait_until>(step.action).at == t0 + 4s));
    BOOST_TEST(kind_of(m.on(job, job_event::entered{}, t0 + 4s).action) == "poll");
}

BOOST_DATA_TEST_CASE(polls_are_spread_between_one_interval_and_a_fifth_more,
                     boost::unit_test::data::make(std::vector<double>{0.0, 0.25, 0.5, 0.999}),
                     draw) {
    engine::scripted_random random({draw});
    video_job_machine m(config, random);
    const auto step =
        m.on(row(job_state::submitted), job_event::polled{poll_status(video_poll::state::running, 40)}, t0);
    const auto at = std::get<job_action::wait_until>(step.action).at;
    const auto expected = 5000.0 + 1000.0 * draw;
    BOOST_TEST(static_cast<double>((at - t0).count()) == expected, boost::test_tools::tolerance(1.0));
    BOOST_TEST_REQUIRE(step.progress.has_value());
    BOOST_TEST((*step.progress == job_progress{"rendering", 40}));
}

BOOST_AUTO_TEST_CASE(a_provider_without_percent_shows_stage_and_time_only) {
    engine::scripted_random random({0.5});
    auto cfg = config;
    cfg.reports_progress = false;
    video_job_machine m(cfg, random);
    const auto step =
        m.on(row(job_state::submitted), job_event::polled{poll_status(video_poll::state::running, 40)}, t0);
    BOOST_TEST((*step.progress == job_progress{"rendering", std::nullopt}));
}

BOOST_AUTO_TEST_CASE(a_poll_error_waits_at_least_the_interval_and_what_the_provider_asked) {
    engine::scripted_random random({0.0});
    video_job_machine m(config, random);
    const auto job = row(job_state::submitted);
    const auto quick = m.on(job, job_event::polled{error(video_error_kind::transient)}, t0);
    BOOST_TEST((std::get<job_action::wait_until>(quick.action).at >= t0 + 5s));
    const auto asked = m.on(job, job_event::polled{error(video_error_kind::rate_limited, 30000ms)}, t0);
    BOOST_TEST((std::get<job_action::wait_until>(asked.action).at == t0 + 30s));
}

BOOST_AUTO_TEST_CASE(downloads_are_retried_then_the_job_ends) {
    engine::scripted_random random({0.5});
    video_job_machine m(config, random);
    const auto job = row(job_state::downloading);
    BOOST_TEST(kind_of(m.on(job, job_event::downloaded{error(video_error_kind::transient)}, t0).action) ==
               "wait");
    BOOST_TEST(kind_of(m.on(job, job_event::downloaded{error(video_error_kind::transient)}, t0).action) ==
               "wait");
    const auto end = m.on(job, job_event::downloaded{error(video_error_kind::transient)}, t0 + 15min);
    BOOST_TEST(std::get<job_action::finish>(end.action).notice == "video.failed");
}

BOOST_AUTO_TEST_CASE(creates_and_downloads_outlast_an_outage_of_minutes_then_give_up) {
    struct row_case {
        std::string name;
        job_state stage;                           ///< submitting or downloading
        video_error_kind kind;                     ///< of every failure
        std::vector<std::chrono::milliseconds> at; ///< when each failure comes, from t0
        std::vector<std::string> want;             ///< the action after each
    };
    const std::vector<row_case> rows{
        {"three quick refused creates: the provider may be back in a minute",
         job_state::submitting,
         video_error_kind::transient,
         {0s, 1s, 3s},
         {"wait", "wait", "wait"}},
        {"a create outage past the budget (5 min) ends the job",
         job_state::submitting,
         video_error_kind::transient,
         {0s, 1s, 3s, 5min},
         {"wait", "wait", "wait", "finish"}},
        {"a long gap still gets its attempts",
         job_state::submitting,
         video_error_kind::transient,
         {0s, 6min, 6min + 1s},
         {"wait", "wait", "finish"}},
        {"a refused key is final at once", job_state::submitting, video_error_kind::auth, {0s}, {"finish"}},
        {"three quick cut downloads: the provider keeps the file",
         job_state::downloading,
         video_error_kind::transient,
         {0s, 1s, 3s, 10min},
         {"wait", "wait", "wait", "wait"}},
        {"a download outage past its budget (15 min) ends the job",
         job_state::downloading,
         video_error_kind::transient,
         {0s, 1s, 3s, 15min},
         {"wait", "wait", "wait", "finish"}},
    };
    for (const auto& r : rows) {
        engine::scripted_random random({0.5});
        video_job_machine m(video_machine_config{}, random); // the defaults: 3 attempts, 5 and 15 min
        const auto job = row(r.stage);
        for (std::size_t i = 0; i < r.at.size(); ++i) {
            const video_job_event failed = r.stage == job_state::submitting
                                               ? video_job_event{job_event::submitted{error(r.kind)}}
                                               : video_job_event{job_event::downloaded{error(r.kind)}};
            const auto step = m.on(job, failed, t0 + r.at[i]);
            BOOST_TEST(kind_of(step.action) == r.want[i], r.name << ": failure " << i);
        }
    }
}

BOOST_AUTO_TEST_CASE(a_written_prompt_moves_the_job_to_submitting_with_the_chosen_selfie) {
    engine::scripted_random random({0.5});
    video_job_machine m(config, random);
    const auto job = row(job_state::prompting, false, storage::video_mode::from_last_selfie);
    m.on(job, job_event::last_selfie_found{selfie_ref{42, "A candid selfie.", "/media/s42.png"}}, t0);
    const auto step = m.on(job, job_event::prompt_written{"Style: new."}, t0);
    const auto& t = std::get<job_action::transition>(step.action);
    BOOST_TEST(t.to == job_state::submitting);
    BOOST_TEST(t.fields.image_content_id == std::optional<std::int64_t>(42));
    BOOST_TEST(t.fields.image_path == std::optional<std::string>("/media/s42.png"));
    BOOST_TEST(t.fields.selfie_prompt == std::optional<std::string>("A candid selfie."));
    BOOST_TEST(t.fields.video_prompt == std::optional<std::string>("Style: new."));
}

BOOST_AUTO_TEST_CASE(a_job_back_from_a_refusal_keeps_its_first_frame_and_writes_a_clean_prompt) {
    engine::scripted_random random({0.5});
    video_job_machine m(config, random);
    auto job = row(job_state::prompting, false, storage::video_mode::new_video);
    job.image_path = "/media/s.png";
    job.image_content_id = 3;
    job.selfie_prompt = "A selfie.";
    const auto step = m.on(job, job_event::entered{}, t0);
    const auto& w = std::get<job_action::write_prompt>(step.action);
    BOOST_TEST(!w.flirty);
    BOOST_TEST(w.selfie_prompt == "A selfie.");
}

BOOST_AUTO_TEST_CASE(progress_throttle_edits_at_most_every_interval_and_only_changed_text) {
    progress_throttle p(5s, 4s);
    const engine::time_point start{std::chrono::hours(1)};
    BOOST_TEST(p.action_due(start));
    BOOST_TEST(!p.action_due(start + 3s));
    BOOST_TEST(p.action_due(start + 4s));
    BOOST_TEST(p.edit_due(start, "rendering 10%"));
    BOOST_TEST(!p.edit_due(start + 4s, "rendering 20%")); // too soon
    BOOST_TEST(!p.edit_due(start + 6s, "rendering 10%")); // unchanged text
    BOOST_TEST(p.edit_due(start + 6s, "rendering 20%"));
}

BOOST_AUTO_TEST_SUITE_END()
