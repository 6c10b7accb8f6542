// Tests of pipelines/intake on virtual time with a fake Telegram and a real SQLite inbox: the
// poll loop's verdicts (a table), a batch stored and confirmed by the next offset, one handling
// per update even when replayed, per-chat order, a full chat queue holding the intake back
// without losing anything, a failing or overlong handler reported and its update confirmed, and
// a refused token ending the loop with a typed error.
#include "pipelines/intake.hpp"
#include "tests/common/print.hpp"
#include "tests/common/services.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/json/parse.hpp>
#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <iterator>
#include <map>
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

BOOST_AUTO_TEST_SUITE_END()
