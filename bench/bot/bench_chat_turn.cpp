// The full bot's CPU per chat turn in simulation: the bot runs on the main thread (its own loop,
// SQLite, the HTTP client), the simulators on a second thread; users chat and the bot thread's
// CPU time is divided by the turns. Prints the figure and writes JSON (argv[1]).
//
//   bench_chat_turn [json-path] [users] [turns-per-user] [whole|stream]
//
// `whole` (the default): replies arrive whole after the typing action. `stream`: replies stream
// as a growing draft (sendMessageDraft) while the simulated model writes them a few words every
// 40 ms (the same completion as `whole`), so the figure includes the streamed parse and the
// coalesced drafts.
#include "app/wiring.hpp"
#include "bench/common/measure.hpp"
#include "engine/log.hpp"
#include "engine/task_group.hpp"
#include "engine/time.hpp"
#include "sim/suite.hpp"

#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <pthread.h>
#include <sys/resource.h>
#include <time.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string_view>
#include <thread>

namespace asio = boost::asio;
using namespace companion; // engine::, net::, ... name the layers
using namespace std::chrono_literals;

namespace {

struct run_state {
    std::atomic<bool> done{false};
    double cpu_start = 0;
    double cpu_end = 0;
    double wall = 0;
    int turns = 0;
    int missed = 0;
};

engine::awaitable<void> drive(sim::suite& sims, clockid_t bot_clock, int users, int turns, run_state& st) {
    auto& tg = sims.telegram();
    std::vector<std::int64_t> ids;
    for (int u = 0; u < users; ++u) {
        const auto id = tg.add_user({.first_name = "U" + std::to_string(u), .language_code = "en"});
        ids.push_back(id);
        tg.user_sends_text(id, "/start");
        auto menu = co_await tg.wait_for(
            id,
            [](const sim::sent_item& i) { return i.reply_markup.find("p:") != std::string::npos; },
            10s);
        if (!menu) {
            ++st.missed;
            continue;
        }
        tg.user_presses_button(id, menu->message_id, "p:emma");
        (void)co_await tg.wait_for(
            id,
            [](const sim::sent_item& i) {
                return i.what == sim::sent_item::kind::text && i.reply_markup.empty();
            },
            10s);
    }
    co_await engine::sleep(200ms);
    st.cpu_start = bench::cpu_seconds(bot_clock);
    const auto t0 = std::chrono::steady_clock::now();
    for (int t = 0; t < turns; ++t) {
        std::vector<std::size_t> before;
        for (auto id : ids) {
            before.push_back(tg.sent_to(id).size());
            tg.user_sends_text(id, "How was your day? Tell me something nice.");
        }
        for (std::size_t k = 0; k < ids.size(); ++k) {
            auto r = co_await tg.wait_for(
                ids[k],
                [](const sim::sent_item& i) { return i.what == sim::sent_item::kind::text; },
                10s,
                before[k]);
            if (r) {
                ++st.turns;
            } else {
                ++st.missed;
            }
        }
    }
    st.wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    co_await engine::sleep(100ms);
    st.cpu_end = bench::cpu_seconds(bot_clock);
    st.done = true;
}

} // namespace

int main(int argc, char** argv) {
    const std::string json_path = argc > 1 ? argv[1] : "bench_chat_turn.json";
    const int users = argc > 2 ? std::atoi(argv[2]) : 50;
    const int turns = argc > 3 ? std::atoi(argv[3]) : 20;
    const bool streamed = argc > 4 && std::string_view(argv[4]) == "stream";
    engine::log().configure({.level = engine::log_level::error});

    // Simulators on their own thread.
    asio::io_context sim_ioc{1};
    sim::suite_config sc;
    sc.telegram.token = sim::suite::token();
    sc.telegram.enforce_rate_limits = false;
    if (streamed) {
        sc.openai.stream_chunk_delay = 40ms;
    }
    sim::suite sims(sim_ioc.get_executor(), sc);
    if (!sims.start()) {
        return 1;
    }
    auto sim_guard = asio::make_work_guard(sim_ioc);
    std::thread sim_thread([&] { sim_ioc.run(); });

    // The bot on this thread.
    asio::io_context ioc{1};
    const auto dir =
        std::filesystem::temp_directory_path() / ("companion-bench-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    engine::offload_pool offload(1);
    auto personas = *pipelines::persona_catalog::load(COMPANION_DATA_DIR "/personas.json");
    auto locales = *pipelines::locale_catalog::load(COMPANION_DATA_DIR "/locales");
    app::config acfg;
    acfg.telegram.token = sim::suite::token();
    acfg.telegram.base_url = sims.telegram().base_url();
    acfg.telegram.poll_timeout = 1s;
    acfg.openai.base_url = sims.openai().base_url();
    acfg.openai.api_key = "sk-bench";
    acfg.gemini.base_url = sims.gemini().base_url();
    acfg.gemini.api_key = "bench";
    acfg.storage.data_dir = dir.string();
    acfg.storage.database = "bench.db";
    acfg.chat.stream = streamed;
    auto cfg = app::make_bot_config(acfg);
    cfg.limits.chat_turns_per_minute = 100000;
    cfg.sending.per_chat = {1000.0, 100.0};
    cfg.sending.global = {100000.0, 10000.0};
    app::bot_app wired(ioc.get_executor(), acfg, cfg, personas, locales, offload, {.http_name = "bench"});
    auto& bot = wired.bot();
    engine::task_group g(ioc.get_executor());
    if (!g.spawn(bot.run())) {
        return 1;
    }

    clockid_t bot_clock{};
    pthread_getcpuclockid(pthread_self(), &bot_clock);
    run_state st;
    asio::co_spawn(sim_ioc, drive(sims, bot_clock, users, turns, st), asio::detached);
    while (!st.done) {
        ioc.run_for(50ms);
    }
    g.cancel();
    ioc.run_for(2s);
    sim_guard.reset();
    asio::co_spawn(sim_ioc, sims.stop(), asio::detached);
    sim_thread.join();
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);

    const double cpu_us = (st.cpu_end - st.cpu_start) * 1e6 / std::max(1, st.turns);
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    std::printf("chat turns: %d (missed %d) by %d users in %.2f s\n", st.turns, st.missed, users, st.wall);
    std::printf("bot thread CPU per %s chat turn: %.1f us (receive, SQLite commits, LLM round trip, %s)\n",
                streamed ? "streamed" : "whole",
                cpu_us,
                streamed ? "drafts, reply" : "reply");
    std::printf("process peak RSS (bot and simulators together): %ld KB\n", ru.ru_maxrss);
    std::ofstream out(json_path);
    out << "{\"bench\":\"bench_chat_turn\",\"mode\":\"" << (streamed ? "stream" : "whole")
        << "\",\"users\":" << users << ",\"turns\":" << st.turns << ",\"missed\":" << st.missed
        << ",\"cpu_us_per_turn\":" << cpu_us << ",\"wall_seconds\":" << st.wall
        << ",\"peak_rss_kb\":" << ru.ru_maxrss << "}\n";
    return st.missed == 0 ? 0 : 1;
}
