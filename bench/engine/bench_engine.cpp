// Engine micro-benchmarks: each engine primitive beside raw Asio doing the same thing, in one run
// on one thread. Prints a table and writes JSON (argv[1], default bench_engine.json).
//
//   bench_engine [json-path] [scale]    scale multiplies the iteration counts (default 1)
#include "bench/common/measure.hpp"
#include "engine/keyed_serial.hpp"
#include "engine/sync.hpp"
#include "engine/task_group.hpp"
#include "engine/time.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/experimental/channel.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <malloc.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace asio = boost::asio;
using namespace companion; // engine::, net::, ... name the layers
using namespace std::chrono_literals;
using namespace boost::asio::experimental::awaitable_operators;

namespace {

struct row {
    std::string name;
    std::string unit;
    double engine_value = 0;
    double asio_value = 0; // 0 when raw Asio has no equivalent
};

double ns_per(std::chrono::steady_clock::duration d, std::size_t n) {
    return static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(d).count()) /
           static_cast<double>(n);
}

template <class F>
double time_ns(std::size_t n, F&& f) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    return ns_per(std::chrono::steady_clock::now() - t0, n);
}

// Tasks are spawned in batches, as a bot spawns a batch of updates, then the loop runs them.
constexpr std::size_t batch = 256;

engine::awaitable<void> trivial() {
    co_return;
}

// --- spawn to completion ---------------------------------------------------------------------
double spawn_engine(std::size_t n) {
    asio::io_context ioc{1};
    engine::task_group g(ioc.get_executor());
    return time_ns(n, [&] {
        for (std::size_t i = 0; i < n; i += batch) {
            for (std::size_t j = 0; j < batch; ++j) {
                bench::spawn_or_fail(g, trivial());
            }
            ioc.restart();
            ioc.run();
        }
    });
}

double spawn_asio(std::size_t n) {
    asio::io_context ioc{1};
    return time_ns(n, [&] {
        for (std::size_t i = 0; i < n; i += batch) {
            for (std::size_t j = 0; j < batch; ++j) {
                asio::co_spawn(ioc, trivial(), asio::detached);
            }
            ioc.restart();
            ioc.run();
        }
    });
}

// Raw Asio with what ownership needs: a cancellation signal per task bound to its handler.
double spawn_asio_cancellable(std::size_t n) {
    asio::io_context ioc{1};
    std::vector<asio::cancellation_signal> signals(batch);
    return time_ns(n, [&] {
        for (std::size_t i = 0; i < n; i += batch) {
            for (std::size_t j = 0; j < batch; ++j) {
                asio::co_spawn(ioc,
                               trivial(),
                               asio::bind_cancellation_slot(signals[j].slot(), asio::detached));
            }
            ioc.restart();
            ioc.run();
        }
    });
}

// --- post yield --------------------------------------------------------------------------------
engine::awaitable<void> yield_engine_loop(std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
        co_await engine::yield();
    }
}

engine::awaitable<void> yield_asio_loop(std::size_t n) {
    auto ex = co_await asio::this_coro::executor;
    for (std::size_t i = 0; i < n; ++i) {
        co_await asio::post(ex, asio::use_awaitable);
    }
}

template <class F>
double run_coro(std::size_t n, F make) {
    asio::io_context ioc{1};
    return time_ns(n, [&] {
        asio::co_spawn(ioc, make(), asio::detached);
        ioc.run();
    });
}

// --- channel hop (ping-pong through two channels) --------------------------------------------
engine::awaitable<void> engine_pinger(engine::channel<int>& ping, engine::channel<int>& pong, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
        co_await ping.send(static_cast<int>(i));
        (void)co_await pong.receive();
    }
    ping.close();
}

engine::awaitable<void> engine_ponger(engine::channel<int>& ping, engine::channel<int>& pong) {
    while (auto v = co_await ping.receive()) {
        co_await pong.send(*v);
    }
}

double channel_engine(std::size_t n) {
    asio::io_context ioc{1};
    engine::channel<int> ping(ioc.get_executor(), 1), pong(ioc.get_executor(), 1);
    return time_ns(2 * n, [&] {
        asio::co_spawn(ioc, engine_ponger(ping, pong), asio::detached);
        asio::co_spawn(ioc, engine_pinger(ping, pong, n), asio::detached);
        ioc.run();
    });
}

using asio_channel = asio::experimental::channel<void(boost::system::error_code, int)>;

engine::awaitable<void> asio_pinger(asio_channel& ping, asio_channel& pong, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
        co_await ping.async_send(boost::system::error_code{}, static_cast<int>(i), asio::use_awaitable);
        (void)co_await pong.async_receive(asio::use_awaitable);
    }
    ping.close();
}

engine::awaitable<void> asio_ponger(asio_channel& ping, asio_channel& pong) {
    for (;;) {
        auto [ec, v] = co_await ping.async_receive(asio::as_tuple(asio::use_awaitable));
        if (ec) {
            co_return;
        }
        co_await pong.async_send(boost::system::error_code{}, v, asio::use_awaitable);
    }
}

double channel_asio(std::size_t n) {
    asio::io_context ioc{1};
    asio_channel ping(ioc, 1), pong(ioc, 1);
    return time_ns(2 * n, [&] {
        asio::co_spawn(ioc, asio_ponger(ping, pong), asio::detached);
        asio::co_spawn(ioc, asio_pinger(ping, pong, n), asio::detached);
        ioc.run();
    });
}

