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
                              .seconds_per_credit = 5,
                              .subscription_stars = 450,
                              .subscription_videos = 3};

const payments_config packs_only{.enabled = true,
                                 .packs = {{.credits = 3, .stars = 150}},
                                 .seconds_per_credit = 5,
                                 .subscription_stars = 0};

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

BOOST_AUTO_TEST_CASE(subscription_payloads_are_written_as_read_and_never_taken_for_packs) {
    const pack_order order{.user_id = 42, .pack = {.credits = 3, .stars = 450}};
    BOOST_TEST(subscription_payload(order) == "sub:3:450:42");
    BOOST_TEST((read_subscription_payload("sub:3:450:42") == order));
    BOOST_TEST(!read_subscription_payload("pack:3:450:42").has_value());
    BOOST_TEST(!read_pack_payload("sub:3:450:42").has_value());
    BOOST_TEST(!read_subscription_payload("sub:3:450").has_value());
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
    {"the subscription at its price", selling, 42, "XTR", 450, "sub:3:450:42", checkout_verdict::accept},
    {"a subscription when none is sold",
     packs_only,
     42,
     "XTR",
     450,
     "sub:3:450:42",
     checkout_verdict::unknown_pack},
    {"a subscription repriced since the link",
     selling,
     42,
     "XTR",
     300,
     "sub:3:300:42",
     checkout_verdict::unknown_pack},
    {"a subscription of other videos a day",
     selling,
     42,
     "XTR",
     450,
     "sub:5:450:42",
     checkout_verdict::unknown_pack},
    {"another user's subscription", selling, 43, "XTR", 450, "sub:3:450:42", checkout_verdict::not_the_buyer},
    {"a subscription at another amount",
     selling,
     42,
     "XTR",
     45,
     "sub:3:450:42",
     checkout_verdict::wrong_price},
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

net::telegram::successful_payment
period(std::int64_t amount, std::string payload, std::string charge, std::optional<std::int64_t> expires) {
    auto p = payment("XTR", amount, std::move(payload), std::move(charge));
    p.subscription_expiration_date = expires;
    p.is_recurring = true;
    return p;
}

struct grant_case {
    const char* name;
    std::int64_t payer;
    net::telegram::successful_payment paid;
    int credits;            ///< 0: no credits
    int videos_per_day = 0; ///< a subscription period's allowance
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
    {"a subscription period", 42, period(450, "sub:3:450:42", "stx2", 1766592600), 0, 3},
    {"a subscription paid by another user", 43, period(450, "sub:3:450:42", "stx2", 1766592600), 0, 0},
    {"a subscription without its expiration", 42, period(450, "sub:3:450:42", "stx2", std::nullopt), 0, 0},
    {"a subscription at another amount", 42, period(45, "sub:3:450:42", "stx2", 1766592600), 0, 0},
};

BOOST_DATA_TEST_CASE(grants, boost::unit_test::data::make(grant_cases), c) {
    const auto d = decide_grant(c.payer, c.paid);
    BOOST_TEST(d.credits == c.credits);
    BOOST_TEST(d.videos_per_day == c.videos_per_day);
    BOOST_TEST(d.why.empty() == d.grants()); // a refusal always says why
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

BOOST_FIXTURE_TEST_CASE(a_subscription_gives_its_videos_a_day_once_per_period_and_runs_to_its_end,
                        payments_world) {
    const auto until = storage::to_unix_ms(time.wall()) / 1000 + 30 * 86400;
    const auto first = [&] {
        auto p = payment("XTR", 450, "sub:3:450:4242", "stxS1");
        p.subscription_expiration_date = until;
        p.is_recurring = true;
        p.is_first_recurring = true;
        return p;
    }();
    for (int i = 0; i < 2; ++i) { // the second is Telegram delivering it again
        auto done = spawn(pay.paid(c, first));
        BOOST_TEST_REQUIRE(advance_until([&] { return done->done; }, 5s));
    }
    BOOST_TEST(pay.daily_allowance(buyer) == 3);
    BOOST_TEST(pay.balance(buyer) == 0); // days of videos, not credits
    BOOST_TEST(pay.stats().granted == 1U);
    BOOST_TEST(pay.stats().duplicates == 1U);
    const auto sent = telegram.texts_to(buyer);
    BOOST_TEST_REQUIRE(sent.size() == 1U);
    BOOST_TEST(sent.front().find("⭐") == 0U);
    // Cancelled in Telegram: it runs to its end, and the user is told until when.
    auto cancelled = spawn(pay.subscription_changed(c, "canceled"));
    BOOST_TEST_REQUIRE(advance_until([&] { return cancelled->done; }, 5s));
    BOOST_TEST(pay.daily_allowance(buyer) == 3);
    BOOST_TEST(telegram.texts_to(buyer).size() == 2U);
    advance(std::chrono::days(31));
    BOOST_TEST(pay.daily_allowance(buyer) == 0);
    // A state this version does not know changes nothing and tells nothing.
    auto odd = spawn(pay.subscription_changed(c, "paused"));
    BOOST_TEST_REQUIRE(advance_until([&] { return odd->done; }, 5s));
    BOOST_TEST(telegram.texts_to(buyer).size() == 2U);
}

BOOST_FIXTURE_TEST_CASE(the_subscribe_button_opens_a_thirty_day_stars_link, payments_world) {
    auto done = spawn(pay.subscribe(c, "cb1"));
    BOOST_TEST_REQUIRE(advance_until([&] { return done->done; }, 5s));
    BOOST_TEST_REQUIRE(telegram.invoice_links.size() == 1U);
    const auto& link = telegram.invoice_links.front();
    BOOST_TEST(link.payload == "sub:3:450:4242");
    BOOST_TEST(link.currency == "XTR");
    BOOST_TEST(link.subscription_period.value_or(0) == 2592000);
    BOOST_TEST_REQUIRE(link.prices.size() == 1U);
    BOOST_TEST(link.prices.front().amount == 450);
    BOOST_TEST(telegram.texts_to(buyer).size() == 1U); // the message with the link's button
}

BOOST_AUTO_TEST_SUITE_END()
