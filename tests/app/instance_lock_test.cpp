// Tests of app/instance_lock (issue 15, finding 7): a second lock on a folder already locked fails
// and names the holder's pid; once the holder lets go, the folder can be locked again. flock
// belongs to the open file description, so a second acquire from this same process (its own
// open()) meets the lock exactly as a second process would.
#include "app/instance_lock.hpp"
#include "tests/common/files.hpp"
#include "tests/common/temp_dir.hpp"

#include <boost/test/unit_test.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <utility>

using companion::app::instance_lock;

BOOST_AUTO_TEST_SUITE(instance_lock_suite)

BOOST_AUTO_TEST_CASE(a_second_lock_on_the_same_folder_fails_naming_the_holders_pid) {
    companion::test::temp_dir dir;
    auto first = instance_lock::acquire(dir.path);
    BOOST_TEST_REQUIRE(first.has_value(), (first ? "" : first.error()));
    BOOST_TEST(first->held());
    BOOST_TEST(first->pid_written());

    auto second = instance_lock::acquire(dir.path);
    BOOST_TEST_REQUIRE(!second.has_value());
    const std::string pid = "pid " + std::to_string(::getpid());
    BOOST_TEST(second.error().find(pid) != std::string::npos, second.error());
    BOOST_TEST(second.error().find(dir.path.string()) != std::string::npos, second.error());
    BOOST_TEST(second.error().find("in use by another companion-bot") != std::string::npos);
    BOOST_TEST(second.error().find('\n') == std::string::npos); // one line
}

BOOST_AUTO_TEST_CASE(once_released_the_folder_can_be_locked_again) {
    companion::test::temp_dir dir;
    auto first = instance_lock::acquire(dir.path);
    BOOST_TEST_REQUIRE(first.has_value());
    first->release();
    BOOST_TEST(!first->held());
    auto again = instance_lock::acquire(dir.path);
    BOOST_TEST(again.has_value(), (again ? "" : again.error()));
}

BOOST_AUTO_TEST_CASE(the_lock_ends_with_its_owner_and_survives_a_move) {
    companion::test::temp_dir dir;
    {
        auto first = instance_lock::acquire(dir.path);
        BOOST_TEST_REQUIRE(first.has_value());
        instance_lock moved = std::move(*first);
        BOOST_TEST(moved.held());
        BOOST_TEST(!instance_lock::acquire(dir.path).has_value()); // the moved-to lock still holds
    }
    BOOST_TEST(instance_lock::acquire(dir.path).has_value());
}

BOOST_AUTO_TEST_CASE(the_lock_file_holds_the_pid_and_only_its_owner_reads_it) {
    companion::test::temp_dir dir;
    auto lock = instance_lock::acquire(dir.path);
    BOOST_TEST_REQUIRE(lock.has_value());
    BOOST_TEST(lock->path() == dir.path / instance_lock::file_name);
    BOOST_TEST(companion::test::read_file(lock->path()) == std::to_string(::getpid()) + "\n");
    struct stat st {};
    BOOST_TEST_REQUIRE(::stat(lock->path().c_str(), &st) == 0);
    BOOST_TEST((st.st_mode & 0077) == 0U);
}

BOOST_AUTO_TEST_CASE(a_stale_pid_from_a_dead_holder_does_not_block) {
    // A holder killed with -9 leaves its pid in the file; the kernel dropped its lock.
    companion::test::temp_dir dir;
    std::ofstream(dir.path / instance_lock::file_name) << "999999\n";
    auto lock = instance_lock::acquire(dir.path);
    BOOST_TEST_REQUIRE(lock.has_value());
    BOOST_TEST(companion::test::read_file(lock->path()) == std::to_string(::getpid()) + "\n");
}

BOOST_AUTO_TEST_CASE(a_folder_that_does_not_exist_is_a_readable_error) {
    companion::test::temp_dir dir;
    auto lock = instance_lock::acquire(dir.path / "missing");
    BOOST_TEST_REQUIRE(!lock.has_value());
    BOOST_TEST(lock.error().find("cannot open the lock file") == 0U, lock.error());
}

BOOST_AUTO_TEST_SUITE_END()
