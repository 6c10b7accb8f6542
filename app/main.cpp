// companion-bot: the Telegram companion bot. With TELEGRAM_BOT_TOKEN set it long-polls Telegram
// (live mode); without it, it starts the simulators in-process on loopback and talks to them over
// real HTTP (simulation mode): `--script demo` walks every flow and prints the transcript, and
// without a script a terminal chat lets a person play the Telegram user.
#include "app/admin.hpp"
#include "app/config.hpp"
#include "app/data_folder.hpp"
#include "app/instance_lock.hpp"
#include "app/share_folder.hpp"
#include "app/simulation.hpp"
#include "app/wiring.hpp"
#include "engine/log.hpp"
#include "engine/metrics.hpp"
#include "engine/runtime.hpp"
#include "engine/time.hpp"
#include "pipelines/bot.hpp"
#include "sim/suite.hpp"
#include "storage/database.hpp"
#include "storage/maintenance.hpp"

#include <CLI/CLI.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>

using namespace companion; // engine::, net::, ... name the layers
using namespace std::chrono_literals;

namespace {

constexpr const char* version = "companion-bot " COMPANION_VERSION;

struct options {
    std::string config_path;
    std::string script;
    std::string language = "en";
    bool print_config = false;
    bool json_logs = false;
    bool simulate = false;
    std::string data_dir;
    std::string share_dir;
};

std::string environment_variable(const char* name) {
    const char* value = std::getenv(name);
    return value == nullptr ? std::string() : std::string(value);
}

// What the simulation runs with beyond the file: videos through the configured provider's
// simulator (unset: fal's queue with Kling v3, which takes the seed's 5 s), polled quickly enough
// to watch; the demo shows the quota and the seed's debug message. Applied before --print-config,
// so it prints what will run (the simulators' URLs come at start).
void apply_simulation(app::config& cfg, const options& opt) {
    if (cfg.video.provider == app::video_provider_kind::none) {
        cfg.video.provider = app::video_provider_kind::fal;
        cfg.video.model = "fal-ai/kling-video/v3/standard/image-to-video";
    }
    cfg.video.poll_interval = 1s;
    cfg.telegram.poll_timeout = std::chrono::seconds(1);
    if (opt.script == "demo") {
        cfg.limits.selfies_per_day = 2;
        cfg.video.debug_info = pipelines::debug_info::all; // for everyone to see
    }
}

struct outcome {
    int exit_code = 0;
};

// `companion-bot check`: the table on standard output; 0 when every service answered, 1 when one
// did not, 2 when the check itself could not run.
int run_check(const app::config& cfg) {
    engine::runtime rt({.grace = 5s});
    int exit_code = 2;
    auto task = [&rt, &cfg, &exit_code]() -> engine::awaitable<void> {
        try {
            std::vector<app::service_check> rows;
            if (cfg.live()) {
                rows = co_await app::check_configured_services(rt.get_executor(), cfg, rt.offload());
            } else {
                rows = co_await app::check_in_simulation(rt.get_executor(), cfg, rt.offload());
            }
            std::printf("%s%s",
                        cfg.live() ? "" : "(simulation: the built-in simulators, no token configured)\n",
                        app::check_table(rows).c_str());
            const bool all_ok = std::all_of(rows.begin(), rows.end(), [](const auto& r) { return r.ok; });
            exit_code = all_ok ? 0 : 1;
        } catch (const std::exception& e) {
            std::fprintf(stderr, "companion-bot check: %s\n", e.what());
        }
        rt.request_stop();
    };
    if (!rt.spawn(task())) {
        return 2;
    }
    const int rc = rt.run();
    return rc != 0 && exit_code == 0 ? rc : exit_code;
}

// The bot's run; a fatal fault (the token refused mid-run) ends the process with a non-zero exit
// instead of leaving it alive and deaf.
engine::awaitable<void> run_bot(pipelines::bot& bot, engine::runtime& rt, outcome& result) {
    std::exception_ptr failure;
    try {
        co_await bot.run();
    } catch (...) {
        failure = std::current_exception();
    }
    if (failure && !engine::is_cancellation(failure)) {
        engine::log().error("bot.failed", {{"error", engine::describe(failure)}});
        std::fprintf(stderr, "companion-bot: %s\n", engine::describe(failure).c_str());
        result.exit_code = 3;
        rt.request_stop();
    }
}

engine::awaitable<void> stop_everything(engine::task_group& work, app::admin_server* admin) {
    co_await work.shutdown(5s);
    if (admin != nullptr) {
        co_await admin->stop();
    }
}

engine::awaitable<void> serve(engine::runtime& rt, app::config cfg, options opt, outcome& result) {
    auto ex = rt.get_executor();
    // Read before anything starts, so a wrong path ends here with nothing to unwind.
    auto personas = pipelines::persona_catalog::load(cfg.bot.personas);
    auto locales = pipelines::locale_catalog::load(cfg.bot.locales);
    if (!personas || !locales) {
        std::fprintf(stderr,
                     "companion-bot: %s (a relative [bot] personas or locales path starts at the working "
                     "directory)\n",
                     (!personas ? personas.error() : locales.error()).c_str());
        result.exit_code = 2;
        co_return;
    }
    const bool simulation = !cfg.live();
    if (simulation) {
        // The demo and the terminal chat build and own their simulators and bots
        // (app/simulation.cpp): the demo stops and restarts its bot and runs a second provider.
        app::simulation_context sc{.cfg = cfg,
                                   .personas = *personas,
                                   .locales = *locales,
                                   .offload = rt.offload(),
                                   .stopping = &rt.stopping()};
        bool ok = false;
        try {
            if (opt.script == "demo") {
                ok = co_await app::run_demo(std::move(sc));
            } else {
                ok = co_await app::run_terminal_chat(std::move(sc), opt.language);
            }
        } catch (...) {
            // Ctrl-C is how a person leaves the chat; it only cuts a demo short.
            const auto failure = std::current_exception();
            const bool interrupted = engine::is_cancellation(failure);
            ok = interrupted && opt.script.empty();
            if (!interrupted) {
                std::fprintf(stderr, "companion-bot: %s\n", engine::describe(failure).c_str());
            }
        }
        result.exit_code = ok ? 0 : 1;
        if (!rt.stopping().is_set()) {
            rt.request_stop(); // a second request would force the stop (and say so)
        }
        co_return;
    }
    // Live mode from here on: the simulation modes returned above.
    std::unique_ptr<app::bot_app> wired;
    try {
        // Webhook mode loads its certificate here: a wrong path ends the start with one line.
        auto bot_cfg = app::make_bot_config(cfg);
        wired =
            std::make_unique<app::bot_app>(ex, cfg, std::move(bot_cfg), *personas, *locales, rt.offload());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "companion-bot: %s\n", e.what());
        result.exit_code = 2;
    }
    if (!wired) {
        co_return;
    }
    auto& bot = wired->bot();
    const bool ready = co_await bot.prepare();
    if (!ready) {
        std::fprintf(stderr,
                     "companion-bot: Telegram refused the bot token (401); check TELEGRAM_BOT_TOKEN\n");
        result.exit_code = 2;
        co_return;
    }
    // Each model with its key, before any user meets a refusal: one line per service.
    bool fatal = false;
    const auto checks = co_await wired->check_services();
    for (const auto& check : checks) {
        std::fprintf(stderr, "companion-bot: %s\n", check.line.c_str());
        fatal = fatal || check.fatal;
    }
    if (fatal) {
        result.exit_code = 2;
        co_return;
    }

