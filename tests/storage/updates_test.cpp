// Tests of the update log: replays are no-ops, the offset only moves forward, old ids are pruned.
#include "storage/updates.hpp"
#include "tests/storage/test_support.hpp"

using namespace std::chrono_literals;

namespace companion::storage::test {

BOOST_AUTO_TEST_SUITE(storage_updates)

BOOST_FIXTURE_TEST_CASE(replayed_update_is_reported_as_already_processed, database_fixture) {
    update_log log(*db);
    BOOST_TEST(!log.is_processed(100));
    BOOST_TEST(log.mark_processed(100, t0));
    BOOST_TEST(!log.mark_processed(100, t0 + 1s));
    BOOST_TEST(log.is_processed(100));
    // Ids need not be contiguous.
    BOOST_TEST(log.mark_processed(250, t0));
    BOOST_TEST(!log.is_processed(101));
}

BOOST_FIXTURE_TEST_CASE(offset_starts_empty_and_only_moves_forward, database_fixture) {
    update_log log(*db);
    BOOST_TEST(!log.offset().has_value());
    log.set_offset(10);
    log.set_offset(12);
    log.set_offset(11);
    BOOST_TEST(log.offset().value() == 12);
}

BOOST_FIXTURE_TEST_CASE(prune_forgets_updates_older_than_the_cutoff, database_fixture) {
    update_log log(*db);
    log.mark_processed(1, t0);
    log.mark_processed(2, t0 + 1h);
    log.mark_processed(3, t0 + 2h);
    BOOST_TEST(log.prune(t0 + 90min) == 2);
    BOOST_TEST(!log.is_processed(1));
    BOOST_TEST(!log.is_processed(2));
    BOOST_TEST(log.is_processed(3));
}

BOOST_FIXTURE_TEST_CASE(prune_with_a_limit_forgets_the_oldest_first, database_fixture) {
    update_log log(*db);
    // Ids and times in different orders: the oldest by time goes first.
    log.mark_processed(7, t0 + 1h);
    log.mark_processed(9, t0);
    log.mark_processed(8, t0 + 2h);
    BOOST_TEST(log.prune(t0 + 3h, 2) == 2);
    BOOST_TEST(!log.is_processed(9));
    BOOST_TEST(!log.is_processed(7));
    BOOST_TEST(log.is_processed(8));
    BOOST_TEST(log.prune(t0 + 3h, 2) == 1);
    BOOST_TEST(log.prune(t0 + 3h, 2) == 0);
}

BOOST_FIXTURE_TEST_CASE(effects_mark_and_offset_commit_together, database_fixture) {
    update_log log(*db);
    db->in_transaction([&] {
        log.mark_processed(41, t0);
        log.set_offset(42);
    });
    BOOST_TEST(log.is_processed(41));
    BOOST_TEST(log.offset().value() == 42);
}

BOOST_FIXTURE_TEST_CASE(inbox_keeps_updates_until_processed_and_skips_known_ones, database_fixture) {
    update_log log(*db);
    update_inbox inbox(*db);
    db->in_transaction([&] {
        BOOST_TEST(inbox.add({7, 1001, R"({"update_id":7})"}, t0));
        BOOST_TEST(inbox.add({5, 1002, R"({"update_id":5})"}, t0));
        BOOST_TEST(!inbox.add({7, 1001, R"({"update_id":7})"}, t0)); // Telegram re-sent it
        log.set_offset(8);
    });
    auto waiting = inbox.pending();
    BOOST_TEST_REQUIRE(waiting.size() == 2U);
    BOOST_TEST(waiting[0].update_id == 5); // oldest first
    BOOST_TEST(waiting[1].chat_id == 1001);
    BOOST_TEST(waiting[1].update_id == 7);
    BOOST_TEST(inbox.payload(7).value_or("") == R"({"update_id":7})");
    BOOST_TEST(inbox.payload(5).value_or("") == R"({"update_id":5})");
    db->in_transaction([&] {
        log.mark_processed(5, t0);
        inbox.remove(5);
    });
    BOOST_TEST(!inbox.payload(5).has_value()); // gone with its processing
    BOOST_TEST(inbox.size() == 1);
    BOOST_TEST(!inbox.add({5, 1002, "{}"}, t0)); // processed: a replay is not queued again
    BOOST_TEST(inbox.size() == 1);
}

BOOST_FIXTURE_TEST_CASE(bookkeeping_belongs_to_one_bot_and_another_bots_is_dropped, database_fixture) {
    update_log log(*db);
    update_inbox inbox(*db);
    // A database from before bots were recorded: its state is claimed as it is.
    db->in_transaction([&] {
        BOOST_TEST(log.mark_processed(40, t0));
        BOOST_TEST(inbox.add({41, 1001, "{}"}, t0));
        log.set_offset(42);
    });
    const auto first = claim_updates_for(*db, 111);
    BOOST_TEST(!first.other_bot);
    BOOST_TEST(first.previous_bot == 0);
    BOOST_TEST(log.offset().value() == 42);
    // The same bot again (a restart): nothing changes.
    BOOST_TEST(!claim_updates_for(*db, 111).other_bot);
    BOOST_TEST(inbox.size() == 1);
    // Another token's bot: its update ids are another sequence, so 111's state must not apply.
    const auto other = claim_updates_for(*db, 222);
    BOOST_TEST(other.other_bot);
    BOOST_TEST(other.previous_bot == 111);
    BOOST_TEST(other.dropped_updates == 1);
    BOOST_TEST(!log.offset().has_value());
    BOOST_TEST(!log.is_processed(40)); // the new bot's update 40 is answered, not skipped
    BOOST_TEST(inbox.size() == 0);
    // The claim is durable: switching back drops 222's state in turn.
    log.set_offset(5);
    BOOST_TEST(claim_updates_for(*db, 111).previous_bot == 222);
    BOOST_TEST(!log.offset().has_value());
}

BOOST_FIXTURE_TEST_CASE(flood_waits_survive_a_reopen_keep_the_longest_and_expire, database_fixture) {
    {
        flood_waits floods(*db);
        floods.set(42, t0 + std::chrono::seconds(30));
        floods.set(42, t0 + std::chrono::seconds(5)); // a shorter wait never shortens a longer one
        floods.set(0, t0 + std::chrono::seconds(2));  // the whole bot
        floods.set(7, t0 + std::chrono::seconds(1));
    }
    db.reset(); // a restart: a new connection to the same file
    db = std::make_unique<database>(database_config{.path = db_path()});
    flood_waits floods(*db);
    const auto now = t0 + std::chrono::milliseconds(1500);
    const auto active = floods.active(now);
    BOOST_TEST_REQUIRE(active.size() == 2U); // chat 7's wait is over, and deleted
    BOOST_TEST(active[0].first == 0);
    BOOST_TEST((active[0].second == t0 + std::chrono::seconds(2)));
    BOOST_TEST(active[1].first == 42);
    BOOST_TEST((active[1].second == t0 + std::chrono::seconds(30)));
    BOOST_TEST(floods.active(t0 + std::chrono::seconds(31)).empty());
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace companion::storage::test
