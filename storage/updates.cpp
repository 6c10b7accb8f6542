// SQL of the update log.
#include "storage/updates.hpp"

#include "storage/error.hpp"
#include "storage/statement.hpp"

#include <SQLiteCpp/Exception.h>

namespace companion::storage {

using detail::statement_scope;

update_log::update_log(database& db) try
    : mark_(db.connection(),
            "INSERT INTO processed_updates (update_id, processed_at) VALUES (?1, ?2) "
            "ON CONFLICT (update_id) DO NOTHING"),
      is_processed_(db.connection(), "SELECT 1 FROM processed_updates WHERE update_id = ?1"),
      prune_(db.connection(), "DELETE FROM processed_updates WHERE processed_at < ?1"),
      get_offset_(db.connection(), "SELECT next_offset FROM telegram_offset WHERE id = 1"),
      set_offset_(db.connection(),
                  "INSERT INTO telegram_offset (id, next_offset) VALUES (1, ?1) ON CONFLICT (id) DO UPDATE "
                  "SET next_offset = excluded.next_offset WHERE excluded.next_offset > next_offset") {
} catch (const SQLite::Exception& e) {
    rethrow(e, "prepare update_log statements");
}

bool update_log::mark_processed(std::int64_t update_id, timestamp now) try {
    statement_scope scope(mark_);
    mark_.bind(1, update_id);
    detail::bind_time(mark_, 2, now);
    return mark_.exec() == 1;
} catch (const SQLite::Exception& e) {
    rethrow(e, "updates.mark_processed");
}

bool update_log::is_processed(std::int64_t update_id) try {
    statement_scope scope(is_processed_);
    is_processed_.bind(1, update_id);
    return is_processed_.executeStep();
} catch (const SQLite::Exception& e) {
    rethrow(e, "updates.is_processed");
}

std::int64_t update_log::prune(timestamp cutoff) try {
    statement_scope scope(prune_);
    detail::bind_time(prune_, 1, cutoff);
    return prune_.exec();
} catch (const SQLite::Exception& e) {
    rethrow(e, "updates.prune");
}

std::optional<std::int64_t> update_log::offset() try {
    statement_scope scope(get_offset_);
    if (!get_offset_.executeStep()) {
        return std::nullopt;
    }
    return get_offset_.getColumn(0).getInt64();
} catch (const SQLite::Exception& e) {
    rethrow(e, "updates.offset");
}

void update_log::set_offset(std::int64_t next_offset) try {
    statement_scope scope(set_offset_);
    set_offset_.bind(1, next_offset);
    set_offset_.exec();
} catch (const SQLite::Exception& e) {
    rethrow(e, "updates.set_offset");
}

} // namespace companion::storage
