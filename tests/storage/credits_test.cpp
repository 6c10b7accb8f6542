// Tests of the Stars ledger and the video credits: a grant once per charge id, a spend tied to
// its job and given back once, a refund that takes back what is left, the totals /stats shows,
// and all of it in the caller's transaction (rolled back with it).
#include "storage/credits.hpp"
#include "storage/video_jobs.hpp"
#include "tests/storage/test_support.hpp"

#include <stdexcept>

namespace companion::storage::test {

namespace {

struct credits_fixture : database_fixture {
    credit_repository credits{*db};
    video_job_repository jobs{*db};

    credits_fixture() {
        add_user(1);
        add_user(2);
    }

    std::int64_t job(std::int64_t user) {
        auto id = jobs.create({.user_id = user,
                               .chat_id = user,
                               .persona_id = "aylin",
                               .provider = "fal",
                               .mode = video_mode::from_last_selfie,
                               .flirty = false,
                               .created = t0});
        BOOST_TEST_REQUIRE(id.has_value());
        return *id;
    }

    static star_payment paid(std::string charge, std::int64_t user, int credits, std::int64_t stars) {
        star_payment p;
        p.charge_id = std::move(charge);
        p.user_id = user;
        p.payload =
            "pack:" + std::to_string(credits) + ":" + std::to_string(stars) + ":" + std::to_string(user);
        p.stars = stars;
        p.credits = credits;
        p.paid = t0;
        return p;
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(storage_credits)

BOOST_FIXTURE_TEST_CASE(a_charge_is_granted_once, credits_fixture) {
    BOOST_TEST(credits.balance(1) == 0);
    BOOST_TEST((credits.grant(paid("stx1", 1, 3, 150)) == grant_outcome::granted));
    BOOST_TEST((credits.grant(paid("stx1", 1, 3, 150)) == grant_outcome::duplicate)); // replayed
    BOOST_TEST(credits.balance(1) == 3);
    BOOST_TEST((credits.grant(paid("stx2", 1, 10, 450)) == grant_outcome::granted));
    BOOST_TEST(credits.balance(1) == 13);
    BOOST_TEST(credits.balance(2) == 0);
    const auto row = credits.payment("stx1");
    BOOST_TEST_REQUIRE(row.has_value());
    BOOST_TEST((*row == paid("stx1", 1, 3, 150)));
    BOOST_TEST(!credits.payment("stx9").has_value());
}

BOOST_FIXTURE_TEST_CASE(a_grant_rolls_back_with_the_callers_transaction, credits_fixture) {
    BOOST_CHECK_THROW(db->in_transaction([&] {
        BOOST_TEST((credits.grant(paid("stx1", 1, 3, 150)) == grant_outcome::granted));
        throw std::runtime_error("crash before the commit");
    }),
                      std::runtime_error);
    BOOST_TEST(credits.balance(1) == 0);
    BOOST_TEST(!credits.payment("stx1").has_value());
    BOOST_TEST((credits.grant(paid("stx1", 1, 3, 150)) == grant_outcome::granted)); // the replay grants
    BOOST_TEST(credits.balance(1) == 3);
}

BOOST_FIXTURE_TEST_CASE(a_spend_needs_the_balance_and_goes_back_once, credits_fixture) {
    BOOST_TEST((credits.grant(paid("stx1", 1, 3, 150)) == grant_outcome::granted));
    const auto first = job(1);
    BOOST_TEST(!credits.try_spend(1, first, 4)); // more than the balance: nothing taken
    BOOST_TEST(credits.balance(1) == 3);
    BOOST_TEST(credits.try_spend(1, first, 2));
    BOOST_TEST(credits.balance(1) == 1);
    BOOST_TEST(credits.paid_credits(first) == 2);
    BOOST_TEST(credits.totals(t0).credits_spent == 2);
    BOOST_TEST(credits.refund_job(first) == 2);
    BOOST_TEST(credits.refund_job(first) == 0); // once
    BOOST_TEST(credits.balance(1) == 3);
    BOOST_TEST(credits.paid_credits(first) == 0);
    BOOST_TEST(credits.totals(t0).credits_spent == 0);
    BOOST_TEST(!credits.try_spend(2, job(2), 1)); // another user has none
}

BOOST_FIXTURE_TEST_CASE(a_refunded_payment_takes_back_what_is_left_once, credits_fixture) {
    BOOST_TEST((credits.grant(paid("stx1", 1, 3, 150)) == grant_outcome::granted));
    BOOST_TEST(credits.try_spend(1, job(1), 2));
    BOOST_TEST(credits.mark_refunded("stx1", t0));
    BOOST_TEST(!credits.mark_refunded("stx1", t0)); // done before
    BOOST_TEST(!credits.mark_refunded("stx9", t0)); // unknown
    BOOST_TEST(credits.balance(1) == 0);            // 1 left was taken back, never below zero
    BOOST_TEST(credits.payment("stx1")->refunded.has_value());
    BOOST_TEST((credits.grant(paid("stx1", 1, 3, 150)) == grant_outcome::duplicate)); // still in the ledger
}

BOOST_FIXTURE_TEST_CASE(totals_sum_the_ledger, credits_fixture) {
    BOOST_TEST((credits.totals(t0) == credit_totals{}));
    BOOST_TEST((credits.grant(paid("stx1", 1, 3, 150)) == grant_outcome::granted));
    BOOST_TEST((credits.grant(paid("stx2", 2, 10, 450)) == grant_outcome::granted));
    BOOST_TEST(credits.try_spend(2, job(2), 1));
    BOOST_TEST(credits.mark_refunded("stx1", t0));
    const auto t = credits.totals(t0);
    BOOST_TEST(t.payments == 2);
    BOOST_TEST(t.stars == 600);
    BOOST_TEST(t.credits_granted == 13);
    BOOST_TEST(t.credits_spent == 1);
    BOOST_TEST(t.refunds == 1);
    BOOST_TEST(t.stars_refunded == 150);
}

BOOST_FIXTURE_TEST_CASE(a_subscription_is_granted_once_per_charge_and_runs_to_its_end, credits_fixture) {
    using namespace std::chrono_literals;
    auto first = paid("sub1", 1, 0, 450);
    first.payload = "sub:3:450:1";
    const auto month = t0 + std::chrono::days(30);
    BOOST_TEST((credits.grant_subscription(first, 3, month) == grant_outcome::granted));
    BOOST_TEST((credits.grant_subscription(first, 3, month) == grant_outcome::duplicate)); // replayed
    BOOST_TEST(credits.daily_allowance(1, t0) == 3);
    BOOST_TEST(credits.daily_allowance(2, t0) == 0);
    BOOST_TEST(credits.daily_allowance(1, month) == 0); // ended
    BOOST_TEST(credits.totals(t0).subscribers == 1);
    BOOST_TEST(credits.totals(month).subscribers == 0);
    // Cancelled: it runs to its end.
    BOOST_TEST(credits.set_subscription_state(1, "canceled"));
    BOOST_TEST(!credits.set_subscription_state(2, "canceled"));
    BOOST_TEST(credits.daily_allowance(1, month - 1h) == 3);
    BOOST_TEST(credits.subscription(1)->state == "canceled");
    // A renewal moves the end forward and makes it active again; a late older one never back.
    auto renewal = first;
    renewal.charge_id = "sub2";
    BOOST_TEST(
        (credits.grant_subscription(renewal, 3, month + std::chrono::days(30)) == grant_outcome::granted));
    auto stale = first;
    stale.charge_id = "sub0";
    BOOST_TEST((credits.grant_subscription(stale, 3, month) == grant_outcome::granted));
    const auto s = credits.subscription(1);
    BOOST_TEST_REQUIRE(s.has_value());
    BOOST_TEST((s->expires == month + std::chrono::days(30)));
    BOOST_TEST(s->state == "active");
    BOOST_TEST(credits.balance(1) == 0); // a subscription is no credits
    BOOST_TEST(credits.totals(t0).payments == 3);
    BOOST_TEST(credits.totals(t0).stars == 1350);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace companion::storage::test
