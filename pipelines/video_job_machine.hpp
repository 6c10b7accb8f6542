// A video job's next step, sans-I/O (the Boost.Redis `*_fsm` idea, design.md §4): a plain class
// that takes the job's row as stored, an event (what the last action gave) and the wall time, and
// returns the action to carry out. The driver (pipelines/video_jobs) only executes actions and
// feeds their outcomes back; every money and delivery rule lives here and is table-tested:
//
// - one create per job, ever: a create whose outcome is unknown ends submit_unknown and is never
//   repeated; a create that certainly did not happen (transient, rate limited) is retried, the
//   provider's retry_after honoured;
// - the user pays for delivered videos only: every ending other than `delivered` refunds the
//   daily quota (the driver commits it with the terminal state and the notice owed);
// - the daily spend is reserved once before the first create and given back when the provider
//   refused or failed for sure;
// - a refused flirty prompt is retried once, without the flirty elements; a second refusal ends
//   `refused`;
// - a poll past the timeout ends `video.timeout`; polls are spread with jitter;
// - a delivery that stayed uncertain after its repeats ends `video.lost`, never a silent success.
#pragma once

#include "engine/enum_text.hpp"
#include "engine/random.hpp"
#include "engine/retry.hpp"
#include "engine/time_source.hpp"
#include "pipelines/services.hpp"
#include "pipelines/video_provider.hpp"
#include "storage/video_jobs.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <variant>

namespace companion::pipelines {

struct video_machine_config {
    engine::duration poll_interval = std::chrono::seconds(5);
    engine::duration poll_timeout = std::chrono::minutes(10);
    double poll_jitter = 0.2; ///< each wait between polls is interval × [1, 1 + jitter)
    /// A create that certainly did not happen (refused connection, 5xx) is tried again until
    /// both its attempts and its budget are spent: a provider down for minutes delays the video,
    /// it does not fail it after three quick tries.
    int submit_attempts = 3;
    engine::duration submit_budget = std::chrono::minutes(5);
    /// The same for the download of a rendered video, which the provider keeps for a while (and
    /// which has been paid for): longer.
    int download_attempts = 3;
    engine::duration download_budget = std::chrono::minutes(15);
    int seconds = 5; ///< the effective clip length of a job that did not choose one
    int price_cents_per_second = 10;
    bool reports_progress = true; ///< the provider's percent is shown
};

enum class delivery { sent, failed, uncertain };
BOOST_DESCRIBE_ENUM(delivery, sent, failed, uncertain)
using engine::operator<<; // to_string and printing of the described enums
using engine::to_string;

/// What the last action gave.
namespace job_event {
/// The row was (re)loaded, or a wait ended. `persona_known`: the job's persona still exists.
struct entered {
    bool persona_known = true;
};
struct last_selfie_found {
    std::optional<selfie_ref> selfie;
};
/// The selfie pipeline's result (it has told the user when it failed).
struct selfie_made {
    std::optional<selfie_ref> selfie;
    bool refused = false; ///< no selfie because the image model declined the picture
};
/// Always a prompt: the LLM's when it wrote a valid one, else the template's.
struct prompt_written {
    std::string prompt;
};
/// The first frame was read and fitted (off the loop); `error` says why not.
struct frame_prepared {
    std::optional<std::string> error;
};
struct spend_checked {
    bool admitted = false;
};
struct submitted {
    video_result<std::string> result;
};
struct polled {
    video_result<video_poll> result;
};
struct downloaded {
    video_result<video_file> result;
};
struct delivered {
    delivery outcome = delivery::sent;
};
/// A transition was committed (`ok`), or the row was not where the machine expected it.
struct stored {
    bool ok = true;
};
} // namespace job_event

using video_job_event = std::variant<job_event::entered,
                                     job_event::last_selfie_found,
                                     job_event::selfie_made,
                                     job_event::prompt_written,
                                     job_event::frame_prepared,
                                     job_event::spend_checked,
                                     job_event::submitted,
                                     job_event::polled,
                                     job_event::downloaded,
                                     job_event::delivered,
                                     job_event::stored>;

/// What to carry out next.
namespace job_action {
/// Commit the transition (with the fields, and the spend given back when `refund_spend_cents`),
/// reload the row, then `entered`.
struct transition {
    storage::job_state to = storage::job_state::failed;
    storage::job_fields fields{};
    std::int64_t refund_spend_cents = 0;
    /// The job's reserved spend settled at what the provider reported it cost (OpenRouter's
    /// `usage.cost`): the day's spend moves by the difference, in the same transaction.
    std::optional<std::int64_t> settle_spend_cents{};
};
struct find_last_selfie {};
/// Make and send a new selfie (without the selfie quota: the video pays for it).
struct make_selfie {};
/// Write the video prompt from `selfie_prompt` (flirty or not).
struct write_prompt {
    std::string selfie_prompt;
    bool flirty = false;
};
/// Read the first frame at `path` and fit it to the provider's size.
struct prepare_frame {
    std::string path;
};
/// Reserve `cents` of the daily spend.
struct check_spend {
    std::int64_t cents = 0;
};
/// The provider's create, with the job's video prompt and the prepared frame.
struct submit {};
/// Sleep until `at` (wall time), then `entered`.
struct wait_until {
    engine::wall_time at{};
};
struct poll {};
struct download {};
struct deliver {
    video_file file;
};
/// End the job: the terminal state, the quota refund and the notice owed commit together (plus
/// the spend given back when `refund_spend_cents`), then the user is told `notice`.
struct finish {
    storage::job_state terminal = storage::job_state::failed;
    std::string notice = "video.failed";
    std::string error;
    std::int64_t refund_spend_cents = 0;
    bool alert_operator = false; ///< a configuration problem (model gone, key refused)
};
/// Delivered: commit it, and the progress message says so.
struct complete {};
/// Nothing more to do for this job in this run.
struct stop {
    std::string reason;
};
} // namespace job_action

using video_job_action = std::variant<job_action::transition,
                                      job_action::find_last_selfie,
                                      job_action::make_selfie,
                                      job_action::write_prompt,
                                      job_action::prepare_frame,
                                      job_action::check_spend,
                                      job_action::submit,
                                      job_action::wait_until,
                                      job_action::poll,
                                      job_action::download,
                                      job_action::deliver,
                                      job_action::finish,
                                      job_action::complete,
                                      job_action::stop>;

/// The progress shown with an action: a stage ("prompting", "rendering", ...) and the provider's
/// percent where it reports one.
struct job_progress {
    std::string_view stage;
    std::optional<int> percent{};

