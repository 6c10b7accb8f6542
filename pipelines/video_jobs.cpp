// The video job driver: carries out the machine's actions.
#include "pipelines/video_jobs.hpp"

#include "engine/error.hpp"
#include "engine/log.hpp"
#include "engine/metrics.hpp"
#include "pipelines/media.hpp"
#include "pipelines/prompt_writer.hpp"
#include "pipelines/prompts.hpp"
#include "pipelines/storage_faults.hpp"
#include "storage/error.hpp"

namespace companion::pipelines {
namespace {

/// Which input a refusal names, for the refusals metric: fal's content checker lists the fields
/// it flagged ("prompt", "image_url"); other providers say "output" or nothing.
std::string refused_input(std::string_view reason) {
    const bool prompt = reason.find("prompt") != std::string_view::npos;
    const bool image = reason.find("image") != std::string_view::npos;
    if (prompt && image) {
        return "prompt_and_image";
    }
    if (prompt || image) {
        return prompt ? "prompt" : "image";
    }
    return reason.find("output") != std::string_view::npos ? "output" : "unknown";
}

void count_refusal(const video_provider_info& info, std::string_view reason) {
    engine::metrics()
        .make_counter("bot_video_refusals_total",
                      "Refusals by the video provider since start (a flirty job's first one included), by "
                      "provider, model and the input it flagged.",
                      {{"provider", info.name}, {"model", info.model}, {"input", refused_input(reason)}})
        .inc();
}

} // namespace

using storage::job_state;
using namespace std::chrono_literals;

// What one job's run keeps between steps, and all a sleeping job is: its machine, its row as
// last read, the progress throttle and, while it is being submitted, the first frame.
struct video_jobs::job_run {
    job_run(const video_machine_config& mc,
            const video_jobs_config& cfg,
            engine::random_source& random,
            std::size_t& live)
        : machine(mc, random), progress(cfg.progress_every, cfg.action_every), live_(live) {
        ++live_;
    }
    ~job_run() { --live_; }
    job_run(const job_run&) = delete;
    job_run& operator=(const job_run&) = delete;

