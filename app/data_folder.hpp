// The data folder at start: created private (issue 15, finding 9: conversations and selfies are
// nobody else's to read), and a database file that is empty where a bot has run before is refused
// (finding 10) instead of being taken for a new database: an empty file beside media or a WAL is
// a lost or truncated database, and opening it would start over and drop the WAL's content.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <ostream>
#include <string>
#include <system_error>
#include <vector>

namespace companion::app {

/// Creates `dir` and its missing parents with mode 0700. A folder that exists keeps its mode: it
/// is the operator's (a systemd StateDirectory, a mount point).
std::error_code make_private_directory(const std::filesystem::path& dir);

/// One entry of the folder that holds the database.
struct folder_entry {
    std::string name;
    std::uintmax_t size = 0;
    bool directory = false;
};

enum class database_file {
    absent,               ///< a new database will be made
    not_empty,            ///< a database (SQLite checks the rest)
    empty_in_new_folder,  ///< left by a start that stopped before its first write: made anew
    empty_in_used_folder, ///< a bot ran here before: refused
};

std::ostream& operator<<(std::ostream& os, database_file f);

/// Sans-I/O: what the database file named `database` is, from what its folder holds. The folder
/// is new when nothing but the database, empty -wal/-shm/-journal files of it and the instance
/// lock is there.
database_file classify_database_file(const std::string& database, const std::vector<folder_entry>& folder);

/// Reads the folder of `database_path` and classifies it; for an empty database in a used folder,
/// the one line an operator reads (what was found, why it is refused, what to do). Nullopt when
/// the bot may open it.
std::optional<std::string> refuse_empty_database(const std::filesystem::path& database_path);

} // namespace companion::app
