// Tests of pipelines/send_policy and pipelines/sender on virtual time, against a fake Telegram:
// what each failure means (a table), a 429 waited out exactly and never counted as a failed
// attempt, a blocked user reported and never retried, pacing per chat, a global flood pausing
// everything, long texts split with the keyboard on the last part.
#include "pipelines/sender.hpp"
#include "tests/common/fakes.hpp"
#include "tests/common/loop.hpp"
#include "tests/common/print.hpp"

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <ostream>
#include <string>
#include <vector>

using namespace companion;
using namespace companion::pipelines;
using namespace std::chrono_literals;
using namespace companion::test;
namespace tg = net::telegram;

namespace {

struct policy_case {
    std::string name;
    tg::error error;
    engine::retry_action action;
    std::optional<engine::duration> server_delay;
    send_failure_reason reason;
};

std::ostream& operator<<(std::ostream& os, const policy_case& c) {
    return os << c.name;
}

const std::vector<policy_case> policy_cases{
    {"a flood waits its retry_after",
     telegram_error(tg::error_kind::rate_limited, 3s),
     engine::retry_action::retry,
     3s,
     send_failure_reason::flood_too_long},
    {"a flood without retry_after waits a second",
     telegram_error(tg::error_kind::rate_limited),
     engine::retry_action::retry,
     1s,
     send_failure_reason::flood_too_long},
    {"a flood longer than the limit gives up",
     telegram_error(tg::error_kind::rate_limited, 3600s),
     engine::retry_action::fail,
     std::nullopt,
     send_failure_reason::flood_too_long},
    {"a lost answer is repeated",
     telegram_error(tg::error_kind::transport, std::nullopt, true),
     engine::retry_action::retry,
     std::nullopt,
     send_failure_reason::unavailable},
    {"a 5xx is retried",
     telegram_error(tg::error_kind::server),
     engine::retry_action::retry,
     std::nullopt,
     send_failure_reason::unavailable},
    {"a malformed answer is retried",
     telegram_error(tg::error_kind::malformed_response),
     engine::retry_action::retry,
     std::nullopt,
     send_failure_reason::unavailable},
    {"a blocked user is not retried",
     telegram_error(tg::error_kind::forbidden),
     engine::retry_action::fail,
     std::nullopt,
     send_failure_reason::blocked},
    {"a bad request is not retried",
     telegram_error(tg::error_kind::bad_request),
     engine::retry_action::fail,
     std::nullopt,
     send_failure_reason::rejected},
    {"a refused token is not retried",
     telegram_error(tg::error_kind::unauthorized),
     engine::retry_action::fail,
     std::nullopt,
     send_failure_reason::unauthorized},
    {"a file over the limit is not retried",
     telegram_error(tg::error_kind::too_large),
     engine::retry_action::fail,
     std::nullopt,
     send_failure_reason::too_large},
};

struct sender_world : test::virtual_loop {
    test::fake_telegram telegram{time};
    sender_config cfg = [] {
        sender_config c;
        c.per_chat = {1.0, 1.0};
        c.global = {30.0, 30.0};
        c.max_attempts = 3;
        c.base_backoff = 100ms;
        c.outage_budget = 1min;
        return c;
    }();
    sender out{telegram, time, cfg};
};

} // namespace

BOOST_AUTO_TEST_SUITE(sender_suite)

BOOST_DATA_TEST_CASE(each_failure_has_its_verdict, boost::unit_test::data::make(policy_cases), c) {
    const send_policy policy(sender_config{});
    const auto v = policy.classify(c.error);
    BOOST_TEST((v.action == c.action));
    BOOST_TEST((v.server_delay == c.server_delay));
    BOOST_TEST(send_policy::reason(c.error) == c.reason);
}

BOOST_FIXTURE_TEST_CASE(a_flood_is_waited_out_exactly_and_is_not_a_failed_attempt, sender_world) {
    // More 429s than attempts: each honoured wait is free, so the message still goes out.
    telegram.fail("sendMessage", telegram_error(tg::error_kind::rate_limited, 2s), 4);
    auto r = spawn(out.text(42, "hello"));
    advance(9s);
    BOOST_TEST_REQUIRE(r->done);
    BOOST_TEST(r->value->has_value());
    BOOST_TEST(telegram.count("sendMessage") == 5U);
    BOOST_TEST((telegram.calls.back().at - telegram.calls.front().at == 8s));
    BOOST_TEST(out.stats().flood_waits == 4U);
    BOOST_TEST(out.stats().failed == 0U);
}

