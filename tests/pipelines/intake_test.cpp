// Tests of pipelines/intake on virtual time with a fake Telegram and a real SQLite inbox: the
// poll loop's verdicts (a table), a batch stored and confirmed by the next offset, one handling
// per update even when replayed, per-chat order, a full chat queue holding the intake back
// without losing anything, a failing or overlong handler reported and its update confirmed, and
// a refused token ending the loop with a typed error.
#include "pipelines/intake.hpp"
#include "storage/error.hpp"
#include "tests/common/print.hpp"
#include "tests/common/services.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/json/parse.hpp>
#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <SQLiteCpp/Database.h>

#include <algorithm>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <ostream>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

using namespace companion;
using namespace companion::pipelines;
using namespace std::chrono_literals;
using test::telegram_error;
namespace tg = net::telegram;

namespace {

tg::update text_update(std::int64_t id, std::int64_t chat, const std::string& text) {
    const std::string json = R"({"update_id":)" + std::to_string(id) +
                             R"(,"message":{"message_id":1,"date":1700000000,"from":{"id":)" +
                             std::to_string(chat) + R"(,"is_bot":false,"first_name":"A"},"chat":{"id":)" +
                             std::to_string(chat) + R"(,"type":"private"},"text":")" + text + R"("}})";
    auto u = *tg::parse_update(boost::json::parse(json));
    u.raw = json;
    return u;
}

tg::update_batch batch(std::vector<tg::update> updates) {
    tg::update_batch b;
    b.updates = std::move(updates);
    return b;
}

/// Records what it handles; can throw on an update, or hold one until released.
class recording_handler final : public update_handler {
public:
    explicit recording_handler(engine::time_source& time) : time_(time) {}

    std::vector<std::int64_t> handled;
    std::vector<std::int64_t> failed;
    std::set<std::int64_t> throw_on;
    std::map<std::int64_t, engine::duration> hold; ///< handling these takes this long

    engine::awaitable<void> handle(const tg::update& u) override {
        if (auto it = hold.find(u.update_id); it != hold.end()) {
            co_await time_.sleep(it->second);
        }
        if (throw_on.contains(u.update_id)) {
            throw std::runtime_error("handler broke");
        }
        handled.push_back(u.update_id);
    }
    engine::awaitable<void> handle_failure(const tg::update& u) override {
        failed.push_back(u.update_id);
        co_return;
    }

private:
    engine::time_source& time_;
};

struct intake_world : test::services_world {
    recording_handler handler{time};
    intake_config cfg{.poll_timeout = 25s,
                      .per_chat_queue = 32,
                      .total_queue = 1000,
                      .update_deadline = 10min};
    std::unique_ptr<intake> in = std::make_unique<intake>(ioc.get_executor(), svc, handler, cfg);
    std::shared_ptr<test::task_outcome<void>> polling = std::make_shared<test::task_outcome<void>>();
    boost::asio::cancellation_signal stop_polling;

    void start() {
        boost::asio::co_spawn(
            ioc,
            in->poll(),
            boost::asio::bind_cancellation_slot(stop_polling.slot(), [p = polling](std::exception_ptr e) {
                p->done = true;
                p->error = e;
            }));
        settle();
    }
    /// As the bot stops: the long poll is dropped, then the queues drain.
    void stop() {
        stop_polling.emit(boost::asio::cancellation_type::terminal);
        settle();
        BOOST_TEST(polling->done);
        auto drained = spawn(in->drain(1s));
        advance(1s);
        BOOST_TEST(drained->done);
    }
};

struct verdict_case {
    std::string name;
    tg::error error;
    engine::retry_action action;
    std::optional<engine::duration> delay;
};

std::ostream& operator<<(std::ostream& os, const verdict_case& c) {
    return os << c.name;
}

const std::vector<verdict_case> verdicts{
    {"a refused token ends polling",
     telegram_error(tg::error_kind::unauthorized),
     engine::retry_action::fail,
     {}},
    {"a malformed token ends polling",
     telegram_error(tg::error_kind::not_found),
     engine::retry_action::fail,
     {}},
    {"a flood waits its retry_after",
     telegram_error(tg::error_kind::rate_limited, 7s),
     engine::retry_action::retry,
     7s},
    {"a conflict waits at least five seconds",
     telegram_error(tg::error_kind::conflict),
     engine::retry_action::retry,
     5s},
    {"a reset backs off", telegram_error(tg::error_kind::transport), engine::retry_action::retry, {}},
    {"a 502 backs off", telegram_error(tg::error_kind::server), engine::retry_action::retry, {}},
};

} // namespace

