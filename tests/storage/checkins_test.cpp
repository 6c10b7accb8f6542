// Tests of the check-in settings, schedule and log: the opt-in question asked once, the offset
// kept, only opted-in users due, a claim that takes the user off the schedule and is resolved
// with the send's outcome, a claim a crash left behind counted as sent, and the rows going with
// the user's.
#include "storage/checkins.hpp"
#include "tests/storage/test_support.hpp"

#include <chrono>

namespace companion::storage::test {

using namespace std::chrono_literals;

namespace {

struct checkins_fixture : database_fixture {
    checkin_repository checkins{*db};

    checkins_fixture() {
        add_user(1);
        add_user(2);
        add_user(3);
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(storage_checkins)

BOOST_FIXTURE_TEST_CASE(a_user_without_a_row_has_the_defaults, checkins_fixture) {
    BOOST_TEST((checkins.settings(1) == checkin_settings{}));
    BOOST_TEST(checkins.due(t0 + 1000h, 10).empty());
}

BOOST_FIXTURE_TEST_CASE(the_opt_in_question_is_asked_once, checkins_fixture) {
    BOOST_TEST(checkins.mark_asked(1, t0));
    BOOST_TEST(!checkins.mark_asked(1, t0 + 1h));
    BOOST_TEST((checkins.settings(1).asked == t0));
    BOOST_TEST(!checkins.settings(1).opted_in); // asking is not saying yes
    // Said yes later: the question stays asked.
    checkins.set_opted_in(1, true, t0 + 2h);
    BOOST_TEST(!checkins.mark_asked(1, t0 + 3h));
    BOOST_TEST(checkins.settings(1).opted_in);
}

BOOST_FIXTURE_TEST_CASE(only_opted_in_users_are_due_earliest_first, checkins_fixture) {
    checkins.set_opted_in(1, true, t0 + 2h);
    checkins.set_opted_in(2, true, t0 + 1h);
    checkins.set_opted_in(3, true, t0 + 5h);
    checkins.set_opted_in(3, false, t0);
    BOOST_TEST((checkins.due(t0, 10).empty()));
    BOOST_TEST((checkins.due(t0 + 3h, 10) == std::vector<std::int64_t>{2, 1}));
    BOOST_TEST((checkins.due(t0 + 3h, 1) == std::vector<std::int64_t>{2}));
    BOOST_TEST(!checkins.settings(3).next_due); // off: nothing planned
    // A user who turned it off cannot be put back on the schedule by a late reschedule.
    checkins.reschedule(3, t0);
    BOOST_TEST((checkins.due(t0 + 10h, 10) == std::vector<std::int64_t>{2, 1}));
    checkins.reschedule(1, t0 + 10h);
    BOOST_TEST((checkins.due(t0 + 3h, 10) == std::vector<std::int64_t>{2}));
    checkins.reschedule(2, std::nullopt);
    BOOST_TEST((checkins.due(t0 + 3h, 10).empty()));
}

BOOST_FIXTURE_TEST_CASE(the_offset_is_kept_apart_from_the_choice, checkins_fixture) {
    checkins.set_utc_offset(1, 180);
    checkins.set_opted_in(1, true, t0);
    checkins.set_utc_offset(1, -300);
    const auto s = checkins.settings(1);
    BOOST_TEST((s.utc_offset == -300));
    BOOST_TEST(s.opted_in);
    BOOST_CHECK_THROW(checkins.set_utc_offset(1, 900), storage::error); // beyond UTC+14
}

BOOST_FIXTURE_TEST_CASE(a_claim_takes_the_user_off_the_schedule_and_counts, checkins_fixture) {
    checkins.set_opted_in(1, true, t0);
    const auto first = checkins.claim(1, t0 + 1h);
    BOOST_TEST(checkins.due(t0 + 100h, 10).empty());                             // claimed: not due again
    BOOST_TEST((checkins.sent_since(1, t0) == std::vector<timestamp>{t0 + 1h})); // in flight counts
    checkins.resolve(first, checkin_outcome::sent);
    const auto failed = checkins.claim(1, t0 + 2h);
    checkins.resolve(failed, checkin_outcome::failed);
    const auto blocked = checkins.claim(1, t0 + 3h);
    checkins.resolve(blocked, checkin_outcome::blocked);
    // Only what reached (or may have reached) the user counts toward the weekly cap.
    BOOST_TEST((checkins.sent_since(1, t0) == std::vector<timestamp>{t0 + 1h}));
    BOOST_TEST((checkins.sent_since(1, t0 + 90min).empty()));
    BOOST_TEST(checkins.sent_since(2, t0).empty());
    BOOST_TEST(checkins.count(checkin_outcome::sent, t0) == 1);
    BOOST_TEST(checkins.count(checkin_outcome::failed, t0) == 1);
    BOOST_TEST(checkins.count(checkin_outcome::sent, t0 + 2h) == 0);
    BOOST_TEST(checkins.opted_in_users() == 1);
}

BOOST_FIXTURE_TEST_CASE(a_claim_left_by_a_crash_counts_as_sent, database_fixture) {
    add_user(2);
    {
        checkin_repository before{*db};
        before.set_opted_in(2, true, t0);
        const auto resolved = before.claim(2, t0);
        before.resolve(resolved, checkin_outcome::sent);
        const auto crashed = before.claim(2, t0 + 1h); // never resolved: the process dies
        BOOST_TEST(crashed > resolved);
    }
    db.reset();
    db = std::make_unique<database>(database_config{.path = db_path()});
    checkin_repository after{*db};
    BOOST_TEST(after.due(t0 + 1000h, 10).empty()); // the claim took the user off the schedule
    BOOST_TEST(after.recover_after_crash(t0 + 2h) == 1);
    BOOST_TEST(after.recover_after_crash(t0 + 3h) == 0);
    BOOST_TEST(after.count(checkin_outcome::unknown, t0) == 1);
    BOOST_TEST((after.sent_since(2, t0) == std::vector<timestamp>{t0, t0 + 1h}));
    // Back on the schedule for a look (the plan sees the unknown one and waits): never lost.
    BOOST_TEST((after.due(t0 + 2h, 10) == std::vector<std::int64_t>{2}));
}

BOOST_FIXTURE_TEST_CASE(the_rows_go_with_the_user, checkins_fixture) {
    checkins.set_opted_in(1, true, t0);
    checkins.resolve(checkins.claim(1, t0), checkin_outcome::sent);
    db->connection().exec("DELETE FROM users WHERE telegram_id = 1");
    BOOST_TEST((checkins.settings(1) == checkin_settings{}));
    BOOST_TEST(checkins.sent_since(1, t0).empty());
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace companion::storage::test