BOOST_FIXTURE_TEST_CASE(a_blocked_user_is_reported_once_and_never_retried, sender_world) {
    std::vector<std::int64_t> blocked;
    out.on_blocked([&](std::int64_t chat) { blocked.push_back(chat); });
    telegram.fail("sendMessage", telegram_error(tg::error_kind::forbidden));
    auto r = spawn(out.text(42, "hello"));
    BOOST_TEST_REQUIRE(r->done);
    BOOST_TEST_REQUIRE(!r->value->has_value());
    BOOST_TEST(r->value->error().reason == send_failure_reason::blocked);
    BOOST_TEST(telegram.count("sendMessage") == 1U);
    BOOST_TEST((blocked == std::vector<std::int64_t>{42}));
}

BOOST_AUTO_TEST_CASE(a_send_gives_up_only_when_its_attempts_and_its_outage_budget_are_spent) {
    struct row {
        int failures;
        engine::duration failing_for;
        engine::duration budget;
        bool give_up;
    };
    const send_policy policy([] {
        sender_config c;
        c.max_attempts = 5;
        return c;
    }());
    for (const auto& r : {row{1, 0s, 8min, false},
                          row{5, 8s, 8min, false}, // the old limit: five quick failures lost the reply
                          row{50, 7min, 8min, false},
                          row{4, 9min, 8min, false}, // a flood of slow failures still gets five tries
                          row{5, 8min, 8min, true},
                          row{5, 8s, 0s, true}, // no budget (progress edits): five attempts
                          row{40, 2h, 2h, true}}) {
        BOOST_TEST(policy.give_up(r.failures, r.failing_for, r.budget) == r.give_up,
                   r.failures << " failures over " << r.failing_for.count() << " ns");
    }
}

BOOST_FIXTURE_TEST_CASE(an_outage_within_the_budget_delays_the_reply_and_loses_nothing, sender_world) {
    // Fifteen failures in a row: the old five-attempt limit gave the reply up after ~8 s.
    telegram.fail("sendMessage", telegram_error(tg::error_kind::server), 15);
    sender patient(telegram, time, [this] {
        auto c = cfg;
        c.outage_budget = 8min; // the default
        return c;
    }());
    auto r = spawn(patient.text(42, "hello"));
    advance(5min); // fifteen back-offs, capped at 30 s each, fit well inside
    BOOST_TEST_REQUIRE(r->done);
    BOOST_TEST(r->value->has_value());
    BOOST_TEST(telegram.count("sendMessage") == 16U);
    BOOST_TEST(patient.stats().failed == 0U);
}

