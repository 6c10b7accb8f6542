// The durable video-job driver (design.md §4): each job's decisions are video_job_machine's; this
// class only carries out its actions (database transitions, the selfie and prompt pipelines, the
// provider's calls, delivery) and feeds their outcomes back. A job is committed as `submitting`
// before the provider's create, so a crash there ends `submit_unknown` and is never paid twice.
// Thousands of jobs poll concurrently: between polls a job is a record in one scheduler (the
// machine, its row and the progress throttle; no coroutine frame and no timer of its own), and a
// bounded set of poll workers carries out the polls as they come due; longer work (the selfie, the
// prompt, the download, the delivery) runs in a task of the job's own. On start every unfinished
// job resumes where it stood. A storage fault inside a step is retried with back-off; after repeated faults
// the user is told and the job stays resumable for the next start.
#pragma once

#include "engine/due_queue.hpp"
#include "engine/task_group.hpp"
#include "pipelines/selfie.hpp"
#include "pipelines/sender.hpp"
#include "pipelines/services.hpp"
#include "pipelines/video_delivery.hpp"
#include "pipelines/video_job_machine.hpp"
#include "storage/credits.hpp"
#include "storage/generated_content.hpp"
#include "storage/quotas.hpp"
#include "storage/video_jobs.hpp"

#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <vector>

namespace companion::pipelines {

struct video_jobs_config {
    int requested_seconds = 5; ///< the seed's 5 s; mapped per provider
    /// The lengths the video offer lets the user choose from, each mapped to the nearest one the
    /// provider makes; fewer than two distinct lengths: no choice, every clip is requested_seconds.
    std::vector<int> offered_seconds{};
    engine::duration poll_interval = std::chrono::seconds(5);
    engine::duration poll_timeout = std::chrono::minutes(10);
    engine::duration progress_every = std::chrono::seconds(5); ///< edits no more often than this
    engine::duration action_every = std::chrono::seconds(4);   ///< upload_video refresh
    double flirty_probability = 0.5;
    int videos_per_day = 3;
    /// The selfie a "new video" renders first counts against the user's selfie quota.
    int selfies_per_day = 20;
    int daily_spend_cap_cents = 2000;
    debug_info debug = debug_info::admins;
    std::vector<std::int64_t> admins{};
    int submit_attempts = 3; ///< for errors that certainly did not create a job
    engine::duration submit_budget = std::chrono::minutes(5); ///< ...and for this long
    int download_attempts = 3;
    engine::duration download_budget = std::chrono::minutes(15);
    int step_faults = 5; ///< storage faults in a row before a job's run gives up (until restart)
    /// Jobs between polls wait in one scheduler whose deadlines are rounded up to this tick (one
    /// wake-up serves every poll due in it; the jitter of seconds is kept).
    engine::duration poll_tick = std::chrono::milliseconds(2);
    /// The tasks that carry out due polls (at most this many polls in flight to the provider).
    std::size_t poll_workers = 32;
};

struct video_jobs_stats {
    std::uint64_t requested = 0;
    std::uint64_t delivered = 0;
    std::uint64_t failed = 0;
    std::uint64_t refused = 0;
    std::uint64_t refusal_retries = 0;
    std::uint64_t submit_unknown = 0;
    std::uint64_t polls = 0;
    std::uint64_t poll_errors = 0;
    std::uint64_t creates = 0;
};

class video_jobs {
public:
    /// `svc` (with a video provider), `out` and `selfies` must outlive the manager.
    video_jobs(engine::executor ex,
               bot_services& svc,
               sender& out,
               selfie_pipeline& selfies,
               video_jobs_config cfg);
    ~video_jobs();
    video_jobs(const video_jobs&) = delete;
    video_jobs& operator=(const video_jobs&) = delete;

    /// Start-up: jobs left `submitting` become submit_unknown (their refunds and apologies commit
    /// with that change), every notice still owed is sent, and every other unfinished job resumes.
    engine::awaitable<void> resume();

    /// Runs the job `job_id` (committed as `requested`) for a user speaking `lang`. False when
    /// the manager is stopping (the job stays in the database and resumes at the next start).
    [[nodiscard]] bool start(std::int64_t job_id, std::string lang);
    /// The job was created: counts it.
    void count_request() noexcept { ++stats_.requested; }

