// bench_storage: what a commit costs on the loop thread for the bot's hot paths (mark an update
// processed and advance the offset; a video-job transition; append a turn), with
// synchronous=NORMAL beside FULL, and how late a 1 ms loop timer fires while a WAL checkpoint
// runs on the offload pool, beside the stall of the same checkpoint run on the loop.
//
// Usage: bench_storage [json-path] [commits]   (defaults: bench_storage.json, 20000)
// The database lives in a scratch directory under the current directory (a real disk: /tmp may
// be tmpfs, where fsync is free), removed at the end.
#include "engine/asio.hpp"
#include "engine/log.hpp"
#include "engine/offload.hpp"
#include "storage/conversation.hpp"
#include "storage/database.hpp"
#include "storage/updates.hpp"
#include "storage/users.hpp"
#include "storage/video_jobs.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace {

using namespace companion;
using namespace std::chrono_literals;
using bench_clock = std::chrono::steady_clock;

const storage::timestamp t0 = storage::from_unix_ms(1'795'555'800'000);

struct commit_figure {
    std::string name;
    std::string synchronous;
    long commits = 0;
    double seconds = 0;

    double per_second() const { return static_cast<double>(commits) / seconds; }
    double us_per_commit() const { return seconds * 1e6 / static_cast<double>(commits); }
};

struct lag_figure {
    std::string name;
    double checkpoint_ms = 0; ///< how long the checkpoint took
    int frames = 0;           ///< WAL frames it copied
    long samples = 0;
    double p50_us = 0;
    double p99_us = 0;
    double max_us = 0;
};

double seconds_since(bench_clock::time_point start) {
    return std::chrono::duration<double>(bench_clock::now() - start).count();
}

template <class F>
commit_figure measure(std::string name, storage::synchronous_mode mode, long commits, F&& commit_one) {
    const auto start = bench_clock::now();
    for (long i = 0; i < commits; ++i) {
        commit_one(i);
    }
    return {std::move(name),
            mode == storage::synchronous_mode::full ? "FULL" : "NORMAL",
            commits,
            seconds_since(start)};
}

/// The three hot paths, `commits` commits each.
std::vector<commit_figure>
run_hot_paths(const std::filesystem::path& dir, storage::synchronous_mode mode, long commits) {
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    storage::database db(storage::database_config{.path = dir / "bot.db", .synchronous = mode});
    storage::update_log updates(db);
    storage::user_repository users(db);
    storage::conversation_repository conversation(db);
    storage::video_job_repository jobs(db);

    constexpr long user_count = 1000;
    db.in_transaction([&] {
        for (long u = 1; u <= user_count; ++u) {
            users.record_contact(u, "en", false, t0);
        }
    });

    std::vector<commit_figure> out;
    out.push_back(measure("mark update + offset", mode, commits, [&](long i) {
        db.in_transaction([&] {
            updates.mark_processed(i, t0);
            updates.set_offset(i + 1);
        });
    }));

    // Each job walks the whole happy path: six transitions, one commit each.
    using enum storage::job_state;
    constexpr std::array<storage::job_state, 7>
        path{requested, prompting, rendering_image, submitting, submitted, downloading, delivered};
    std::int64_t job = 0;
    long step = 0;
    out.push_back(measure("job transition", mode, commits, [&](long i) {
        if (step == 0) {
            job = jobs.create({.user_id = 1 + (i % user_count),
                               .chat_id = 1,
                               .persona_id = "aylin",
                               .provider = "sim",
                               .created = t0})
                      .value();
        }
        const auto from = path[static_cast<std::size_t>(step)];
        const auto to = path[static_cast<std::size_t>(step + 1)];
        storage::job_fields fields;
        if (to == submitted) {
            fields.provider_job_id = "video_" + std::to_string(job);
        }
        if (!jobs.transition(job, from, to, fields, t0)) {
            std::fprintf(stderr, "transition failed\n");
            std::exit(1);
        }
        step = (step + 1) % 6;
    }));

    const std::string text(200, 'x');
    out.push_back(measure("append turn", mode, commits, [&](long i) {
        conversation.append(1 + (i % user_count), "aylin", storage::speaker::user, text, t0);
    }));
    return out;
}

