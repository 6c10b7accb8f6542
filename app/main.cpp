// companion-bot: the Telegram companion bot. With TELEGRAM_BOT_TOKEN set it long-polls Telegram
// (live mode); without it, it starts the simulators in-process on loopback and talks to them over
// real HTTP (simulation mode): `--script demo` walks every flow and prints the transcript, and
// without a script a terminal chat lets a person play the Telegram user.
#include "app/admin.hpp"
#include "app/config.hpp"
#include "app/simulation.hpp"
#include "engine/log.hpp"
#include "engine/metrics.hpp"
#include "engine/runtime.hpp"
#include "engine/time.hpp"
#include "net/gemini/image.hpp"
#include "net/http_client.hpp"
#include "net/openai/chat.hpp"
#include "net/telegram/client.hpp"
#include "pipelines/bot.hpp"
#include "pipelines/providers/gemini_omni.hpp"
#include "pipelines/providers/openai_videos.hpp"
#include "pipelines/providers/vertex_veo.hpp"
#include "sim/suite.hpp"
#include "storage/database.hpp"
#include "storage/error.hpp"
#include "storage/maintenance.hpp"
#include "storage/media_store.hpp"

#include <CLI/CLI.hpp>
#include <malloc.h>

#include <cstdio>
#include <filesystem>
#include <memory>

namespace engine = companion::engine;
namespace net = companion::net;
namespace app = companion::app;
namespace pipelines = companion::pipelines;
namespace storage = companion::storage;
namespace sim = companion::sim;
using namespace std::chrono_literals;

