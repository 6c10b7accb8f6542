// Tests of pipelines/user_limits: per-user buckets refill on virtual time, users do not share a
// bucket, a refused request takes nothing, and the "a little slower" notice comes once a window.
#include "pipelines/user_limits.hpp"
#include "tests/common/print.hpp"

#include <boost/test/unit_test.hpp>

using namespace companion;
using namespace companion::pipelines;
using namespace std::chrono_literals;

namespace {

const engine::time_point t0{std::chrono::hours(1)};

} // namespace

BOOST_AUTO_TEST_SUITE(user_limits_suite)

BOOST_AUTO_TEST_CASE(chat_turns_allow_a_burst_of_a_quarter_then_one_every_three_seconds) {
    user_limits l({.chat_turns_per_minute = 20}, t0);
    for (int i = 0; i < 5; ++i) {
        BOOST_TEST(l.allow(limit::chat_turn, 1, t0));
    }
    BOOST_TEST(!l.allow(limit::chat_turn, 1, t0));
    BOOST_TEST(!l.allow(limit::chat_turn, 1, t0 + 2900ms)); // refused requests took nothing
    BOOST_TEST(l.allow(limit::chat_turn, 1, t0 + 3s));
    BOOST_TEST(l.allow(limit::chat_turn, 2, t0)); // another user has a bucket of their own
}

BOOST_AUTO_TEST_CASE(selfies_allow_their_whole_minute_at_once) {
    user_limits l({.selfies_per_minute = 3}, t0);
    BOOST_TEST(l.allow(limit::selfie, 1, t0));
    BOOST_TEST(l.allow(limit::selfie, 1, t0));
    BOOST_TEST(l.allow(limit::selfie, 1, t0));
    BOOST_TEST(!l.allow(limit::selfie, 1, t0));
    BOOST_TEST(l.allow(limit::selfie, 1, t0 + 20s));
}

BOOST_AUTO_TEST_CASE(one_notice_per_window) {
    user_limits l({.notice_every = 20s}, t0);
    BOOST_TEST(l.may_notice(1, t0));
    BOOST_TEST(!l.may_notice(1, t0 + 19s));
    BOOST_TEST(l.may_notice(1, t0 + 20s));
    BOOST_TEST(l.may_notice(2, t0));
}

BOOST_AUTO_TEST_SUITE_END()
