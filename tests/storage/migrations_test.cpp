// Tests of the schema migrations: a database written at every earlier version, holding the rows
// that version could hold, opens at the latest version with its data intact.
#include "storage/conversation.hpp"
#include "storage/generated_content.hpp"
#include "storage/migrations.hpp"
#include "storage/quotas.hpp"
#include "storage/updates.hpp"
#include "storage/users.hpp"
#include "storage/video_jobs.hpp"
#include "storage/voice_notes.hpp"
#include "tests/storage/test_support.hpp"

namespace companion::storage::test {
namespace {

/// Rows as a binary at `version` wrote them (raw SQL: the repositories speak only the latest
/// schema).
void insert_rows_of_version(SQLite::Database& db, std::size_t version) {
    if (version >= 1) {
        db.exec(
            "INSERT INTO users (telegram_id, language, persona_id, adult_confirmed, is_admin, created_at, "
            "last_seen_at) VALUES (1001, 'tr', 'aylin', 1, 0, 1000, 2000)");
        db.exec("INSERT INTO conversation_turns (user_id, persona_id, role, text, created_at) "
                "VALUES (1001, 'aylin', 'user', 'merhaba', 1500)");
        db.exec("INSERT INTO generated_content (user_id, persona_id, kind, prompt, media_path, created_at) "
                "VALUES (1001, 'aylin', 'selfie', 'a selfie at the Bosphorus', 'media/s1.png', 1600)");
    }
    if (version >= 2) {
        db.exec(
            "UPDATE generated_content SET size_bytes = 1234, sha256 = 'ab', mime = 'image/png', width = 768, "
            "height = 1344, telegram_file_id = 'AgAD' WHERE id = 1");
        db.exec("INSERT INTO conversation_summaries (user_id, persona_id, text, covered_turn_id, updated_at) "
                "VALUES (1001, 'aylin', 'they greeted', 1, 1700)");
        db.exec("INSERT INTO telegram_offset (id, next_offset) VALUES (1, 555)");
        db.exec("INSERT INTO processed_updates (update_id, processed_at) VALUES (554, 1800)");
    }
    if (version >= 3) {
        db.exec(
            "INSERT INTO video_jobs (user_id, chat_id, persona_id, provider, provider_job_id, mode, flirty, "
            "state, created_at, updated_at) VALUES (1001, 1001, 'aylin', 'sim', 'vid_1', 'new', 0, "
            "'submitted', 1900, 1900)");
        db.exec("INSERT INTO daily_quota (user_id, kind, day, used) VALUES (1001, 'video', 20000, 2)");
        // A second user's job caught in `submitting` by the upgrade.
        db.exec(
            "INSERT INTO users (telegram_id, language, adult_confirmed, is_admin, created_at, last_seen_at) "
            "VALUES (1002, 'en', 0, 0, 1000, 2000)");
        db.exec("INSERT INTO video_jobs (user_id, chat_id, persona_id, provider, mode, flirty, state, "
                "created_at, updated_at) VALUES (1002, 1002, 'aylin', 'sim', 'new', 0, 'submitting', 1900, "
                "1950)");
    }
    if (version >= 9) {
        db.exec("UPDATE users SET adult_answered = 1 WHERE telegram_id = 1001"); // a v9 binary's yes
    }
}

} // namespace

BOOST_AUTO_TEST_SUITE(storage_migrations)

BOOST_AUTO_TEST_CASE(every_earlier_version_migrates_to_the_latest_with_its_data) {
    const auto all = schema_migrations();
    for (std::size_t version = 0; version < all.size(); ++version) {
        BOOST_TEST_CONTEXT("from version " << version) {
            temp_dir dir;
            {
                database old(database_config{.path = dir.db_path()}, all.first(version));
                BOOST_TEST(old.schema_version() == static_cast<int>(version));
                insert_rows_of_version(old.connection(), version);
            }
            database db(database_config{.path = dir.db_path()});
            BOOST_TEST(db.schema_version() == db.latest_version());
            BOOST_TEST(db.integrity_check() == "ok");
            SQLite::Statement dangling(db.connection(), "PRAGMA foreign_key_check");
            BOOST_TEST(!dangling.executeStep());

            user_repository users(db);
            conversation_repository conversation(db);
            generated_content_repository content(db);
            update_log updates(db);
            video_job_repository jobs(db);
            quota_repository quotas(db);
            if (version >= 1) {
                const auto u = users.get(1001);
                BOOST_TEST_REQUIRE(u.has_value());
                BOOST_TEST(u->language == "tr");
                BOOST_TEST(u->persona_id.value() == "aylin");
                BOOST_TEST(u->adult_confirmed);
                BOOST_TEST(!u->blocked_bot);   // the v2 column's default
                BOOST_TEST(u->adult_answered); // a yes before v9 counts as an answer
                BOOST_TEST(u->stream_replies); // the v11 column's default: streamed, as configured
                BOOST_TEST((u->voice == voice_replies::mirror)); // v13: a voice note answers a voice note
                BOOST_TEST(conversation.last_turns(1001, "aylin", 10).at(0).text == "merhaba");
                const auto selfie = content.last_selfie(1001, "aylin");
                BOOST_TEST_REQUIRE(selfie.has_value());
                BOOST_TEST(selfie->prompt == "a selfie at the Bosphorus");
            }
            if (version >= 2) {
                BOOST_TEST(content.get(1)->telegram_file_id.value() == "AgAD");
                BOOST_TEST(conversation.summary(1001, "aylin")->text == "they greeted");
                BOOST_TEST(updates.offset().value() == 555);
                BOOST_TEST(updates.is_processed(554));
            }
            if (version >= 3) {
                BOOST_TEST(jobs.unfinished().at(0).provider_job_id.value() == "vid_1");
                BOOST_TEST(!jobs.unfinished().at(0).seconds.has_value()); // v12: the configured length
                BOOST_TEST(quotas.used(1001, quota_kind::video, day{std::chrono::days{20000}}) == 2);
                // A job caught submitting by the v10 upgrade may have a create in flight: a restart
                // calls it lost (never a second create) as the binary before it would have.
                const auto caught = jobs.in_flight_for(1002);
                BOOST_TEST_REQUIRE(caught.has_value());
                if (version < 10) { // the v10 upgrade ran on it
                    BOOST_TEST(caught->create_started.has_value());
                    BOOST_TEST(caught->spend_reserved_cents == 0);
                    BOOST_TEST(jobs.recover_after_crash(t0).size() == 1U);
                }
            }
            // Whatever the starting version, the latest schema works in full.
            users.record_contact(2002, "ru", false, t0);
            BOOST_TEST(jobs.create({.user_id = 2002, .chat_id = 2002, .persona_id = "p", .provider = "sim"})
                           .has_value());
            BOOST_TEST(quotas.try_consume(2002, quota_kind::selfie, utc_day(t0), 1));
            voice_note_repository voices(db);
            BOOST_TEST(voices.insert({.user_id = 2002,
                                      .persona_id = "p",
                                      .text = "hi",
                                      .seconds = 1,
                                      .telegram_file_id = "AwAD",
                                      .created = t0}) > 0);
        }
    }
}

BOOST_AUTO_TEST_CASE(released_steps_are_named) {
    for (const auto& step : schema_migrations()) {
        BOOST_TEST(!step.name.empty());
        BOOST_TEST(!step.sql.empty());
    }
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace companion::storage::test
