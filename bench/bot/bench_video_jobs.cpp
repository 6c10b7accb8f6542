// Thousands of video jobs polling on the bot's loop: CPU per poll, memory per in-flight job, loop
// lag p99 and another user's chat reply latency p99 while they poll. The bot runs on the main
// thread, the simulators on a second one; jobs are created through the job manager for users
// that already have a selfie, and the simulated provider keeps them rendering.
//
//   bench_video_jobs [json-path] [jobs] [poll-interval-ms] [window-s]
#include "engine/log.hpp"
#include "engine/metrics.hpp"
#include "engine/task_group.hpp"
#include "engine/time.hpp"
#include "net/http_client.hpp"
#include "pipelines/bot.hpp"
#include "pipelines/providers/openai_videos.hpp"
#include "sim/media/png.hpp"
#include "sim/suite.hpp"

#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <pthread.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

namespace asio = boost::asio;
namespace engine = companion::engine;
namespace net = companion::net;
namespace pipelines = companion::pipelines;
namespace storage = companion::storage;
namespace sim = companion::sim;
using namespace std::chrono_literals;

namespace {

double thread_cpu(clockid_t clock) {
    timespec ts{};
    clock_gettime(clock, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

long rss_kb() {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("VmRSS:", 0) == 0) {
            return std::stol(line.substr(6));
        }
    }
    return 0;
}

struct shared {
    std::atomic<bool> chat_done{false};
    std::vector<double> chat_latency_ms;
    std::int64_t chat_user = 0;
};

// On the simulator thread: a chat user writes every 250 ms and we time the bot's replies.
engine::awaitable<void> chat_probe(sim::suite& sims, shared& st, engine::duration window) {
    auto& tg = sims.telegram();
    const auto until = engine::clock::now() + window;
    while (engine::clock::now() < until) {
        const auto before = tg.sent_to(st.chat_user).size();
        const auto t0 = std::chrono::steady_clock::now();
        tg.user_sends_text(st.chat_user, "Still there?");
        auto r = co_await tg.wait_for(
            st.chat_user,
            [](const sim::sent_item& i) { return i.what == sim::sent_item::kind::text; },
            10s,
            before);
        if (r) {
            st.chat_latency_ms.push_back(
                std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
        }
        co_await engine::sleep(250ms);
    }
    st.chat_done = true;
}

double percentile(std::vector<double> v, double q) {
    if (v.empty()) {
        return 0;
    }
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<std::size_t>(q * static_cast<double>(v.size())))];
}

} // namespace

