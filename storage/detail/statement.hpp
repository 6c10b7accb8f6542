// Internal helpers of the repositories' cached prepared statements (not for use outside
// storage/): a scope that resets a statement, and binding/reading of optional and text values.
#pragma once

#include "storage/detail/lazy_statement.hpp"
#include "storage/time.hpp"

#include <SQLiteCpp/Column.h>
#include <SQLiteCpp/Statement.h>

#include <chrono>
#include <concepts>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

namespace companion::storage::detail {

/// The terminal video-job states as an SQL list, for "state NOT IN" (a job in flight). Spelled as
/// the partial indexes of migration 3 spell it, so SQLite can use them.
inline constexpr const char* terminal_job_states = "('delivered', 'failed', 'refused', 'submit_unknown')";

// One value bound to ?`index`: text is copied (SQLiteCpp has no sized bind; the copy is tiny
// beside a commit), a flag is 0/1, a timestamp is unix milliseconds, a length is milliseconds,
// an empty optional is NULL.
inline void bind_value(SQLite::Statement& s, int index, std::string_view value) {
    s.bind(index, std::string(value));
}
inline void bind_value(SQLite::Statement& s, int index, double value) {
    s.bind(index, value);
}
inline void bind_value(SQLite::Statement& s, int index, timestamp t) {
    s.bind(index, to_unix_ms(t));
}
inline void bind_value(SQLite::Statement& s, int index, std::chrono::milliseconds d) {
    s.bind(index, static_cast<std::int64_t>(d.count()));
}
template <std::integral T>
void bind_value(SQLite::Statement& s, int index, T value) {
    if constexpr (std::is_same_v<T, bool>) {
        s.bind(index, value ? 1 : 0);
    } else {
        s.bind(index, static_cast<std::int64_t>(value));
    }
}
template <class T>
void bind_value(SQLite::Statement& s, int index, const std::optional<T>& value) {
    if (value) {
        bind_value(s, index, *value);
    } else {
        s.bind(index);
    }
}

/// Resets a cached statement on entry and exit, and binds `args` to ?1, ?2, ... in order. The
/// exit reset matters: a SELECT left mid-rows keeps a read snapshot open, which stalls the WAL
/// checkpoint indefinitely.
class statement_scope {
public:
    template <class... Args>
    explicit statement_scope(SQLite::Statement& s, const Args&... args) : s_(s) {
        s_.tryReset();
        int index = 0;
        (bind_value(s_, ++index, args), ...);
    }
    template <class... Args>
    explicit statement_scope(lazy_statement& s, const Args&... args) : statement_scope(*s, args...) {}
    ~statement_scope() { s_.tryReset(); }
    statement_scope(const statement_scope&) = delete;
    statement_scope& operator=(const statement_scope&) = delete;

    /// Runs a write; the number of rows it changed.
    int exec() { return s_.exec(); }

private:
    SQLite::Statement& s_;
};

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
