// SQL of the users repository.
#include "storage/users.hpp"

#include "storage/detail/statement.hpp"
#include "storage/error.hpp"

#include <SQLiteCpp/Exception.h>

namespace companion::storage {

using detail::statement_scope;

user_repository::user_repository(database& db) try
    : upsert_(db.connection(),
              "INSERT INTO users (telegram_id, language, is_admin, created_at, last_seen_at) "
              "VALUES (?1, ?2, ?3, ?4, ?4) "
              "ON CONFLICT (telegram_id) DO UPDATE SET last_seen_at = excluded.last_seen_at, "
              "is_admin = excluded.is_admin, blocked_bot = 0 "
              "RETURNING telegram_id, language, persona_id, adult_confirmed, is_admin, blocked_bot, "
              "created_at, last_seen_at, adult_answered, stream_replies, voice_replies"),
      get_(db.connection(),
           "SELECT telegram_id, language, persona_id, adult_confirmed, is_admin, blocked_bot, created_at, "
           "last_seen_at, adult_answered, stream_replies, voice_replies FROM users WHERE telegram_id = ?1"),
      set_language_(db.connection(), "UPDATE users SET language = ?2 WHERE telegram_id = ?1"),
      set_persona_(db.connection(), "UPDATE users SET persona_id = ?2 WHERE telegram_id = ?1"),
      set_adult_(db.connection(),
                 "UPDATE users SET adult_confirmed = ?2, adult_answered = 1 WHERE telegram_id = ?1"),
      set_blocked_(db.connection(), "UPDATE users SET blocked_bot = ?2 WHERE telegram_id = ?1"),
      set_stream_(db.connection(), "UPDATE users SET stream_replies = ?2 WHERE telegram_id = ?1"),
      set_voice_(db.connection(), "UPDATE users SET voice_replies = ?2 WHERE telegram_id = ?1"),
      count_(db.connection(), "SELECT count(*) FROM users") {
} catch (const SQLite::Exception& e) {
    rethrow(e, "prepare users statements");
}

namespace {

user read_user(const SQLite::Statement& s) {
    return user{
        .telegram_id = s.getColumn(0).getInt64(),
        .language = s.getColumn(1).getString(),
        .persona_id = detail::optional_text(s.getColumn(2)),
        .adult_confirmed = s.getColumn(3).getInt() != 0,
        .is_admin = s.getColumn(4).getInt() != 0,
        .blocked_bot = s.getColumn(5).getInt() != 0,
        .created = detail::time_of(s.getColumn(6)),
        .last_seen = detail::time_of(s.getColumn(7)),
        .adult_answered = s.getColumn(8).getInt() != 0,
        .stream_replies = s.getColumn(9).getInt() != 0,
        // The CHECK admits only the four names; an unknown one would be a newer schema's: mirror.
        .voice = engine::enum_from_name<voice_replies>(s.getColumn(10).getString())
                     .value_or(voice_replies::mirror),
    };
}

} // namespace

bool contact_needs_write(const user& u, bool is_admin, timestamp now) noexcept {
    return u.is_admin != is_admin || u.blocked_bot || now - u.last_seen >= contact_refresh;
}

user user_repository::record_contact(std::int64_t telegram_id,
                                     std::string_view language,
                                     bool is_admin,
                                     timestamp now) try {
    if (auto known = get(telegram_id); known && !contact_needs_write(*known, is_admin, now)) {
        return std::move(*known);
    }
    statement_scope scope(upsert_, telegram_id, language, is_admin, now);
    upsert_->executeStep();
    return read_user(*upsert_);
} catch (const SQLite::Exception& e) {
    rethrow(e, "users.record_contact");
}

std::optional<user> user_repository::get(std::int64_t telegram_id) try {
    statement_scope scope(get_, telegram_id);
    if (!get_->executeStep()) {
        return std::nullopt;
    }
    return read_user(*get_);
} catch (const SQLite::Exception& e) {
    rethrow(e, "users.get");
}

boost::system::result<void> user_repository::changed_one(SQLite::Statement& s,
                                                         std::string_view operation) try {
    if (s.exec() == 0) {
        return make_error_code(errc::not_found);
    }
    return {};
} catch (const SQLite::Exception& e) {
    rethrow(e, operation);
}

boost::system::result<void> user_repository::set_language(std::int64_t telegram_id,
                                                          std::string_view language) {
    statement_scope scope(set_language_, telegram_id, language);
    return changed_one(*set_language_, "users.set_language");
}

boost::system::result<void> user_repository::set_persona(std::int64_t telegram_id,
                                                         std::optional<std::string> persona_id) {
    statement_scope scope(set_persona_, telegram_id, persona_id);
    return changed_one(*set_persona_, "users.set_persona");
}

boost::system::result<void> user_repository::set_adult_answer(std::int64_t telegram_id, bool adult) {
    statement_scope scope(set_adult_, telegram_id, adult);
    return changed_one(*set_adult_, "users.set_adult_answer");
}

boost::system::result<void> user_repository::set_blocked_bot(std::int64_t telegram_id, bool blocked) {
    statement_scope scope(set_blocked_, telegram_id, blocked);
    return changed_one(*set_blocked_, "users.set_blocked_bot");
}

boost::system::result<void> user_repository::set_stream_replies(std::int64_t telegram_id, bool on) {
    statement_scope scope(set_stream_, telegram_id, on);
    return changed_one(*set_stream_, "users.set_stream_replies");
}

boost::system::result<void> user_repository::set_voice_replies(std::int64_t telegram_id, voice_replies how) {
    statement_scope scope(set_voice_, telegram_id, to_string(how));
    return changed_one(*set_voice_, "users.set_voice_replies");
}

std::int64_t user_repository::count() try {
    statement_scope scope(count_);
    count_->executeStep();
    return count_->getColumn(0).getInt64();
} catch (const SQLite::Exception& e) {
    rethrow(e, "users.count");
}

} // namespace companion::storage