BOOST_AUTO_TEST_SUITE(intake_suite)

BOOST_DATA_TEST_CASE(each_poll_failure_has_its_verdict, boost::unit_test::data::make(verdicts), c) {
    const auto v = classify_poll_failure(c.error, 5s);
    BOOST_TEST((v.action == c.action));
    BOOST_TEST((v.server_delay == c.delay));
}

BOOST_FIXTURE_TEST_CASE(a_batch_is_handled_in_order_and_confirmed_by_the_next_offset, intake_world) {
    telegram.batches.push_back(
        batch({text_update(10, 1, "a"), text_update(11, 2, "b"), text_update(12, 1, "c")}));
    start();
    advance(1ms);
    BOOST_TEST((handler.handled == std::vector<std::int64_t>{10, 11, 12}));
    BOOST_TEST_REQUIRE(telegram.offsets.size() == 2U);
    BOOST_TEST(!telegram.offsets[0].has_value());
    BOOST_TEST(telegram.offsets[1] == std::optional<std::int64_t>(13));
    BOOST_TEST(in->stats().updates_processed == 3U);
    BOOST_TEST(storage::update_inbox(db).size() == 0);
    stop();
}

BOOST_FIXTURE_TEST_CASE(an_update_delivered_twice_is_handled_once, intake_world) {
    telegram.batches.push_back(batch({text_update(10, 1, "a")}));
    telegram.batches.push_back(batch({text_update(10, 1, "a"), text_update(11, 1, "b")}));
    start();
    advance(1ms);
    BOOST_TEST((handler.handled == std::vector<std::int64_t>{10, 11}));
    BOOST_TEST(in->stats().updates_replayed == 1U);
    stop();
}

BOOST_FIXTURE_TEST_CASE(a_full_chat_queue_holds_the_intake_back_and_loses_nothing, intake_world) {
    cfg.per_chat_queue = 1;
    in = std::make_unique<intake>(ioc.get_executor(), svc, handler, cfg);
    handler.hold[10] = 5s; // the first message of chat 1 takes five seconds
    telegram.batches.push_back(batch({text_update(10, 1, "a"),
                                      text_update(11, 1, "b"),
                                      text_update(12, 1, "c"),
                                      text_update(13, 2, "d")}));
    start();
    advance(1s);
    BOOST_TEST(handler.handled.empty()); // chat 2's update waits behind chat 1's full queue
    BOOST_TEST(in->deferred_updates() == 1U);
    BOOST_TEST(telegram.count("getUpdates") == 1U); // and nothing more is fetched meanwhile
    advance(5s);
    BOOST_TEST_REQUIRE(handler.handled.size() == 4U);
    // Each chat in its order; the other chat interleaves as it may.
    std::vector<std::int64_t> chat1;
    std::copy_if(handler.handled.begin(), handler.handled.end(), std::back_inserter(chat1), [](auto id) {
        return id != 13;
    });
    BOOST_TEST((chat1 == std::vector<std::int64_t>{10, 11, 12}));
    BOOST_TEST(in->stats().updates_deferred >= 1U);
    stop();
}

BOOST_FIXTURE_TEST_CASE(a_queued_update_is_read_from_the_inbox_when_its_turn_comes, intake_world) {
    // The chat's queue holds ids; the text stays in the inbox until the update's turn. A row taken
    // out meanwhile (by hand: only the intake removes rows, once processed) is skipped, and the
    // chat's next update runs.
    handler.hold[10] = 5s;
    telegram.batches.push_back(
        batch({text_update(10, 1, "a"), text_update(11, 1, "b"), text_update(12, 1, "c")}));
    start();
    advance(1s);
    BOOST_TEST(handler.handled.empty());
    BOOST_TEST(in->queued_updates() == 2U); // 11 and 12 wait behind 10
    storage::update_inbox inbox(db);
    BOOST_TEST_REQUIRE(inbox.payload(11).has_value());
    db.connection().exec("DELETE FROM update_inbox WHERE update_id = 11");
    advance(5s);
    BOOST_TEST((handler.handled == std::vector<std::int64_t>{10, 12}));
    BOOST_TEST(inbox.size() == 0);
    stop();
}

