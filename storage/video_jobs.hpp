// The video-job state machine of design.md §4, persisted: the legal transitions (a sans-I/O
// table), and the repository that moves a job only from the state the caller saw, so a lost
// race or a bug is an error instead of a silent overwrite.
//
//   requested -> prompting -> rendering_image -> submitting -> submitted -> downloading -> delivered
//                prompting -> submitting            (from the last selfie: the image exists)
//   submitting -> submit_unknown                    (crash before the provider's id was stored)
//   submitting | submitted -> refused               (the provider refused the prompt)
//   submitting | submitted -> prompting             (a refused flirty prompt is retried once,
//                                                    without the flirty elements)
//   any non-terminal -> failed
// Terminal: delivered, failed, refused, submit_unknown.
#pragma once

#include "engine/enum_text.hpp"
#include "storage/database.hpp"
#include "storage/detail/lazy_statement.hpp"
#include "storage/time.hpp"

#include <boost/system/result.hpp>

#include <SQLiteCpp/Statement.h>

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace companion::storage {

enum class job_state {
    requested,
    prompting,
    rendering_image,
    submitting,
    submitted,
    downloading,
    delivered,
    failed,
    refused,
    submit_unknown,
};
// clang-format off
BOOST_DESCRIBE_ENUM(job_state, requested, prompting, rendering_image, submitting, submitted, downloading,
                    delivered, failed, refused, submit_unknown)
// clang-format on
using engine::operator<<; // to_string and printing of the described enums
using engine::to_string;

inline constexpr job_state all_job_states[] = {
    job_state::requested,
    job_state::prompting,
    job_state::rendering_image,
    job_state::submitting,
    job_state::submitted,
    job_state::downloading,
    job_state::delivered,
    job_state::failed,
    job_state::refused,
    job_state::submit_unknown,
};

std::optional<job_state> parse_job_state(std::string_view text) noexcept;

bool is_terminal(job_state s) noexcept;

/// The transition table above. A state never moves to itself: poll bookkeeping of a submitted
/// job is record_poll(), not a transition.
bool is_legal_transition(job_state from, job_state to) noexcept;

enum class video_mode { from_last_selfie, new_video };

std::string_view to_string(video_mode m) noexcept;

struct new_video_job {
    std::int64_t user_id = 0;
    std::int64_t chat_id = 0;
    std::string persona_id{};
    std::string provider{};
    video_mode mode = video_mode::new_video;
    bool flirty = false;
    timestamp created{};
    /// The clip length the user chose (one of the offered lengths); unset: the configured one.
    std::optional<int> seconds{};
};

struct video_job {
    std::int64_t id = 0;
    std::int64_t user_id = 0;
    std::int64_t chat_id = 0;
    std::string persona_id{};
    std::string provider{};
    std::optional<std::string> provider_job_id{};
    video_mode mode = video_mode::new_video;
    bool flirty = false;
    job_state state = job_state::requested;
    std::optional<std::string> selfie_prompt{};
    std::optional<std::string> video_prompt{};
    std::optional<std::int64_t> image_content_id{};
    std::optional<std::string> image_path{};
    int attempts = 0;
    std::optional<timestamp> next_poll_at{};
    std::optional<std::int64_t> progress_message_id{}; ///< the Telegram message edited with progress
    /// The progress message is the first frame's photo: its caption carries the progress.
    bool progress_is_caption = false;
    std::optional<std::string> error{};
    /// The locale key of the message the user still has to hear about this ended job.
    std::optional<std::string> notice{};
    /// Set while a create may be in flight at the provider (committed before it is sent, cleared
    /// when it certainly failed).
    std::optional<timestamp> create_started{};
    /// The spend this job reserved against the daily cap (0: none yet, or given back).
    std::int64_t spend_reserved_cents = 0;
    timestamp created{};
    timestamp updated{};
    /// The clip length chosen with the request; unset for a job made before lengths were offered
    /// (it takes the configured length).
    std::optional<int> seconds{};

    bool operator==(const video_job&) const = default;
};

/// Columns set together with a transition, in the same UPDATE. An empty field leaves the column
/// as it is (fields are only ever filled in as a job advances, never cleared).
struct job_fields {
    std::optional<std::string> provider_job_id{};
    std::optional<std::string> selfie_prompt{};
    std::optional<std::string> video_prompt{};
    std::optional<std::int64_t> image_content_id{};
    std::optional<std::string> image_path{};
    std::optional<timestamp> next_poll_at{};
    std::optional<std::int64_t> progress_message_id{};
    std::optional<std::string> error{};
    std::optional<std::string> notice{};
};

class video_job_repository {
public:
    explicit video_job_repository(database& db);

    /// Inserts a job in state `requested`; errc::job_in_flight when the user already has an
    /// unfinished job (the schema's partial unique index decides, so two racing requests
    /// cannot both pass).
    boost::system::result<std::int64_t> create(const new_video_job& job);

    std::optional<video_job> get(std::int64_t id);

    /// Moves job `id` from `from` to `to`, setting `fields` in the same statement. Errors:
    /// illegal_transition (the table forbids it; nothing is read or written), not_found, and
    /// wrong_state (the row is in another state: someone else moved it).
    /// The refusal retry (submitting|submitted -> prompting) also clears the flirty flag, and is
    /// illegal_transition for a job that is not flirty: so it happens at most once per job.
    boost::system::result<void>
    transition(std::int64_t id, job_state from, job_state to, const job_fields& fields, timestamp now);

    /// Poll bookkeeping of a `submitted` job: one more attempt, the next poll time.
    /// wrong_state / not_found as for transition().
    boost::system::result<void> record_poll(std::int64_t id, timestamp next_poll_at, timestamp now);

    /// Remembers the progress message (`caption`: a photo whose caption shows the progress); any
    /// state.
    boost::system::result<void>
    set_progress_message(std::int64_t id, std::int64_t message_id, timestamp now, bool caption = false);

    /// Every job not in a terminal state, oldest first: what to resume at start.
    std::vector<video_job> unfinished();

    /// The user's unfinished job, if any.
    std::optional<video_job> in_flight_for(std::int64_t user_id);

    std::int64_t count_in_flight();

    /// Ended jobs whose user has not yet been told (their `notice` is set), oldest first.
    std::vector<video_job> pending_notices();

    /// The user has been told: the notice is cleared.
    void clear_notice(std::int64_t id);

    /// A create of `submitting` job `id` is about to be sent (`started`), or certainly failed
    /// (nullopt). wrong_state / not_found as for transition().
    boost::system::result<void> mark_create(std::int64_t id, std::optional<timestamp> started, timestamp now);

    /// The spend the job holds against the daily cap (set when reserved, 0 when given back).
    boost::system::result<void> set_spend_reserved(std::int64_t id, std::int64_t cents, timestamp now);

    /// Start-up recovery (design.md §4): a job `submitting` with a create in flight may or may
    /// not have reached the provider, and a second submission costs money, so each becomes
    /// `submit_unknown` (never re-submitted). Returns those jobs, now in submit_unknown with the
    /// notice "video.lost" pending (pending_notices() returns them until it is sent). A job
    /// `submitting` with no create in flight (none sent yet, or the last certainly failed) stays
    /// and resumes.
    std::vector<video_job> recover_after_crash(timestamp now);

private:
    boost::system::result<void> explain_miss(std::int64_t id);
    std::vector<video_job> read_all(SQLite::Statement& s);

    database& db_;
    detail::lazy_statement insert_;
    detail::lazy_statement get_;
    detail::lazy_statement state_of_;
    detail::lazy_statement transition_;
    detail::lazy_statement record_poll_;
    detail::lazy_statement set_progress_;
    detail::lazy_statement mark_create_;
    detail::lazy_statement set_spend_reserved_;
    detail::lazy_statement unfinished_;
    detail::lazy_statement in_flight_for_;
    detail::lazy_statement count_in_flight_;
    detail::lazy_statement submitting_;
    detail::lazy_statement mark_unknown_;
    detail::lazy_statement pending_notices_;
    detail::lazy_statement clear_notice_;
};

} // namespace companion::storage
