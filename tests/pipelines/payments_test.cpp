// Stars payments (issue 21): the decisions as tables (what a payload says, whether a pre-checkout
// may go ahead, what a successful payment grants, what a clip costs) and the payments unit on
// the fakes: a grant once per charge id, a pre-checkout answered at once, a refund recorded even
// when Telegram says it was done before.
#include "pipelines/payments.hpp"
#include "storage/users.hpp"
#include "tests/common/services.hpp"

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <ostream>

using namespace companion;
using namespace companion::pipelines;
using namespace companion::test;
using namespace std::chrono_literals;

namespace {

const payments_config selling{.enabled = true,
                              .packs = {{.credits = 3, .stars = 150}, {.credits = 10, .stars = 450}},
                              .seconds_per_credit = 5};

struct payload_case {
    const char* name;
    std::string payload;
    std::optional<pack_order> expected;
};

std::ostream& operator<<(std::ostream& os, const payload_case& c) {
    return os << c.name;
}

const std::vector<payload_case> payload_cases{
    {"a pack's payload", "pack:3:150:42", pack_order{.user_id = 42, .pack = {.credits = 3, .stars = 150}}},
    {"another prefix", "sub:3:150:42", std::nullopt},
    {"a field missing", "pack:3:150", std::nullopt},
    {"a field too many", "pack:3:150:42:1", std::nullopt},
    {"zero credits", "pack:0:150:42", std::nullopt},
    {"a sign", "pack:+3:150:42", std::nullopt},
    {"a space", "pack:3: 150:42", std::nullopt},
    {"an overflow", "pack:3:150:99999999999999999999", std::nullopt},
    {"more credits than any pack", "pack:10001:150:42", std::nullopt},
    {"empty", "", std::nullopt},
};

BOOST_DATA_TEST_CASE(payloads, boost::unit_test::data::make(payload_cases), c) {
    const auto got = read_pack_payload(c.payload);
    BOOST_TEST(got.has_value() == c.expected.has_value());
    if (got && c.expected) {
        BOOST_TEST((*got == *c.expected));
        BOOST_TEST(pack_payload(*got) == c.payload); // written as read
    }
}

struct checkout_case {
    const char* name;
    payments_config cfg;
    std::int64_t payer;
    std::string currency;
    std::int64_t amount;
    std::string payload;
    checkout_verdict expected;
};

std::ostream& operator<<(std::ostream& os, const checkout_case& c) {
    return os << c.name;
}

const std::vector<checkout_case> checkout_cases{
    {"a sold pack at its price", selling, 42, "XTR", 150, "pack:3:150:42", checkout_verdict::accept},
    {"payments off", payments_config{}, 42, "XTR", 150, "pack:3:150:42", checkout_verdict::payments_off},
    {"a pack no longer sold",
     payments_config{.enabled = true, .packs = {{.credits = 10, .stars = 450}}, .seconds_per_credit = 5},
     42,
     "XTR",
     150,
     "pack:3:150:42",
     checkout_verdict::unknown_pack},
    {"a pack repriced since the invoice",
     selling,
     42,
     "XTR",
     100,
     "pack:3:100:42",
     checkout_verdict::unknown_pack},
    {"another user pays", selling, 43, "XTR", 150, "pack:3:150:42", checkout_verdict::not_the_buyer},
    {"another amount", selling, 42, "XTR", 1, "pack:3:150:42", checkout_verdict::wrong_price},
    {"not Stars", selling, 42, "USD", 150, "pack:3:150:42", checkout_verdict::wrong_price},
    {"a forged payload", selling, 42, "XTR", 150, "pack:3:abc:42", checkout_verdict::unknown_pack},
};

BOOST_DATA_TEST_CASE(pre_checkouts, boost::unit_test::data::make(checkout_cases), c) {
    BOOST_TEST(static_cast<int>(check_checkout(c.cfg, c.payer, c.currency, c.amount, c.payload)) ==
               static_cast<int>(c.expected));
}

net::telegram::successful_payment
payment(std::string currency, std::int64_t amount, std::string payload, std::string charge) {
    net::telegram::successful_payment p;
    p.currency = std::move(currency);
    p.total_amount = amount;
    p.invoice_payload = std::move(payload);
    p.telegram_payment_charge_id = std::move(charge);
    return p;
}

struct grant_case {
    const char* name;
    std::int64_t payer;
    net::telegram::successful_payment paid;
    int credits; ///< 0: nothing granted
};

std::ostream& operator<<(std::ostream& os, const grant_case& c) {
    return os << c.name;
}

const std::vector<grant_case> grant_cases{
    {"the pack paid", 42, payment("XTR", 150, "pack:3:150:42", "stx1"), 3},
    {"a pack since removed, at the price paid", 42, payment("XTR", 99, "pack:7:99:42", "stx1"), 7},
    {"no charge id", 42, payment("XTR", 150, "pack:3:150:42", ""), 0},
    {"not Stars", 42, payment("EUR", 150, "pack:3:150:42", "stx1"), 0},
    {"another user's invoice", 43, payment("XTR", 150, "pack:3:150:42", "stx1"), 0},
    {"an amount other than the invoice's", 42, payment("XTR", 1, "pack:3:150:42", "stx1"), 0},
    {"a payload the bot did not write", 42, payment("XTR", 150, "premium", "stx1"), 0},
};

BOOST_DATA_TEST_CASE(grants, boost::unit_test::data::make(grant_cases), c) {
    const auto d = decide_grant(c.payer, c.paid);
    BOOST_TEST(d.credits == c.credits);
    BOOST_TEST(d.why.empty() == (c.credits != 0)); // a refusal always says why
}

struct price_case {
    int seconds_per_credit;
    int seconds;
    int credits;
};

std::ostream& operator<<(std::ostream& os, const price_case& c) {
    return os << c.seconds << " s at " << c.seconds_per_credit << " s per credit";
}

const std::vector<price_case> price_cases{
    {5, 5, 1},
    {5, 4, 1},
    {5, 6, 2},
    {5, 10, 2},
    {5, 1, 1},
    {10, 5, 1},
    {1, 8, 8},
    {0, 5, 5},
};

BOOST_DATA_TEST_CASE(clip_prices, boost::unit_test::data::make(price_cases), c) {
    payments_config cfg = selling;
    cfg.seconds_per_credit = c.seconds_per_credit;
    BOOST_TEST(credits_for(cfg, c.seconds) == c.credits);
}

constexpr std::int64_t buyer = 4242;

struct payments_world : services_world {
    sender out{telegram, time, sender_config{}};
    payments pay{svc, out, selling};
    user_context c{};