BOOST_FIXTURE_TEST_CASE(a_handler_that_throws_is_reported_and_its_update_confirmed, intake_world) {
    handler.throw_on = {10};
    telegram.batches.push_back(batch({text_update(10, 1, "a"), text_update(11, 1, "b")}));
    start();
    advance(1ms);
    BOOST_TEST((handler.failed == std::vector<std::int64_t>{10}));
    BOOST_TEST((handler.handled == std::vector<std::int64_t>{11})); // the chat goes on
    BOOST_TEST(storage::update_log(db).is_processed(10));
    BOOST_TEST(in->stats().handler_failures == 1U);
    stop();
}

BOOST_FIXTURE_TEST_CASE(an_update_past_its_deadline_is_cut_and_reported, intake_world) {
    cfg.update_deadline = 30s;
    in = std::make_unique<intake>(ioc.get_executor(), svc, handler, cfg);
    handler.hold[10] = 1h;
    telegram.batches.push_back(batch({text_update(10, 1, "a"), text_update(11, 1, "b")}));
    start();
    advance(29s);
    BOOST_TEST(handler.failed.empty());
    advance(1s);
    BOOST_TEST((handler.failed == std::vector<std::int64_t>{10}));
    BOOST_TEST((handler.handled == std::vector<std::int64_t>{11}));
    stop();
}

BOOST_FIXTURE_TEST_CASE(a_refused_token_ends_polling_with_a_typed_error, intake_world) {
    telegram.fail("getUpdates", telegram_error(tg::error_kind::unauthorized));
    start();
    BOOST_TEST_REQUIRE(polling->done);
    bool typed = false;
    try {
        std::rethrow_exception(polling->error);
    } catch (const intake_error&) {
        typed = true;
    }
    BOOST_TEST(typed);
    BOOST_TEST(!in->polling());
}

BOOST_FIXTURE_TEST_CASE(transient_poll_failures_are_retried_and_counted, intake_world) {
    telegram.fail("getUpdates", telegram_error(tg::error_kind::conflict), 2);
    telegram.batches.push_back(batch({text_update(10, 1, "a")}));
    start();
    advance(4s);
    BOOST_TEST(handler.handled.empty());
    advance(6s + 1ms); // two conflicts, five seconds apart
    BOOST_TEST((handler.handled == std::vector<std::int64_t>{10}));
    BOOST_TEST(in->stats().poll_errors == 2U);
    BOOST_TEST(in->polling());
    stop();
}

BOOST_FIXTURE_TEST_CASE(an_answer_that_confirms_nothing_does_not_make_the_loop_spin, intake_world) {
    telegram.batches.push_back(batch({text_update(10, 1, "a")}));
    for (int i = 0; i < 100; ++i) {
        telegram.batches.push_back(batch({text_update(10, 1, "a")})); // below the offset, again and again
    }
    start();
    advance(3s);
    BOOST_TEST((handler.handled == std::vector<std::int64_t>{10}));
    BOOST_TEST(telegram.count("getUpdates") <= 5U); // one a second, not a hundred at once
    BOOST_TEST(in->stats().poll_errors >= 2U);
    stop();
}

BOOST_FIXTURE_TEST_CASE(what_the_inbox_holds_is_handled_first_after_a_restart, intake_world) {
    storage::update_inbox inbox(db);
    const auto u = text_update(10, 1, "left over");
    BOOST_TEST_REQUIRE(inbox.add({10, 1, u.raw}, time.wall()));
    auto replay = spawn(in->replay());
    settle();
    BOOST_TEST(replay->done);
    BOOST_TEST((handler.handled == std::vector<std::int64_t>{10}));
    BOOST_TEST(inbox.size() == 0);
}

BOOST_FIXTURE_TEST_CASE(a_left_over_row_already_processed_is_dropped_not_handled_again, intake_world) {
    // A row in the inbox that the processed log holds too (the bot marks and removes in one
    // transaction, so only an operator's edit or a restored file leaves one): a no-op on replay.
    storage::update_inbox inbox(db);
    BOOST_TEST_REQUIRE(inbox.add({10, 1, text_update(10, 1, "done").raw}, time.wall()));
    BOOST_TEST_REQUIRE(inbox.add({11, 1, text_update(11, 1, "owed").raw}, time.wall()));
    BOOST_TEST_REQUIRE(storage::update_log(db).mark_processed(10, time.wall()));
    auto replay = spawn(in->replay());
    settle();
    BOOST_TEST(replay->done);
    BOOST_TEST((handler.handled == std::vector<std::int64_t>{11}));
    BOOST_TEST(in->stats().updates_replayed == 1U);
    BOOST_TEST(inbox.size() == 0);
}

