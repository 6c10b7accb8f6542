// Thousands of video jobs polling on the bot's loop: CPU per poll, memory per in-flight job, loop
// lag p99 and another user's chat reply latency p99 while they poll. The bot runs on the main
// thread; jobs are created through the job manager for users that already have a selfie, and the
// simulated provider keeps them rendering.
//
//   bench_video_jobs [json-path] [jobs] [poll-interval-ms] [window-s] [options]
//     --telegram URL --openai URL --gemini URL
//         an external companion-sim (its printed base URLs; started with a --video-render-ms longer
//         than the run) instead of the simulators on a second thread: bench/run pins it to its own
//         core, and neither its CPU nor its memory counts as the bot's. A second thread then drives
//         the chat user through the simulator's control API (/_sim/...).
//     --polls-per-job K
//         a fixed workload for callgrind: ends once jobs x K polls were made (counted from the
//         first submission), with no chat user and no lag probe, whose work grows with wall time.
//
// CPU is the process's (CLOCK_PROCESS_CPUTIME_ID) minus the second thread's (the simulators or
// the chat driver): the bot's loop thread and its offload thread. With 0 jobs the run gives the
// chat latency without polling.
#include "app/wiring.hpp"
#include "bench/common/measure.hpp"
#include "engine/log.hpp"
#include "engine/metrics.hpp"
#include "engine/task_group.hpp"
#include "engine/time.hpp"
#include "net/http_client.hpp"
#include "pipelines/bot.hpp"
#include "sim/media/png.hpp"
#include "sim/suite.hpp"

#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <malloc.h>
#include <pthread.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

namespace asio = boost::asio;
namespace json = boost::json;
using namespace companion; // engine::, net::, ... name the layers
using namespace std::chrono_literals;

namespace {

using bench::cpu_seconds;
using bench::rss_kb;

/// The heap's bytes in use (KB): what the jobs hold, without the pages glibc keeps after frees
/// (RSS counts those: the submissions' images and uploads leave such pages behind).
long heap_kb() {
    return static_cast<long>(::mallinfo2().uordblks / 1024);
}

struct options {
    std::string json_path = "bench_video_jobs.json";
    int jobs = 1000;
    std::chrono::milliseconds interval{2000};
    std::chrono::seconds window{10};
    std::string telegram_url{}; ///< empty: the simulators run in-process
    std::string openai_url{};
    std::string gemini_url{};
    int polls_per_job = 0; ///< > 0: the fixed workload for callgrind
    bool external() const { return !telegram_url.empty(); }
};

std::optional<options> parse_options(int argc, char** argv) {
    options o;
    std::vector<std::string> positional;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a.rfind("--", 0) != 0) {
            positional.push_back(a);
            continue;
        }
        if (i + 1 >= argc) {
            std::fprintf(stderr, "bench_video_jobs: %s needs a value\n", a.c_str());
            return std::nullopt;
        }
        const std::string v = argv[++i];
        if (a == "--telegram") {
            o.telegram_url = v;
        } else if (a == "--openai") {
            o.openai_url = v;
        } else if (a == "--gemini") {
            o.gemini_url = v;
        } else if (a == "--polls-per-job") {
            o.polls_per_job = std::atoi(v.c_str());
        } else {
            std::fprintf(stderr, "bench_video_jobs: unknown option %s\n", a.c_str());
            return std::nullopt;
        }
    }
    if (o.external() && (o.openai_url.empty() || o.gemini_url.empty())) {
        std::fprintf(stderr, "bench_video_jobs: --telegram, --openai and --gemini go together\n");
        return std::nullopt;
    }
    if (!positional.empty()) {
        o.json_path = positional[0];
    }
    if (positional.size() > 1) {
        o.jobs = std::atoi(positional[1].c_str());
    }
    if (positional.size() > 2) {
        o.interval = std::chrono::milliseconds(std::atoi(positional[2].c_str()));
    }
    if (positional.size() > 3) {
        o.window = std::chrono::seconds(std::atoi(positional[3].c_str()));
    }
    return o;
}

struct shared {
    std::atomic<bool> onboarded{false};
    std::atomic<bool> chat_done{false};
    std::vector<double> chat_latency_ms;
    std::int64_t chat_user = 0;
};

