// Tests of engine/retry: the back-off schedule (sans-I/O) and the retry loop on virtual time.
#include "engine/retry.hpp"
#include "tests/engine/test_support.hpp"

#include <boost/test/unit_test.hpp>

#include <optional>

using namespace companion;
using namespace companion::engine;
using namespace std::chrono_literals;
using companion::test::virtual_time;

namespace {

struct outcome {
    int status = 0;
    std::optional<duration> retry_after{};
};

retry_verdict classify(const outcome& o) {
    if (o.status == 200) {
        return retry_verdict::done();
    }
    if (o.status == 429 || o.status >= 500) {
        return retry_verdict::again(o.retry_after);
    }
    return retry_verdict::fail();
}

struct scripted {
    scripted(time_source& t, std::vector<outcome> s) : time(t), script(std::move(s)) {}
    time_source& time;
    std::vector<outcome> script;
    std::vector<time_point> calls;
    std::size_t next = 0;
    awaitable<outcome> call() {
        calls.push_back(time.now());
        co_return script[std::min(next++, script.size() - 1)];
    }
};

awaitable<outcome> run_retry(scripted& s, retry_policy p) {
    outcome r = co_await retry(
        p,
        [&s] { return s.call(); },
        classify,
        s.time,
        12345);
    co_return r;
}

} // namespace

BOOST_AUTO_TEST_SUITE(retry_suite)

BOOST_AUTO_TEST_CASE(backoff_grows_exponentially_within_the_cap_with_full_jitter) {
    retry_schedule s({.max_attempts = 20, .base_delay = 100ms, .max_delay = 2s, .jitter = true}, 7);
    for (int attempt = 1; attempt < 20; ++attempt) {
        const auto d = s.next_delay(attempt);
        BOOST_TEST_REQUIRE(d.has_value());
        const auto ceiling = std::min<duration>(100ms * (1LL << std::min(attempt - 1, 20)), 2s);
        BOOST_TEST((*d >= duration::zero() && *d <= ceiling));
    }
}

BOOST_AUTO_TEST_CASE(without_jitter_the_backoff_is_exact) {
    retry_schedule s({.max_attempts = 5, .base_delay = 100ms, .max_delay = 1s, .jitter = false});
    BOOST_TEST((s.next_delay(1) == std::optional<duration>(100ms)));
    BOOST_TEST((s.next_delay(2) == std::optional<duration>(200ms)));
    BOOST_TEST((s.next_delay(4) == std::optional<duration>(800ms)));
    BOOST_TEST(!s.next_delay(5).has_value()); // attempts exhausted
}

BOOST_AUTO_TEST_CASE(server_delay_is_honoured_exactly_and_too_long_a_delay_gives_up) {
    retry_schedule s({.max_attempts = 5, .base_delay = 100ms, .max_server_delay = 60s});
    BOOST_TEST((s.next_delay(1, 35s) == std::optional<duration>(35s)));
    BOOST_TEST(!s.next_delay(1, 61s).has_value());
}

BOOST_FIXTURE_TEST_CASE(retry_loop_waits_for_retry_after_then_succeeds, virtual_time) {
    scripted s(time, {{429, 3s}, {503, std::nullopt}, {200, std::nullopt}});
    auto r = test::spawn(ioc, run_retry(s, {.max_attempts = 5, .base_delay = 100ms, .jitter = false}));
    advance(5s);
    BOOST_TEST_REQUIRE(r->done);
    BOOST_TEST(r->value->status == 200);
    BOOST_TEST_REQUIRE(s.calls.size() == 3U);
    BOOST_TEST((s.calls[1] - s.calls[0] == 3s));
    // The honoured 429 was not a failed attempt: the 503 is the first, so the base back-off.
    BOOST_TEST((s.calls[2] - s.calls[1] == 100ms));
}

BOOST_FIXTURE_TEST_CASE(non_retryable_outcome_returns_at_once, virtual_time) {
    scripted s(time, {{400, std::nullopt}, {200, std::nullopt}});
    auto r = test::spawn(ioc, run_retry(s, {}));
    settle();
    BOOST_TEST(r->value->status == 400);
    BOOST_TEST(s.calls.size() == 1U);
}

BOOST_FIXTURE_TEST_CASE(exhausted_attempts_return_the_last_outcome, virtual_time) {
    scripted s(time, {{500, std::nullopt}});
    auto r = test::spawn(ioc, run_retry(s, {.max_attempts = 3, .base_delay = 10ms, .jitter = false}));
    advance(1s);
    BOOST_TEST(r->value->status == 500);
    BOOST_TEST(s.calls.size() == 3U);
}

BOOST_AUTO_TEST_SUITE_END()
