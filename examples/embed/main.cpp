// How another async application embeds the engine: the app owns its io_context and its own work
// (a ticking timer), and runs engine tasks on the same loop and thread: a task group, a keyed
// serial queue (per-"chat" ordering) fed by a rate-limited producer. Then it shuts down cleanly.
#include "engine/keyed_serial.hpp"
#include "engine/log.hpp"
#include "engine/rate_limit.hpp"
#include "engine/runtime.hpp"
#include "engine/task_group.hpp"
#include "engine/time.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <thread>
#include <vector>

namespace asio = boost::asio;
namespace engine = companion::engine;
using namespace std::chrono_literals;

namespace {

struct results {
    std::map<std::int64_t, std::vector<int>> handled; // per key, in the order handled
    int jobs = 0;
    std::thread::id loop_thread;
    bool same_thread = true;
};

// One unit of work for a "chat": takes a little (virtual) time, records its order.
engine::awaitable<void> handle(results& r, std::int64_t chat, int seq) {
    co_await engine::sleep(std::chrono::milliseconds(1 + (seq * 7) % 3));
    r.handled[chat].push_back(seq);
    ++r.jobs;
    r.same_thread = r.same_thread && std::this_thread::get_id() == r.loop_thread;
}

// Produces 40 jobs for 4 chats, paced by a token bucket (400/s, burst 10).
engine::awaitable<void>
produce(results& r, engine::keyed_serial<std::int64_t>& queue, engine::rate_limiter& limiter) {
    for (int seq = 0; seq < 40; ++seq) {
        co_await limiter.acquire();
        const std::int64_t chat = seq % 4;
        if (auto ec = queue.submit(chat, handle(r, chat, seq))) {
            std::printf("embed: submit refused: %s\n", ec.message().c_str());
        }
    }
    co_await queue.join();
}

} // namespace

int main() {
    asio::io_context ioc{1}; // the host application's loop
    results r;
    r.loop_thread = std::this_thread::get_id();

    // The host's own work: a timer ticking every 2 ms until told to stop.
    int host_ticks = 0;
    bool host_running = true;
    asio::steady_timer ticker(ioc);
    std::function<void()> tick = [&] {
        ticker.expires_after(2ms);
        ticker.async_wait([&](boost::system::error_code ec) {
            if (ec || !host_running) {
                return;
            }
            ++host_ticks;
            tick();
        });
    };
    tick();

    // The engine on the same loop: a borrowed runtime, a queue and a producer.
    const auto started = std::chrono::steady_clock::now();
    bool limited = false;
    bool group_empty = false;
    {
        engine::runtime rt(ioc, {.grace = 1s, .handle_signals = false});
        engine::keyed_serial<std::int64_t> queue(rt.get_executor(), {.per_key_limit = 16, .name = "chats"});
        engine::rate_limiter limiter({.rate_per_second = 400.0, .burst = 10.0});
        if (!rt.spawn(produce(r, queue, limiter))) {
            return 1;
        }
        rt.start();

        // The host runs its loop until the engine says it has stopped.
        while (rt.running()) {
            ioc.run_one();
        }
        host_running = false;
        ticker.cancel();
        ioc.run(); // let the cancelled timer and any last handlers finish
        // 30 tokens beyond the burst at 400/s take at least 75 ms.
        limited = std::chrono::steady_clock::now() - started >= 70ms;
        group_empty = rt.tasks().size() == 0 && queue.active_keys() == 0;
    }

    bool in_order = r.same_thread;
    for (const auto& [chat, seqs] : r.handled) {
        for (std::size_t i = 1; i < seqs.size(); ++i) {
            in_order = in_order && seqs[i - 1] < seqs[i];
        }
    }
    std::printf("embed: done host_ticks=%d jobs=%d in_order=%s limited=%s group_empty=%s\n",
                host_ticks,
                r.jobs,
                in_order ? "yes" : "no",
                limited ? "yes" : "no",
                group_empty ? "yes" : "no");
    return (r.jobs == 40 && in_order && limited && group_empty) ? 0 : 1;
}
