// Tests of the daily quota and spend counters.
#include "storage/quotas.hpp"
#include "tests/storage/test_support.hpp"

namespace companion::storage::test {

BOOST_AUTO_TEST_SUITE(storage_quotas)

BOOST_FIXTURE_TEST_CASE(consume_stops_at_the_limit_and_refund_gives_one_back, database_fixture) {
    quota_repository q(*db);
    const day today = utc_day(t0);
    BOOST_TEST(q.try_consume(1, quota_kind::video, today, 2));
    BOOST_TEST(q.try_consume(1, quota_kind::video, today, 2));
    BOOST_TEST(!q.try_consume(1, quota_kind::video, today, 2));
    BOOST_TEST(q.used(1, quota_kind::video, today) == 2);
    q.refund(1, quota_kind::video, today);
    BOOST_TEST(q.used(1, quota_kind::video, today) == 1);
    BOOST_TEST(q.try_consume(1, quota_kind::video, today, 2));
}

BOOST_FIXTURE_TEST_CASE(counters_are_per_user_kind_and_day, database_fixture) {
    quota_repository q(*db);
    const day today = utc_day(t0);
    BOOST_TEST(q.try_consume(1, quota_kind::video, today, 1));
    BOOST_TEST(q.try_consume(1, quota_kind::selfie, today, 1));
    BOOST_TEST(q.try_consume(2, quota_kind::video, today, 1));
    BOOST_TEST(q.try_consume(1, quota_kind::video, today + std::chrono::days{1}, 1));
    BOOST_TEST(!q.try_consume(1, quota_kind::video, today, 1));
}

BOOST_FIXTURE_TEST_CASE(zero_limit_refuses_and_refund_never_goes_below_zero, database_fixture) {
    quota_repository q(*db);
    const day today = utc_day(t0);
    BOOST_TEST(!q.try_consume(1, quota_kind::selfie, today, 0));
    q.refund(1, quota_kind::selfie, today);
    BOOST_TEST(q.used(1, quota_kind::selfie, today) == 0);
}

BOOST_FIXTURE_TEST_CASE(spend_cap_is_global_across_providers, database_fixture) {
    quota_repository q(*db);
    const day today = utc_day(t0);
    BOOST_TEST(q.try_spend("openai", today, 400, 1000));
    BOOST_TEST(q.try_spend("veo", today, 500, 1000));
    BOOST_TEST(!q.try_spend("openai", today, 200, 1000));
    BOOST_TEST(q.try_spend("openai", today, 100, 1000));
    BOOST_TEST(q.spent("openai", today) == 500);
    BOOST_TEST(q.spent_total(today) == 1000);
    q.refund_spend("veo", today, 500);
    BOOST_TEST(q.spent_total(today) == 500);
    BOOST_TEST(q.try_spend("veo", today + std::chrono::days{1}, 1000, 1000));
}

BOOST_FIXTURE_TEST_CASE(a_reservation_is_settled_at_the_reported_cost_and_listed_per_provider,
                        database_fixture) {
    quota_repository q(*db);
    const day today = utc_day(t0);
    BOOST_TEST(q.try_spend("openrouter alibaba/wan-2.6", today, 50, 1000));
    BOOST_TEST(q.try_spend("fal fal-ai/kling-video/v3/standard/image-to-video", today, 90, 1000));
    q.adjust_spend("openrouter alibaba/wan-2.6", today, 35 - 50); // reported $0.35 of a 50-cent estimate
    BOOST_TEST(q.spent("openrouter alibaba/wan-2.6", today) == 35);
    q.adjust_spend("fal fal-ai/kling-video/v3/standard/image-to-video", today, 30); // above the estimate
    BOOST_TEST(q.spent_total(today) == 155);
    q.adjust_spend("openrouter alibaba/wan-2.6", today, -1000); // never below zero
    BOOST_TEST(q.spent("openrouter alibaba/wan-2.6", today) == 0);
    const auto listed = q.spent_by_provider(today);
    BOOST_TEST_REQUIRE(listed.size() == 1U); // a provider at zero is not listed
    BOOST_TEST(listed[0].first == "fal fal-ai/kling-video/v3/standard/image-to-video");
    BOOST_TEST(listed[0].second == 120);
    BOOST_TEST(q.spent_by_provider(today + std::chrono::days{1}).empty());
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace companion::storage::test