    /// Stops the running jobs (they stay resumable in the database).
    engine::awaitable<void> shutdown(engine::duration grace);

    const video_jobs_stats& stats() const noexcept { return stats_; }
    /// Jobs being carried out or waiting for their next poll.
    std::size_t running() const noexcept { return live_; }
    /// Jobs waiting for their next poll (records in the scheduler, no task each).
    std::size_t sleeping() const noexcept { return polls_.parked(); }
    /// The length of a clip whose user did not choose one.
    int effective_seconds() const noexcept { return machine_cfg_.seconds; }
    /// The lengths the user chooses from, ascending; empty when there is no choice.
    const std::vector<int>& offered_seconds() const noexcept { return offered_seconds_; }
    /// What one create of a `seconds` clip costs against the daily spend cap.
    std::int64_t create_cents(int seconds) const noexcept {
        return static_cast<std::int64_t>(machine_cfg_.price_cents_per_second) * seconds;
    }
    const video_provider_info& provider_info() const noexcept { return provider_.info(); }
    /// The day's spend is kept per provider and model ("fal fal-ai/kling-video/..."), so /status
    /// shows where the money went; the cap is over all of them.
    std::string spend_key() const { return provider_.info().name + " " + provider_.info().model; }
    const video_jobs_config& config() const noexcept { return cfg_; }

private:
    struct job_run;
    using job_ptr = std::unique_ptr<job_run>;
    /// Where a job's steps run: a poll worker (polls and transitions only) or a task of its own.
    enum class lane { poller, own };

    engine::awaitable<void> begin(std::int64_t job_id, std::string lang);
    /// Carries out `step` and the ones after it, until the job waits (it is parked), ends, or on a
    /// poll worker reaches longer work (handed to a task of its own).
    engine::awaitable<void> drive(job_ptr jr, video_job_step step, lane where);
    /// Parks the job in the scheduler until `at`.
    void park(job_ptr jr, engine::wall_time at);
    engine::awaitable<void> poll_worker();
    /// A parked job is due.
    engine::awaitable<void> wake(job_ptr jr);
    /// A step threw: a stop is rethrown; a storage fault parks the job for a retry, or after
    /// step_faults in a row tells the user and leaves it for the next start.
    engine::awaitable<void> on_fault(job_ptr jr, std::exception_ptr fault);
    job_event::entered entered(const job_run& jr) const;
    bool reload(job_run& jr);
    engine::awaitable<video_job_event> execute(job_run& jr, const video_job_action& action);
    engine::awaitable<video_job_event> transition(job_run& jr, const job_action::transition& t);
    engine::awaitable<video_job_event> prepare_frame(job_run& jr, std::string path);
    engine::awaitable<void> report(job_run& jr, const job_progress& progress);
    engine::awaitable<void> finish(job_run& jr, const job_action::finish& f);
    engine::awaitable<void> complete(job_run& jr);
    /// Edits the progress message, if any, to `key` (with {elapsed}): how the job ended.
    engine::awaitable<void> close_progress(const job_run& jr, std::string_view key);
    /// Tells the user `message_key`; the notice is cleared once they have it (or never can).
    engine::awaitable<void>
    notify(std::int64_t job_id, std::int64_t chat_id, std::string lang, std::string message_key);

    std::size_t live_ = 0; ///< jobs alive (first: every job record refers to it)
    engine::executor ex_;
    bot_services& svc_;
    sender& out_;
    selfie_pipeline& selfies_;
    video_provider& provider_;
    video_jobs_config cfg_;
    video_machine_config machine_cfg_;
    std::vector<int> offered_seconds_;
    video_delivery delivery_;
    engine::due_scheduler<job_ptr> polls_;
    bool pollers_started_ = false;
    engine::task_group jobs_; ///< after polls_: its tasks hold job records and wait on it
    storage::video_job_repository repo_;
    storage::generated_content_repository content_;
    storage::quota_repository quotas_;
    storage::credit_repository credits_;
    storage::user_repository users_;
    video_jobs_stats stats_;
};

} // namespace companion::pipelines