// --- the chat user, simulators in-process (on the simulator thread) ------------------------------

engine::awaitable<void> onboard_in_process(sim::suite& sims, shared& st) {
    auto& tg = sims.telegram();
    tg.user_sends_text(st.chat_user, "/start");
    auto menu = co_await tg.wait_for(
        st.chat_user,
        [](const sim::sent_item& i) { return i.reply_markup.find("p:") != std::string::npos; },
        10s);
    if (menu) {
        const auto before = tg.sent_to(st.chat_user).size();
        tg.user_presses_button(st.chat_user, menu->message_id, "p:elif");
        auto greeting = co_await tg.wait_for(
            st.chat_user,
            [](const sim::sent_item& i) { return i.what == sim::sent_item::kind::text; },
            10s,
            before);
        (void)greeting;
    }
    st.onboarded = true;
}

// A chat user writes every 250 ms and we time the bot's replies.
engine::awaitable<void> chat_probe_in_process(sim::suite& sims, shared& st, engine::duration window) {
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

// --- the chat user, external companion-sim (its control API, on the driver thread) ---------------

/// One control call; GET when `body` is empty. nullopt on a transport failure or a non-2xx.
engine::awaitable<std::optional<json::value>>
control(net::http_client& http, std::string url, std::string body) {
    net::request req;
    req.url = std::move(url);
    if (!body.empty()) {
        req.method = net::http::verb::post;
        req.headers.set(net::http::field::content_type, "application/json");
        req.body = std::move(body);
    }
    auto r = co_await http.send(std::move(req));
    if (!r || !r->ok()) {
        co_return std::nullopt;
    }
    boost::system::error_code ec;
    auto v = json::parse(r->body, ec);
    if (ec || !v.is_object()) {
        co_return std::nullopt;
    }
    co_return v;
}

/// The items the bot sent to `chat` from index `from` on, waiting up to `wait` for the first.
engine::awaitable<json::array> sent_since(net::http_client& http,
                                          const std::string& tg,
                                          std::int64_t chat,
                                          std::size_t from,
                                          engine::duration wait) {
    std::string url =
        tg + "/_sim/sent?chat_id=" + std::to_string(chat) + "&from=" + std::to_string(from) +
        "&wait_ms=" + std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(wait).count());
    auto v = co_await control(http, std::move(url), {});
    if (!v) {
        co_return json::array{};
    }
    const auto* items = v->as_object().if_contains("items");
    co_return items && items->is_array() ? items->as_array() : json::array{};
}

engine::awaitable<void>
text_to_bot(net::http_client& http, const std::string& tg, std::int64_t user, std::string text) {
    std::string body = json::serialize(json::object{{"user_id", user}, {"text", std::move(text)}});
    auto r = co_await control(http, tg + "/_sim/text", std::move(body));
    (void)r;
}

engine::awaitable<void> onboard_external(net::http_client& http, std::string tg, shared& st) {
    std::string body = R"({"first_name":"Chat","language_code":"en"})";
    auto user = co_await control(http, tg + "/_sim/users", std::move(body));
    if (!user) {
        std::fprintf(stderr, "bench_video_jobs: the simulator's /_sim/users failed\n");
        st.onboarded = true;
        co_return;
    }
    st.chat_user = user->as_object().at("id").to_number<std::int64_t>();
    co_await text_to_bot(http, tg, st.chat_user, "/start");
    std::size_t seen = 0;
    std::optional<std::int64_t> menu;
    const auto until = engine::clock::now() + 10s;
    while (!menu && engine::clock::now() < until) {
        auto items = co_await sent_since(http, tg, st.chat_user, seen, 2s);
        for (const auto& i : items) {
            ++seen;
            const auto* markup = i.as_object().if_contains("reply_markup");
            if (markup && json::serialize(*markup).find("p:") != std::string::npos) {
                menu = i.as_object().at("message_id").to_number<std::int64_t>();
            }
        }
    }
    if (menu) {
        std::string press = json::serialize(
            json::object{{"user_id", st.chat_user}, {"message_id", *menu}, {"data", "p:elif"}});
        auto pressed = co_await control(http, tg + "/_sim/press", std::move(press));
        (void)pressed;
        auto greeting = co_await sent_since(http, tg, st.chat_user, seen, 10s);
        (void)greeting;
    }
    st.onboarded = true;
}

