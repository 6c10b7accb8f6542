// Messages of the storage error category and the mapping from SQLite's result codes.
#include "storage/error.hpp"

#include <SQLiteCpp/Exception.h>
#include <sqlite3.h>

#include <string>

namespace companion::storage {
namespace {

class storage_category_impl final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "companion.storage"; }

    std::string message(int ev) const override {
        switch (static_cast<errc>(ev)) {
        case errc::corrupt:
            return "database file is corrupt or not a database";
        case errc::cannot_open:
            return "database file cannot be opened";
        case errc::locked:
            return "database is locked by another connection";
        case errc::schema_too_new:
            return "database schema is newer than this binary supports";
        case errc::migration_failed:
            return "schema migration failed and was rolled back";
        case errc::illegal_transition:
            return "illegal video job state transition";
        case errc::wrong_state:
            return "row was not in the expected state";
        case errc::not_found:
            return "not found";
        case errc::job_in_flight:
            return "the user already has a video job in flight";
        case errc::disk_full:
            return "disk is full";
        case errc::constraint:
            return "constraint violated";
        case errc::io:
            return "storage I/O error";
        }
        return "unknown storage error";
    }
};

} // namespace

const boost::system::error_category& storage_category() noexcept {
    static const storage_category_impl instance;
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

void rethrow(const SQLite::Exception& e, std::string_view operation) {
    std::string what(operation);
    what += ": ";
    what += e.what();
    throw error(from_sqlite(e.getExtendedErrorCode()), what);
}

} // namespace companion::storage
