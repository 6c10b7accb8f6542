// The schema, as an ordered list of forward-only migration steps keyed by PRAGMA user_version:
// step i (0-based) moves a database from version i to version i + 1.
#pragma once

#include <span>
#include <string_view>

namespace companion::storage {

struct migration {
    std::string_view name; ///< logged when the step runs
    std::string_view sql;  ///< one or more statements, run inside the step's transaction
};

/// The migrations of this binary; its schema version is their count.
std::span<const migration> schema_migrations() noexcept;

} // namespace companion::storage
