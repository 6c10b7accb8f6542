// Tests of the users repository.
#include "storage/users.hpp"
#include "tests/storage/test_support.hpp"

using namespace std::chrono_literals;

namespace companion::storage::test {

BOOST_AUTO_TEST_SUITE(storage_users)

BOOST_FIXTURE_TEST_CASE(first_contact_creates_the_user_with_defaults, database_fixture) {
    user_repository users(*db);
    const user u = users.record_contact(7'000'000'001, "ru", false, t0);
    BOOST_TEST(u.telegram_id == 7'000'000'001); // beyond 32 bits
    BOOST_TEST(u.language == "ru");
    BOOST_TEST(!u.persona_id.has_value());
    BOOST_TEST(!u.adult_confirmed);
    BOOST_TEST(!u.is_admin);
    BOOST_TEST(!u.blocked_bot);
    BOOST_TEST((u.created == t0));
    BOOST_TEST((u.last_seen == t0));
    BOOST_TEST((users.get(7'000'000'001) == u));
    BOOST_TEST(users.count() == 1);
}

BOOST_FIXTURE_TEST_CASE(a_no_to_the_adult_question_is_an_answer_kept_apart_from_a_yes, database_fixture) {
    user_repository users(*db);
    BOOST_TEST(!users.record_contact(1, "tr", false, t0).adult_answered);
    BOOST_TEST(users.set_adult_answer(1, false).has_value());
    const auto u = users.get(1);
    BOOST_TEST_REQUIRE(u.has_value());
    BOOST_TEST(u->adult_answered); // asked once: not again at the next offer
    BOOST_TEST(!u->adult_confirmed);
    BOOST_TEST(!users.set_adult_answer(99, true).has_value()); // nobody to record it for
}

BOOST_FIXTURE_TEST_CASE(later_contact_refreshes_last_seen_and_keeps_choices, database_fixture) {
    user_repository users(*db);
    users.record_contact(1, "tr", false, t0);
    BOOST_TEST(users.set_persona(1, "aylin").has_value());
    BOOST_TEST(users.set_language(1, "en").has_value());
    BOOST_TEST(users.set_adult_answer(1, true).has_value());
    BOOST_TEST(users.set_blocked_bot(1, true).has_value());

    const user u = users.record_contact(1, "tr", true, t0 + 1h);
    BOOST_TEST(u.language == "en"); // the user's switch wins over Telegram's language_code
    BOOST_TEST(u.persona_id.value() == "aylin");
    BOOST_TEST(u.adult_confirmed);
    BOOST_TEST(u.adult_answered);
    BOOST_TEST(u.is_admin);
    BOOST_TEST(!u.blocked_bot); // writing again means the bot is unblocked
    BOOST_TEST((u.created == t0));
    BOOST_TEST((u.last_seen == t0 + 1h));
}

BOOST_AUTO_TEST_CASE(contact_is_written_when_last_seen_is_stale_or_a_flag_changes) {
    const user seen{.telegram_id = 1, .last_seen = t0};
    user blocked = seen;
    blocked.blocked_bot = true;
    user admin = seen;
    admin.is_admin = true;
    struct row {
        const char* name;
        user u;
        bool is_admin;
        timestamp now;
        bool write;
    };
    const row rows[] = {
        {"at once", seen, false, t0, false},
        {"within the minute", seen, false, t0 + contact_refresh - 1ms, false},
        {"a minute on", seen, false, t0 + contact_refresh, true},
        {"an hour on", seen, false, t0 + 1h, true},
        {"the clock went back", seen, false, t0 - 1h, false},
        {"became an admin", seen, true, t0 + 1s, true},
        {"no longer an admin", admin, false, t0 + 1s, true},
        {"still an admin", admin, true, t0 + 1s, false},
        {"had blocked the bot", blocked, false, t0 + 1s, true},
    };
    for (const auto& r : rows) {
        BOOST_TEST_CONTEXT(r.name) {
            BOOST_TEST(contact_needs_write(r.u, r.is_admin, r.now) == r.write);
        }
    }
}

BOOST_FIXTURE_TEST_CASE(contact_within_the_refresh_reads_the_row_without_writing_it, database_fixture) {
    user_repository users(*db);
    users.record_contact(1, "tr", false, t0);
    const auto changes = db->connection().getTotalChanges();
    const user again = users.record_contact(1, "ru", false, t0 + 10s);
    BOOST_TEST(db->connection().getTotalChanges() == changes); // nothing written
    BOOST_TEST((again.last_seen == t0));
    BOOST_TEST(again.language == "tr");
    const user later = users.record_contact(1, "ru", false, t0 + contact_refresh);
    BOOST_TEST(db->connection().getTotalChanges() == changes + 1);
    BOOST_TEST((later.last_seen == t0 + contact_refresh));
}

BOOST_FIXTURE_TEST_CASE(persona_can_be_cleared, database_fixture) {
    user_repository users(*db);
    users.record_contact(1, "tr", false, t0);
    BOOST_TEST(users.set_persona(1, "aylin").has_value());
    BOOST_TEST(users.set_persona(1, std::nullopt).has_value());
    BOOST_TEST(!users.get(1)->persona_id.has_value());
}

BOOST_FIXTURE_TEST_CASE(setting_a_field_of_an_unknown_user_is_not_found, database_fixture) {
    user_repository users(*db);
    BOOST_TEST(!users.get(99).has_value());
    const auto r = users.set_language(99, "en");
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST(r.error() == make_error_code(errc::not_found));
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace companion::storage::test