    engine::task_group work(ex, engine::task_group::config{.name = "bot"});
    std::unique_ptr<app::admin_server> admin;
    if (cfg.admin.port != 0) {
        if (!app::is_loopback(cfg.admin.listen)) {
            // The configuration refused this without a token; with one it is the operator's choice,
            // and worth a line: the bot's state is reachable from other hosts.
            engine::log().warn("admin.beyond_loopback",
                               {{"listen", cfg.admin.listen}, {"auth", "bearer token required"}});
        }
        admin = std::make_unique<app::admin_server>(
            ex,
            cfg.admin.listen,
            cfg.admin.port,
            bot,
            wired->db(),
            wired->health(),
            app::admin_options{.token = cfg.admin.token,
                               .max_connections = static_cast<std::size_t>(cfg.admin.max_connections)});
        if (auto port = admin->start(); !port) {
            engine::log().error("admin.start_failed", {{"error", port.error().message()}});
        } else {
            engine::log().info("admin.listening",
                               {{"url", "http://" + cfg.admin.listen + ":" + std::to_string(*port)}});
        }
    }
    // Retention keeps the processed-update log and the media folder bounded (design.md §4).
    const bool started =
        work.spawn(run_bot(bot, rt, result)) &&
        work.spawn(storage::checkpoint_loop(wired->db(), rt.offload())) &&
        work.spawn(storage::maintenance_loop(wired->db(),
                                             wired->media(),
                                             rt.offload(),
                                             {.update_log_retention = cfg.storage.update_log_retention,
                                              .media_retention = cfg.storage.media_retention})) &&
        work.spawn(engine::run_loop_lag_probe(app::loop_lag_histogram()));
    if (!started) {
        // Only a group already stopping refuses a child: the runtime is on its way down.
        engine::log().error("bot.start_refused", {});
        result.exit_code = 1;
        rt.request_stop();
    }

