// Tests of engine/metrics: the Prometheus exposition, histogram maths and the loop-lag probe.
#include "engine/log.hpp"
#include "engine/metrics.hpp"
#include "engine/task_group.hpp"
#include "tests/engine/test_support.hpp"

#include <boost/test/unit_test.hpp>

#include <string>

using namespace companion;
using namespace companion::engine;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(metrics_suite)

BOOST_AUTO_TEST_CASE(exposition_renders_counters_gauges_and_labels) {
    metrics_registry r;
    r.make_counter("http_requests_total", "Requests sent.", {{"origin", "api.telegram.org"}}).inc(3);
    r.make_counter("http_requests_total", "Requests sent.", {{"origin", "say \"x\""}}).inc();
    r.make_gauge("jobs_in_flight", "Video jobs in flight.").set(12);
    const auto text = r.expose();
    BOOST_TEST(text.find("# TYPE http_requests_total counter\n") != std::string::npos);
    BOOST_TEST(text.find("http_requests_total{origin=\"api.telegram.org\"} 3\n") != std::string::npos);
    BOOST_TEST(text.find("http_requests_total{origin=\"say \\\"x\\\"\"} 1\n") != std::string::npos);
    BOOST_TEST(text.find("jobs_in_flight 12\n") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(same_name_and_labels_return_the_same_series) {
    metrics_registry r;
    auto& a = r.make_counter("x_total", "x", {{"k", "v"}});
    auto& b = r.make_counter("x_total", "x", {{"k", "v"}});
    BOOST_TEST(&a == &b);
    BOOST_CHECK_THROW(r.make_gauge("x_total", "x"), std::logic_error);
}

BOOST_AUTO_TEST_CASE(histogram_exposes_cumulative_buckets_and_estimates_quantiles) {
    metrics_registry r;
    auto& h = r.make_histogram("lat_seconds", "Latency.", {0.001, 0.01, 0.1});
    for (int i = 0; i < 90; ++i) {
        h.observe(0.0005);
    }
    for (int i = 0; i < 10; ++i) {
        h.observe(0.05);
    }
    h.observe(5.0);
    const auto text = r.expose();
    BOOST_TEST(text.find("lat_seconds_bucket{le=\"0.001\"} 90\n") != std::string::npos);
    BOOST_TEST(text.find("lat_seconds_bucket{le=\"0.1\"} 100\n") != std::string::npos);
    BOOST_TEST(text.find("lat_seconds_bucket{le=\"+Inf\"} 101\n") != std::string::npos);
    BOOST_TEST(text.find("lat_seconds_count 101\n") != std::string::npos);
    BOOST_TEST(h.quantile(0.5) <= 0.001);
    BOOST_TEST(h.quantile(0.95) > 0.01);
    BOOST_TEST(h.quantile(0.95) <= 0.1);
}

BOOST_AUTO_TEST_CASE(exposition_is_redacted) {
    metrics_registry r;
    secrets().add_secret("leaky-secret-value");
    r.make_counter("bad_total", "oops", {{"url", "/x/leaky-secret-value"}}).inc();
    BOOST_TEST(r.expose().find("leaky-secret-value") == std::string::npos);
    secrets().clear();
}

BOOST_FIXTURE_TEST_CASE(loop_lag_probe_records_how_late_its_timer_fires, test::virtual_time) {
    histogram lag(latency_buckets_seconds());
    task_group g(ioc.get_executor());
    BOOST_TEST(g.spawn(run_loop_lag_probe(lag, {.interval = 10ms, .probe = 1ms}, time)));
    advance(100ms);
    BOOST_TEST(lag.count() >= 8U);
    BOOST_TEST(lag.quantile(0.99) <= 0.001);
    g.cancel();
    settle();
    BOOST_TEST(g.size() == 0U);
}

BOOST_AUTO_TEST_SUITE_END()
