// Tests of /forget: a user's history and media go, an in-flight job and other users stay.
#include "storage/conversation.hpp"
#include "storage/forget.hpp"
#include "storage/generated_content.hpp"
#include "storage/users.hpp"
#include "storage/video_jobs.hpp"
#include "storage/voice_notes.hpp"
#include "tests/storage/test_support.hpp"

namespace companion::storage::test {

BOOST_AUTO_TEST_SUITE(storage_forget)

BOOST_FIXTURE_TEST_CASE(forget_erases_history_media_and_finished_jobs_only, database_fixture) {
    add_user(1);
    add_user(2);
    conversation_repository conv(*db);
    generated_content_repository content(*db);
    video_job_repository jobs(*db);

    conv.append(1, "aylin", speaker::user, "secret", t0);
    conv.set_summary(1, "aylin", "summary", 1, t0);
    conv.append(2, "aylin", speaker::user, "someone else", t0);
    const auto old_selfie =
        content.insert({.user_id = 1, .persona_id = "aylin", .prompt = "a", .media_path = "a.png"});
    const auto in_use =
        content.insert({.user_id = 1, .persona_id = "aylin", .prompt = "b", .media_path = "b.png"});
    content.insert({.user_id = 2, .persona_id = "aylin", .prompt = "c", .media_path = "c.png"});

    const auto done =
        jobs.create({.user_id = 1, .chat_id = 1, .persona_id = "aylin", .provider = "sim"}).value();
    BOOST_TEST(jobs.transition(done, job_state::requested, job_state::failed, {}, t0).has_value());
    const auto running =
        jobs.create({.user_id = 1, .chat_id = 1, .persona_id = "aylin", .provider = "sim"}).value();
    BOOST_TEST(jobs.transition(running, job_state::requested, job_state::prompting, {}, t0).has_value());
    BOOST_TEST(jobs.transition(running,
                               job_state::prompting,
                               job_state::submitting,
                               {.image_content_id = in_use, .image_path = "b.png"},
                               t0)
                   .has_value());

    voice_note_repository voices(*db);
    voices.insert(
        {.user_id = 1, .persona_id = "aylin", .text = "hello", .seconds = 2, .telegram_file_id = "AwA1"});
    voices.insert(
        {.user_id = 2, .persona_id = "aylin", .text = "hi", .seconds = 1, .telegram_file_id = "AwA2"});

    const auto r = forget_user(*db, 1);
    BOOST_TEST(r.media_paths == std::vector<std::string>{"a.png"});
    BOOST_TEST(r.turns == 1);
    BOOST_TEST(r.summaries == 1);
    BOOST_TEST(r.voice_notes == 1);
    BOOST_TEST(r.content == 1);
    BOOST_TEST(r.jobs == 1);

    BOOST_TEST(conv.last_turns(1, "aylin", 10).empty());
    BOOST_TEST(!conv.summary(1, "aylin").has_value());
    BOOST_TEST(!content.get(old_selfie).has_value());
    BOOST_TEST(content.get(in_use).has_value());
    BOOST_TEST(!jobs.get(done).has_value());
    BOOST_TEST(jobs.get(running).has_value());
    BOOST_TEST(conv.last_turns(2, "aylin", 10).size() == 1U);
    BOOST_TEST(content.last_selfie(2, "aylin").has_value());
    BOOST_TEST(voices.of_user(1, 10).empty());
    BOOST_TEST(voices.of_user(2, 10).size() == 1U);
}

BOOST_FIXTURE_TEST_CASE(voice_notes_keep_text_length_and_file_id_newest_first, database_fixture) {
    add_user(1);
    voice_note_repository voices(*db);
    const new_voice_note first{.user_id = 1,
                               .persona_id = "elif",
                               .text = "Merhaba",
                               .seconds = 2,
                               .telegram_file_id = "AwA1",
                               .created = t0};
    const auto a = voices.insert(first);
    const auto b = voices.insert({.user_id = 1,
                                  .persona_id = "elif",
                                  .text = "Nasılsın?",
                                  .seconds = 3,
                                  .telegram_file_id = "AwA2",
                                  .created = t0});
    const auto notes = voices.of_user(1, 10);
    BOOST_TEST_REQUIRE(notes.size() == 2U);
    BOOST_TEST(notes[0].id == b);
    BOOST_TEST(notes[1].id == a);
    BOOST_TEST((static_cast<const new_voice_note&>(notes[1]) == first));
    BOOST_TEST(voices.of_user(1, 1).size() == 1U);
    BOOST_CHECK_THROW(
        voices.insert({.user_id = 99, .persona_id = "elif", .text = "x", .telegram_file_id = "A"}),
        std::exception); // no such user
    BOOST_CHECK_THROW(
        voices.insert(
            {.user_id = 1, .persona_id = "elif", .text = "x", .seconds = -1, .telegram_file_id = "A"}),
        std::exception); // the CHECK
}

BOOST_FIXTURE_TEST_CASE(the_voice_setting_round_trips_and_defaults_to_mirror, database_fixture) {
    add_user(1);
    user_repository users(*db);
    BOOST_TEST((users.get(1)->voice == voice_replies::mirror));
    const std::vector<voice_replies> all{voice_replies::text,
                                         voice_replies::voice,
                                         voice_replies::both,
                                         voice_replies::mirror};
    for (const auto how : all) {
        BOOST_TEST(users.set_voice_replies(1, how).has_value());
        BOOST_TEST((users.get(1)->voice == how));
    }
    BOOST_TEST(!users.set_voice_replies(404, voice_replies::text).has_value());
    BOOST_CHECK_THROW(db->connection().exec("UPDATE users SET voice_replies = 'loud' WHERE telegram_id = 1"),
                      std::exception);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace companion::storage::test
