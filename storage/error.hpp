// The storage layer's error category: typed failures of the database (corrupt file, locked,
// schema too new, illegal job transition, ...) as boost::system::error_code values, and the
// exception that carries one of them with a diagnostic text.
#pragma once

#include "engine/enum_text.hpp"

#include <boost/system/error_code.hpp>
#include <boost/system/system_error.hpp>

#include <exception>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace SQLite {
class Exception;
}

namespace companion::storage {

enum class errc {
    corrupt = 1,        ///< the file is not a SQLite database, or its pages are damaged
    cannot_open,        ///< the path cannot be opened (missing directory, permissions)
    locked,             ///< another connection holds the lock past the busy timeout
    schema_too_new,     ///< the file was written by a newer binary; refusing beats guessing
    migration_failed,   ///< a migration step failed and was rolled back
    illegal_transition, ///< the video-job state machine forbids this move
    wrong_state,        ///< the row was not in the state the caller expected (a lost race)
    not_found,          ///< no row with this key
    job_in_flight,      ///< the user already has an unfinished video job
    disk_full,          ///< the disk (or the database's page limit) is full
    constraint,         ///< a uniqueness, check or foreign-key constraint failed
    io,                 ///< any other failure of SQLite or the file system
};
// clang-format off
BOOST_DESCRIBE_ENUM(errc, corrupt, cannot_open, locked, schema_too_new, migration_failed, illegal_transition,
                    wrong_state, not_found, job_in_flight, disk_full, constraint, io)
// clang-format on

const boost::system::error_category& storage_category() noexcept;

inline boost::system::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), storage_category()};
}

/// A storage fault: a typed code plus a diagnostic text for the operator. Thrown where a
/// failure is not an expected outcome (an unreadable database at start, a full disk mid-run);
/// expected misses are values (std::optional, boost::system::result).
class error : public boost::system::system_error {
public:
    error(errc code, std::string what) : system_error(make_error_code(code)), what_(std::move(what)) {}

    /// The diagnostic alone (system_error would append the category's generic message).
    const char* what() const noexcept override { return what_.c_str(); }

private:
    std::string what_;
};

/// A fault that goes away by itself (another process's lock, a full disk): the caller retries
/// with back-off and keeps what it holds. Anything else (a corrupt file, an I/O error, a schema
/// fault) needs an operator: the process ends non-zero and its supervisor restarts it.
constexpr bool is_transient(errc e) noexcept {
    return e == errc::locked || e == errc::disk_full;
}
/// True when `e` is a storage::error whose code is transient.
bool is_transient(const std::exception_ptr& e) noexcept;

/// Maps a SQLite primary or extended result code to the storage error it means.
errc from_sqlite(int extended_code) noexcept;

/// Rethrows a SQLiteCpp exception as storage::error, naming the operation in the text, so no
/// caller outside storage/ has to know SQLite's codes.
[[noreturn]] void rethrow(const SQLite::Exception& e, std::string_view operation);

} // namespace companion::storage

template <>
struct boost::system::is_error_code_enum<companion::storage::errc> : std::true_type {};
