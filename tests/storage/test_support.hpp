// Shared fixtures of the storage tests: a unique temporary directory per test (removed after), a
// database opened in it, fixed times, and printers for the storage types BOOST_TEST shows.
#pragma once

#include "engine/log.hpp"
#include "storage/database.hpp"
#include "storage/error.hpp"
#include "storage/time.hpp"
#include "storage/users.hpp"
#include "tests/common/temp_dir.hpp"

#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <ostream>
#include <string>

namespace companion::storage {

inline std::ostream& operator<<(std::ostream& os, errc e) {
    return os << make_error_code(e).message();
}

} // namespace companion::storage

namespace companion::storage::test {

/// 2026-11-24T21:30:00Z: tests never read the clock.
inline const timestamp t0 = from_unix_ms(1'795'555'800'000);

/// Sets when a file was last written: tests age files instead of waiting.
inline void set_written_at(const std::filesystem::path& file, timestamp t) {
    const std::int64_t ms = to_unix_ms(t);
    const timespec at{.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1'000'000};
    const timespec times[2] = {at, at};
    BOOST_TEST_REQUIRE(::utimensat(AT_FDCWD, file.c_str(), times, AT_SYMLINK_NOFOLLOW) == 0);
}

/// A fresh directory under /tmp, removed with everything in it when the fixture ends.
struct temp_dir : companion::test::temp_dir {
    temp_dir() {
        // Migrations log at info; the suite's output stays readable at warn.
        engine::log().configure({.level = engine::log_level::warn});
    }

    std::filesystem::path db_path() const { return path / "bot.db"; }
};

/// A migrated database in a temporary directory, with a helper to add users (most tables refer
/// to one).
struct database_fixture : temp_dir {
    std::unique_ptr<database> db = std::make_unique<database>(database_config{.path = db_path()});

    void add_user(std::int64_t id, std::string_view language = "en") {
        user_repository users(*db);
        users.record_contact(id, language, false, t0);
    }
};

} // namespace companion::storage::test