// --- the offset as a decision (issue 15, finding 4) ------------------------------------------

struct offset_case {
    std::string name;
    std::optional<std::int64_t> stored;    ///< the high-water mark before
    std::optional<std::int64_t> requested; ///< what the call sent (set by a previous answer)
    std::optional<std::int64_t> top;       ///< max id + 1 of the answer
    std::optional<std::int64_t> lowest_new;
    poll_offset::step expected;
};

std::ostream& operator<<(std::ostream& os, const offset_case& c) {
    return os << c.name;
}

const std::vector<offset_case> offset_cases{
    {"a first batch is confirmed by the next call and stored", {}, {}, 13, 10, {13, 13, false, false}},
    {"an empty answer: the next call confirms nothing", 13, 13, {}, {}, {{}, {}, false, false}},
    {"after a restart the old batch comes again: confirmed, nothing stored",
     13,
     {},
     13,
     {},
     {13, {}, false, false}},
    {"new updates above the mark move it", 13, {}, 20, 15, {20, 20, false, false}},
    {"new updates below the mark: the ids were reset", 900, {}, 53, 50, {53, 53, true, false}},
    {"a reset whose ids end above the mark still rebases", 900, {}, 1000, 50, {1000, 1000, true, false}},
    {"a new malformed-only answer below the mark rebases too", 900, {}, 42, 41, {42, 42, true, false}},
    // The long storm found it: the old offset kept as the request confirmed 300 updates away.
    {"a reset met while the old offset is held: the next call confirms the new ids only",
     332'759'192,
     332'759'192,
     1'100,
     1'000,
     {1'100, 1'100, true, false}},
    {"ids all below the offset sent confirm nothing", 11, 11, 11, {}, {11, {}, false, true}},
    {"an empty database stores the first mark", {}, {}, 5, 4, {5, 5, false, false}},
};

BOOST_DATA_TEST_CASE(each_answer_moves_the_offset_as_the_table_says,
                     boost::unit_test::data::make(offset_cases),
                     c) {
    poll_offset o(c.stored);
    if (c.requested) {
        // Reach the "sent an offset" state through the public steps: an answer with that top.
        o.apply({.request = c.requested});
    }
    BOOST_TEST(o.request() == c.requested);
    const auto step = o.answered(c.top, c.lowest_new);
    BOOST_TEST(step.request == c.expected.request);
    BOOST_TEST(step.store == c.expected.store);
    BOOST_TEST(step.rebase == c.expected.rebase);
    BOOST_TEST(step.confirms_nothing == c.expected.confirms_nothing);
}

BOOST_FIXTURE_TEST_CASE(an_offset_is_sent_only_to_confirm_the_last_answer, intake_world) {
    telegram.batches.push_back(batch({text_update(10, 1, "a")}));
    telegram.batches.push_back(batch({}));
    telegram.batches.push_back(batch({text_update(11, 1, "b")}));
    start();
    advance(1ms);
    BOOST_TEST((handler.handled == std::vector<std::int64_t>{10, 11}));
    BOOST_TEST_REQUIRE(telegram.offsets.size() >= 4U);
    BOOST_TEST(!telegram.offsets[0].has_value());
    BOOST_TEST(telegram.offsets[1] == std::optional<std::int64_t>(11)); // confirms 10
    BOOST_TEST(!telegram.offsets[2].has_value()); // nothing left to confirm: an id reset is safe
    BOOST_TEST(telegram.offsets[3] == std::optional<std::int64_t>(12));
    BOOST_TEST(storage::update_log(db).offset() == std::optional<std::int64_t>(12));
    stop();
}