/// How late a 1 ms periodic timer fires while `work` runs on the loop.
struct lag_monitor {
    std::vector<double> samples_us;
    bool stop = false;

    engine::awaitable<void> run() {
        auto ex = co_await asio::this_coro::executor;
        asio::steady_timer timer(ex);
        auto next = std::chrono::steady_clock::now() + 1ms;
        while (!stop) {
            timer.expires_at(next);
            co_await timer.async_wait(engine::use_awaitable);
            const auto now = std::chrono::steady_clock::now();
            samples_us.push_back(std::chrono::duration<double, std::micro>(now - next).count());
            next = std::max(next + 1ms, now);
        }
    }
};

lag_figure summarize(std::string name, std::vector<double> samples, double checkpoint_ms, int frames) {
    std::sort(samples.begin(), samples.end());
    lag_figure f{std::move(name), checkpoint_ms, frames, static_cast<long>(samples.size())};
    if (!samples.empty()) {
        const auto at = [&](double q) {
            return samples[std::min(samples.size() - 1,
                                    static_cast<std::size_t>(q * static_cast<double>(samples.size())))];
        };
        f.p50_us = at(0.50);
        f.p99_us = at(0.99);
        f.max_us = samples.back();
    }
    return f;
}

void fill_wal(storage::database& db, storage::update_log& updates, long commits, long& next_id) {
    for (long i = 0; i < commits; ++i, ++next_id) {
        db.in_transaction([&] {
            updates.mark_processed(next_id, t0);
            updates.set_offset(next_id + 1);
        });
    }
}

engine::awaitable<void> offloaded_checkpoint(storage::database& db,
                                             engine::offload_pool& pool,
                                             lag_monitor& monitor,
                                             storage::checkpoint_result& result,
                                             double& ms) {
    // Let the monitor settle, then checkpoint while it measures.
    asio::steady_timer settle(co_await asio::this_coro::executor, 20ms);
    co_await settle.async_wait(engine::use_awaitable);
    monitor.samples_us.clear();
    const auto start = bench_clock::now();
    result = co_await db.checkpoint(pool);
    ms = seconds_since(start) * 1e3;
    monitor.stop = true;
}

std::vector<lag_figure> run_checkpoint_lag(const std::filesystem::path& dir, long commits) {
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    storage::database db(storage::database_config{.path = dir / "bot.db"});
    storage::update_log updates(db);
    long next_id = 0;
    std::vector<lag_figure> out;

    // Idle loop: the timer's own lateness, the floor of the figures below.
    {
        asio::io_context io(1);
        lag_monitor monitor;
        asio::co_spawn(io, monitor.run(), asio::detached);
        asio::steady_timer stop(io, 200ms);
        stop.async_wait([&](auto) { monitor.stop = true; });
        io.run();
        out.push_back(summarize("idle loop (no checkpoint)", monitor.samples_us, 0, 0));
    }

    // The checkpoint on the offload pool, as the bot runs it.
    fill_wal(db, updates, commits, next_id);
    {
        engine::offload_pool pool(1);
        asio::io_context io(1);
        lag_monitor monitor;
        storage::checkpoint_result result;
        double ms = 0;
        asio::co_spawn(io, monitor.run(), asio::detached);
        asio::co_spawn(io, offloaded_checkpoint(db, pool, monitor, result, ms), [](std::exception_ptr e) {
            if (e) {
                std::rethrow_exception(e);
            }
        });
        io.run();
        out.push_back(
            summarize("checkpoint on offload pool", monitor.samples_us, ms, result.checkpointed_frames));
    }

    // The same checkpoint run on the loop thread: the loop stalls for all of it.
    fill_wal(db, updates, commits, next_id);
    {
        const int frames_before = db.wal_frames();
        const auto start = bench_clock::now();
        // Awaiting the pool from a blocked loop is not possible, so the inline variant calls
        // SQLite directly on this thread, as a bot without the offload would.
        db.connection().exec("PRAGMA wal_checkpoint(PASSIVE)");
        const double ms = seconds_since(start) * 1e3;
        lag_figure f{"checkpoint on the loop (peer)", ms, frames_before, 1, ms * 1e3, ms * 1e3, ms * 1e3};
        out.push_back(f);
    }
    return out;
}

