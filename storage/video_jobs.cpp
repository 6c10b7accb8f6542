// The video-job transition table and the SQL of the video_jobs repository.
#include "storage/video_jobs.hpp"

#include "storage/detail/statement.hpp"
#include "storage/error.hpp"

#include <SQLiteCpp/Exception.h>
#include <sqlite3.h>

#include <array>

namespace companion::storage {

using detail::statement_scope;

std::optional<job_state> parse_job_state(std::string_view text) noexcept {
    return engine::enum_from_name<job_state>(text);
}

bool is_terminal(job_state s) noexcept {
    return s == job_state::delivered || s == job_state::failed || s == job_state::refused ||
           s == job_state::submit_unknown;
}

namespace {

bool is_refusal_retry(job_state from, job_state to) noexcept {
    return to == job_state::prompting && (from == job_state::submitting || from == job_state::submitted);
}

} // namespace

bool is_legal_transition(job_state from, job_state to) noexcept {
    using enum job_state;
    if (is_terminal(from) || from == to) {
        return false;
    }
    if (to == failed) {
        return true;
    }
    switch (from) {
    case requested:
        return to == prompting;
    case prompting:
        return to == rendering_image || to == submitting;
    case rendering_image:
        return to == submitting || to == refused; // the first frame refused by the image model
    case submitting:
        return to == submitted || to == submit_unknown || to == refused || to == prompting;
    case submitted:
        return to == downloading || to == refused || to == prompting;
    case downloading:
        return to == delivered;
    default:
        return false;
    }
}

std::string_view to_string(video_mode m) noexcept {
    return m == video_mode::from_last_selfie ? "from_last_selfie" : "new";
}

namespace {

constexpr const char* job_columns =
    "id, user_id, chat_id, persona_id, provider, provider_job_id, mode, flirty, state, selfie_prompt, "
    "video_prompt, image_content_id, image_path, attempts, next_poll_at, progress_message_id, error, "
    "created_at, updated_at, notice, create_started_at, spend_reserved_cents, seconds, progress_caption";

std::string select_jobs(const std::string& where) {
    return std::string("SELECT ") + job_columns + " FROM video_jobs WHERE " + where;
}

video_job read_job(const SQLite::Statement& s) {
    video_job j;
    j.id = s.getColumn(0).getInt64();
    j.user_id = s.getColumn(1).getInt64();
    j.chat_id = s.getColumn(2).getInt64();
    j.persona_id = s.getColumn(3).getString();
    j.provider = s.getColumn(4).getString();
    j.provider_job_id = detail::optional_text(s.getColumn(5));
    j.mode = s.getColumn(6).getString() == "from_last_selfie" ? video_mode::from_last_selfie
                                                              : video_mode::new_video;
    j.flirty = s.getColumn(7).getInt() != 0;
    // The CHECK constraint admits only known states.
    j.state = parse_job_state(s.getColumn(8).getString()).value_or(job_state::failed);
    j.selfie_prompt = detail::optional_text(s.getColumn(9));
    j.video_prompt = detail::optional_text(s.getColumn(10));
    j.image_content_id = detail::optional_int(s.getColumn(11));
    j.image_path = detail::optional_text(s.getColumn(12));
    j.attempts = s.getColumn(13).getInt();
    if (auto at = detail::optional_int(s.getColumn(14))) {
        j.next_poll_at = from_unix_ms(*at);
    }
    j.progress_message_id = detail::optional_int(s.getColumn(15));
    j.error = detail::optional_text(s.getColumn(16));
    j.created = detail::time_of(s.getColumn(17));
    j.updated = detail::time_of(s.getColumn(18));
    j.notice = detail::optional_text(s.getColumn(19));
    if (auto at = detail::optional_int(s.getColumn(20))) {
        j.create_started = from_unix_ms(*at);
    }
    j.spend_reserved_cents = s.getColumn(21).getInt64();
    if (auto seconds = detail::optional_int(s.getColumn(22))) {
        j.seconds = static_cast<int>(*seconds); // the CHECK keeps it within 1-600
    }
    j.progress_is_caption = s.getColumn(23).getInt() != 0;
    return j;
}

} // namespace

video_job_repository::video_job_repository(database& db) try
    : db_(db),
      insert_(
          db.connection(),
          "INSERT INTO video_jobs (user_id, chat_id, persona_id, provider, mode, flirty, state, created_at, "
          "updated_at, seconds) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'requested', ?7, ?7, ?8)"),
      get_(db.connection(), select_jobs("id = ?1")),
      state_of_(db.connection(), "SELECT state, flirty FROM video_jobs WHERE id = ?1"),
      // NULL parameters leave a column as it is; ?13 is the refusal retry, which needs (and
      // clears) the flirty flag.
      transition_(db.connection(),
                  "UPDATE video_jobs SET state = ?3, "
                  "provider_job_id = COALESCE(?4, provider_job_id), "
                  "selfie_prompt = COALESCE(?5, selfie_prompt), "
                  "video_prompt = COALESCE(?6, video_prompt), "
                  "image_content_id = COALESCE(?7, image_content_id), "
                  "image_path = COALESCE(?8, image_path), "
                  "next_poll_at = COALESCE(?9, next_poll_at), "
                  "progress_message_id = COALESCE(?10, progress_message_id), "
                  "error = COALESCE(?11, error), "
                  "notice = COALESCE(?14, notice), "
                  "updated_at = ?12, "
                  "flirty = CASE WHEN ?13 THEN 0 ELSE flirty END "
                  "WHERE id = ?1 AND state = ?2 AND (NOT ?13 OR flirty = 1)"),
      record_poll_(db.connection(),
                   "UPDATE video_jobs SET attempts = attempts + 1, next_poll_at = ?2, updated_at = ?3 "
                   "WHERE id = ?1 AND state = 'submitted'"),
      set_progress_(db.connection(),
                    "UPDATE video_jobs SET progress_message_id = ?2, updated_at = ?3, progress_caption = ?4 "
                    "WHERE id = ?1"),
      mark_create_(db.connection(),
                   "UPDATE video_jobs SET create_started_at = ?2, updated_at = ?3 "
                   "WHERE id = ?1 AND state = 'submitting'"),
      set_spend_reserved_(db.connection(),
                          "UPDATE video_jobs SET spend_reserved_cents = ?2, updated_at = ?3 WHERE id = ?1"),
      unfinished_(db.connection(),
                  select_jobs(std::string("state NOT IN ") + detail::terminal_job_states + " ORDER BY id")),
      in_flight_for_(
          db.connection(),
          select_jobs(std::string("user_id = ?1 AND state NOT IN ") + detail::terminal_job_states)),
      count_in_flight_(db.connection(),
                       std::string("SELECT count(*) FROM video_jobs WHERE state NOT IN ") +
                           detail::terminal_job_states),
      submitting_(db.connection(),
                  select_jobs("state = 'submitting' AND create_started_at IS NOT NULL ORDER BY id")),
      mark_unknown_(db.connection(),
                    "UPDATE video_jobs SET state = 'submit_unknown', updated_at = ?1, notice = 'video.lost', "
                    "error = COALESCE(error, 'process stopped while submitting') "
                    "WHERE state = 'submitting' AND create_started_at IS NOT NULL"),
      pending_notices_(db.connection(),
                       select_jobs(std::string("notice IS NOT NULL AND state IN ") +
                                   detail::terminal_job_states + " ORDER BY id")),
      clear_notice_(db.connection(), "UPDATE video_jobs SET notice = NULL WHERE id = ?1") {
} catch (const SQLite::Exception& e) {
    rethrow(e, "prepare video_jobs statements");
}

boost::system::result<std::int64_t> video_job_repository::create(const new_video_job& job) try {
    statement_scope scope(insert_,
                          job.user_id,
                          job.chat_id,
                          job.persona_id,
                          job.provider,
                          to_string(job.mode),
                          job.flirty,
                          job.created,
                          job.seconds);
    insert_->exec();
    return db_.connection().getLastInsertRowid();
} catch (const SQLite::Exception& e) {
    // Only the partial index on user_id is UNIQUE in this table.
    if (e.getExtendedErrorCode() == SQLITE_CONSTRAINT_UNIQUE) {
        return make_error_code(errc::job_in_flight);
    }
    rethrow(e, "video_jobs.create");
}

std::optional<video_job> video_job_repository::get(std::int64_t id) try {
    statement_scope scope(get_, id);
    if (!get_->executeStep()) {
        return std::nullopt;
    }
    return read_job(*get_);
} catch (const SQLite::Exception& e) {
    rethrow(e, "video_jobs.get");
}

boost::system::result<void> video_job_repository::explain_miss(std::int64_t id) {
    statement_scope scope(state_of_, id);
    if (!state_of_->executeStep()) {
        return make_error_code(errc::not_found);
    }
    return make_error_code(errc::wrong_state);
}

boost::system::result<void> video_job_repository::transition(std::int64_t id,
                                                             job_state from,
                                                             job_state to,
                                                             const job_fields& f,
                                                             timestamp now) try {
    if (!is_legal_transition(from, to)) {
        return make_error_code(errc::illegal_transition);
    }
    const bool retry = is_refusal_retry(from, to);
    int changed = 0;
    {
        statement_scope scope(transition_,
                              id,
                              to_string(from),
                              to_string(to),
                              f.provider_job_id,
                              f.selfie_prompt,
                              f.video_prompt,
                              f.image_content_id,
                              f.image_path,
                              f.next_poll_at,
                              f.progress_message_id,
                              f.error,
                              now,
                              retry,
                              f.notice);
        changed = transition_->exec();
    }
    if (changed == 1) {
        return {};
    }
    if (retry) {
        // In `from` but no longer flirty: the one retry was spent.
        statement_scope scope(state_of_, id);
        if (state_of_->executeStep() && state_of_->getColumn(0).getString() == to_string(from)) {
            return make_error_code(errc::illegal_transition);
        }
    }
    return explain_miss(id);
} catch (const SQLite::Exception& e) {
    rethrow(e, "video_jobs.transition");
}

boost::system::result<void>
video_job_repository::record_poll(std::int64_t id, timestamp next_poll_at, timestamp now) try {
    int changed = 0;
    {
        statement_scope scope(record_poll_, id, next_poll_at, now);
        changed = record_poll_->exec();
    }
    if (changed == 1) {
        return {};
    }
    return explain_miss(id);
} catch (const SQLite::Exception& e) {
    rethrow(e, "video_jobs.record_poll");
}

boost::system::result<void>
video_job_repository::mark_create(std::int64_t id, std::optional<timestamp> started, timestamp now) try {
    int changed = 0;
    {
        statement_scope scope(mark_create_, id, started, now);
        changed = mark_create_->exec();
    }
    if (changed == 1) {
        return {};
    }
    return explain_miss(id);
} catch (const SQLite::Exception& e) {
    rethrow(e, "video_jobs.mark_create");
}

boost::system::result<void>
video_job_repository::set_spend_reserved(std::int64_t id, std::int64_t cents, timestamp now) try {
    statement_scope scope(set_spend_reserved_, id, cents, now);
    if (set_spend_reserved_->exec() == 0) {
        return make_error_code(errc::not_found);
    }
    return {};
} catch (const SQLite::Exception& e) {
    rethrow(e, "video_jobs.set_spend_reserved");
}

boost::system::result<void> video_job_repository::set_progress_message(std::int64_t id,
                                                                       std::int64_t message_id,
                                                                       timestamp now,
                                                                       bool caption) try {
    statement_scope scope(set_progress_, id, message_id, now, caption);
    if (set_progress_->exec() == 0) {
        return make_error_code(errc::not_found);
    }
    return {};
} catch (const SQLite::Exception& e) {
    rethrow(e, "video_jobs.set_progress_message");
}

std::vector<video_job> video_job_repository::read_all(SQLite::Statement& s) {
    std::vector<video_job> out;
    while (s.executeStep()) {
        out.push_back(read_job(s));
    }
    return out;
}

std::vector<video_job> video_job_repository::unfinished() try {
    statement_scope scope(unfinished_);
    return read_all(*unfinished_);
} catch (const SQLite::Exception& e) {
    rethrow(e, "video_jobs.unfinished");
}

std::optional<video_job> video_job_repository::in_flight_for(std::int64_t user_id) try {
    statement_scope scope(in_flight_for_, user_id);
    if (!in_flight_for_->executeStep()) {
        return std::nullopt;
    }
    return read_job(*in_flight_for_);
} catch (const SQLite::Exception& e) {
    rethrow(e, "video_jobs.in_flight_for");
}

std::int64_t video_job_repository::count_in_flight() try {
    statement_scope scope(count_in_flight_);
    count_in_flight_->executeStep();
    return count_in_flight_->getColumn(0).getInt64();
} catch (const SQLite::Exception& e) {
    rethrow(e, "video_jobs.count_in_flight");
}

std::vector<video_job> video_job_repository::pending_notices() try {
    statement_scope scope(pending_notices_);
    return read_all(*pending_notices_);
} catch (const SQLite::Exception& e) {
    rethrow(e, "video_jobs.pending_notices");
}

void video_job_repository::clear_notice(std::int64_t id) try {
    statement_scope scope(clear_notice_, id);
    clear_notice_->exec();
} catch (const SQLite::Exception& e) {
    rethrow(e, "video_jobs.clear_notice");
}

std::vector<video_job> video_job_repository::recover_after_crash(timestamp now) {
    return db_.in_transaction([&] {
        try {
            std::vector<video_job> jobs;
            {
                statement_scope scope(submitting_);
                jobs = read_all(*submitting_);
            }
            statement_scope scope(mark_unknown_, now);
            mark_unknown_->exec();
            for (auto& j : jobs) {
                j.state = job_state::submit_unknown;
                j.updated = now;
                if (!j.error) {
                    j.error = "process stopped while submitting";
                }
                j.notice = "video.lost";
            }
            return jobs;
        } catch (const SQLite::Exception& e) {
            rethrow(e, "video_jobs.recover_after_crash");
        }
    });
}

} // namespace companion::storage