int main(int argc, char** argv) {
    const std::string json_path = argc > 1 ? argv[1] : "bench_video_jobs.json";
    const int jobs = argc > 2 ? std::atoi(argv[2]) : 1000;
    const auto interval = std::chrono::milliseconds(argc > 3 ? std::atoi(argv[3]) : 2000);
    const auto window = std::chrono::seconds(argc > 4 ? std::atoi(argv[4]) : 10);
    engine::log().configure({.level = engine::log_level::error});

    asio::io_context sim_ioc{1};
    sim::suite_config sc;
    sc.telegram.token = sim::suite::token();
    sc.telegram.enforce_rate_limits = false;
    sc.openai.render_time = 1h; // the jobs stay in flight for the whole measurement
    sim::suite sims(sim_ioc.get_executor(), sc);
    if (!sims.start()) {
        return 1;
    }
    shared st;
    st.chat_user = sims.telegram().add_user({.first_name = "Chat", .language_code = "en"});
    auto sim_guard = asio::make_work_guard(sim_ioc);
    std::thread sim_thread([&] { sim_ioc.run(); });

    asio::io_context ioc{1};
    const auto dir =
        std::filesystem::temp_directory_path() / ("companion-vbench-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir / "media");
    engine::offload_pool offload(1);
    auto personas = *pipelines::persona_catalog::load(COMPANION_DATA_DIR "/personas.json");
    auto locales = *pipelines::locale_catalog::load(COMPANION_DATA_DIR "/locales");
    net::http_client http(ioc.get_executor(), {.max_connections_per_origin = 32, .name = "bench"});
    net::telegram::client_config tc;
    tc.base_url = sims.telegram().base_url();
    tc.token = sim::suite::token();
    tc.poll_timeout = 1s;
    net::telegram::client telegram(http, tc);
    net::openai::chat_client llm(http, {.base_url = sims.openai().base_url(), .api_key = "sk-bench"});
    net::gemini::image_client images(http, {.base_url = sims.gemini().base_url(), .api_key = "bench"});
    pipelines::openai_videos_settings vs;
    vs.base_url = sims.openai().base_url();
    vs.api_key = "sk-bench";
    auto provider = pipelines::make_openai_videos_provider(http, vs);
    storage::database db({.path = dir / "bench.db"});
    storage::media_store media(dir / "media");

    // Users who already have a 720x1280 selfie of Emma.
    const auto selfie_path = dir / "selfie.png";
    { std::ofstream(selfie_path, std::ios::binary) << sim::media::make_png(720, 1280, {}); }
    const auto now =
        std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
    {
        storage::user_repository users(db);
        storage::generated_content_repository content(db);
        db.in_transaction([&] {
            for (int i = 0; i < jobs; ++i) {
                const std::int64_t id = 800000000 + i;
                users.record_contact(id, "en", false, now);
                auto r = users.set_persona(id, "emma");
                (void)r;
                storage::new_content c;
                c.user_id = id;
                c.persona_id = "emma";
                c.prompt = "A candid selfie of Emma in her bookshop.";
                c.media_path = selfie_path.string();
                c.mime = "image/png";
                c.created = now;
                content.insert(c);
            }
        });
    }

    pipelines::bot_config cfg;
    cfg.poll_timeout = 1s;
    cfg.chat_turns_per_minute = 100000;
    cfg.sending.per_chat = {1000.0, 100.0};
    cfg.sending.global = {100000.0, 10000.0};
    cfg.video.poll_interval = interval;
    cfg.video.poll_timeout = 1h;
    cfg.video.progress_every = 1h; // measure the polling itself, not progress edits
    cfg.video.action_every = 1h;
    cfg.video.videos_per_day = 10;
    cfg.video.daily_spend_cap_cents = 1'000'000'000;
    pipelines::bot bot(ioc.get_executor(),
                       {telegram, llm, images, db, media, personas, locales, offload, provider.get()},
                       cfg);
    engine::task_group g(ioc.get_executor());
    (void)g.spawn(bot.run());
    auto& lag =
        engine::metrics().make_histogram("bench_loop_lag_seconds", "lag", engine::latency_buckets_seconds());
    (void)g.spawn(engine::run_loop_lag_probe(lag, {.interval = 20ms, .probe = 1ms}));

    // The chat user picks a persona (through Telegram, like anyone).
    asio::co_spawn(
        sim_ioc,
        [&]() -> engine::awaitable<void> {
            auto& tg = sims.telegram();
            tg.user_sends_text(st.chat_user, "/start");
            auto menu = co_await tg.wait_for(
                st.chat_user,
                [](const sim::sent_item& i) { return i.reply_markup.find("p:") != std::string::npos; },
                10s);
            if (menu) {
                tg.user_presses_button(st.chat_user, menu->message_id, "p:elif");
            }
        },
        asio::detached);
    for (int i = 0; i < 30; ++i) {
        ioc.run_for(100ms);
    }

    const long rss_before = rss_kb();
    // Create the jobs on the bot's loop.
    asio::co_spawn(
        ioc,
        [&]() -> engine::awaitable<void> {
            for (int i = 0; i < jobs; ++i) {
                const std::int64_t id = 800000000 + i;
                co_await bot.videos()
                    ->request(id, id, "emma", "en", storage::video_mode::from_last_selfie, false);
            }
        },
        asio::detached);
    // Wait until every job is submitted.
    const auto t_submit = std::chrono::steady_clock::now();
    storage::video_job_repository repo(db);
    for (;;) {
        ioc.run_for(200ms);
        SQLite::Statement q(db.connection(), "SELECT count(*) FROM video_jobs WHERE state = 'submitted'");
        q.executeStep();
        if (q.getColumn(0).getInt() >= jobs) {
            break;
        }
        if (std::chrono::steady_clock::now() - t_submit > 300s) {
            std::fprintf(stderr, "jobs did not all submit\n");
            break;
        }
    }
    const double submit_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t_submit).count();
    for (int i = 0; i < 10; ++i) {
        ioc.run_for(std::chrono::duration_cast<std::chrono::milliseconds>(interval) /
                    5); // settle into steady polling
    }
    const long rss_jobs = rss_kb();

    clockid_t bot_clock{};
    pthread_getcpuclockid(pthread_self(), &bot_clock);
    const auto polls0 = bot.videos()->stats().polls;
    const double cpu0 = thread_cpu(bot_clock);
    const auto lag_count0 = lag.count();
    (void)lag_count0;
    asio::co_spawn(sim_ioc, chat_probe(sims, st, window), asio::detached);
    const auto t0 = std::chrono::steady_clock::now();
    while (!st.chat_done) {
        ioc.run_for(50ms);
    }
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double cpu = thread_cpu(bot_clock) - cpu0;
    const auto polls = bot.videos()->stats().polls - polls0;

    g.cancel();
    ioc.run_for(3s);
    sim_guard.reset();
    asio::co_spawn(sim_ioc, sims.stop(), asio::detached);
    sim_thread.join();
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);

    const double us_per_poll = polls > 0 ? cpu * 1e6 / static_cast<double>(polls) : 0;
    const double bytes_per_job = static_cast<double>(rss_jobs - rss_before) * 1024.0 / jobs;
    std::printf("jobs in flight: %d (all submitted in %.1f s), poll interval %lld ms, window %.1f s\n",
                jobs,
                submit_seconds,
                static_cast<long long>(interval.count()),
                wall);
    std::printf("polls: %llu (%.0f/s), bot-thread CPU per poll: %.1f us (%.1f%% of a core)\n",
                static_cast<unsigned long long>(polls),
                static_cast<double>(polls) / wall,
                us_per_poll,
                cpu / wall * 100);
    std::printf("resident memory per in-flight job: %.0f bytes (RSS %ld -> %ld KB)\n",
                bytes_per_job,
                rss_before,
                rss_jobs);
    std::printf("loop lag p99: %.2f ms; chat reply latency p50 %.1f ms, p99 %.1f ms (%zu replies)\n",
                lag.quantile(0.99) * 1000,
                percentile(st.chat_latency_ms, 0.5),
                percentile(st.chat_latency_ms, 0.99),
                st.chat_latency_ms.size());
    std::ofstream out(json_path);
    out << "{\"bench\":\"bench_video_jobs\",\"jobs\":" << jobs << ",\"poll_interval_ms\":" << interval.count()
        << ",\"polls\":" << polls << ",\"cpu_us_per_poll\":" << us_per_poll
        << ",\"bytes_per_job\":" << bytes_per_job << ",\"loop_lag_p99_ms\":" << lag.quantile(0.99) * 1000
        << ",\"chat_p50_ms\":" << percentile(st.chat_latency_ms, 0.5)
        << ",\"chat_p99_ms\":" << percentile(st.chat_latency_ms, 0.99) << "}\n";
    return 0;
}