BOOST_FIXTURE_TEST_CASE(updates_after_an_id_reset_are_answered_and_the_offset_rebased, intake_world) {
    storage::update_log(db).set_offset(900'000); // the last run's mark, before a week of silence
    telegram.batches.push_back(
        batch({text_update(50, 1, "a"), text_update(51, 2, "b"), text_update(52, 3, "c")}));
    start();
    advance(1ms);
    BOOST_TEST((handler.handled == std::vector<std::int64_t>{50, 51, 52}));
    BOOST_TEST(!telegram.offsets[0].has_value()); // the stored mark would have confirmed them away
    BOOST_TEST(storage::update_log(db).offset() == std::optional<std::int64_t>(53));
    BOOST_TEST(in->stats().id_resets == 1U);
    stop();
}

BOOST_FIXTURE_TEST_CASE(a_restart_replays_the_unconfirmed_batch_without_a_false_reset, intake_world) {
    // The previous run stored and handled 10 and 11, and stopped before confirming them.
    storage::update_log log(db);
    log.set_offset(12);
    BOOST_TEST_REQUIRE(log.mark_processed(10, time.wall()));
    BOOST_TEST_REQUIRE(log.mark_processed(11, time.wall()));
    telegram.batches.push_back(batch({text_update(10, 1, "a"), text_update(11, 1, "b")}));
    start();
    advance(1ms);
    BOOST_TEST(handler.handled.empty());
    BOOST_TEST(in->stats().id_resets == 0U);
    BOOST_TEST(telegram.offsets[1] == std::optional<std::int64_t>(12)); // and now confirmed
    stop();
}

BOOST_FIXTURE_TEST_CASE(a_malformed_update_is_recorded_confirmed_and_counted_once, intake_world) {
    auto first = batch({text_update(11, 1, "b")});
    first.malformed.push_back({10, "update is not valid JSON"});
    auto again = first; // Telegram delivers the same answer again (the confirmation was lost)
    telegram.batches.push_back(first);
    telegram.batches.push_back(again);
    start();
    advance(1ms);
    BOOST_TEST((handler.handled == std::vector<std::int64_t>{11}));
    BOOST_TEST(storage::update_log(db).is_processed(10));
    BOOST_TEST(in->stats().updates_malformed == 1U);
    BOOST_TEST(in->stats().id_resets == 0U);
    stop();
}

// --- storage faults are transient (issue 15, finding 1) -----------------------------------------

/// Another process's write lock on the bot's database (a backup, an operator's sqlite3).
struct foreign_lock {
    SQLite::Database other;
    explicit foreign_lock(const std::filesystem::path& path) : other(path.string(), SQLite::OPEN_READWRITE) {
        other.exec("BEGIN IMMEDIATE");
    }
    void release() { other.exec("ROLLBACK"); }
};

// A transient storage fault as the batch is stored: it starts with the intake running and ends
// when the returned function is called.
struct storage_fault_case {
    std::string name;
    std::function<std::function<void()>(intake_world&)> begin;
    std::string text; ///< of the update whose storing meets the fault
};

std::ostream& operator<<(std::ostream& os, const storage_fault_case& c) {
    return os << c.name;
}

const std::vector<storage_fault_case> storage_fault_cases{
    {"another process's write lock (a backup, an operator's sqlite3)",
     [](intake_world& w) -> std::function<void()> {
         w.db.connection().setBusyTimeout(0); // the test's loop must not wait on the lock in real time
         auto lock = std::make_shared<foreign_lock>(w.dir.path / "bot.db");
         return [lock] { lock->release(); };
     },
     "a"},
    {"a full disk (a page limit: SQLite reports both as SQLITE_FULL)",
     [](intake_world& w) -> std::function<void()> {
         const auto pages = w.db.connection().execAndGet("PRAGMA page_count").getInt64();
         w.db.connection().exec("PRAGMA max_page_count = " + std::to_string(pages));
         return [&w] { w.db.connection().exec("PRAGMA max_page_count = 1073741823"); };
     },
     std::string(64 * 1024, 'x')}, // storing it needs pages the "disk" no longer has
};

BOOST_DATA_TEST_CASE(a_storage_fault_pauses_the_intake_and_loses_nothing,
                     boost::unit_test::data::make(storage_fault_cases),
                     c) {
    intake_world w;
    const auto end_fault = c.begin(w);
    // Unconfirmed, the batch comes again at every poll (the fake has no memory: it is queued
    // enough times).
    for (int i = 0; i < 20; ++i) {
        w.telegram.batches.push_back(batch({text_update(10, 1, c.text), text_update(11, 2, "b")}));
    }
    w.start();
    w.advance(1ms);
    BOOST_TEST(w.handler.handled.empty());
    BOOST_TEST(w.in->stats().storage_faults >= 1U);
    BOOST_TEST(w.in->polling()); // alive, and waiting
    BOOST_TEST(!w.polling->done);
    BOOST_TEST(!w.telegram.offsets.back().has_value()); // nothing confirmed while nothing is stored
    w.advance(2s);
    end_fault();
    w.advance(11s); // the back-off is capped at ten seconds
    BOOST_TEST((w.handler.handled == std::vector<std::int64_t>{10, 11}));
    BOOST_TEST(storage::update_log(w.db).is_processed(10));
    BOOST_TEST(storage::update_log(w.db).is_processed(11));
    w.stop();
}

// Webhook mode (issue 23): the same faults as a delivery is stored. The answer is a 503, so
// Telegram delivers it again; nothing reaches the handler until it is stored; the next delivery,
// with the fault gone, is stored, answered 200 and handled once.
BOOST_DATA_TEST_CASE(a_delivery_meeting_a_storage_fault_is_a_503_and_stored_when_sent_again,
                     boost::unit_test::data::make(storage_fault_cases),
                     c) {
    intake_world w;
    const auto end_fault = c.begin(w);
    const auto body = text_update(10, 1, c.text).raw;
    auto refused = w.spawn(w.in->deliver(body));
    w.settle();
    BOOST_TEST_REQUIRE(refused->done);
    BOOST_TEST_REQUIRE(refused->value.has_value());
    BOOST_TEST(refused->value->status == 503U);
    BOOST_TEST(w.in->stats().storage_faults == 1U);
    w.advance(1s);
    BOOST_TEST(w.handler.handled.empty());
    end_fault();
    auto stored = w.spawn(w.in->deliver(body));
    w.settle();
    BOOST_TEST_REQUIRE(stored->value.has_value());
    BOOST_TEST(stored->value->status == 200U);
    auto again = w.spawn(w.in->deliver(body)); // Telegram's resend of an answer it did not get
    w.settle();
    BOOST_TEST(again->value->status == 200U);
    w.advance(1s);
    BOOST_TEST((w.handler.handled == std::vector<std::int64_t>{10}));
    BOOST_TEST(storage::update_log(w.db).is_processed(10));
    auto drained = w.spawn(w.in->drain(1s));
    w.advance(1s);
    BOOST_TEST(drained->done);
}

BOOST_FIXTURE_TEST_CASE(a_handler_stopped_by_a_locked_database_runs_again_untold, intake_world) {
    struct locking_handler final : update_handler {
        int locked_times = 2;
        std::vector<std::int64_t> handled;
        std::vector<std::int64_t> failed;
        engine::awaitable<void> handle(const tg::update& u) override {
            if (locked_times-- > 0) {
                throw storage::error(storage::errc::locked, "users.record_contact: database is locked");
            }
            handled.push_back(u.update_id);
            co_return;
        }
        engine::awaitable<void> handle_failure(const tg::update& u) override {
            failed.push_back(u.update_id);
            co_return;
        }
    } h;
    in = std::make_unique<intake>(ioc.get_executor(), svc, h, cfg);
    telegram.batches.push_back(batch({text_update(10, 1, "a")}));
    start();
    advance(1ms);
    BOOST_TEST(h.handled.empty());
    BOOST_TEST(!storage::update_log(db).is_processed(10)); // still owed
    advance(1s);
    BOOST_TEST((h.handled == std::vector<std::int64_t>{10}));
    BOOST_TEST(h.failed.empty()); // no apology for a fault that passed
    BOOST_TEST(in->stats().handler_failures == 0U);
    BOOST_TEST(in->stats().storage_faults == 2U);
    stop();
}

BOOST_FIXTURE_TEST_CASE(a_storage_fault_no_wait_will_fix_ends_the_poll_loop, intake_world) {
    struct corrupt_handler final : update_handler {
        engine::awaitable<void> handle(const tg::update&) override { co_return; }
        engine::awaitable<void> handle_failure(const tg::update&) override { co_return; }
    } h;
    in = std::make_unique<intake>(ioc.get_executor(), svc, h, cfg);
    db.connection().exec("DROP TABLE update_inbox"); // a storage fault no wait will fix
    telegram.batches.push_back(batch({text_update(10, 1, "a")}));
    start();
    advance(1ms);
    BOOST_TEST_REQUIRE(polling->done);
    BOOST_TEST(static_cast<bool>(polling->error));
    BOOST_TEST(!storage::is_transient(polling->error));
}

BOOST_AUTO_TEST_SUITE_END()
