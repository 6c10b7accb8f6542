// The simulators' fault plan: a fault waits for its matching requests, and a fault with a window
// (`lasts`) ends on the clock like a real incident, whatever was asked meanwhile.
#include "engine/time_source.hpp"
#include "sim/fault.hpp"

#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

using namespace std::chrono_literals;
using namespace companion;

namespace {

struct take_case {
    std::string what;
    engine::duration lasts;              ///< of the one planned fault (count 3)
    std::vector<engine::duration> asked; ///< when each sendPhoto comes, from the plan
    std::vector<bool> faulted;           ///< expected for each
};

} // namespace

BOOST_AUTO_TEST_SUITE(sim_fault_suite)

BOOST_AUTO_TEST_CASE(a_window_ends_the_fault_on_the_clock_and_a_count_ends_it_after_its_requests) {
    const std::vector<take_case> cases{
        {"no window: the fault waits for its requests, however late",
         engine::duration::zero(),
         {0s, 10min, 2h, 3h},
         {true, true, true, false}},
        {"a window: requests inside it fail, up to the count",
         5s,
         {0s, 1s, 4s, 4500ms},
         {true, true, true, false}},
        {"a window: a request after it finds the service well", 5s, {1s, 5s, 6s}, {true, false, false}},
        {"a window that ended before any request", 2s, {3s}, {false}},
    };
    for (const auto& c : cases) {
        engine::manual_time time;
        sim::fault_injector faults(&time);
        faults.add(
            {.match = "sendPhoto", .kind = sim::fault_kind::server_error, .count = 3, .lasts = c.lasts});
        const auto start = time.now();
        for (std::size_t i = 0; i < c.asked.size(); ++i) {
            time.advance_to(start + c.asked[i]);
            BOOST_TEST(faults.take("sendMessage").has_value() == false, c.what << ": another method");
            BOOST_TEST(faults.take("sendPhoto").has_value() == c.faulted[i], c.what << ": request " << i);
        }
    }
}

BOOST_AUTO_TEST_CASE(an_outage_window_fails_every_method_until_it_ends) {
    engine::manual_time time;
    sim::fault_injector faults(&time);
    faults.add(
        {.match = "", .kind = sim::fault_kind::server_error, .count = -1, .status = 502, .lasts = 60s});
    const auto start = time.now();
    int failed = 0;
    for (auto t = 0s; t < 90s; t += 1s) {
        time.advance_to(start + t);
        failed += faults.take(t.count() % 2 == 0 ? "getUpdates" : "sendMessage") ? 1 : 0;
    }
    BOOST_TEST(failed == 60);
    BOOST_TEST(faults.pending() == 0U);
}

BOOST_AUTO_TEST_SUITE_END()
