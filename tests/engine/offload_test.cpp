// Tests of engine/offload: results and exceptions come back to the loop thread; the loop keeps
// running other work meanwhile.
#include "engine/offload.hpp"
#include "tests/engine/test_support.hpp"

#include <boost/test/unit_test.hpp>

#include <atomic>
#include <stdexcept>
#include <thread>

using namespace companion;
using namespace companion::engine;

namespace {

awaitable<int> compute(offload_pool& pool, std::thread::id& worker, std::thread::id& resumed) {
    const int v = co_await pool.run([&worker] {
        worker = std::this_thread::get_id();
        int sum = 0;
        for (int i = 1; i <= 100; ++i) {
            sum += i;
        }
        return sum;
    });
    resumed = std::this_thread::get_id();
    co_return v;
}

awaitable<void> failing(offload_pool& pool) {
    co_await pool.run([]() -> void { throw std::invalid_argument("bad image"); });
}

awaitable<void> ticker(int& ticks, std::atomic<bool>& stop) {
    while (!stop.load()) {
        ++ticks;
        co_await yield();
    }
}

} // namespace

BOOST_AUTO_TEST_SUITE(offload_suite)

BOOST_AUTO_TEST_CASE(result_is_computed_on_a_worker_and_delivered_on_the_loop_thread) {
    boost::asio::io_context ioc{1};
    offload_pool pool(2);
    std::thread::id worker, resumed;
    auto r = test::spawn(ioc, compute(pool, worker, resumed));
    ioc.run();
    BOOST_TEST(r->value.value() == 5050);
    BOOST_TEST((worker != std::this_thread::get_id()));
    BOOST_TEST((resumed == std::this_thread::get_id()));
}

BOOST_AUTO_TEST_CASE(exception_of_the_work_is_rethrown_in_the_awaiting_coroutine) {
    boost::asio::io_context ioc{1};
    offload_pool pool(1);
    auto r = test::spawn(ioc, failing(pool));
    ioc.run();
    BOOST_TEST(r->done);
    BOOST_CHECK_THROW(std::rethrow_exception(r->error), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(loop_keeps_serving_other_tasks_while_work_runs) {
    boost::asio::io_context ioc{1};
    offload_pool pool(1);
    std::atomic<bool> release{false};
    std::atomic<bool> stop_ticker{false};
    int ticks = 0;
    auto blocked = test::spawn(ioc, pool.run([&] {
        while (!release.load()) {
            std::this_thread::yield();
        }
        stop_ticker.store(true);
        return 1;
    }));
    test::spawn(ioc, ticker(ticks, stop_ticker));
    while (ticks < 1000) {
        ioc.run_one();
    }
    release.store(true);
    ioc.run();
    BOOST_TEST(ticks >= 1000);
    BOOST_TEST(blocked->value.value() == 1);
}

BOOST_AUTO_TEST_SUITE_END()