namespace {

constexpr const char* version = "companion-bot 0.1.0";

struct options {
    std::string config_path;
    std::string script;
    std::string language = "en";
    bool print_config = false;
    bool json_logs = false;
    std::string data_dir;
};

struct outcome {
    int exit_code = 0;
};

engine::awaitable<void> serve(engine::runtime& rt, app::config cfg, options opt, outcome& result) {
    auto ex = rt.get_executor();
    // Read before anything starts, so a wrong path ends here with nothing to unwind.
    auto personas = pipelines::persona_catalog::load(cfg.bot.personas);
    auto locales = pipelines::locale_catalog::load(cfg.bot.locales);
    if (!personas || !locales) {
        std::fprintf(stderr,
                     "companion-bot: %s (relative paths start at the working directory: run from the "
                     "project's root, or set [bot] personas and locales)\n",
                     (!personas ? personas.error() : locales.error()).c_str());
        result.exit_code = 2;
        co_return;
    }
    const bool simulation = !cfg.live();
    std::unique_ptr<sim::suite> sims;
    if (simulation) {
        sim::suite_config sc;
        sc.telegram.token = sim::suite::token();
        sc.openai.latency = 150ms; // a little thinking time makes the demo read naturally
        sims = std::make_unique<sim::suite>(ex, sc);
        if (auto started = sims->start(); !started) {
            engine::log().error("sim.start_failed", {{"error", started.error().message()}});
            result.exit_code = 2;
            co_return;
        }
        cfg.telegram.token = sim::suite::token();
        cfg.telegram.api_base_url = sims->telegram().base_url();
        cfg.openai.base_url = sims->openai().base_url();
        cfg.openai.api_key = "sk-simulation";
        cfg.gemini.base_url = sims->gemini().base_url();
        cfg.gemini.api_key = "simulation-key";
        // Videos through the simulated OpenAI-videos gateway, quick enough to watch.
        cfg.video.provider = app::video_provider_kind::openai_videos;
        cfg.video.base_url = sims->openai().base_url();
        cfg.video.api_key = "sk-simulation-video";
        cfg.video.model = "sora-2";
        cfg.video.allowed_seconds = {4, 8, 12};
        cfg.video.poll_interval = 1s;
        if (opt.script == "demo") {
            cfg.limits.selfies_per_day = 2;
            cfg.video.debug_info = app::debug_info_mode::all; // the seed's debug message, for everyone to see
        }
        engine::log().info("bot.simulation",
                           {{"telegram", cfg.telegram.api_base_url},
                            {"openai", cfg.openai.base_url},
                            {"gemini", cfg.gemini.base_url}});
    }
    engine::secrets().add_secret(cfg.telegram.token);
    engine::secrets().add_secret(cfg.openai.api_key);
    engine::secrets().add_secret(cfg.gemini.api_key);
    engine::secrets().add_secret(cfg.video.api_key);

    const std::filesystem::path data_dir = cfg.storage.data_dir;
    std::unique_ptr<storage::database> db;
    std::unique_ptr<storage::media_store> media;
    try {
        std::filesystem::create_directories(data_dir);
        db = std::make_unique<storage::database>(storage::database_config{
            .path = data_dir / cfg.storage.database,
            .synchronous = cfg.storage.synchronous_full ? storage::synchronous_mode::full
                                                        : storage::synchronous_mode::normal});
        media = std::make_unique<storage::media_store>(data_dir / "media");
    } catch (const std::exception& e) {
        std::fprintf(stderr, "companion-bot: %s\n", e.what());
        result.exit_code = 2;
    }
    if (result.exit_code != 0) {
        if (sims) {
            co_await sims->stop();
        }
        co_return;
    }

    net::client_config http_cfg;
    http_cfg.tls.ca_file = cfg.http.ca_file;
    http_cfg.proxy = net::proxy_config::from_environment();
    http_cfg.offload = &rt.offload();
    http_cfg.name = "bot";
    net::http_client http(ex, http_cfg);

    net::telegram::client_config tg_cfg;
    tg_cfg.base_url = cfg.telegram.api_base_url;
    tg_cfg.token = cfg.telegram.token;
    tg_cfg.poll_timeout = simulation ? std::chrono::seconds(1) : cfg.telegram.poll_timeout;
    // The bot long-polls through call(), so ordinary calls must wait out a poll too.
    tg_cfg.request_timeouts.response_header = tg_cfg.poll_timeout + 15s;
    net::telegram::client telegram(http, tg_cfg);

    net::openai::chat_config llm_cfg;
    llm_cfg.base_url = cfg.openai.base_url;
    llm_cfg.api_key = cfg.openai.api_key;
    llm_cfg.model = cfg.openai.model;
    llm_cfg.limit_field = cfg.openai.limit_field == app::token_field::max_tokens
                              ? net::openai::token_limit_field::max_tokens
                              : net::openai::token_limit_field::max_completion_tokens;
    llm_cfg.max_output_tokens = cfg.openai.max_tokens;
    llm_cfg.temperature = cfg.openai.temperature;
    llm_cfg.response_timeout = cfg.openai.timeout;
    net::openai::chat_client llm(http, llm_cfg);

    net::gemini::image_config img_cfg;
    img_cfg.base_url = cfg.gemini.base_url;
    img_cfg.api_key = cfg.gemini.api_key;
    img_cfg.model = cfg.gemini.image_model;
    net::gemini::image_client images(http, img_cfg);

    std::unique_ptr<pipelines::video_provider> video;
    const auto [width, height] = [&] {
        const auto x = cfg.video.size.find('x');
        return std::pair{std::stoi(cfg.video.size.substr(0, x)), std::stoi(cfg.video.size.substr(x + 1))};
    }();
    switch (cfg.video.provider) {
    case app::video_provider_kind::openai_videos: {
        pipelines::openai_videos_settings vs;
        vs.base_url = cfg.video.base_url.empty() ? cfg.openai.base_url : cfg.video.base_url;
        vs.api_key = cfg.video.api_key;
        vs.model = cfg.video.model.empty() ? "sora-2" : cfg.video.model;
        vs.allowed_seconds = cfg.video.allowed_seconds;
        vs.width = width;
        vs.height = height;
        vs.price_cents_per_second = cfg.video.price_cents_per_second;
        vs.reports_progress = cfg.video.reports_progress;
        video = pipelines::make_openai_videos_provider(http, vs);
        break;
    }
    case app::video_provider_kind::gemini_omni: {
        pipelines::gemini_omni_settings os;
        os.base_url = cfg.video.base_url.empty() ? cfg.gemini.base_url : cfg.video.base_url;
        os.api_key = cfg.video.api_key.empty() ? cfg.gemini.api_key : cfg.video.api_key;
        if (!cfg.video.model.empty()) {
            os.model = cfg.video.model;
        }
        os.allowed_seconds = cfg.video.allowed_seconds;
        os.width = width;
        os.height = height;
        os.price_cents_per_second = cfg.video.price_cents_per_second;
        video = pipelines::make_gemini_omni_provider(http, os);
        break;
    }
    case app::video_provider_kind::vertex_veo: {
        pipelines::vertex_veo_settings vv;
        vv.project = cfg.video.vertex_project;
        vv.location = cfg.video.vertex_location;
        if (!cfg.video.model.empty()) {
            vv.model = cfg.video.model;
        }
        vv.base_url = cfg.video.base_url;
        vv.credentials_file = cfg.video.credentials_file;
        vv.allowed_seconds = cfg.video.allowed_seconds;
        vv.width = width;
        vv.height = height;
        vv.price_cents_per_second = cfg.video.price_cents_per_second;
        vv.offload = &rt.offload();
        video = pipelines::make_vertex_veo_provider(http, vv);
        break;
    }
    case app::video_provider_kind::none:
        break;
    }
    engine::secrets().add_secret(cfg.video.api_key);

    pipelines::bot_config bot_cfg;
    bot_cfg.video.requested_seconds = cfg.video.requested_seconds;
    bot_cfg.video.poll_interval = cfg.video.poll_interval;
    bot_cfg.video.poll_timeout = cfg.video.poll_timeout;
    bot_cfg.video.flirty_probability = cfg.video.flirty_probability;
    bot_cfg.video.videos_per_day = cfg.limits.videos_per_day;
    bot_cfg.video.daily_spend_cap_cents = cfg.limits.daily_spend_cap_cents;
    bot_cfg.video.debug = cfg.video.debug_info == app::debug_info_mode::off   ? pipelines::debug_info::off
                          : cfg.video.debug_info == app::debug_info_mode::all ? pipelines::debug_info::all
                                                                              : pipelines::debug_info::admins;
    if (simulation) {
        bot_cfg.video.progress_every = 2s;
    }
    bot_cfg.admins = cfg.bot.admins;
    bot_cfg.history_turns = static_cast<std::size_t>(cfg.bot.history_turns);
    bot_cfg.summary_every = cfg.bot.summary_every;
    bot_cfg.selfies_per_day = cfg.limits.selfies_per_day;
    bot_cfg.chat_turns_per_minute = cfg.limits.chat_turns_per_minute;
    bot_cfg.selfies_per_minute = cfg.limits.selfies_per_minute;
    if (!cfg.telegram.send_pacing) {
        // Benchmarks against a simulator that does not enforce Telegram's limits: no pacing.
        bot_cfg.sending.per_chat = {1e9, 1e9};
        bot_cfg.sending.global = {1e9, 1e9};
    }
    bot_cfg.poll_timeout = tg_cfg.poll_timeout;
    pipelines::bot bot(ex,
                       pipelines::bot_services{telegram,
                                               llm,
                                               images,
                                               *db,
                                               *media,
                                               *personas,
                                               *locales,
                                               rt.offload(),
                                               video.get()},
                       bot_cfg);
    const bool ready = co_await bot.prepare();
    if (!ready) {
        std::fprintf(stderr,
                     "companion-bot: Telegram refused the bot token (401); check TELEGRAM_BOT_TOKEN\n");
        result.exit_code = 2;
        if (sims) {
            co_await sims->stop();
        }
        co_return;
    }

    engine::task_group work(ex, engine::task_group::config{.name = "bot"});
    std::unique_ptr<app::admin_server> admin;
    if (cfg.admin.port != 0) {
        admin = std::make_unique<app::admin_server>(ex, cfg.admin.listen, cfg.admin.port, bot, *db);
        if (auto port = admin->start(); !port) {
            engine::log().error("admin.start_failed", {{"error", port.error().message()}});
        } else {
            engine::log().info("admin.listening",
                               {{"url", "http://" + cfg.admin.listen + ":" + std::to_string(*port)}});
        }
    }
    (void)work.spawn(bot.run());
    (void)work.spawn(storage::checkpoint_loop(*db, rt.offload()));
    // Retention keeps the processed-update log and the media folder bounded (design.md §4).
    if (!work.spawn(storage::maintenance_loop(*db,
                                              *media,
                                              rt.offload(),
                                              {.update_log_retention = cfg.storage.update_log_retention,
                                               .media_retention = cfg.storage.media_retention}))) {
        engine::log().error("storage.maintenance_not_started");
    }
    (void)work.spawn(
        engine::run_loop_lag_probe(engine::metrics().make_histogram("loop_lag_seconds",
                                                                    "How late a 1 ms timer fires.",
                                                                    engine::latency_buckets_seconds())));

    std::exception_ptr script_error;
    if (simulation && opt.script == "demo") {
        try {
            const bool ok = co_await app::run_demo(*sims, *locales, stdout);
            result.exit_code = ok ? 0 : 1;
        } catch (...) {
            script_error = std::current_exception();
        }
        rt.request_stop();
    } else if (simulation && opt.script.empty()) {
        try {
            co_await app::run_terminal_chat(*sims, opt.language, stdout);
        } catch (...) {
            script_error = std::current_exception();
        }
        rt.request_stop();
    }
    // Run until the runtime's stop cancels us (signal, or the script's end).
    try {
        co_await rt.stopping().wait();
    } catch (...) {
    }
    co_await companion::asio::this_coro::reset_cancellation_state(
        companion::asio::enable_terminal_cancellation());
    co_await work.shutdown(5s);
    if (admin) {
        co_await admin->stop();
    }
    if (sims) {
        co_await sims->stop();
    }
    if (script_error) {
        result.exit_code = 1;
    }
}

} // namespace