BOOST_FIXTURE_TEST_CASE(an_outage_past_the_budget_gives_the_send_up, sender_world) {
    telegram.fail("sendMessage", telegram_error(tg::error_kind::server), 10'000);
    auto r = spawn(out.text(42, "hello"));
    advance(55s);
    BOOST_TEST(!r->done);
    advance(2min); // the budget is a minute here; the back-off is capped at 30 s
    BOOST_TEST_REQUIRE(r->done);
    BOOST_TEST(r->value->error().reason == send_failure_reason::unavailable);
    BOOST_TEST(out.stats().failed == 1U);
}

BOOST_FIXTURE_TEST_CASE(a_lost_answer_is_repeated_once_per_loss, sender_world) {
    telegram.fail("sendMessage", telegram_error(tg::error_kind::transport, std::nullopt, true));
    auto r = spawn(out.text(42, "hello"));
    advance(2s);
    BOOST_TEST_REQUIRE(r->done);
    BOOST_TEST(r->value->has_value());
    BOOST_TEST(telegram.count("sendMessage") == 2U);
    BOOST_TEST(out.stats().unknown_outcome_retries == 1U);
}

BOOST_FIXTURE_TEST_CASE(one_chat_is_paced_at_its_rate, sender_world) {
    auto a = spawn(out.text(42, "one"));
    auto b = spawn(out.text(42, "two"));
    auto other = spawn(out.text(43, "elsewhere"));
    BOOST_TEST(a->done);
    BOOST_TEST(other->done); // another chat does not wait for this one
    BOOST_TEST(!b->done);
    advance(999ms);
    BOOST_TEST(!b->done);
    advance(1ms);
    BOOST_TEST(b->done);
}

BOOST_FIXTURE_TEST_CASE(floods_for_many_chats_pause_everything, sender_world) {
    std::vector<std::pair<std::int64_t, engine::duration>> floods;
    out.on_flood([&](std::int64_t chat, engine::duration d) { floods.emplace_back(chat, d); });
    telegram.fail("sendMessage", telegram_error(tg::error_kind::rate_limited, 5s), 3);
    auto a = spawn(out.text(1, "a"));
    auto b = spawn(out.text(2, "b"));
    auto c = spawn(out.text(3, "c"));
    BOOST_TEST(out.stats().global_pauses == 1U);
    BOOST_TEST((floods.back() == std::pair<std::int64_t, engine::duration>{0, 5s}));
    // A fourth chat, never told to wait itself, waits out the global pause too.
    auto d = spawn(out.text(4, "d"));
    BOOST_TEST(!d->done);
    advance(5s);
    BOOST_TEST((a->done && b->done && c->done && d->done));
    BOOST_TEST(out.pause_remaining(4) == engine::duration::zero());
}

BOOST_FIXTURE_TEST_CASE(a_long_text_is_split_with_the_keyboard_on_the_last_part, sender_world) {
    const std::string text(5000, 'a');
    auto r = spawn(out.text(42, text, boost::json::value{{"inline_keyboard", boost::json::array{}}}));
    advance(2s);
    BOOST_TEST_REQUIRE(r->done);
    BOOST_TEST(r->value->has_value());
    const auto parts = telegram.texts_to(42);
    BOOST_TEST_REQUIRE(parts.size() == 2U);
    BOOST_TEST(parts[0].size() + parts[1].size() == 5000U);
}

BOOST_FIXTURE_TEST_CASE(a_sent_text_answers_the_last_parts_id_and_date, sender_world) {
    // The caller edits or stores what it is given: the last part's id, as Telegram answered it.
    advance(90s);
    const auto sent_at =
        std::chrono::duration_cast<std::chrono::seconds>(time.wall().time_since_epoch()).count();
    auto r = spawn(out.text(42, std::string(5000, 'b')));
    advance(2s);
    BOOST_TEST_REQUIRE(r->done);
    BOOST_TEST_REQUIRE(r->value->has_value());
    BOOST_TEST(telegram.texts_to(42).size() == 2U);
    BOOST_TEST(r->value->value().message_id == 2);
    BOOST_TEST(r->value->value().date >= sent_at);
    BOOST_TEST(r->value->value().date <= sent_at + 2);
}

BOOST_FIXTURE_TEST_CASE(a_chat_action_is_skipped_while_the_chat_must_wait, sender_world) {
    out.pause(42, 10s);
    auto r = spawn(out.action(42, tg::chat_action::typing));
    BOOST_TEST(r->done);
    BOOST_TEST(telegram.count("sendChatAction") == 0U);
    advance(10s);
    auto again = spawn(out.action(42, tg::chat_action::typing));
    BOOST_TEST(telegram.count("sendChatAction") == 1U);
}

BOOST_FIXTURE_TEST_CASE(an_empty_text_is_not_sent, sender_world) {
    auto r = spawn(out.text(42, ""));
    BOOST_TEST_REQUIRE(r->done);
    BOOST_TEST(r->value->error().reason == send_failure_reason::empty);
    BOOST_TEST(telegram.calls.empty());
}

BOOST_AUTO_TEST_CASE(a_flood_detector_counts_different_chats_within_its_window) {
    flood_detector d(3, 1s);
    const engine::time_point t{std::chrono::hours(1)};
    BOOST_TEST(!d.note(1, t));
    BOOST_TEST(!d.note(1, t + 100ms)); // the same chat twice is one chat
    BOOST_TEST(!d.note(2, t + 200ms));
    BOOST_TEST(!d.note(3, t + 1150ms));    // chat 1 left the window
    BOOST_TEST(d.note(4, t + 1180ms));     // 2, 3 and 4 within one second
    BOOST_TEST(d.chats_in_window() == 0U); // a global pause starts the count afresh
}

BOOST_AUTO_TEST_SUITE_END()
