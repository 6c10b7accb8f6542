// Internal helpers of the repositories' cached prepared statements (not for use outside
// storage/): a scope that resets a statement, and binding/reading of optional and text values.
#pragma once

#include "storage/time.hpp"

#include <SQLiteCpp/Column.h>
#include <SQLiteCpp/Statement.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace companion::storage::detail {

/// The terminal video-job states as an SQL list, for "state NOT IN" (a job in flight). Spelled as
/// the partial indexes of migration 3 spell it, so SQLite can use them.
inline constexpr const char* terminal_job_states = "('delivered', 'failed', 'refused', 'submit_unknown')";

/// Resets a cached statement on entry and exit. The exit reset matters: a SELECT left mid-rows
/// keeps a read snapshot open, which stalls the WAL checkpoint indefinitely.
class statement_scope {
public:
    explicit statement_scope(SQLite::Statement& s) noexcept : s_(s) { s_.tryReset(); }
    ~statement_scope() { s_.tryReset(); }
    statement_scope(const statement_scope&) = delete;
    statement_scope& operator=(const statement_scope&) = delete;

private:
    SQLite::Statement& s_;
};

inline void bind_text(SQLite::Statement& s, int index, std::string_view value) {
    // SQLiteCpp has no sized text bind; the copy is tiny beside a commit.
    s.bind(index, std::string(value));
}

inline void bind_optional_text(SQLite::Statement& s, int index, const std::optional<std::string>& value) {
    if (value) {
        s.bind(index, *value);
    } else {
        s.bind(index);
    }
}

inline void bind_optional_int(SQLite::Statement& s, int index, const std::optional<std::int64_t>& value) {
    if (value) {
        s.bind(index, *value);
    } else {
        s.bind(index);
    }
}

inline void bind_time(SQLite::Statement& s, int index, timestamp t) {
    s.bind(index, to_unix_ms(t));
}

inline std::optional<std::string> optional_text(const SQLite::Column& c) {
    if (c.isNull()) {
        return std::nullopt;
    }
    return c.getString();
}

inline std::optional<std::int64_t> optional_int(const SQLite::Column& c) {
    if (c.isNull()) {
        return std::nullopt;
    }
    return c.getInt64();
}

inline timestamp time_of(const SQLite::Column& c) {
    return from_unix_ms(c.getInt64());
}

} // namespace companion::storage::detail
