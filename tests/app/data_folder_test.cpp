// Tests of app/data_folder: folders made for the bot are 0700 whatever the umask (issue 15,
// finding 9), and an empty database file is refused where a bot has run before, opened as new only
// in a folder a first start left behind (finding 10).
#include "app/data_folder.hpp"
#include "app/instance_lock.hpp"
#include "tests/common/temp_dir.hpp"

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <sys/stat.h>

#include <fstream>
#include <ostream>
#include <string>
#include <vector>

using namespace companion::app;

namespace {

struct folder_case {
    std::string what;
    std::vector<folder_entry> folder;
    database_file expected;
};

std::ostream& operator<<(std::ostream& os, const folder_case& c) {
    return os << c.what << " -> " << c.expected;
}

const folder_case folder_cases[] = {
    {"an empty folder", {}, database_file::absent},
    {"only the lock", {{"companion.lock", 6}}, database_file::absent},
    {"a database", {{"companion.db", 4096}, {"media", 0, true}}, database_file::not_empty},
    {"a database beside an empty one of another name",
     {{"companion.db", 4096}, {"other.db", 0}},
     database_file::not_empty},
    {"an empty database alone", {{"companion.db", 0}}, database_file::empty_in_new_folder},
    {"an empty database, its empty side files and the lock",
     {{"companion.db", 0}, {"companion.db-wal", 0}, {"companion.db-shm", 0}, {"companion.lock", 6}},
     database_file::empty_in_new_folder},
    {"an empty database beside the media folder",
     {{"companion.db", 0}, {"media", 0, true}},
     database_file::empty_in_used_folder},
    {"an empty database with a WAL that holds commits",
     {{"companion.db", 0}, {"companion.db-wal", 8272}},
     database_file::empty_in_used_folder},
    {"an empty database beside a log",
     {{"companion.db", 0}, {"companion.log", 120}},
     database_file::empty_in_used_folder},
    {"a folder named like the database", {{"companion.db", 0, true}}, database_file::absent},
};

mode_t mode_of(const std::filesystem::path& p) {
    struct stat st {};
    BOOST_TEST_REQUIRE(::stat(p.c_str(), &st) == 0);
    return st.st_mode & 0777;
}

/// Sets the umask for a scope (it is the process's), and restores it.
struct umask_scope {
    mode_t previous;
    explicit umask_scope(mode_t m) : previous(::umask(m)) {}
    ~umask_scope() { ::umask(previous); }
    umask_scope(const umask_scope&) = delete;
    umask_scope& operator=(const umask_scope&) = delete;
};

} // namespace

BOOST_AUTO_TEST_SUITE(data_folder_suite)

BOOST_DATA_TEST_CASE(an_empty_database_is_new_only_in_a_folder_nothing_else_has_used,
                     boost::unit_test::data::make(folder_cases),
                     c) {
    BOOST_TEST(classify_database_file("companion.db", c.folder) == c.expected);
}

BOOST_AUTO_TEST_CASE(folders_made_for_the_bot_are_private_whatever_the_umask) {
    companion::test::temp_dir dir;
    const umask_scope open_umask(022);
    const auto nested = dir.path / "a" / "b" / "data";
    BOOST_TEST(!make_private_directory(nested));
    for (const auto& p : {dir.path / "a", dir.path / "a" / "b", nested}) {
        BOOST_TEST(mode_of(p) == 0700U, p);
    }
    // A folder that exists is the operator's: left as it is.
    std::filesystem::create_directory(dir.path / "theirs");
    std::filesystem::permissions(dir.path / "theirs", std::filesystem::perms(0750));
    BOOST_TEST(!make_private_directory(dir.path / "theirs"));
    BOOST_TEST(mode_of(dir.path / "theirs") == 0750U);
}

BOOST_AUTO_TEST_CASE(a_folder_that_cannot_be_made_is_an_error) {
    companion::test::temp_dir dir;
    std::ofstream(dir.path / "file") << "x";
    BOOST_TEST(static_cast<bool>(make_private_directory(dir.path / "file" / "data")));
}

BOOST_AUTO_TEST_CASE(an_empty_database_in_a_used_folder_is_refused_with_a_line_saying_what_to_do) {
    companion::test::temp_dir dir;
    const auto db = dir.path / "companion.db";
    std::ofstream(db).flush();
    std::filesystem::create_directory(dir.path / "media");
    const auto refused = refuse_empty_database(db);
    BOOST_TEST_REQUIRE(refused.has_value());
    BOOST_TEST(refused->starts_with("storage.database: " + db.string() + " is an empty file"), *refused);
    BOOST_TEST(refused->find("backup") != std::string::npos);
    BOOST_TEST(refused->find('\n') == std::string::npos);
}

BOOST_AUTO_TEST_CASE(an_absent_or_real_database_or_a_first_starts_empty_one_is_opened) {
    companion::test::temp_dir dir;
    const auto db = dir.path / "companion.db";
    BOOST_TEST(!refuse_empty_database(db).has_value()); // absent
    std::ofstream(db).flush();
    std::ofstream(dir.path / instance_lock::file_name) << "1\n";
    BOOST_TEST(!refuse_empty_database(db).has_value()); // empty in a new folder
    std::filesystem::create_directory(dir.path / "media");
    std::ofstream(db) << "SQLite format 3";
    BOOST_TEST(!refuse_empty_database(db).has_value()); // not empty: SQLite judges the rest
}

BOOST_AUTO_TEST_SUITE_END()
