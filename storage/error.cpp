// Messages of the storage error category and the mapping from SQLite's result codes.
#include "storage/error.hpp"

#include "engine/error_category.hpp"

#include <SQLiteCpp/Exception.h>
#include <sqlite3.h>

#include <string>

namespace companion::storage {

const boost::system::error_category& storage_category() noexcept {
    // One message per errc, in the order of its BOOST_DESCRIBE_ENUM.
    // clang-format off
    static const engine::table_category<errc> instance("companion.storage", {
        "database file is corrupt or not a database", "database file cannot be opened",
        "database is locked by another connection", "database schema is newer than this binary supports",
        "schema migration failed and was rolled back", "illegal video job state transition",
        "row was not in the expected state", "not found", "the user already has a video job in flight",
        "disk is full", "constraint violated", "storage I/O error"
    }, "unknown storage error");
    // clang-format on
    return instance;
}

errc from_sqlite(int extended_code) noexcept {
    switch (extended_code & 0xFF) {
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        return errc::corrupt;
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
    case SQLITE_READONLY:
        return errc::cannot_open;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return errc::locked;
    case SQLITE_FULL:
        return errc::disk_full;
    case SQLITE_CONSTRAINT:
        return errc::constraint;
    default:
        return errc::io;
    }
}

bool is_transient(const std::exception_ptr& e) noexcept {
    if (!e) {
        return false;
    }
    try {
        std::rethrow_exception(e);
    } catch (const error& se) {
        return se.code().category() == storage_category() &&
               is_transient(static_cast<errc>(se.code().value()));
    } catch (const SQLite::Exception& se) {
        return is_transient(from_sqlite(se.getExtendedErrorCode())); // one a repository let through
    } catch (...) {
        return false;
    }
}

void rethrow(const SQLite::Exception& e, std::string_view operation) {
    std::string what(operation);
    what += ": ";
    what += e.what();
    throw error(from_sqlite(e.getExtendedErrorCode()), what);
}

} // namespace companion::storage
