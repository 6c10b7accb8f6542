// Tests of engine/rate_limit: the sans-I/O buckets with explicit time, and the awaitable
// limiters on virtual time.
#include "engine/rate_limit.hpp"
#include "tests/engine/test_support.hpp"

#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstdint>
#include <vector>

using namespace companion;
using namespace companion::engine;
using namespace std::chrono_literals;
using companion::test::virtual_time;

namespace {

const time_point t0{std::chrono::seconds(1000)};

awaitable<void> take_and_stamp(time_source& time,
                               keyed_rate_limiter<std::int64_t>& lim,
                               std::int64_t key,
                               std::vector<duration>& stamps,
                               time_point start) {
    co_await lim.acquire(key);
    stamps.push_back(time.now() - start);
}

} // namespace

BOOST_AUTO_TEST_SUITE(rate_limit_suite)

BOOST_AUTO_TEST_CASE(bucket_allows_a_burst_then_spaces_reservations_by_the_rate) {
    token_bucket b({.rate_per_second = 2.0, .burst = 3.0}, t0);
    BOOST_TEST((b.reserve(t0) == duration::zero()));
    BOOST_TEST((b.reserve(t0) == duration::zero()));
    BOOST_TEST((b.reserve(t0) == duration::zero()));
    BOOST_TEST((b.reserve(t0) == 500ms));
    BOOST_TEST((b.reserve(t0) == 1000ms)); // first come, first served: the debt grows
    BOOST_TEST(!b.try_take(t0 + 900ms));
    BOOST_TEST(std::abs(b.available(t0 + 1000ms)) < 1e-9);
}

BOOST_AUTO_TEST_CASE(bucket_refills_up_to_its_burst_only) {
    token_bucket b({.rate_per_second = 10.0, .burst = 2.0}, t0);
    BOOST_TEST(b.try_take(t0));
    BOOST_TEST(b.try_take(t0));
    BOOST_TEST(!b.try_take(t0));
    BOOST_TEST(b.available(t0 + 1h) == 2.0);
    BOOST_TEST(b.idle(t0 + 1h));
}

BOOST_AUTO_TEST_CASE(keyed_bucket_limits_each_key_and_the_total) {
    keyed_token_bucket<std::int64_t> k({.per_key = {1.0, 1.0}, .global = {2.0, 2.0}, .use_global = true}, t0);
    BOOST_TEST((k.reserve(1, t0) == duration::zero()));
    BOOST_TEST((k.reserve(1, t0) == 1s));    // same key: per-key rate
    BOOST_TEST((k.reserve(2, t0) == 500ms)); // other key: only the global debt
    BOOST_TEST(k.keys() == 2U);
}

BOOST_AUTO_TEST_CASE(pause_of_one_key_holds_only_that_key) {
    keyed_token_bucket<std::int64_t> k({.per_key = {10.0, 10.0}, .global = {100.0, 100.0}}, t0);
    k.pause(5, t0 + 35s, t0);
    BOOST_TEST((k.reserve(5, t0) == 35s));
    BOOST_TEST((k.reserve(6, t0) == duration::zero()));
    BOOST_TEST((k.pause_remaining(5, t0 + 30s) == 5s));
    k.pause_all(t0 + 10s);
    BOOST_TEST((k.reserve(6, t0) == 10s));
}

BOOST_AUTO_TEST_CASE(idle_keys_are_pruned) {
    keyed_token_bucket<std::int64_t> k({.per_key = {1.0, 1.0}, .use_global = false, .prune_threshold = 16},
                                       t0);
    for (std::int64_t i = 0; i < 100; ++i) {
        (void)k.reserve(i, t0 + std::chrono::seconds(i * 10));
    }
    BOOST_TEST(k.keys() < 40U);
}

BOOST_FIXTURE_TEST_CASE(limiter_spaces_sends_of_one_chat_and_honours_a_429_pause, virtual_time) {
    keyed_rate_limiter<std::int64_t> lim({.per_key = {1.0, 1.0}, .global = {30.0, 30.0}}, time);
    std::vector<duration> stamps;
    const auto start = time.now();
    for (int i = 0; i < 3; ++i) {
        test::spawn(ioc, take_and_stamp(time, lim, 42, stamps, start));
    }
    advance(2500ms);
    BOOST_TEST_REQUIRE(stamps.size() == 3U);
    BOOST_TEST((stamps[0] < 10ms));
    BOOST_TEST((stamps[1] >= 1s && stamps[1] < 1010ms));
    BOOST_TEST((stamps[2] >= 2s && stamps[2] < 2010ms));

    lim.pause(42, 35s);
    stamps.clear();
    const auto paused_at = time.now();
    test::spawn(ioc, take_and_stamp(time, lim, 42, stamps, paused_at));
    test::spawn(ioc, take_and_stamp(time, lim, 43, stamps, paused_at));
    advance(100ms);
    BOOST_TEST(stamps.size() == 1U); // chat 43 is not held back by chat 42's pause
    advance(35s);
    BOOST_TEST_REQUIRE(stamps.size() == 2U);
    BOOST_TEST((stamps[1] >= 35s));
}

BOOST_FIXTURE_TEST_CASE(a_pause_that_starts_while_waiting_is_honoured, virtual_time) {
    keyed_rate_limiter<std::int64_t> lim({.per_key = {1.0, 1.0}, .use_global = false}, time);
    std::vector<duration> stamps;
    const auto start = time.now();
    test::spawn(ioc, take_and_stamp(time, lim, 1, stamps, start));
    test::spawn(ioc, take_and_stamp(time, lim, 1, stamps, start)); // waits ~1 s for its token
    advance(500ms);
    lim.pause_all(10s);
    advance(11s);
    BOOST_TEST_REQUIRE(stamps.size() == 2U);
    BOOST_TEST((stamps[1] >= 10500ms));
}

BOOST_AUTO_TEST_SUITE_END()
