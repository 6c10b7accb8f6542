// Tests of the media store: whole files under their final names, checksums, no temporaries left.
#include "storage/media_store.hpp"
#include "tests/common/files.hpp"
#include "tests/storage/test_support.hpp"

#include <fstream>
#include <iterator>

using namespace std::chrono_literals;

namespace companion::storage::test {
using companion::test::read_file;

BOOST_AUTO_TEST_SUITE(storage_media_store)

BOOST_AUTO_TEST_CASE(sha256_matches_the_standard_vector) {
    BOOST_TEST(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

BOOST_FIXTURE_TEST_CASE(written_file_has_its_bytes_size_and_checksum, temp_dir) {
    media_store store(path / "media");
    const std::string bytes("\x89PNG\r\n\x1a\n\0\0 binary", 17);
    const auto stored = store.write("selfie-42", "png", bytes);
    BOOST_TEST_REQUIRE(stored.has_value());
    BOOST_TEST(stored->size_bytes == 17);
    BOOST_TEST(stored->sha256 == sha256_hex(bytes));
    BOOST_TEST(stored->path.parent_path() == path / "media");
    BOOST_TEST(stored->path.filename().string().starts_with("selfie-42-"));
    BOOST_TEST(read_file(stored->path) == bytes);
    // Only the final file is in the directory: the temporary was renamed, not copied.
    BOOST_TEST(std::distance(std::filesystem::directory_iterator(path / "media"), {}) == 1);
}

BOOST_FIXTURE_TEST_CASE(stem_cannot_escape_the_directory, temp_dir) {
    media_store store(path / "media");
    const auto stored = store.write("../../etc/passwd", "p/ng", "x");
    BOOST_TEST_REQUIRE(stored.has_value());
    BOOST_TEST(stored->path.parent_path() == path / "media");
}

BOOST_FIXTURE_TEST_CASE(remove_deletes_and_tolerates_a_missing_file, temp_dir) {
    media_store store(path / "media");
    const auto stored = store.write("v", "mp4", "video").value();
    BOOST_TEST(!store.remove(stored.path));
    BOOST_TEST(!std::filesystem::exists(stored.path));
    BOOST_TEST(!store.remove(stored.path));
}

BOOST_FIXTURE_TEST_CASE(unwritable_directory_is_a_typed_error, temp_dir) {
    media_store store(path / "media");
    std::filesystem::permissions(path / "media",
                                 std::filesystem::perms::owner_read | std::filesystem::perms::owner_exec);
    const auto stored = store.write("v", "mp4", "video");
    std::filesystem::permissions(path / "media", std::filesystem::perms::owner_all);
    if (::geteuid() == 0) {
        return; // root writes anyway; nothing to check
    }
    BOOST_TEST_REQUIRE(stored.has_error());
    BOOST_TEST(stored.error() == make_error_code(errc::io));
}

BOOST_FIXTURE_TEST_CASE(only_files_written_before_the_cutoff_are_listed_and_removed, temp_dir) {
    media_store store(path / "media");
    const auto old_file = store.write("old", "png", "old bytes").value();
    const auto new_file = store.write("new", "png", "new bytes").value();
    set_written_at(old_file.path, t0);
    set_written_at(new_file.path, t0 + 48h);
    std::filesystem::create_directory(path / "media" / "not-a-file");
    set_written_at(path / "media" / "not-a-file", t0);

    const auto listed = store.written_before(t0 + 24h);
    BOOST_TEST_REQUIRE(listed.has_value());
    BOOST_TEST(*listed == std::vector<std::filesystem::path>{old_file.path});
    // The new file is kept: written at or after the cutoff.
    BOOST_TEST(store.remove_if_written_before(new_file.path, t0 + 24h).value() == false);
    BOOST_TEST(store.remove_if_written_before(old_file.path, t0 + 24h).value() == true);
    BOOST_TEST(!std::filesystem::exists(old_file.path));
    BOOST_TEST(std::filesystem::exists(new_file.path));
    // Already gone counts as gone.
    BOOST_TEST(store.remove_if_written_before(old_file.path, t0 + 24h).value() == true);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace companion::storage::test
