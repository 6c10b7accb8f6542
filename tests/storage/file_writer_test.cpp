// Tests of the crash-safe media writer (storage::write_media_file on engine::atomic_file): the
// final file has the bytes, no temporary is left after a success or a failure, and an existing
// file is replaced whole.
#include "engine/atomic_file.hpp"
#include "storage/error.hpp"
#include "storage/media_store.hpp"
#include "tests/common/files.hpp"
#include "tests/common/temp_dir.hpp"

#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace companion::storage::test {
namespace {

using companion::test::read_file;

std::size_t entries(const std::filesystem::path& dir) {
    return static_cast<std::size_t>(
        std::distance(std::filesystem::directory_iterator(dir), std::filesystem::directory_iterator()));
}

} // namespace

BOOST_AUTO_TEST_SUITE(storage_file_writer)

BOOST_FIXTURE_TEST_CASE(written_file_has_the_bytes_and_no_temporary_is_left, companion::test::temp_dir) {
    const std::string bytes("\0video\x01\xff", 8);
    const auto stored = write_media_file(path / "v.mp4", bytes);
    BOOST_TEST_REQUIRE(stored.has_value());
    BOOST_TEST(stored->path == path / "v.mp4");
    BOOST_TEST(stored->size_bytes == 8);
    BOOST_TEST(stored->sha256 == sha256_hex(bytes));
    BOOST_TEST(read_file(path / "v.mp4") == bytes);
    BOOST_TEST(entries(path) == 1U);
}

BOOST_FIXTURE_TEST_CASE(an_existing_file_is_replaced_whole, companion::test::temp_dir) {
    BOOST_TEST_REQUIRE(write_media_file(path / "v.mp4", std::string(4096, 'a')).has_value());
    BOOST_TEST_REQUIRE(write_media_file(path / "v.mp4", "short").has_value());
    BOOST_TEST(read_file(path / "v.mp4") == "short"); // not "short" over the old tail
    BOOST_TEST(entries(path) == 1U);
}

BOOST_FIXTURE_TEST_CASE(the_destination_is_untouched_until_commit, companion::test::temp_dir) {
    BOOST_TEST_REQUIRE(write_media_file(path / "v.mp4", "old").has_value());
    {
        auto file = engine::atomic_file::create(path / "v.mp4");
        BOOST_TEST_REQUIRE(file.has_value());
        BOOST_TEST(file->temp_path().parent_path() == path);
        BOOST_TEST_REQUIRE(file->write("new bytes").has_value());
        BOOST_TEST(read_file(path / "v.mp4") == "old");
        BOOST_TEST(entries(path) == 2U);
        // Dropped without commit: the temporary goes, the old file stays.
    }
    BOOST_TEST(read_file(path / "v.mp4") == "old");
    BOOST_TEST(entries(path) == 1U);
}

BOOST_FIXTURE_TEST_CASE(a_missing_folder_under_a_file_is_a_typed_error, companion::test::temp_dir) {
    { std::ofstream(path / "plain") << "x"; }
    // The parent is a regular file: neither the folder nor the temporary can be made.
    const auto stored = write_media_file(path / "plain" / "v.mp4", "video");
    BOOST_TEST_REQUIRE(stored.has_error());
    BOOST_TEST(stored.error() == make_error_code(errc::io));
    const auto raw = engine::write_file_atomically(path / "missing" / "v.mp4", "video");
    BOOST_TEST_REQUIRE(raw.has_error());
    BOOST_TEST(raw.error().step == "create");
    BOOST_TEST(raw.error().message().find("No such file or directory") != std::string::npos);
    BOOST_TEST(entries(path) == 1U);
}

BOOST_FIXTURE_TEST_CASE(a_read_only_folder_fails_and_leaves_nothing, companion::test::temp_dir) {
    if (::geteuid() == 0) {
        return; // root writes anyway; nothing to check
    }
    std::filesystem::create_directory(path / "ro");
    std::filesystem::permissions(path / "ro",
                                 std::filesystem::perms::owner_read | std::filesystem::perms::owner_exec);
    const auto stored = write_media_file(path / "ro" / "v.mp4", "video");
    std::filesystem::permissions(path / "ro", std::filesystem::perms::owner_all);
    BOOST_TEST_REQUIRE(stored.has_error());
    BOOST_TEST(stored.error() == make_error_code(errc::io));
    BOOST_TEST(entries(path / "ro") == 0U);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace companion::storage::test
