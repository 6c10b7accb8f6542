// Metrics: counters, gauges and fixed-bucket histograms with labels, exposed in the Prometheus
// text format (version 0.0.4), plus a loop-lag probe.
//
// Metric objects are created once (at wiring time) and then updated lock-free (relaxed atomics),
// so the offload pool may update them too. References returned by the registry stay valid for
// the registry's lifetime. Label values must never hold secrets; the exposition is passed through
// the redactor anyway.
#pragma once

#include "engine/asio.hpp"
#include "engine/clock.hpp"
#include "engine/time_source.hpp"

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace companion::engine {

using metric_labels = std::vector<std::pair<std::string, std::string>>;

class counter {
public:
    void inc(std::uint64_t n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
    std::uint64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<std::uint64_t> value_{0};
};

class gauge {
public:
    void set(double v) noexcept { value_.store(v, std::memory_order_relaxed); }
    void add(double v) noexcept { value_.fetch_add(v, std::memory_order_relaxed); }
    double value() const noexcept { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<double> value_{0.0};
};

class histogram {
public:
    /// `bounds`: the upper bounds of the buckets, ascending; +Inf is implicit.
    explicit histogram(std::vector<double> bounds);

    void observe(double v) noexcept;
    std::uint64_t count() const noexcept { return count_.load(std::memory_order_relaxed); }
    double sum() const noexcept { return sum_.load(std::memory_order_relaxed); }
    const std::vector<double>& bounds() const noexcept { return bounds_; }
    /// Non-cumulative count of bucket `i` (i == bounds().size() is the +Inf bucket).
    std::uint64_t bucket(std::size_t i) const noexcept { return buckets_[i].load(std::memory_order_relaxed); }
    /// The value below which a fraction `q` of observations fall, interpolated within a bucket.
    double quantile(double q) const noexcept;

private:
    std::vector<double> bounds_;
    std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;
    std::atomic<std::uint64_t> count_{0};
    std::atomic<double> sum_{0.0};
};

/// Buckets for latencies in seconds, from 50 us to 60 s.
std::vector<double> latency_buckets_seconds();

class metrics_registry {
public:
    counter& make_counter(std::string_view name, std::string_view help, metric_labels labels = {});
    gauge& make_gauge(std::string_view name, std::string_view help, metric_labels labels = {});
    histogram& make_histogram(std::string_view name,
                              std::string_view help,
                              std::vector<double> bounds,
                              metric_labels labels = {});

    /// The Prometheus text exposition of every metric.
    std::string expose() const;

private:
    enum class kind { counter, gauge, histogram };
    struct series {
        std::string labels; // rendered: {a="b",c="d"} or empty
        std::unique_ptr<counter> c;
        std::unique_ptr<gauge> g;
        std::unique_ptr<histogram> h;
    };
    struct family {
        kind type;
        std::string help;
        std::vector<std::unique_ptr<series>> members;
    };

    series& find_or_add(std::string_view name, std::string_view help, kind type, const metric_labels& labels);

    mutable std::mutex mutex_;
    std::map<std::string, family, std::less<>> families_;
};

/// The process-wide registry.
metrics_registry& metrics();

/// Measures loop lag: every `interval` it arms a `probe` timer and records how late it fires
/// (seconds) into `lag`. Run it as a child of a task group; cancellation stops it. It waits on
/// `time`, which must outlive it.
struct loop_lag_config {
    duration interval = std::chrono::milliseconds(100);
    duration probe = std::chrono::milliseconds(1);
};
awaitable<void>
run_loop_lag_probe(histogram& lag, loop_lag_config cfg = {}, time_source& time = system_time());

} // namespace companion::engine
