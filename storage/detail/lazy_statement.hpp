// A repository's cached statement that is prepared when first used (internal to storage/; the
// repositories' headers hold it as a member).
#pragma once

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <optional>
#include <string>
#include <utility>

namespace companion::storage::detail {

/// A repository's statement, prepared when it is first used. A repository holds a dozen of them
/// and a prepared statement keeps about 10 KB of SQLite's memory, most of them serve features a
/// given load never touches (a chat burst runs none of the video jobs' 15), and the loop's
/// connection would otherwise carry about a megabyte of programs it never runs. The SQL is still
/// prepared once at construction and dropped, so a statement that cannot be prepared fails the
/// repository's construction at start, not a user's request hours later.
class lazy_statement {
public:
    /// Throws SQLite::Exception when `sql` cannot be prepared on `db`.
    lazy_statement(SQLite::Database& db, std::string sql) : db_(db), sql_(std::move(sql)) {
        const SQLite::Statement check(db_, sql_);
    }
    lazy_statement(const lazy_statement&) = delete;
    lazy_statement& operator=(const lazy_statement&) = delete;

    /// The prepared statement; prepares it on first use (throws SQLite::Exception as a write
    /// on the connection does: the callers map both alike).
    SQLite::Statement& operator*() {
        if (!prepared_) {
            prepared_.emplace(db_, sql_);
        }
        return *prepared_;
    }
    SQLite::Statement* operator->() { return &**this; }

private:
    SQLite::Database& db_;
    std::string sql_;
    std::optional<SQLite::Statement> prepared_;
};

} // namespace companion::storage::detail
