// The Telegram update bookkeeping of design.md §4: the getUpdates offset and the log of processed
// update ids, which makes the replay of an unconfirmed batch after a crash a no-op.
#pragma once

#include "storage/database.hpp"
#include "storage/time.hpp"

#include <SQLiteCpp/Statement.h>

#include <cstdint>
#include <optional>

namespace companion::storage {

class update_log {
public:
    explicit update_log(database& db);

    /// Records `update_id` as processed; false when it already was (a replay).
    bool mark_processed(std::int64_t update_id, timestamp now);
    bool is_processed(std::int64_t update_id);
    /// Forgets updates processed before `cutoff` (they are far behind the offset); returns how many.
    std::int64_t prune(timestamp cutoff);

    /// The offset for the next getUpdates, if one was stored.
    std::optional<std::int64_t> offset();
    /// Stores the offset; it only moves forward (a stale writer cannot move it back).
    void set_offset(std::int64_t next_offset);

private:
    SQLite::Statement mark_;
    SQLite::Statement is_processed_;
    SQLite::Statement prune_;
    SQLite::Statement get_offset_;
    SQLite::Statement set_offset_;
};

} // namespace companion::storage