    bool operator==(const job_progress&) const = default;
};

struct video_job_step {
    video_job_action action;
    std::optional<job_progress> progress{};
};

std::ostream& operator<<(std::ostream& os, const video_job_event& e);
std::ostream& operator<<(std::ostream& os, const video_job_action& a);
std::ostream& operator<<(std::ostream& os, const job_progress& p);

// Found by argument-dependent lookup from the alternatives' namespaces (test frameworks print
// events and actions with an unqualified <<).
namespace job_event {
using pipelines::operator<<;
}
namespace job_action {
using pipelines::operator<<;
}

/// The gaps between polls of a running job: the interval plus up to `jitter` of it, so thousands
/// of jobs started together do not poll together; after an error at least the interval, and the
/// provider's delay when it names one.
class poll_schedule {
public:
    poll_schedule(engine::duration interval, double jitter) : interval_(interval), jitter_(jitter) {}

    engine::duration next(engine::random_source& random) const;
    engine::duration after_error(engine::duration backoff, std::optional<engine::duration> retry_after) const;

private:
    engine::duration interval_;
    double jitter_;
};

/// How often a job's progress shows: the upload_video chat action every `action_every` (it fades
/// after 5 s), the progress message edited at most every `edit_every` and only when its text
/// changed (Telegram refuses an edit that changes nothing, and counts it against the chat).
class progress_throttle {
public:
    progress_throttle(engine::duration edit_every, engine::duration action_every)
        : edit_every_(edit_every), action_every_(action_every) {}

    /// True when the chat action is due at `now` (and then counts it as sent).
    bool action_due(engine::time_point now);
    /// True when `text` should replace the message at `now` (and then remembers it).
    bool edit_due(engine::time_point now, const std::string& text);

private:
    engine::duration edit_every_;
    engine::duration action_every_;
    std::optional<engine::time_point> last_action_{};
    std::optional<engine::time_point> last_edit_{};
    std::string last_text_{};
};

/// One job's machine. It keeps, between events, only what the row does not: failure counts, the
/// selfie chosen while its prompt is written, and whether the spend is reserved.
class video_job_machine {
public:
    /// `random` (jitter and back-off) must outlive the machine.
    video_job_machine(const video_machine_config& cfg, engine::random_source& random);

    /// The next step for `job` (the row as last loaded) after `event`, at wall time `now`.
    video_job_step on(const storage::video_job& job, const video_job_event& event, engine::wall_time now);

    /// This run holds the job's first frame (found, or made: a "new video" paid for it).
    bool has_selfie() const noexcept { return selfie_.has_value(); }

    /// The job's clip length: the one chosen with it, else the configured one.
    int seconds_of(const storage::video_job& job) const noexcept {
        return job.seconds.value_or(cfg_.seconds);
    }

    /// The spend one create of `job` costs (its length at the configured price).
    std::int64_t create_cents(const storage::video_job& job) const noexcept {
        return static_cast<std::int64_t>(cfg_.price_cents_per_second) * seconds_of(job);
    }

private:
    video_job_step enter(const storage::video_job& job, engine::wall_time now);
    video_job_step
    on_submitted(const storage::video_job& job, const video_result<std::string>& r, engine::wall_time now);
    video_job_step
    on_polled(const storage::video_job& job, const video_result<video_poll>& r, engine::wall_time now);
    video_job_step
    on_downloaded(const storage::video_job& job, const video_result<video_file>& r, engine::wall_time now);
    video_job_step on_delivered(delivery outcome);
    video_job_step prompt_for(const storage::video_job& job, selfie_ref selfie);
    /// A refused flirty job goes back to prompting once, without the flirty elements.
    video_job_step refused(const storage::video_job& job, std::string reason, std::int64_t refund_cents);

    video_machine_config cfg_;
    engine::random_source& random_;
    engine::retry_schedule backoff_;
    poll_schedule polls_;
    std::optional<selfie_ref> selfie_{};
    int submit_failures_ = 0;
    int poll_failures_ = 0;
    int download_failures_ = 0;
    std::optional<engine::wall_time> submit_failing_since_{};   ///< the first of these failures
    std::optional<engine::wall_time> download_failing_since_{}; ///< the first of these failures
    bool spend_reserved_ = false; ///< this job holds its spend (this run's or, resumed, the row's)
    bool frame_ready_ = false;    ///< this run prepared the first frame (the executor holds it)
};

} // namespace companion::pipelines