// --- keyed serial hop: items queued behind a key, run in order ---------------------------------
double keyed_engine(std::size_t n) {
    asio::io_context ioc{1};
    engine::keyed_serial<std::int64_t> q(ioc.get_executor(), {.per_key_limit = n, .total_limit = n});
    return time_ns(n, [&] {
        for (std::size_t i = 0; i < n; ++i) {
            if (q.submit(static_cast<std::int64_t>(i % 64), trivial())) {
                throw std::logic_error("keyed_serial refused a benchmark item"); // limits are n
            }
        }
        ioc.run();
    });
}

// --- timer wait (an already-due timer: the cost of the timer machinery) ------------------------
engine::awaitable<void> engine_timer_loop(std::size_t n) {
    engine::timer t(co_await asio::this_coro::executor);
    for (std::size_t i = 0; i < n; ++i) {
        t.expires_at(engine::clock::now());
        co_await t.async_wait(engine::use_awaitable);
    }
}

engine::awaitable<void> asio_timer_loop(std::size_t n) {
    asio::steady_timer t(co_await asio::this_coro::executor);
    for (std::size_t i = 0; i < n; ++i) {
        t.expires_at(std::chrono::steady_clock::now());
        co_await t.async_wait(asio::use_awaitable);
    }
}

// --- deadline around an operation that completes at once --------------------------------------
engine::awaitable<void> engine_deadline_loop(std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
        co_await engine::with_timeout(trivial(), 10s);
    }
}

engine::awaitable<void> asio_deadline_loop(std::size_t n) {
    auto ex = co_await asio::this_coro::executor;
    for (std::size_t i = 0; i < n; ++i) {
        asio::steady_timer t(ex, 10s);
        co_await (trivial() || t.async_wait(asio::use_awaitable));
    }
}

// --- memory per sleeping task -------------------------------------------------------------------
engine::awaitable<void> engine_sleeper() {
    co_await engine::sleep(1h);
}

engine::awaitable<void> asio_sleeper() {
    asio::steady_timer t(co_await asio::this_coro::executor, 1h);
    co_await t.async_wait(asio::use_awaitable);
}

// Heap bytes in use (malloc's own count: exact, unlike RSS, which reuses freed pages).
std::size_t heap_in_use() {
    return mallinfo2().uordblks;
}

double bytes_per_sleeper(bool use_engine, std::size_t n) {
    asio::io_context ioc{1};
    double per_task = 0;
    {
        engine::task_group g(ioc.get_executor());
        const auto before = heap_in_use();
        for (std::size_t i = 0; i < n; ++i) {
            if (use_engine) {
                bench::spawn_or_fail(g, engine_sleeper());
            } else {
                asio::co_spawn(ioc, asio_sleeper(), asio::detached);
            }
        }
        ioc.restart();
        ioc.poll(); // every task reaches its timer wait
        per_task = static_cast<double>(heap_in_use() - before) / static_cast<double>(n);
        if (use_engine) {
            g.cancel();
            ioc.restart();
            ioc.run();
        }
    }
    return per_task; // the raw tasks are destroyed with the io_context
}

} // namespace

int main(int argc, char** argv) {
    const std::string json_path = argc > 1 ? argv[1] : "bench_engine.json";
    const std::size_t scale = argc > 2 ? static_cast<std::size_t>(std::atoll(argv[2])) : 1;
    const std::size_t n = 500'000 * scale;

    // Warm up allocators and caches.
    spawn_asio(n / 10);
    spawn_engine(n / 10);

    std::vector<row> rows;
    rows.push_back({"spawn to completion", "ns/task", spawn_engine(n), spawn_asio(n)});
    rows.push_back(
        {"spawn, cancellable (raw: bound slot)", "ns/task", spawn_engine(n), spawn_asio_cancellable(n)});
    rows.push_back(
        {"post yield", "ns/yield", run_coro(n, [&] { return yield_engine_loop(n); }), run_coro(n, [&] {
             return yield_asio_loop(n);
         })});
    rows.push_back({"channel hop", "ns/hop", channel_engine(n / 2), channel_asio(n / 2)});
    rows.push_back({"keyed-serial hop (64 keys)", "ns/item", keyed_engine(n), spawn_asio(n)});
    rows.push_back({"timer wait (due)",
                    "ns/wait",
                    run_coro(n / 2, [&] { return engine_timer_loop(n / 2); }),
                    run_coro(n / 2, [&] { return asio_timer_loop(n / 2); })});
    rows.push_back({"deadline around an op",
                    "ns/op",
                    run_coro(n / 5, [&] { return engine_deadline_loop(n / 5); }),
                    run_coro(n / 5, [&] { return asio_deadline_loop(n / 5); })});
    rows.push_back({"memory per sleeping task",
                    "bytes/task",
                    bytes_per_sleeper(true, 100'000),
                    bytes_per_sleeper(false, 100'000)});

    std::printf("%-30s %-11s %12s %12s %8s\n", "measure", "unit", "engine", "raw asio", "ratio");
    for (const auto& r : rows) {
        std::printf("%-30s %-11s %12.1f %12.1f %8.2f\n",
                    r.name.c_str(),
                    r.unit.c_str(),
                    r.engine_value,
                    r.asio_value,
                    r.asio_value > 0 ? r.engine_value / r.asio_value : 0.0);
    }
    std::printf("(keyed-serial is compared with a raw co_spawn per item, which gives no ordering)\n");

    std::ofstream out(json_path);
    out << "{\n  \"bench\": \"bench_engine\",\n  \"iterations\": " << n << ",\n  \"rows\": [\n";
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const auto& r = rows[i];
        out << "    {\"name\": \"" << r.name << "\", \"unit\": \"" << r.unit
            << "\", \"engine\": " << r.engine_value << ", \"raw_asio\": " << r.asio_value << "}"
            << (i + 1 < rows.size() ? "," : "") << "\n";
    }
    out << "  ]\n}\n";
    std::printf("json: %s\n", json_path.c_str());
    return 0;
}
