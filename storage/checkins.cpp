// SQL of the check-in settings, schedule and log.
#include "storage/checkins.hpp"

#include "storage/detail/statement.hpp"
#include "storage/error.hpp"

#include <SQLiteCpp/Exception.h>

namespace companion::storage {

using detail::statement_scope;

namespace {

// The outcomes that count as a check-in the user got (or may have got).
constexpr const char* counted = "('sending', 'sent', 'unknown')";

std::optional<timestamp> optional_time(const SQLite::Column& c) {
    if (c.isNull()) {
        return std::nullopt;
    }
    return detail::time_of(c);
}

} // namespace

checkin_repository::checkin_repository(database& db) try
    : db_(db),
      settings_(db.connection(),
                "SELECT opted_in, asked_at, utc_offset, next_at FROM checkins WHERE user_id = ?1"),
      opt_(db.connection(),
           "INSERT INTO checkins (user_id, opted_in, next_at) VALUES (?1, ?2, ?3) "
           "ON CONFLICT (user_id) DO UPDATE SET opted_in = excluded.opted_in, next_at = excluded.next_at"),
      ask_(db.connection(),
           "INSERT INTO checkins (user_id, asked_at) VALUES (?1, ?2) "
           "ON CONFLICT (user_id) DO UPDATE SET asked_at = excluded.asked_at WHERE asked_at IS NULL "
           "RETURNING user_id"),
      offset_(db.connection(),
              "INSERT INTO checkins (user_id, utc_offset) VALUES (?1, ?2) "
              "ON CONFLICT (user_id) DO UPDATE SET utc_offset = excluded.utc_offset"),
      reschedule_(db.connection(), "UPDATE checkins SET next_at = ?2 WHERE user_id = ?1 AND opted_in = 1"),
      due_(db.connection(),
           "SELECT user_id FROM checkins WHERE next_at IS NOT NULL AND next_at <= ?1 AND opted_in = 1 "
           "ORDER BY next_at LIMIT ?2"),
      sent_since_(db.connection(),
                  std::string("SELECT at FROM checkin_log WHERE user_id = ?1 AND at >= ?2 AND outcome IN ") +
                      counted + " ORDER BY at"),
      log_(db.connection(), "INSERT INTO checkin_log (user_id, at, outcome) VALUES (?1, ?2, 'sending')"),
      unplan_(db.connection(), "UPDATE checkins SET next_at = NULL WHERE user_id = ?1"),
      resolve_(db.connection(), "UPDATE checkin_log SET outcome = ?2 WHERE id = ?1"),
      replan_(db.connection(),
              "UPDATE checkins SET next_at = ?1 WHERE opted_in = 1 AND next_at IS NULL AND user_id IN "
              "(SELECT user_id FROM checkin_log WHERE outcome = 'sending')"),
      recover_(db.connection(), "UPDATE checkin_log SET outcome = 'unknown' WHERE outcome = 'sending'"),
      count_(db.connection(), "SELECT count(*) FROM checkin_log WHERE outcome = ?1 AND at >= ?2"),
      opted_in_(db.connection(), "SELECT count(*) FROM checkins WHERE opted_in = 1") {
} catch (const SQLite::Exception& e) {
    rethrow(e, "prepare checkin statements");
}

checkin_settings checkin_repository::settings(std::int64_t user_id) try {
    statement_scope scope(settings_, user_id);
    checkin_settings s;
    if (settings_->executeStep()) {
        s.opted_in = settings_->getColumn(0).getInt() != 0;
        s.asked = optional_time(settings_->getColumn(1));
        if (const auto offset = detail::optional_int(settings_->getColumn(2))) {
            s.utc_offset = static_cast<int>(*offset);
        }
        s.next_due = optional_time(settings_->getColumn(3));
    }
    return s;
} catch (const SQLite::Exception& e) {
    rethrow(e, "checkins.settings");
}

void checkin_repository::set_opted_in(std::int64_t user_id, bool on, timestamp due) try {
    const std::optional<timestamp> next = on ? std::optional<timestamp>(due) : std::nullopt;
    statement_scope scope(opt_, user_id, on, next);
    scope.exec();
} catch (const SQLite::Exception& e) {
    rethrow(e, "checkins.set_opted_in");
}

bool checkin_repository::mark_asked(std::int64_t user_id, timestamp at) try {
    statement_scope scope(ask_, user_id, at);
    return ask_->executeStep(); // a row comes back only when this call set it
} catch (const SQLite::Exception& e) {
    rethrow(e, "checkins.mark_asked");
}

void checkin_repository::set_utc_offset(std::int64_t user_id, int minutes) try {
    statement_scope scope(offset_, user_id, minutes);
    scope.exec();
} catch (const SQLite::Exception& e) {
    rethrow(e, "checkins.set_utc_offset");
}

void checkin_repository::reschedule(std::int64_t user_id, std::optional<timestamp> due) try {
    statement_scope scope(reschedule_, user_id, due);
    scope.exec();
} catch (const SQLite::Exception& e) {
    rethrow(e, "checkins.reschedule");
}

std::vector<std::int64_t> checkin_repository::due(timestamp now, int limit) try {
    statement_scope scope(due_, now, limit);
    std::vector<std::int64_t> users;
    while (due_->executeStep()) {
        users.push_back(due_->getColumn(0).getInt64());
    }
    return users;
} catch (const SQLite::Exception& e) {
    rethrow(e, "checkins.due");
}

std::vector<timestamp> checkin_repository::sent_since(std::int64_t user_id, timestamp since) try {
    statement_scope scope(sent_since_, user_id, since);
    std::vector<timestamp> at;
    while (sent_since_->executeStep()) {
        at.push_back(detail::time_of(sent_since_->getColumn(0)));
    }
    return at;
} catch (const SQLite::Exception& e) {
    rethrow(e, "checkins.sent_since");
}

std::int64_t checkin_repository::claim(std::int64_t user_id, timestamp at) try {
    return db_.in_transaction([&] {
        {
            statement_scope scope(log_, user_id, at);
            scope.exec();
        }
        const auto id = db_.connection().getLastInsertRowid();
        statement_scope scope(unplan_, user_id);
        scope.exec();
        return id;
    });
} catch (const SQLite::Exception& e) {
    rethrow(e, "checkins.claim");
}

void checkin_repository::resolve(std::int64_t id, checkin_outcome outcome) try {
    statement_scope scope(resolve_, id, to_string(outcome));
    scope.exec();
} catch (const SQLite::Exception& e) {
    rethrow(e, "checkins.resolve");
}

int checkin_repository::recover_after_crash(timestamp now) try {
    return db_.in_transaction([&] {
        {
            statement_scope scope(replan_, now);
            scope.exec();
        }
        statement_scope scope(recover_);
        return scope.exec();
    });
} catch (const SQLite::Exception& e) {
    rethrow(e, "checkins.recover_after_crash");
}

std::int64_t checkin_repository::count(checkin_outcome outcome, timestamp since) try {
    statement_scope scope(count_, to_string(outcome), since);
    return count_->executeStep() ? count_->getColumn(0).getInt64() : 0;
} catch (const SQLite::Exception& e) {
    rethrow(e, "checkins.count");
}

std::int64_t checkin_repository::opted_in_users() try {
    statement_scope scope(opted_in_);
    return opted_in_->executeStep() ? opted_in_->getColumn(0).getInt64() : 0;
} catch (const SQLite::Exception& e) {
    rethrow(e, "checkins.opted_in_users");
}

} // namespace companion::storage