    // Run until the runtime's stop cancels us (signal, or the script's end).
    try {
        co_await rt.stopping().wait();
    } catch (...) {
    }
    co_await companion::asio::this_coro::reset_cancellation_state(
        companion::asio::enable_terminal_cancellation());
    // The stop runs to its end whatever cancels us meanwhile: what it stops is destroyed next.
    co_await engine::shielded(stop_everything(work, admin.get()));
}

} // namespace

int main(int argc, char** argv) {
    app::configure_allocator();
    // Private by default: the database, its WAL, the media and the logs hold every conversation
    // and selfie, so nothing this process creates is readable by another account (files 0600,
    // folders 0700), whatever umask the shell or the unit had.
    ::umask(077);
    CLI::App cli{
        "companion-bot: a Telegram bot of AI personas that chat, send selfies and videos.\n"
        "With TELEGRAM_BOT_TOKEN set it runs live against Telegram. Without it and without a\n"
        "configuration file (or with --simulate) it runs the built-in simulation: simulated\n"
        "Telegram, LLM, image and video services on loopback, its data in\n"
        "$XDG_STATE_HOME/companion/simulation (~/.local/state/companion/simulation).\n"
        "A configuration file without a token is refused (exit 2): a deployment missing its secret.\n"
        "Secrets come from the environment: TELEGRAM_BOT_TOKEN, OPENAI_API_KEY, GEMINI_API_KEY,\n"
        "VIDEO_API_KEY, GOOGLE_APPLICATION_CREDENTIALS; base URLs from TELEGRAM_API_BASE_URL,\n"
        "OPENAI_BASE_URL, GEMINI_BASE_URL, VIDEO_BASE_URL; a proxy from HTTPS_PROXY / NO_PROXY.",
        "companion-bot"};
    options opt;
    opt.share_dir = environment_variable("COMPANION_SHARE_DIR");
    // What the bot ships with (personas, locales, the example configuration), found from any
    // working directory: beside an installed binary, or in the source tree of a built one.
    const auto share = app::find_share_folder(app::default_share_search(opt.share_dir));
    cli.footer(share ? "Data folder: " + share->string() +
                           "\nExample configuration (every key, its default and "
                           "doc): " +
                           (*share / app::share_example_config).string()
                     : "Data folder: " + share.error());
    cli.add_option("-c,--config", opt.config_path, "TOML configuration file (see the example named below)");
    cli.add_option("--script", opt.script, "simulation only: 'demo' walks every flow and prints a transcript")
        ->check(CLI::IsMember({"demo"}));
    cli.add_option("--language", opt.language, "simulation terminal chat: the user's language (tr, ru, en)")
        ->check(CLI::IsMember({"tr", "ru", "en"}));
    cli.add_option("--data-dir",
                   opt.data_dir,
                   "where the database and media live (overrides storage.data_dir)");
    cli.add_option("--share-dir",
                   opt.share_dir,
                   "the folder of personas.json, locales/ and the example configuration (default: "
                   "found beside the binary; also COMPANION_SHARE_DIR)");
    cli.add_flag("--print-config",
                 opt.print_config,
                 "print the effective configuration (secrets redacted) and exit");
    cli.add_flag("--json-logs", opt.json_logs, "write logs as JSON lines");
    cli.add_flag("--simulate",
                 opt.simulate,
                 "run the built-in simulation even with a configuration file or a token (its data goes to "
                 "the state folder above unless --data-dir says otherwise)");
    cli.set_version_flag("--version", version);
    auto* check = cli.add_subcommand(
        "check",
        "ask every configured service with its key, creating nothing: Telegram's getMe, the chat and image\n"
        "models, the video provider (fal: a status call; OpenRouter: its video models; Gemini: the model;\n"
        "an OpenAI-videos gateway: its models). Prints a table; exit 0 when all answer, 1 otherwise.\n"
        "Without a token it checks the built-in simulators with the same configuration.");
    check->fallthrough(); // `check -c file` as well as `-c file check`
    CLI11_PARSE(cli, argc, argv);

    const auto env = app::process_environment();
    auto cfg = opt.config_path.empty() ? app::parse_config("", env) : app::load_config(opt.config_path, env);
    if (!cfg) {
        std::fprintf(stderr, "companion-bot: configuration error: %s\n", cfg.error().c_str());
        return 2;
    }
    if (opt.simulate) {
        cfg->telegram.token.clear(); // the simulators' own token takes its place
    }
    if (!cfg->live() && !opt.config_path.empty() && !opt.simulate) {
        // A configuration file without a token is a deployment missing its secret (an
        // EnvironmentFile typo), not a wish to simulate in its data folder: refuse, non-zero, so a
        // supervisor notices.
        std::fprintf(stderr,
                     "companion-bot: TELEGRAM_BOT_TOKEN is not set, so %s has no bot to run; set it, or "
                     "pass --simulate to run the built-in simulation with this configuration\n",
                     opt.config_path.c_str());
        return 2;
    }
    if (!cfg->live()) {
        // The simulation never writes into a configured (live) data folder, nor into the working
        // directory (it may be `/` or the operator's home).
        cfg->storage.data_dir = app::simulation_data_dir(environment_variable("XDG_STATE_HOME"),
                                                         environment_variable("HOME"),
                                                         std::filesystem::temp_directory_path(),
                                                         ::getuid())
                                    .string();
        apply_simulation(*cfg, opt);
    }
    if (!opt.data_dir.empty()) {
        cfg->storage.data_dir = opt.data_dir;
    }
    if (cfg->bot.personas.empty() || cfg->bot.locales.empty()) {
        // The search again: --share-dir may have named another folder than the environment.
        const auto found = app::find_share_folder(app::default_share_search(opt.share_dir));
        if (!found) {
            std::fprintf(stderr, "companion-bot: %s\n", found.error().c_str());
            return 2;
        }
        if (cfg->bot.personas.empty()) {
            cfg->bot.personas = (*found / app::share_personas).string();
        }
        if (cfg->bot.locales.empty()) {
            cfg->bot.locales = (*found / app::share_locales).string();
        }
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
    if (check->parsed()) {
        if (level < engine::log_level::warn) { // the table is the output
            engine::log().configure({.level = engine::log_level::warn, .format = engine::log_format::text});
        }
        return run_check(*cfg);
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

    // One bot per data folder: a second one would fight the first over getUpdates, and its resume
    // would declare the first one's paid video jobs lost. The lock is held until main returns.
    if (const auto failed = app::make_private_directory(cfg->storage.data_dir)) {
        std::fprintf(stderr,
                     "companion-bot: cannot create the data folder %s: %s\n",
                     cfg->storage.data_dir.c_str(),
                     failed.message().c_str());
        return 2;
    }
    auto lock = app::instance_lock::acquire(cfg->storage.data_dir);
    if (!lock) {
        std::fprintf(stderr, "companion-bot: %s\n", lock.error().c_str());
        return 2;
    }
    if (!lock->pid_written()) {
        engine::log().warn("instance_lock.pid_not_written", {{"path", lock->path().string()}});
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