// Like chat_probe_in_process; the latency runs to the simulator's stamp of the reply (CLOCK_MONOTONIC
// in whole milliseconds, +0.5 for the middle of the interval), as bench/run's chat tables do.
engine::awaitable<void>
chat_probe_external(net::http_client& http, std::string tg, shared& st, engine::duration window) {
    auto all = co_await sent_since(http, tg, st.chat_user, 0, 0ms);
    std::size_t seen = all.size();
    const auto until = engine::clock::now() + window;
    while (engine::clock::now() < until) {
        const double t0_ms =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch())
                .count();
        co_await text_to_bot(http, tg, st.chat_user, "Still there?");
        std::optional<double> at_ms;
        const auto deadline = engine::clock::now() + 10s;
        while (!at_ms && engine::clock::now() < deadline) {
            auto items = co_await sent_since(http, tg, st.chat_user, seen, 10s);
            for (const auto& i : items) {
                ++seen;
                const auto& o = i.as_object();
                if (!at_ms && o.at("kind").as_string() == "text") {
                    at_ms = static_cast<double>(o.at("at_ms").to_number<std::int64_t>()) + 0.5;
                }
            }
        }
        if (at_ms) {
            st.chat_latency_ms.push_back(*at_ms - t0_ms);
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

/// Requests `jobs` videos, for the users from 800000000 + `first` on.
engine::awaitable<void> create_jobs(pipelines::bot& bot, int jobs, int first = 0) {
    for (int i = first; i < first + jobs; ++i) {
        const std::int64_t id = 800000000 + i;
        co_await bot.request_video(id, id, "emma", "en", storage::video_mode::from_last_selfie);
    }
}

/// The video jobs the provider has accepted and that are rendering.
int submitted_jobs(app::bot_app& wired) {
    SQLite::Statement q(wired.db().connection(), "SELECT count(*) FROM video_jobs WHERE state = 'submitted'");
    q.executeStep();
    return q.getColumn(0).getInt();
}

/// Runs the bot's loop until `done()` holds, looked at every `every`. The measured windows run
/// the loop as companion-bot does, with io_context::run: run_for takes the scheduler's lock and
/// reads the clock around every handler, about 3,000 instructions a poll that the bot never pays.
template <class Done>
void run_until(asio::io_context& ioc, Done done, engine::duration every) {
    if (done()) {
        return;
    }
    asio::steady_timer check(ioc);
    const auto guard = asio::make_work_guard(ioc); // run() returns by the check's stop() only
    std::function<void()> arm = [&] {
        check.expires_after(every);
        check.async_wait([&](const boost::system::error_code& ec) {
            if (ec || done()) {
                ioc.stop();
                return;
            }
            arm();
        });
    };
    arm();
    ioc.restart();
    ioc.run();
    ioc.restart(); // the next run_for or run_until runs the handlers left queued
}
} // namespace

int main(int argc, char** argv) {
    app::configure_allocator(); // as companion-bot does
    const auto parsed = parse_options(argc, argv);
    if (!parsed) {
        return 2;
    }
    const options& opt = *parsed;
    const int jobs = opt.jobs;
    const auto interval = opt.interval;
    const bool counted = opt.polls_per_job > 0;
    engine::log().configure({.level = engine::log_level::error});

    // The second thread: the simulators, or the chat user's driver talking to an external one.
    asio::io_context side_ioc{1};
    std::unique_ptr<sim::suite> sims;
    std::unique_ptr<net::http_client> side_http;
    shared st;
    std::string tg_url = opt.telegram_url;
    std::string openai_url = opt.openai_url;
    std::string gemini_url = opt.gemini_url;
    if (!opt.external()) {
        sim::suite_config sc;
        sc.telegram.token = sim::suite::token();
        sc.telegram.enforce_rate_limits = false;
        sc.openai.render_time = 1h; // the jobs stay in flight for the whole measurement
        sims = std::make_unique<sim::suite>(side_ioc.get_executor(), sc);
        if (!sims->start()) {
            return 1;
        }
        st.chat_user = sims->telegram().add_user({.first_name = "Chat", .language_code = "en"});
        tg_url = sims->telegram().base_url();
        openai_url = sims->openai().base_url();
        gemini_url = sims->gemini().base_url();
    } else {
        side_http = std::make_unique<net::http_client>(side_ioc.get_executor(),
                                                       net::client_config{.name = "bench_driver"});
    }
    auto side_guard = asio::make_work_guard(side_ioc);
    std::thread side_thread([&] { side_ioc.run(); });
    clockid_t side_clock{};
    pthread_getcpuclockid(side_thread.native_handle(), &side_clock);

    asio::io_context ioc{1};
    const auto dir =
        std::filesystem::temp_directory_path() / ("companion-vbench-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir / "media");
    engine::offload_pool offload(1);
    auto personas = *pipelines::persona_catalog::load(COMPANION_DATA_DIR "/personas.json");
    auto locales = *pipelines::locale_catalog::load(COMPANION_DATA_DIR "/locales");
    app::config acfg;
    acfg.telegram.token = sim::suite::token();
    acfg.telegram.base_url = tg_url;
    acfg.telegram.poll_timeout = 1s;
    acfg.openai.base_url = openai_url;
    acfg.openai.api_key = "sk-bench";
    acfg.gemini.base_url = gemini_url;
    acfg.gemini.api_key = "bench";
    acfg.video.provider = app::video_provider_kind::openai_videos;
    acfg.video.base_url = openai_url;
    acfg.video.api_key = "sk-bench";
    acfg.storage.data_dir = dir.string();
    acfg.storage.database = "bench.db";
    auto db_holder = std::make_unique<storage::database>(storage::database_config{.path = dir / "bench.db"});
    // One job submitted before the baseline is read, in the windowed runs with jobs: the first
    // submission maps the image libraries' pages and starts the offload thread's heap (about 20 MB
    // of RSS, once per process), which a bot that has been up a while has long since paid. Without
    // it, memory per job counted that once-only cost in every job.
    const int warm_up = counted || jobs == 0 ? 0 : 1;
    // Users who already have a 720x1280 selfie of Emma.
    const auto selfie_path = dir / "selfie.png";
    { std::ofstream(selfie_path, std::ios::binary) << sim::media::make_png(720, 1280, {}); }
    const auto now =
        std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
    {
        storage::user_repository users(*db_holder);
        storage::generated_content_repository content(*db_holder);
        db_holder->in_transaction([&] {
            for (int i = 0; i < jobs + warm_up; ++i) { // the last one's is the warm-up job
                const std::int64_t id = 800000000 + i;
                users.record_contact(id, "en", false, now);
                if (!users.set_persona(id, "emma")) {
                    throw std::runtime_error("bench: cannot set the persona");
                }
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

    db_holder.reset(); // the bot opens its own connection, as companion-bot does
    auto cfg = app::make_bot_config(acfg);
    // At the end the jobs are cut off at once: polls in a drain grace would blur the fixed workload.
    cfg.drain_grace = 0ms;
    cfg.limits.chat_turns_per_minute = 100000;
    cfg.sending.per_chat = {1000.0, 100.0};
    cfg.sending.global = {100000.0, 10000.0};
    cfg.video.poll_interval = interval;
    cfg.video.poll_timeout = 1h;
    cfg.video.progress_every = 1h; // measure the polling itself, not progress edits
    cfg.video.action_every = 1h;
    cfg.video.videos_per_day = 10;
    cfg.video.daily_spend_cap_cents = 1'000'000'000;
    app::bot_app wired(ioc.get_executor(), acfg, cfg, personas, locales, offload, {.http_name = "bench"});
    auto& bot = wired.bot();
    engine::task_group g(ioc.get_executor());
    if (!g.spawn(bot.run())) {
        return 1;
    }
    // Buckets 50 us wide up to 20 ms: the p99, interpolated within its bucket, is then within
    // 50 us of the exact figure the peers report (the service's latency buckets are 1, 2.5 and
    // 5 ms wide there, too coarse to judge against a 2 ms target).
    std::vector<double> lag_bounds;
    for (int step = 1; step <= 400; ++step) {
        lag_bounds.push_back(step * 50e-6);
    }
    for (const double bound : engine::latency_buckets_seconds()) {
        if (bound > lag_bounds.back()) {
            lag_bounds.push_back(bound);
        }
    }
    auto& lag = engine::metrics().make_histogram("bench_loop_lag_seconds", "lag", std::move(lag_bounds));
    if (!counted) {
        if (!g.spawn(engine::run_loop_lag_probe(lag, {.interval = 20ms, .probe = 1ms}))) {
            return 1;
        }
        // The chat user picks a persona (through Telegram, like anyone).
        if (sims) {
            asio::co_spawn(side_ioc, onboard_in_process(*sims, st), asio::detached);
        } else {
            asio::co_spawn(side_ioc, onboard_external(*side_http, tg_url, st), asio::detached);
        }
        for (int i = 0; i < 150 && !st.onboarded; ++i) {
            ioc.run_for(100ms);
        }
        ioc.run_for(500ms);
    } else {
        ioc.run_for(300ms);
    }

    if (warm_up > 0) {
        asio::co_spawn(ioc, create_jobs(bot, 1, jobs), asio::detached);
        const auto t_warm = std::chrono::steady_clock::now();
        run_until(
            ioc,
            [&] {
                return submitted_jobs(wired) >= warm_up || std::chrono::steady_clock::now() - t_warm > 60s;
            },
            20ms);
        if (submitted_jobs(wired) < warm_up) {
            std::fprintf(stderr, "the warm-up job did not submit in 60 s\n");
            return 1;
        }
    }

    const long rss_before = rss_kb();
    const long heap_before = heap_kb();
    long heap_jobs = heap_before;
    const double process_cpu_start = cpu_seconds(CLOCK_PROCESS_CPUTIME_ID);
    const double side_cpu_start = cpu_seconds(side_clock);
    // Create the jobs on the bot's loop.
    asio::co_spawn(ioc, create_jobs(bot, jobs), asio::detached);
    const auto t_submit = std::chrono::steady_clock::now();
    double submit_seconds = 0;
    long rss_jobs = rss_before;
    std::uint64_t polls = 0;
    double wall = 0;
    double cpu = 0;
    double bot_thread_cpu = 0;
    if (counted) {
        // Every poll counts, from the first: the work is jobs x K polls plus the submissions.
        const auto target = static_cast<std::uint64_t>(jobs) * static_cast<std::uint64_t>(opt.polls_per_job);
        run_until(
            ioc,
            [&] {
                if (std::chrono::steady_clock::now() - t_submit > 600s) {
                    std::fprintf(stderr, "the fixed workload did not finish in 600 s\n");
                    return true;
                }
                return bot.videos()->stats().polls >= target;
            },
            20ms);
        wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_submit).count();
        polls = bot.videos()->stats().polls;
        cpu = (cpu_seconds(CLOCK_PROCESS_CPUTIME_ID) - process_cpu_start) -
              (cpu_seconds(side_clock) - side_cpu_start);
        rss_jobs = rss_kb();
    } else {
        // Wait until every job is submitted.
        for (;;) {
            ioc.run_for(200ms);
            if (submitted_jobs(wired) >= jobs + warm_up) {
                break;
            }
            if (std::chrono::steady_clock::now() - t_submit > 300s) {
                std::fprintf(stderr, "jobs did not all submit\n");
                break;
            }
        }
        submit_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_submit).count();
        const auto settled = std::chrono::steady_clock::now() + 2 * interval; // into steady polling
        run_until(
            ioc,
            [&] { return std::chrono::steady_clock::now() >= settled; },
            20ms);
        rss_jobs = rss_kb();
        heap_jobs = heap_kb();

        clockid_t bot_clock{};
        pthread_getcpuclockid(pthread_self(), &bot_clock);
        const auto polls0 = bot.videos()->stats().polls;
        const double process0 = cpu_seconds(CLOCK_PROCESS_CPUTIME_ID);
        const double side0 = cpu_seconds(side_clock);
        const double bot0 = cpu_seconds(bot_clock);
        if (sims) {
            asio::co_spawn(side_ioc, chat_probe_in_process(*sims, st, opt.window), asio::detached);
        } else {
            asio::co_spawn(side_ioc, chat_probe_external(*side_http, tg_url, st, opt.window), asio::detached);
        }
        const auto t0 = std::chrono::steady_clock::now();
        run_until(
            ioc,
            [&] { return st.chat_done.load(); },
            20ms);
        wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        cpu = (cpu_seconds(CLOCK_PROCESS_CPUTIME_ID) - process0) - (cpu_seconds(side_clock) - side0);
        bot_thread_cpu = cpu_seconds(bot_clock) - bot0;
        polls = bot.videos()->stats().polls - polls0;
    }

    // Against an external simulator, terminal at once: a total cancellation leaves the long poll
    // to run out, and the jobs poll on meanwhile, blurring the fixed workload. In-process, total:
    // after a terminal cut the simulators' stop() does not return (their long-poll handler stays).
    g.cancel(sims ? asio::cancellation_type::total : asio::cancellation_type::terminal);
    const auto t_stop = std::chrono::steady_clock::now();
    while (g.size() > 0 && std::chrono::steady_clock::now() - t_stop < 60s) {
        ioc.run_for(50ms);
    }
    wired.http().close_idle();
    ioc.run_for(50ms);
    side_guard.reset();
    if (sims) {
        asio::co_spawn(side_ioc, sims->stop(), asio::detached);
    } else {
        side_ioc.stop();
    }
    side_thread.join();
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);

    const double us_per_poll = polls > 0 ? cpu * 1e6 / static_cast<double>(polls) : 0;
    const double bot_thread_us_per_poll = polls > 0 ? bot_thread_cpu * 1e6 / static_cast<double>(polls) : 0;
    const double bytes_per_job = jobs > 0 ? static_cast<double>(rss_jobs - rss_before) * 1024.0 / jobs : 0;
    const char* where = sims ? "simulators in-process" : "external companion-sim";
    if (counted) {
        std::printf("fixed workload (%s): %d jobs, %llu polls in %.1f s, bot CPU %.2f s\n",
                    where,
                    jobs,
                    static_cast<unsigned long long>(polls),
                    wall,
                    cpu);
    } else {
        std::printf(
            "jobs in flight: %d (all submitted in %.1f s), poll interval %lld ms, window %.1f s, %s\n",
            jobs,
            submit_seconds,
            static_cast<long long>(interval.count()),
            wall,
            where);
        std::printf(
            "polls: %llu (%.0f/s), bot CPU per poll: %.1f us (%.1f%% of a core; loop thread %.1f us)\n",
            static_cast<unsigned long long>(polls),
            static_cast<double>(polls) / wall,
            us_per_poll,
            cpu / wall * 100,
            bot_thread_us_per_poll);
        std::printf("resident memory per in-flight job: %.0f bytes (RSS %ld -> %ld KB)\n",
                    bytes_per_job,
                    rss_before,
                    rss_jobs);
        std::printf("loop lag p99: %.2f ms; chat reply latency p50 %.1f ms, p99 %.1f ms (%zu replies)\n",
                    lag.quantile(0.99) * 1000,
                    percentile(st.chat_latency_ms, 0.5),
                    percentile(st.chat_latency_ms, 0.99),
                    st.chat_latency_ms.size());
    }
    json::object out{
        {"bench", "bench_video_jobs"},
        {"simulators", sims ? "in-process" : "external"},
        {"jobs", jobs},
        {"poll_interval_ms", interval.count()},
        {"window_s", wall},
        {"submit_s", submit_seconds},
        {"polls", polls},
        {"cpu_s", cpu},
        {"cpu_us_per_poll", us_per_poll},
        {"cpu_us_per_poll_loop_thread", bot_thread_us_per_poll},
        {"rss_before_kb", rss_before},
        {"rss_jobs_kb", rss_jobs},
        {"bytes_per_job", bytes_per_job},
        {"heap_before_kb", heap_before},
        {"heap_jobs_kb", heap_jobs},
        {"heap_bytes_per_job", jobs > 0 ? static_cast<double>(heap_jobs - heap_before) * 1024.0 / jobs : 0.0},
        {"loop_lag_p99_ms", counted ? 0.0 : lag.quantile(0.99) * 1000},
        {"chat_replies", st.chat_latency_ms.size()},
        {"chat_p50_ms", percentile(st.chat_latency_ms, 0.5)},
        {"chat_p99_ms", percentile(st.chat_latency_ms, 0.99)},
    };
    std::ofstream(opt.json_path) << json::serialize(out) << "\n";
    return 0;
}