int main(int argc, char** argv) {
    // One loop thread plus the offload and libvips workers: glibc would give each thread its own
    // malloc arena, and image buffers freed on one thread fragment them (the soak showed the
    // heap creeping by ~0.5 MB/s). Two arenas keep it flat at no measurable cost.
    ::mallopt(M_ARENA_MAX, 2);
    CLI::App cli{"companion-bot: a Telegram bot of AI personas that chat, send selfies and videos.\n"
                 "With TELEGRAM_BOT_TOKEN set it runs live against Telegram; without it, it runs the\n"
                 "built-in simulation (simulated Telegram, LLM and image services on loopback).\n"
                 "Secrets come from the environment: TELEGRAM_BOT_TOKEN, OPENAI_API_KEY, GEMINI_API_KEY,\n"
                 "VIDEO_API_KEY, GOOGLE_APPLICATION_CREDENTIALS; base URLs from TELEGRAM_API_BASE_URL,\n"
                 "OPENAI_BASE_URL, GEMINI_BASE_URL, VIDEO_BASE_URL; a proxy from HTTPS_PROXY / NO_PROXY.",
                 "companion-bot"};
    options opt;
    cli.add_option("-c,--config",
                   opt.config_path,
                   "TOML configuration file (see app/companion.example.toml)");
    cli.add_option("--script", opt.script, "simulation only: 'demo' walks every flow and prints a transcript")
        ->check(CLI::IsMember({"demo"}));
    cli.add_option("--language", opt.language, "simulation terminal chat: the user's language (tr, ru, en)")
        ->check(CLI::IsMember({"tr", "ru", "en"}));
    cli.add_option("--data-dir",
                   opt.data_dir,
                   "where the database and media live (overrides storage.data_dir)");
    cli.add_flag("--print-config",
                 opt.print_config,
                 "print the effective configuration (secrets redacted) and exit");
    cli.add_flag("--json-logs", opt.json_logs, "write logs as JSON lines");
    cli.set_version_flag("--version", version);
    CLI11_PARSE(cli, argc, argv);

    const auto env = app::process_environment();
    auto cfg = opt.config_path.empty() ? app::parse_config("", env) : app::load_config(opt.config_path, env);
    if (!cfg) {
        std::fprintf(stderr, "companion-bot: configuration error: %s\n", cfg.error().c_str());
        return 2;
    }
    if (!opt.data_dir.empty()) {
        cfg->storage.data_dir = opt.data_dir;
    }
    engine::log_level level = engine::log_level::info;
    engine::parse_log_level(cfg->log.level, level);
    engine::log().configure({.level = level,
                             .format = (opt.json_logs || cfg->log.format == "json")
                                           ? engine::log_format::json
                                           : engine::log_format::text});
    if (opt.print_config) {
        std::fputs(app::print_config(*cfg).c_str(), stdout);
        return 0;
    }
    if (!cfg->live() && opt.script == "demo") {
        // The transcript is the output; keep routine log lines out of it.
        if (level < engine::log_level::warn) {
            engine::log().configure({.level = engine::log_level::warn, .format = engine::log_format::text});
        }
        // Each demo run starts from a fresh simulated world.
        if (opt.data_dir.empty()) {
            cfg->storage.data_dir =
                (std::filesystem::temp_directory_path() / ("companion-demo-" + std::to_string(::getpid())))
                    .string();
        }
    }

    engine::runtime rt({.grace = 10s});
    outcome result;
    if (!rt.spawn(serve(rt, *cfg, opt, result))) {
        return 1;
    }
    const int rc = rt.run();
    if (!cfg->live() && opt.script == "demo" && opt.data_dir.empty()) {
        std::error_code ignored;
        std::filesystem::remove_all(cfg->storage.data_dir, ignored);
    }
    return result.exit_code != 0 ? result.exit_code : rc;
}
