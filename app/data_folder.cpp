// The private data folder and the empty-database check.
#include "app/data_folder.hpp"

#include "app/instance_lock.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>

namespace companion::app {

std::error_code make_private_directory(const std::filesystem::path& dir) {
    std::error_code ec;
    if (dir.empty() || std::filesystem::is_directory(dir, ec)) {
        return {};
    }
    // The parents first, each made 0700 as well: a folder made for the bot is the bot's.
    if (const auto parent = dir.parent_path(); !parent.empty() && parent != dir) {
        if (auto failed = make_private_directory(parent)) {
            return failed;
        }
    }
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
        return {errno, std::generic_category()};
    }
    return {};
}

std::ostream& operator<<(std::ostream& os, database_file f) {
    switch (f) {
    case database_file::absent:
        return os << "absent";
    case database_file::not_empty:
        return os << "not_empty";
    case database_file::empty_in_new_folder:
        return os << "empty_in_new_folder";
    case database_file::empty_in_used_folder:
        return os << "empty_in_used_folder";
    }
    return os << "database_file(" << static_cast<int>(f) << ")";
}

database_file classify_database_file(const std::string& database, const std::vector<folder_entry>& folder) {
    const auto self = std::find_if(folder.begin(), folder.end(), [&](const folder_entry& e) {
        return e.name == database && !e.directory;
    });
    if (self == folder.end()) {
        return database_file::absent;
    }
    if (self->size != 0) {
        return database_file::not_empty;
    }
    const auto leftover_of_a_first_start = [&](const folder_entry& e) {
        if (e.directory) {
            return false;
        }
        if (e.name == database || e.name == instance_lock::file_name) {
            return true;
        }
        // SQLite's side files, empty: nothing was ever written through them.
        return e.size == 0 && (e.name == database + "-wal" || e.name == database + "-shm" ||
                               e.name == database + "-journal");
    };
    return std::all_of(folder.begin(), folder.end(), leftover_of_a_first_start)
               ? database_file::empty_in_new_folder
               : database_file::empty_in_used_folder;
}

std::optional<std::string> refuse_empty_database(const std::filesystem::path& database_path) {
    std::error_code ec;
    if (!std::filesystem::exists(database_path, ec)) {
        return std::nullopt;
    }
    const auto folder_path =
        database_path.has_parent_path() ? database_path.parent_path() : std::filesystem::path(".");
    std::vector<folder_entry> folder;
    for (std::filesystem::directory_iterator it(folder_path, ec), end; !ec && it != end; it.increment(ec)) {
        std::error_code size_error;
        const bool directory = it->is_directory(size_error);
        const auto size = directory ? 0 : it->file_size(size_error);
        folder.push_back({it->path().filename().string(), size_error ? 0 : size, directory});
    }
    if (ec) {
        // The database's own open will say what is wrong with the folder.
        return std::nullopt;
    }
    if (classify_database_file(database_path.filename().string(), folder) !=
        database_file::empty_in_used_folder) {
        return std::nullopt;
    }
    return "storage.database: " + database_path.string() +
           " is an empty file (0 bytes) in a data folder a bot has used before: it is not a database, and "
           "starting a new one would lose what was there; restore it from a backup, or move it away to "
           "start over";
}

} // namespace companion::app
