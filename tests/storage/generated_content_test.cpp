// Tests of the generated_content repository.
#include "storage/generated_content.hpp"
#include "tests/storage/test_support.hpp"

using namespace std::chrono_literals;

namespace companion::storage::test {
namespace {

new_content selfie(std::int64_t user, std::string persona, std::string prompt, timestamp at) {
    return {
        .user_id = user,
        .persona_id = std::move(persona),
        .kind = content_kind::selfie,
        .prompt = std::move(prompt),
        .media_path = "media/" + std::to_string(to_unix_ms(at)) + ".png",
        .size_bytes = 123456,
        .sha256 = std::string(64, 'a'),
        .mime = "image/png",
        .width = 768,
        .height = 1344,
        .created = at,
    };
}

} // namespace

BOOST_AUTO_TEST_SUITE(storage_generated_content)

BOOST_FIXTURE_TEST_CASE(inserted_row_reads_back_whole, database_fixture) {
    add_user(1);
    generated_content_repository repo(*db);
    new_content video = selfie(1, "aylin", "a video prompt", t0);
    video.kind = content_kind::video;
    video.mime = "video/mp4";
    video.duration = 4000ms;
    const auto id = repo.insert(video);
    const auto got = repo.get(id);
    BOOST_TEST_REQUIRE(got.has_value());
    BOOST_TEST((static_cast<const new_content&>(*got) == video));
    BOOST_TEST(!got->telegram_file_id.has_value());
    BOOST_TEST(!repo.get(id + 1).has_value());
}

BOOST_FIXTURE_TEST_CASE(last_selfie_is_the_newest_of_that_user_and_persona, database_fixture) {
    add_user(1);
    add_user(2);
    generated_content_repository repo(*db);
    BOOST_TEST(!repo.last_selfie(1, "aylin").has_value());
    repo.insert(selfie(1, "aylin", "first", t0));
    repo.insert(selfie(1, "aylin", "second", t0 + 1s));
    repo.insert(selfie(1, "olga", "other persona", t0 + 2s));
    repo.insert(selfie(2, "aylin", "other user", t0 + 3s));
    new_content video = selfie(1, "aylin", "a video is not a selfie", t0 + 4s);
    video.kind = content_kind::video;
    repo.insert(video);
    BOOST_TEST(repo.last_selfie(1, "aylin")->prompt == "second");
}

BOOST_FIXTURE_TEST_CASE(telegram_file_id_is_set_after_upload, database_fixture) {
    add_user(1);
    generated_content_repository repo(*db);
    const auto id = repo.insert(selfie(1, "aylin", "p", t0));
    BOOST_TEST(repo.set_telegram_file_id(id, "AgACAgIAAxkBAAIB").has_value());
    BOOST_TEST(repo.get(id)->telegram_file_id.value() == "AgACAgIAAxkBAAIB");
    BOOST_TEST(repo.set_telegram_file_id(id + 100, "x").error() == make_error_code(errc::not_found));
}

BOOST_FIXTURE_TEST_CASE(delivered_lists_sent_files_of_one_kind_newest_first_once_each, database_fixture) {
    add_user(1);
    add_user(2);
    generated_content_repository repo(*db);
    const auto sent = [&](new_content c, std::string file_id) {
        const auto id = repo.insert(c);
        BOOST_TEST_REQUIRE(repo.set_telegram_file_id(id, file_id).has_value());
        return id;
    };
    sent(selfie(1, "aylin", "old", t0), "F1");
    repo.insert(selfie(1, "aylin", "never delivered", t0 + 1s));
    auto clip = selfie(1, "olga", "a clip", t0 + 2s);
    clip.kind = content_kind::video;
    clip.media_path = "media/clip.mp4";
    repo.insert(clip);                     // a first delivery attempt, lost
    const auto clip_id = sent(clip, "V1"); // the second attempt: the same file, sent
    sent(selfie(2, "aylin", "another user's", t0 + 3s), "F2");
    sent(selfie(1, "olga", "new", t0 + 4s), "F3");

    const auto selfies = repo.delivered(1, content_kind::selfie, 10);
    BOOST_TEST_REQUIRE(selfies.size() == 2U);
    BOOST_TEST(selfies[0].prompt == "new");
    BOOST_TEST(selfies[1].prompt == "old");
    BOOST_TEST(repo.delivered(1, content_kind::selfie, 1).size() == 1U);
    const auto videos = repo.delivered(1, content_kind::video, 10);
    BOOST_TEST_REQUIRE(videos.size() == 1U);
    BOOST_TEST(videos[0].id == clip_id);
    BOOST_TEST(videos[0].telegram_file_id.value() == "V1");
    BOOST_TEST(repo.delivered(3, content_kind::video, 10).empty());
}

BOOST_FIXTURE_TEST_CASE(prune_deletes_old_rows_oldest_first_up_to_the_limit, database_fixture) {
    add_user(1);
    generated_content_repository repo(*db);
    const auto oldest = repo.insert(selfie(1, "aylin", "oldest", t0));
    const auto old_id = repo.insert(selfie(1, "aylin", "old", t0 + 1h));
    const auto new_id = repo.insert(selfie(1, "aylin", "new", t0 + 48h));
    BOOST_TEST(repo.prune_older_than(t0 + 24h, 1) == 1);
    BOOST_TEST(!repo.get(oldest).has_value());
    BOOST_TEST(repo.get(old_id).has_value());
    BOOST_TEST(repo.paths_older_than(t0 + 24h) ==
               std::vector<std::string>{selfie(1, "aylin", "old", t0 + 1h).media_path});
    BOOST_TEST(repo.prune_older_than(t0 + 24h) == 1);
    BOOST_TEST(!repo.get(old_id).has_value());
    BOOST_TEST(repo.get(new_id).has_value());
    BOOST_TEST(repo.paths_older_than(t0 + 24h).empty());
}

BOOST_FIXTURE_TEST_CASE(a_file_is_named_while_any_row_names_it, database_fixture) {
    add_user(1);
    generated_content_repository repo(*db);
    auto first = selfie(1, "aylin", "first", t0);
    auto again = selfie(1, "aylin", "same bytes again", t0 + 48h);
    again.media_path = first.media_path; // a store names files by their bytes
    repo.insert(first);
    repo.insert(again);
    BOOST_TEST(repo.prune_older_than(t0 + 24h) == 1);
    BOOST_TEST(repo.names_file(first.media_path));
    BOOST_TEST(repo.prune_older_than(t0 + 72h) == 1);
    BOOST_TEST(!repo.names_file(first.media_path));
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace companion::storage::test