    payments_world() {
        c.chat_id = buyer;
        c.user_id = buyer;
        c.user = storage::user_repository(db).record_contact(buyer, "ru", false, time.wall());
        c.lang = "ru";
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(payments_unit)

BOOST_FIXTURE_TEST_CASE(a_payment_is_granted_once_and_thanked_once, payments_world) {
    const auto paid = payment("XTR", 150, "pack:3:150:4242", "stx1");
    auto first = spawn(pay.paid(c, paid));
    BOOST_TEST_REQUIRE(advance_until([&] { return first->done; }, 5s));
    BOOST_TEST(pay.balance(buyer) == 3);
    const auto thanks = locales.text("ru", "pay.thanks", {{"credits", "3"}, {"balance", "3"}});
    BOOST_TEST(telegram.texts_to(buyer) == std::vector<std::string>{thanks});
    auto again = spawn(pay.paid(c, paid)); // Telegram delivers it again
    BOOST_TEST_REQUIRE(advance_until([&] { return again->done; }, 5s));
    BOOST_TEST(pay.balance(buyer) == 3);
    BOOST_TEST(telegram.texts_to(buyer).size() == 1U);
    BOOST_TEST(pay.stats().granted == 1U);
    BOOST_TEST(pay.stats().duplicates == 1U);
}

BOOST_FIXTURE_TEST_CASE(a_pre_checkout_is_answered_at_once, payments_world) {
    net::telegram::pre_checkout_query q;
    q.id = "q1";
    q.from.id = buyer;
    q.currency = "XTR";
    q.total_amount = 150;
    q.invoice_payload = "pack:3:150:4242";
    auto ok = spawn(pay.pre_checkout(q, "ru"));
    BOOST_TEST_REQUIRE(ok->done); // no wait at all: no pacing, no retry
    q.id = "q2";
    q.invoice_payload = "pack:5:150:4242"; // not sold
    auto refused = spawn(pay.pre_checkout(q, "ru"));
    BOOST_TEST_REQUIRE(refused->done);
    BOOST_TEST_REQUIRE(telegram.checkout_answers.size() == 2U);
    BOOST_TEST(telegram.checkout_answers[0].ok);
    BOOST_TEST(!telegram.checkout_answers[1].ok);
    BOOST_TEST(telegram.checkout_answers[1].error_message == locales.text("ru", "pay.checkout_refused"));
}

BOOST_FIXTURE_TEST_CASE(an_invoice_names_the_buyer_and_the_pack_in_stars, payments_world) {
    auto sent = spawn(pay.send_invoice(c, "cb1", 10));
    BOOST_TEST_REQUIRE(advance_until([&] { return sent->done; }, 5s));
    BOOST_TEST_REQUIRE(telegram.invoices.size() == 1U);
    const auto& inv = telegram.invoices[0];
    BOOST_TEST(inv.currency == "XTR");
    BOOST_TEST(inv.payload == "pack:10:450:4242");
    BOOST_TEST_REQUIRE(inv.prices.size() == 1U);
    BOOST_TEST(inv.prices[0].amount == 450);
    BOOST_TEST(inv.title == locales.text("ru", "pay.pack_title", {{"credits", "10"}}));
    // A pack that is not sold: the expired-button toast, no invoice.
    auto stale = spawn(pay.send_invoice(c, "cb2", 7));
    BOOST_TEST_REQUIRE(advance_until([&] { return stale->done; }, 5s));
    BOOST_TEST(telegram.invoices.size() == 1U);
}

BOOST_FIXTURE_TEST_CASE(a_refund_already_made_counts_as_done, payments_world) {
    auto granted = spawn(pay.paid(c, payment("XTR", 150, "pack:3:150:4242", "stx1")));
    BOOST_TEST_REQUIRE(advance_until([&] { return granted->done; }, 5s));
    auto already = telegram_error(net::telegram::error_kind::bad_request);
    already.detail = "Bad Request: CHARGE_ALREADY_REFUNDED"; // tdlib/telegram-bot-api#690
    telegram.fail("refundStarPayment", already);
    auto refunded = spawn(pay.refund(c, "stx1"));
    BOOST_TEST_REQUIRE(advance_until([&] { return refunded->done; }, 5s));
    BOOST_TEST(pay.balance(buyer) == 0);
    const auto texts = telegram.texts_to(buyer);
    BOOST_TEST(texts.back() == locales.text("ru", "pay.refund_done", {{"charge", "stx1"}}));
}

BOOST_AUTO_TEST_SUITE_END()