void print_and_write(const std::vector<commit_figure>& commits,
                     const std::vector<lag_figure>& lags,
                     const std::string& json_path) {
    std::printf("\n%-24s %-8s %10s %12s %12s\n", "hot path", "sync", "commits", "commits/s", "us/commit");
    for (const auto& f : commits) {
        std::printf("%-24s %-8s %10ld %12.0f %12.1f\n",
                    f.name.c_str(),
                    f.synchronous.c_str(),
                    f.commits,
                    f.per_second(),
                    f.us_per_commit());
    }
    std::printf("\n%-32s %12s %8s %8s %10s %10s %10s\n",
                "loop lag (1 ms timer)",
                "ckpt ms",
                "frames",
                "samples",
                "p50 us",
                "p99 us",
                "max us");
    for (const auto& f : lags) {
        std::printf("%-32s %12.2f %8d %8ld %10.1f %10.1f %10.1f\n",
                    f.name.c_str(),
                    f.checkpoint_ms,
                    f.frames,
                    f.samples,
                    f.p50_us,
                    f.p99_us,
                    f.max_us);
    }

    boost::json::array commit_rows;
    for (const auto& f : commits) {
        commit_rows.push_back(boost::json::object{{"path", f.name},
                                                  {"synchronous", f.synchronous},
                                                  {"commits", f.commits},
                                                  {"commits_per_s", f.per_second()},
                                                  {"us_per_commit", f.us_per_commit()}});
    }
    boost::json::array lag_rows;
    for (const auto& f : lags) {
        lag_rows.push_back(boost::json::object{{"case", f.name},
                                               {"checkpoint_ms", f.checkpoint_ms},
                                               {"frames", f.frames},
                                               {"samples", f.samples},
                                               {"p50_us", f.p50_us},
                                               {"p99_us", f.p99_us},
                                               {"max_us", f.max_us}});
    }
    const boost::json::object doc{{"bench", "bench_storage"},
                                  {"commits", std::move(commit_rows)},
                                  {"loop_lag", std::move(lag_rows)}};
    std::ofstream out(json_path);
    out << boost::json::serialize(doc) << '\n';
    if (!out.flush()) {
        std::fprintf(stderr, "cannot write %s\n", json_path.c_str());
        std::exit(1);
    }
    std::printf("\nwrote %s\n", json_path.c_str());
}

} // namespace

int main(int argc, char** argv) {
    const std::string json_path = argc > 1 ? argv[1] : "bench_storage.json";
    const long commits = argc > 2 ? std::atol(argv[2]) : 20'000;
    engine::log().configure({.level = engine::log_level::warn});
    const auto dir = std::filesystem::current_path() / ("bench_storage_data-" + std::to_string(::getpid()));
    try {
        auto figures = run_hot_paths(dir, storage::synchronous_mode::normal, commits);
        // FULL fsyncs every commit: fewer commits keep the run short.
        auto full = run_hot_paths(dir, storage::synchronous_mode::full, std::max(commits / 20, 100L));
        figures.insert(figures.end(), full.begin(), full.end());
        const auto lags = run_checkpoint_lag(dir, commits);
        std::filesystem::remove_all(dir);
        print_and_write(figures, lags, json_path);
    } catch (const std::exception& e) {
        std::filesystem::remove_all(dir);
        std::fprintf(stderr, "bench_storage: %s\n", e.what());
        return 1;
    }
    return 0;
}