    video_job_machine machine;
    progress_throttle progress;
    storage::video_job job{};
    std::string lang;
    image_bytes frame{};
    int faults = 0;            ///< storage faults in a row
    bool reload_first = false; ///< parked after a fault: read the row again on waking

private:
    std::size_t& live_;
};

video_jobs::video_jobs(engine::executor ex,
                       bot_services& svc,
                       sender& out,
                       selfie_pipeline& selfies,
                       video_jobs_config cfg)
    : ex_(ex),
      svc_(svc),
      out_(out),
      selfies_(selfies),
      provider_(*svc.videos),
      cfg_(std::move(cfg)),
      machine_cfg_{.poll_interval = cfg_.poll_interval,
                   .poll_timeout = cfg_.poll_timeout,
                   .submit_attempts = cfg_.submit_attempts,
                   .submit_budget = cfg_.submit_budget,
                   .download_attempts = cfg_.download_attempts,
                   .download_budget = cfg_.download_budget,
                   .seconds =
                       pipelines::effective_seconds(cfg_.requested_seconds, provider_.info().allowed_seconds),
                   .price_cents_per_second = provider_.info().price_cents_per_second,
                   .reports_progress = provider_.info().reports_progress},
      offered_seconds_(offered_lengths(cfg_.offered_seconds, provider_.info().allowed_seconds)),
      delivery_(svc,
                out,
                {.width = provider_.info().width,
                 .height = provider_.info().height,
                 .debug = cfg_.debug,
                 .admins = cfg_.admins}),
      polls_(ex, svc.time, cfg_.poll_tick),
      jobs_(ex, engine::task_group::config{.name = "video_jobs"}),
      repo_(svc.db),
      content_(svc.db),
      quotas_(svc.db),
      credits_(svc.db),
      users_(svc.db) {
    std::string offered;
    for (const int seconds : offered_seconds_) {
        offered += (offered.empty() ? "" : ",") + std::to_string(seconds);
    }
    engine::log().info("video.provider",
                       {{"provider", provider_.info().name},
                        {"model", provider_.info().model},
                        {"requested_seconds", cfg_.requested_seconds},
                        {"effective_seconds", machine_cfg_.seconds},
                        {"offered_seconds", offered.empty() ? std::string("none") : offered}});
}

video_jobs::~video_jobs() = default;

engine::awaitable<void> video_jobs::resume() {
    const auto now = svc_.time.wall();
    // Jobs cut off while submitting end submit_unknown; their refunds commit with that change. A
    // lock held by another connection at start is waited out.
    std::vector<storage::video_job> lost;
    co_await through_storage_faults(svc_.time, "recovering video jobs", [&] {
        lost = svc_.db.in_transaction([&] {
            auto jobs = repo_.recover_after_crash(now);
            for (const auto& job : jobs) {
                // Paid with credits: they go back; else the day's free video does.
                if (credits_.refund_job(job.id) == 0) {
                    quotas_.refund(job.user_id, storage::quota_kind::video, storage::utc_day(job.created));
                }
            }
            return jobs;
        });
    });
    for (const auto& job : lost) {
        ++stats_.submit_unknown;
        engine::log().warn("video.submit_unknown", {{"job", job.id}, {"user", job.user_id}});
    }
    const auto language_of = [this](std::int64_t user_id) {
        const auto user = users_.get(user_id);
        return user ? user->language : std::string("en");
    };
    // Every ended job whose user was not told yet (those just recovered, and any whose message a
    // crash cut off) is told now.
    for (const auto& job : repo_.pending_notices()) {
        engine::log().info("video.notice_pending", {{"job", job.id}, {"notice", job.notice.value_or("")}});
        if (!jobs_.spawn(
                notify(job.id, job.chat_id, language_of(job.user_id), job.notice.value_or("video.failed")))) {
            engine::log().warn("video.notice_deferred",
                               {{"job", job.id}}); // stopping: owed at the next start
        }
    }
    for (const auto& job : repo_.unfinished()) {
        engine::log().info("video.resume",
                           {{"job", job.id}, {"state", std::string(storage::to_string(job.state))}});
        if (!start(job.id, language_of(job.user_id))) {
            engine::log().warn("video.resume_deferred", {{"job", job.id}});
        }
    }
    co_return;
}

engine::awaitable<void> video_jobs::shutdown(engine::duration grace) {
    // Sleeping jobs are records, not tasks: they are dropped at once (each stays in the database
    // where it stands and resumes at the next start), and nothing in flight can park again.
    polls_.close();
    co_await jobs_.shutdown(grace);
}

bool video_jobs::start(std::int64_t job_id, std::string lang) {
    return jobs_.spawn(begin(job_id, std::move(lang)));
}

bool video_jobs::reload(job_run& jr) {
    auto loaded = repo_.get(jr.job.id);
    if (!loaded) {
        return false;
    }
    jr.job = std::move(*loaded);
    return true;
}

job_event::entered video_jobs::entered(const job_run& jr) const {
    return job_event::entered{svc_.personas.find(jr.job.persona_id) != nullptr};
}

engine::awaitable<void> video_jobs::begin(std::int64_t job_id, std::string lang) {
    auto jr = std::make_unique<job_run>(machine_cfg_, cfg_, svc_.random, live_);
    jr->job.id = job_id;
    jr->lang = std::move(lang);
    if (!reload(*jr)) {
        co_return;
    }
    auto step = jr->machine.on(jr->job, entered(*jr), svc_.time.wall());
    co_await drive(std::move(jr), std::move(step), lane::own);
}

void video_jobs::park(job_ptr jr, engine::wall_time at) {
    if (!pollers_started_) {
        // The scheduler's timer loop and the poll workers start with the first job that waits.
        pollers_started_ = true;
        bool started = jobs_.spawn(polls_.dispatch());
        for (std::size_t i = 0; started && i < cfg_.poll_workers; ++i) {
            started = jobs_.spawn(poll_worker());
        }
        if (!started) {
            engine::log().info("video.pollers_not_started", {{"job", jr->job.id}}); // stopping
        }
    }
    if (jr->job.state == job_state::submitted) {
        // Its prompts are in its row and no poll reads them: every step that does again (a
        // refusal's retry, the delivery's caption) follows a transition, which reloads the row.
        // Thousands of sleeping jobs need not hold a kilobyte of prompt each.
        jr->job.video_prompt.reset();
        jr->job.selfie_prompt.reset();
    }
    const auto id = jr->job.id;
    if (!polls_.schedule(svc_.time.now() + (at - svc_.time.wall()), std::move(jr))) {
        // Stopping: the job stays in the database where it stands and resumes at the next start.
        engine::log().debug("video.park_refused", {{"job", id}});
    }
}

engine::awaitable<void> video_jobs::poll_worker() {
    while (auto jr = co_await polls_.next()) {
        co_await wake(std::move(*jr));
    }
}

engine::awaitable<void> video_jobs::wake(job_ptr jr) {
    if (jr->reload_first) {
        // A storage fault parked it: the row is read again, as it may have moved since.
        std::exception_ptr fault;
        try {
            jr->reload_first = false;
            if (!reload(*jr)) {
                co_return; // erased (by /forget) meanwhile: nothing left to do
            }
        } catch (...) {
            fault = std::current_exception();
        }
        if (fault) {
            co_await on_fault(std::move(jr), fault);
            co_return;
        }
    }
    auto step = jr->machine.on(jr->job, entered(*jr), svc_.time.wall());
    co_await drive(std::move(jr), std::move(step), lane::poller);
}

engine::awaitable<void> video_jobs::drive(job_ptr jr, video_job_step step, lane where) {
    for (;;) {
        video_job_event event;
        std::exception_ptr fault;
        try {
            if (step.progress) {
                co_await report(*jr, *step.progress);
            }
            if (const auto* stop = std::get_if<job_action::stop>(&step.action)) {
                engine::log().debug("video.run_ended", {{"job", jr->job.id}, {"reason", stop->reason}});
                co_return;
            }
            if (const auto* wait = std::get_if<job_action::wait_until>(&step.action)) {
                park(std::move(jr), wait->at);
                co_return;
            }
            if (where == lane::poller && !std::holds_alternative<job_action::poll>(step.action) &&
                !std::holds_alternative<job_action::transition>(step.action)) {
                // A download, the delivery or an ending takes longer than a poll: it goes on in a
                // task of its own and leaves the poll workers to the polls.
                const auto id = jr->job.id;
                if (!jobs_.spawn(drive(std::move(jr), std::move(step), lane::own))) {
                    engine::log().debug("video.run_deferred", {{"job", id}}); // stopping: resumes at start
                }
                co_return;
            }
            event = co_await execute(*jr, step.action);
            if (std::holds_alternative<job_action::finish>(step.action) ||
                std::holds_alternative<job_action::complete>(step.action)) {
                co_return;
            }
            jr->faults = 0;
        } catch (...) {
            fault = std::current_exception();
        }
        if (fault) {
            co_await on_fault(std::move(jr), fault);
            co_return;
        }
        step = jr->machine.on(jr->job, event, svc_.time.wall());
    }
}

engine::awaitable<void> video_jobs::on_fault(job_ptr jr, std::exception_ptr fault) {
    if (engine::is_cancellation(fault)) {
        std::rethrow_exception(fault); // a stop: the job stays resumable where it stands
    }
    // A storage fault (a locked or full disk): the row still says where the job stands.
    const auto id = jr->job.id;
    engine::log().error("video.step_failed",
                        {{"job", id}, {"faults", jr->faults + 1}, {"error", engine::describe(fault)}});
    if (++jr->faults >= cfg_.step_faults) {
        auto told = co_await out_.text(jr->job.chat_id, svc_.locales.text(jr->lang, "video.interrupted"));
        if (!told) {
            engine::log().warn("video.interrupted_not_told", {{"job", id}});
        }
        co_return; // resumes at the next start
    }
    // Tried again after a back-off, from the row as it then stands.
    jr->reload_first = true;
    const auto backoff = std::chrono::seconds(1 << std::min(jr->faults, 5));
    park(std::move(jr), svc_.time.wall() + backoff);
}

engine::awaitable<video_job_event> video_jobs::execute(job_run& jr, const video_job_action& action) {
    const auto& job = jr.job;
    if (const auto* t = std::get_if<job_action::transition>(&action)) {
        co_return co_await transition(jr, *t);
    }
    if (std::holds_alternative<job_action::find_last_selfie>(action)) {
        std::optional<selfie_ref> found;
        if (auto last = content_.last_selfie(job.user_id, job.persona_id)) {
            found = selfie_ref{last->id, last->prompt, last->media_path};
        }
        co_return job_event::last_selfie_found{std::move(found)};
    }
    const persona* p = svc_.personas.find(job.persona_id);
    if (p == nullptr) {
        co_return job_event::entered{false}; // removed from the catalog since: the job ends
    }
    if (std::holds_alternative<job_action::make_selfie>(action)) {
        // The job's own ending message says it if the selfie is not made: one message, not two.
        auto made = co_await selfies_.make(job.user_id, job.chat_id, *p, jr.lang, selfie_notice::by_caller);
        co_return job_event::selfie_made{std::move(made.selfie), made.refused};
    }
    if (const auto* w = std::get_if<job_action::write_prompt>(&action)) {
        const auto clip = std::chrono::seconds(jr.machine.seconds_of(job));
        auto prompt = co_await write_video_prompt(svc_.llm, *p, w->selfie_prompt, w->flirty, clip);
        co_return job_event::prompt_written{std::move(prompt)};
    }
    if (const auto* f = std::get_if<job_action::prepare_frame>(&action)) {
        co_return co_await prepare_frame(jr, f->path);
    }
    if (const auto* s = std::get_if<job_action::check_spend>(&action)) {
        const auto today = storage::utc_day(svc_.time.wall());
        // The day's spend and the job's own record of it move together: a resumed job knows it
        // holds its spend and does not reserve it twice.
        const bool admitted = svc_.db.in_transaction([&] {
            if (!quotas_.try_spend(spend_key(), today, s->cents, cfg_.daily_spend_cap_cents)) {
                return false;
            }
            if (auto kept = repo_.set_spend_reserved(job.id, s->cents, svc_.time.wall()); !kept) {
                // The row is gone (erased by /forget): nothing is reserved, the run ends at reload.
                throw storage::error(storage::errc::not_found,
                                     "video job " + std::to_string(job.id) +
                                         " vanished while reserving its spend");
            }
            return true;
        });
        if (!admitted) {
            // The operator's line: what today's spend was, against which cap.
            engine::log().warn("video.spend_refused",
                               {{"job", job.id},
                                {"cents", s->cents},
                                {"spent_today", quotas_.spent_total(today)},
                                {"cap", cfg_.daily_spend_cap_cents}});
        }
        co_return job_event::spend_checked{admitted};
    }
    if (std::holds_alternative<job_action::submit>(action)) {
        // Committed before the create goes out: a restart from here on cannot know whether the
        // provider has the job, so it declares it submit_unknown (never a second create).
        if (auto marked = repo_.mark_create(job.id, svc_.time.wall(), svc_.time.wall()); !marked) {
            engine::log().error("video.create_not_marked",
                                {{"job", job.id}, {"error", marked.error().message()}});
            co_return job_event::stored{false}; // the row moved elsewhere: this run stops
        }
        ++stats_.creates;
        video_submit sub{job.video_prompt.value_or(""),
                         jr.frame.bytes,
                         jr.frame.mime,
                         jr.machine.seconds_of(job)};
        auto created = co_await provider_.submit(std::move(sub));
        if (!created && created.error().kind != video_error_kind::unknown_outcome) {
            // Certainly not created: a restart while this job waits to try again resumes it.
            // Should the clear fail, the mark stays and a restart calls the job lost: the safe
            // side, as no second create can follow.
            if (auto cleared = repo_.mark_create(job.id, std::nullopt, svc_.time.wall()); !cleared) {
                engine::log().warn("video.create_mark_kept",
                                   {{"job", job.id}, {"error", cleared.error().message()}});
            }
        }
        if (created) {
            jr.frame.release(); // a created job needs no frame; a sleeping poller should not hold one
            engine::log().info("video.submitted", {{"job", job.id}, {"provider_job", *created}});
        }
        co_return job_event::submitted{std::move(created)};
    }
    if (std::holds_alternative<job_action::poll>(action)) {
        ++stats_.polls;
        auto polled = co_await provider_.poll(job.provider_job_id.value_or(""));
        if (!polled) {
            ++stats_.poll_errors;
        }
        co_return job_event::polled{std::move(polled)};
    }
    if (std::holds_alternative<job_action::download>(action)) {
        const auto path = svc_.media.directory() / ("video-" + std::to_string(job.id) + ".mp4");
        auto file = co_await provider_.download(job.provider_job_id.value_or(""), path);
        co_return job_event::downloaded{std::move(file)};
    }
    if (const auto* d = std::get_if<job_action::deliver>(&action)) {
        const auto outcome = co_await delivery_.deliver(job, jr.lang, d->file, jr.machine.seconds_of(job));
        co_return job_event::delivered{outcome};
    }
    if (const auto* f = std::get_if<job_action::finish>(&action)) {
        co_await finish(jr, *f);
    } else if (std::holds_alternative<job_action::complete>(action)) {
        co_await complete(jr);
    }
    co_return job_event::stored{true};
}

engine::awaitable<video_job_event> video_jobs::transition(job_run& jr, const job_action::transition& t) {
    const auto& job = jr.job;
    const bool moved = svc_.db.in_transaction([&] {
        auto r = repo_.transition(job.id, job.state, t.to, t.fields, svc_.time.wall());
        if (!r) {
            engine::log().error("video.transition_failed",
                                {{"job", job.id},
                                 {"to", std::string(storage::to_string(t.to))},
                                 {"error", r.error().message()}});
            return false;
        }
        if (t.settle_spend_cents) {
            // The provider said what the job cost: the day's spend moves from the estimate to it.
            quotas_.adjust_spend(spend_key(),
                                 storage::utc_day(job.created),
                                 *t.settle_spend_cents - job.spend_reserved_cents);
            if (auto kept = repo_.set_spend_reserved(job.id, *t.settle_spend_cents, svc_.time.wall());
                !kept) {
                throw storage::error(storage::errc::not_found,
                                     "video job " + std::to_string(job.id) +
                                         " vanished while its cost was settled");
            }
            engine::log().info("video.cost_settled",
                               {{"job", job.id},
                                {"estimated_cents", job.spend_reserved_cents},
                                {"reported_cents", *t.settle_spend_cents}});
        }
        if (t.refund_spend_cents != 0) {
            quotas_.refund_spend(spend_key(), storage::utc_day(job.created), t.refund_spend_cents);
            if (auto back = repo_.set_spend_reserved(job.id, 0, svc_.time.wall()); !back) {
                throw storage::error(storage::errc::not_found,
                                     "video job " + std::to_string(job.id) +
                                         " vanished while its spend went back");
            }
        }
        return true;
    });
    if (moved && t.to == job_state::prompting && job.state != job_state::requested) {
        ++stats_.refusal_retries;
        count_refusal(provider_.info(), t.fields.error.value_or(""));
        jr.frame.release();
    }
    co_return job_event::stored{moved && reload(jr)};
}

engine::awaitable<video_job_event> video_jobs::prepare_frame(job_run& jr, std::string path) {
    const auto& info = provider_.info();
    auto load = [path = std::move(path), exact = info.exact_size_frame, w = info.width, h = info.height] {
        return load_first_frame(path, exact, w, h);
    };
    auto frame = co_await svc_.offload.run(std::move(load));
    if (!frame) {
        co_return job_event::frame_prepared{frame.error()};
    }
    jr.frame = std::move(*frame);
    co_return job_event::frame_prepared{std::nullopt};
}

engine::awaitable<void> video_jobs::report(job_run& jr, const job_progress& progress) {
    const auto now = svc_.time.now();
    if (jr.progress.action_due(now)) {
        co_await out_.action(jr.job.chat_id, tg::chat_action::upload_video);
    }
    if (!jr.job.progress_message_id) {
        co_return;
    }
    const auto& l = svc_.locales;
    const auto elapsed =
        l.elapsed(jr.lang,
                  std::chrono::duration_cast<std::chrono::seconds>(svc_.time.wall() - jr.job.created));
    const std::string stage = l.text(jr.lang, "video.stage." + std::string(progress.stage));
    std::string text =
        progress.percent
            ? l.text(jr.lang,
                     "video.progress_percent",
                     {{"stage", stage}, {"percent", std::to_string(*progress.percent)}, {"elapsed", elapsed}})
            : l.text(jr.lang, "video.progress", {{"stage", stage}, {"elapsed", elapsed}});
    if (!jr.progress.edit_due(now, text)) {
        co_return;
    }
    tg::edit_message_text_params params;
    params.chat_id = jr.job.chat_id;
    params.message_id = *jr.job.progress_message_id;
    params.text = std::move(text);
    params.caption = jr.job.progress_is_caption;
    if (auto edited = co_await out_.edit(std::move(params)); !edited) {
        // The next report tries again with newer text; the job itself goes on.
        engine::log().debug("video.progress_not_shown",
                            {{"job", jr.job.id}, {"reason", to_string(edited.error().reason)}});
    }
}

engine::awaitable<void> video_jobs::finish(job_run& jr, const job_action::finish& f) {
    const auto& job = jr.job;
    storage::job_fields fields;
    fields.error = f.error;
    fields.notice = f.notice;
    // The end, the refund (the user pays for delivered videos only) and the message still owed
    // commit together: a crash before the message is sent repeats it at the next start.
    const bool moved = svc_.db.in_transaction([&] {
        auto r = repo_.transition(job.id, job.state, f.terminal, fields, svc_.time.wall());
        if (!r) {
            engine::log().error("video.transition_failed", {{"job", job.id}, {"error", r.error().message()}});
            return false;
        }
        // The user pays for delivered videos only: the credits the job was paid with go back (once:
        // their row goes with them), else the day's free video does.
        if (const int back = credits_.refund_job(job.id); back != 0) {
            engine::log().info("video.credits_refunded",
                               {{"job", job.id}, {"user", job.user_id}, {"credits", back}});
        } else {
            quotas_.refund(job.user_id, storage::quota_kind::video, storage::utc_day(job.created));
        }
        if (job.mode == storage::video_mode::new_video && !job.image_path && !jr.machine.has_selfie()) {
            // Its selfie was never made: the selfie charged at admission goes back too. A selfie
            // that was made was spent, whatever became of the video.
            quotas_.refund(job.user_id, storage::quota_kind::selfie, storage::utc_day(job.created));
        }
        if (f.refund_spend_cents != 0) {
            quotas_.refund_spend(spend_key(), storage::utc_day(job.created), f.refund_spend_cents);
        }
        return true;
    });
    if (f.terminal == job_state::refused) {
        ++stats_.refused;
        count_refusal(provider_.info(), f.error);
    } else if (f.terminal == job_state::submit_unknown) {
        ++stats_.submit_unknown;
    } else {
        ++stats_.failed;
    }
    if (f.alert_operator) {
        engine::log().error(
            "video.provider_misconfigured",
            {{"provider", provider_.info().name}, {"model", provider_.info().model}, {"error", f.error}});
    }
    engine::log().warn(
        "video.ended",
        {{"job", job.id}, {"state", std::string(storage::to_string(f.terminal))}, {"error", f.error}});
    co_await close_progress(jr, "video.progress_stopped");
    if (moved) {
        co_await notify(job.id, job.chat_id, jr.lang, f.notice);
    } else {
        std::string text = svc_.locales.text(jr.lang, f.notice);
        if (auto told = co_await out_.text(job.chat_id, std::move(text)); !told) {
            engine::log().warn("video.end_not_told", {{"job", job.id}});
        }
    }
}

engine::awaitable<void> video_jobs::complete(job_run& jr) {
    const auto& job = jr.job;
    auto r = repo_.transition(job.id, job.state, job_state::delivered, {}, svc_.time.wall());
    if (!r) {
        // The video reached the user; the row still says downloading, and the next start finds the
        // sent file (its content row has the file_id) and records the delivery then.
        engine::log().error("video.delivery_not_recorded", {{"job", job.id}, {"error", r.error().message()}});
        co_return;
    }
    ++stats_.delivered;
    co_await close_progress(jr, "video.progress_done");
}

engine::awaitable<void> video_jobs::close_progress(const job_run& jr, std::string_view key) {
    const auto& job = jr.job;
    if (!job.progress_message_id) {
        co_return;
    }
    // The progress line ends saying how it ended and how long it took, not at its last stage
    // (and not repeating the video's caption).
    const auto elapsed = std::chrono::duration_cast<std::chrono::seconds>(svc_.time.wall() - job.created);
    tg::edit_message_text_params done;
    done.chat_id = job.chat_id;
    done.message_id = *job.progress_message_id;
    done.caption = job.progress_is_caption;
    done.text = svc_.locales.text(jr.lang, key, {{"elapsed", svc_.locales.elapsed(jr.lang, elapsed)}});
    if (auto edited = co_await out_.edit(std::move(done)); !edited) {
        // Only the line stays as it was; the video or the ending message is what the user needs.
        engine::log().debug("video.progress_not_closed",
                            {{"job", job.id}, {"reason", to_string(edited.error().reason)}});
    }
}

engine::awaitable<void>
video_jobs::notify(std::int64_t job_id, std::int64_t chat_id, std::string lang, std::string message_key) {
    auto sent = co_await out_.text(chat_id, svc_.locales.text(lang, message_key));
    // Owed until the user has it: an outage (or a stop) leaves the notice for the next start; a
    // user who blocked the bot, or a message Telegram refuses, is not tried again at every start.
    if (!sent && sent.error().reason == send_failure_reason::unavailable) {
        co_return;
    }
    repo_.clear_notice(job_id);
}

} // namespace companion::pipelines
