// The durable video-job manager (design.md §4): each job is the persisted state machine of
// storage/video_jobs, every step committed before the next begins; a job is committed as
// `submitting` before the provider's create call, so a crash there ends `submit_unknown` and is
// never paid twice. Thousands of jobs poll concurrently as sleeping coroutines on the loop,
// with jitter, back-off and the provider's delay honoured; on start every unfinished job resumes
// where it stood and its progress message continues.
#pragma once

#include "engine/task_group.hpp"
#include "net/openai/chat.hpp"
#include "pipelines/locale.hpp"
#include "pipelines/persona.hpp"
#include "pipelines/sender.hpp"
#include "pipelines/video_provider.hpp"
#include "storage/generated_content.hpp"
#include "storage/media_store.hpp"
#include "storage/quotas.hpp"
#include "storage/users.hpp"
#include "storage/video_jobs.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace companion::engine {
class offload_pool;
}

namespace companion::pipelines {

enum class debug_info { off, admins, all };

struct video_jobs_config {
    int requested_seconds = 5; ///< the seed's 5 s; mapped per provider
    engine::duration poll_interval = std::chrono::seconds(5);
    engine::duration poll_timeout = std::chrono::minutes(10);
    engine::duration progress_every = std::chrono::seconds(5); ///< edits no more often than this
    engine::duration action_every = std::chrono::seconds(4);   ///< upload_video refresh
    double flirty_probability = 0.5;
    int videos_per_day = 3;
    int daily_spend_cap_cents = 2000;
    debug_info debug = debug_info::admins;
    std::vector<std::int64_t> admins{};
    int submit_attempts = 3; ///< for errors that certainly did not create a job
    int download_attempts = 3;
};

/// A selfie made for a "new video" job: stored and already sent to the user.
struct made_selfie {
    std::int64_t content_id = 0;
    std::string prompt;
    std::string path;
};

/// Makes and sends a new selfie of `persona` for `user` (the bot's selfie pipeline, without its
/// quota). nullopt when the image model refused or failed (the user has been told).
using selfie_maker = std::function<engine::awaitable<std::optional<
    made_selfie>>(std::int64_t user_id, std::int64_t chat_id, std::string persona_id, std::string lang)>;

struct video_jobs_services {
    storage::database& db;
    storage::media_store& media;
    net::openai::chat_client& llm;
    sender& out;
    const persona_catalog& personas;
    const locale_catalog& locales;
    engine::offload_pool& offload;
    video_provider& provider;
    selfie_maker make_selfie;
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
    video_jobs(engine::executor ex, video_jobs_services services, video_jobs_config cfg);
    ~video_jobs();
    video_jobs(const video_jobs&) = delete;
    video_jobs& operator=(const video_jobs&) = delete;

    /// Start-up: jobs left `submitting` become submit_unknown (their users get the apology),
    /// and every other unfinished job resumes.
    engine::awaitable<void> resume();

    /// A user asks for a video. Checks the limits (one in flight, the daily quota, a selfie for
    /// from_last_selfie), creates the job and starts it; every refusal is a localized message.
    engine::awaitable<void> request(std::int64_t user_id,
                                    std::int64_t chat_id,
                                    std::string persona_id,
                                    std::string lang,
                                    storage::video_mode mode,
                                    bool adult_confirmed);

    /// The localized "still being made (elapsed)" line when `user_id` has a video in flight.
    std::optional<std::string> busy_text(std::int64_t user_id, std::string_view lang);

    /// Stops the running jobs (they stay resumable in the database).
    engine::awaitable<void> shutdown(engine::duration grace);

    const video_jobs_stats& stats() const noexcept { return stats_; }
    std::size_t running() const noexcept { return jobs_.size(); }
    int effective_seconds() const noexcept { return seconds_; }
    const video_provider_info& provider_info() const noexcept { return svc_.provider.info(); }

private:
    struct progress;
    struct job_run;
    enum class next_step { reload, stay, done }; ///< after a step: read the row again, or not
    engine::awaitable<void> run(std::int64_t job_id, std::string lang);
    bool load(std::int64_t job_id, job_run& jr);
    engine::awaitable<next_step> step(job_run& jr);
    engine::awaitable<std::optional<std::string>>
    write_video_prompt(const persona& p, const std::string& selfie_prompt, bool flirty);
    engine::awaitable<void>
    report(progress& pr, const storage::video_job& job, std::string_view stage, std::optional<int> percent);
    /// Tells the user `message_key` and clears the job's pending notice.
    engine::awaitable<void>
    notify(std::int64_t job_id, std::int64_t chat_id, std::string lang, std::string message_key);
    /// Ends the job in `terminal` with the refund and the notice, then tells the user.
    engine::awaitable<void> finish_failed(const storage::video_job& job,
                                          storage::job_state terminal,
                                          std::string lang,
                                          std::string message_key,
                                          std::string error);
    /// The prompt for the one retry after a refusal of a flirty video: the template, not flirty.
    std::string clean_retry_prompt(const persona& p, const storage::video_job& job) const;
    enum class delivery { sent, failed, uncertain };
    engine::awaitable<delivery> deliver(storage::video_job job, std::string lang, video_file file);
    bool show_debug(std::int64_t user_id) const;

    engine::executor ex_;
    video_jobs_services svc_;
    video_jobs_config cfg_;
    int seconds_;
    engine::task_group jobs_;
    storage::video_job_repository repo_;
    storage::generated_content_repository content_;
    storage::quota_repository quotas_;
    storage::user_repository users_;
    video_jobs_stats stats_;
    std::uint64_t rng_ = 0x9E3779B97F4A7C15ULL;
};

} // namespace companion::pipelines
