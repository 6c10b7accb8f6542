// Registry bookkeeping, Prometheus text rendering and the loop-lag probe.
#include "engine/metrics.hpp"

#include "engine/log.hpp"
#include "engine/time.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace companion::engine {
namespace {

std::string escape_label_value(std::string_view v) {
    std::string out;
    out.reserve(v.size());
    for (char c : v) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '"') {
            out += "\\\"";
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out.push_back(c);
        }
    }
    return out;
}

std::string render_labels(const metric_labels& labels) {
    if (labels.empty()) {
        return {};
    }
    std::string out = "{";
    bool first = true;
    for (const auto& [k, v] : labels) {
        if (!first) {
            out.push_back(',');
        }
        first = false;
        out += k;
        out += "=\"";
        out += escape_label_value(v);
        out.push_back('"');
    }
    out.push_back('}');
    return out;
}

// Inserts an extra label into rendered labels ("{a=\"b\"}" + le → "{a=\"b\",le=\"0.5\"}").
std::string with_label(const std::string& rendered, std::string_view key, std::string_view value) {
    std::string extra = std::string(key) + "=\"" + std::string(value) + "\"";
    if (rendered.empty()) {
        return "{" + extra + "}";
    }
    return rendered.substr(0, rendered.size() - 1) + "," + extra + "}";
}

std::string number(double v) {
    if (std::isinf(v)) {
        return v > 0 ? "+Inf" : "-Inf";
    }
    std::array<char, 40> buf{};
    std::snprintf(buf.data(), buf.size(), "%.9g", v);
    return buf.data();
}

std::string number(std::uint64_t v) {
    return std::to_string(v);
}

} // namespace

histogram::histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), buckets_(new std::atomic<std::uint64_t>[bounds_.size() + 1]) {
    std::sort(bounds_.begin(), bounds_.end());
    for (std::size_t i = 0; i <= bounds_.size(); ++i) {
        buckets_[i].store(0, std::memory_order_relaxed);
    }
}

void histogram::observe(double v) noexcept {
    const auto it = std::lower_bound(bounds_.begin(), bounds_.end(), v);
    const auto idx = static_cast<std::size_t>(it - bounds_.begin());
    buckets_[idx].fetch_add(1, std::memory_order_relaxed);
    count_.fetch_add(1, std::memory_order_relaxed);
    sum_.fetch_add(v, std::memory_order_relaxed);
}

double histogram::quantile(double q) const noexcept {
    const auto total = count();
    if (total == 0) {
        return 0.0;
    }
    const double rank = q * static_cast<double>(total);
    double seen = 0.0;
    for (std::size_t i = 0; i <= bounds_.size(); ++i) {
        const auto n = static_cast<double>(bucket(i));
        if (seen + n >= rank && n > 0) {
            if (i == bounds_.size()) {
                return bounds_.empty() ? 0.0 : bounds_.back();
            }
            const double lo = i == 0 ? 0.0 : bounds_[i - 1];
            const double hi = bounds_[i];
            return lo + (hi - lo) * ((rank - seen) / n);
        }
        seen += n;
    }
    return bounds_.empty() ? 0.0 : bounds_.back();
}

std::vector<double> latency_buckets_seconds() {
    return {0.00005,
            0.0001,
            0.00025,
            0.0005,
            0.001,
            0.0025,
            0.005,
            0.01,
            0.025,
            0.05,
            0.1,
            0.25,
            0.5,
            1.0,
            2.5,
            5.0,
            10.0,
            30.0,
            60.0};
}

metrics_registry::series& metrics_registry::find_or_add(std::string_view name,
                                                        std::string_view help,
                                                        kind type,
                                                        const metric_labels& labels) {
    auto it = families_.find(name);
    if (it == families_.end()) {
        it = families_.emplace(std::string(name), family{type, std::string(help), {}}).first;
    } else if (it->second.type != type) {
        throw std::logic_error("metric " + std::string(name) + " registered with two types");
    }
    const std::string rendered = render_labels(labels);
    for (auto& s : it->second.members) {
        if (s->labels == rendered) {
            return *s;
        }
    }
    it->second.members.push_back(std::make_unique<series>());
    auto& s = *it->second.members.back();
    s.labels = rendered;
    return s;
}

namespace {

// The series' metric, made on first use with `args` (later calls return the same one).
template <class Metric, class... Args>
Metric& made(std::unique_ptr<Metric>& slot, Args&&... args) {
    if (!slot) {
        slot = std::make_unique<Metric>(std::forward<Args>(args)...);
    }
    return *slot;
}

} // namespace

counter& metrics_registry::make_counter(std::string_view name, std::string_view help, metric_labels labels) {
    std::lock_guard lock(mutex_);
    return made(find_or_add(name, help, kind::counter, labels).c);
}

gauge& metrics_registry::make_gauge(std::string_view name, std::string_view help, metric_labels labels) {
    std::lock_guard lock(mutex_);
    return made(find_or_add(name, help, kind::gauge, labels).g);
}

histogram& metrics_registry::make_histogram(std::string_view name,
                                            std::string_view help,
                                            std::vector<double> bounds,
                                            metric_labels labels) {
    std::lock_guard lock(mutex_);
    return made(find_or_add(name, help, kind::histogram, labels).h, std::move(bounds));
}

std::string metrics_registry::expose() const {
    std::lock_guard lock(mutex_);
    std::string out;
    for (const auto& [name, fam] : families_) {
        out += "# HELP " + name + " " + fam.help + "\n";
        out += "# TYPE " + name + " ";
        out += fam.type == kind::counter ? "counter" : fam.type == kind::gauge ? "gauge" : "histogram";
        out += "\n";
        for (const auto& s : fam.members) {
            if (s->c) {
                out += name + s->labels + " " + number(s->c->value()) + "\n";
            } else if (s->g) {
                out += name + s->labels + " " + number(s->g->value()) + "\n";
            } else if (s->h) {
                const auto& h = *s->h;
                std::uint64_t cumulative = 0;
                for (std::size_t i = 0; i < h.bounds().size(); ++i) {
                    cumulative += h.bucket(i);
                    out += name + "_bucket" + with_label(s->labels, "le", number(h.bounds()[i])) + " " +
                           number(cumulative) + "\n";
                }
                cumulative += h.bucket(h.bounds().size());
                out +=
                    name + "_bucket" + with_label(s->labels, "le", "+Inf") + " " + number(cumulative) + "\n";
                out += name + "_sum" + s->labels + " " + number(h.sum()) + "\n";
                out += name + "_count" + s->labels + " " + number(h.count()) + "\n";
            }
        }
    }
    secrets().redact_in_place(out);
    return out;
}

metrics_registry& metrics() {
    static metrics_registry instance;
    return instance;
}

awaitable<void> run_loop_lag_probe(histogram& lag, loop_lag_config cfg, time_source& time) {
    for (;;) {
        co_await time.sleep(cfg.interval);
        const auto armed = time.now();
        co_await time.sleep_until(armed + cfg.probe);
        const auto late = time.now() - armed - cfg.probe;
        lag.observe(std::max(0.0, std::chrono::duration<double>(late).count()));
    }
}

} // namespace companion::engine
