// companion-sim: every simulator in one process, for the benchmarks and for other programs (an
// unmodified third-party bot, the official SDKs) pointed at it through their base-URL settings.
// Prints one line per simulator ("telegram http://127.0.0.1:8081") once all listen, then serves
// until SIGINT or SIGTERM.
#include "engine/log.hpp"
#include "engine/runtime.hpp"
#include "sim/suite.hpp"

#include <CLI/CLI.hpp>

#include <cstdio>

namespace engine = companion::engine;
namespace sim = companion::sim;
using namespace std::chrono_literals;

namespace {

engine::awaitable<void> serve(engine::runtime& rt, sim::suite_config cfg, int& exit_code) {
    sim::suite sims(rt.get_executor(), cfg);
    if (auto started = sims.start(); !started) {
        std::fprintf(stderr, "companion-sim: %s\n", started.error().message().c_str());
        exit_code = 2;
        co_return;
    }
    std::printf("telegram %s\nopenai %s\ngemini %s\nfal %s\nopenrouter %s\n",
                sims.telegram().base_url().c_str(),
                sims.openai().base_url().c_str(),
                sims.gemini().base_url().c_str(),
                sims.fal().base_url().c_str(),
                sims.openrouter().base_url().c_str());
    std::fflush(stdout);
    try {
        co_await rt.stopping().wait();
    } catch (...) {
    }
    co_await companion::asio::this_coro::reset_cancellation_state(
        companion::asio::enable_terminal_cancellation());
    co_await sims.stop();
}

} // namespace

int main(int argc, char** argv) {
    CLI::App cli{
        "companion-sim: simulators of the Telegram Bot API, OpenAI-compatible chat and videos,\n"
        "Gemini image, Omni and Veo, fal's queue and OpenRouter's videos, on loopback. Point a bot or an\n"
        "SDK at the printed base URLs.\n"
        "Faults: POST /_sim/faults on any simulator, e.g. "
        "{\"match\":\"sendMessage\",\"kind\":\"rate_limited\",\n"
        "\"delay_ms\":3000}. Scripted Telegram users: /_sim/users, /_sim/text, /_sim/send, /_sim/press,\n"
        "/_sim/sent, ... (README: \"The simulators as doubles for other bots\").",
        "companion-sim"};
    sim::suite_config cfg;
    int log_quiet = 0;
    cli.add_option("--address", cfg.address, "listen address")->capture_default_str();
    cli.add_option("--telegram-port", cfg.telegram_port, "0: ephemeral")->capture_default_str();
    cli.add_option("--openai-port", cfg.openai_port, "0: ephemeral")->capture_default_str();
    cli.add_option("--gemini-port", cfg.gemini_port, "0: ephemeral")->capture_default_str();
    cli.add_option("--fal-port", cfg.fal_port, "0: ephemeral")->capture_default_str();
    cli.add_option("--openrouter-port", cfg.openrouter_port, "0: ephemeral")->capture_default_str();
    cli.add_option("--telegram-token",
                   cfg.telegram.token,
                   "accept only this bot token (default: any well-formed)");
    cli.add_option("--openai-key", cfg.openai.api_key, "accept only this API key (default: any)");
    cli.add_option("--gemini-key", cfg.gemini.api_key, "accept only this API key (default: any)");
    cli.add_option("--fal-key", cfg.fal.api_key, "accept only this FAL_KEY (default: any)");
    cli.add_option("--openrouter-key",
                   cfg.openrouter.api_key,
                   "accept only this OPENROUTER_API_KEY (default: any)");
    cli.add_flag(
        "--no-rate-limits",
        [&](std::int64_t) { cfg.telegram.enforce_rate_limits = false; },
        "do not answer 429 when a chat or the bot exceeds Telegram's pace (benchmarks)");
    cli.add_option(
        "--llm-latency-ms",
        [&](const std::vector<std::string>& v) {
            cfg.openai.latency = std::chrono::milliseconds(std::stoll(v.at(0)));
            return true;
        },
        "delay before every chat completion");
    cli.add_option(
        "--llm-stream-chunk-ms",
        [&](const std::vector<std::string>& v) {
            cfg.openai.stream_chunk_delay = std::chrono::milliseconds(std::stoll(v.at(0)));
            return true;
        },
        "pause between the events of a streamed chat completion (\"stream\": true), one per few words");
    cli.add_option(
        "--video-queue-ms",
        [&](const std::vector<std::string>& v) {
            cfg.openai.queue_time = std::chrono::milliseconds(std::stoll(v.at(0)));
            cfg.fal.queue_time = cfg.openai.queue_time;
            cfg.openrouter.queue_time = cfg.openai.queue_time;
            return true;
        },
        "how long a video job stays queued (default 200)");
    cli.add_option(
        "--video-render-ms",
        [&](const std::vector<std::string>& v) {
            cfg.openai.render_time = std::chrono::milliseconds(std::stoll(v.at(0)));
            cfg.fal.render_time = cfg.openai.render_time;
            cfg.openrouter.render_time = cfg.openai.render_time;
            return true;
        },
        "how long a video job then stays in_progress (default 3000; the polling bench keeps jobs "
        "rendering for its whole window)");
    cli.add_flag("-q,--quiet", log_quiet, "log warnings and errors only");
    CLI11_PARSE(cli, argc, argv);
    if (log_quiet != 0) {
        engine::log().configure({.level = engine::log_level::warn});
    }
    engine::runtime rt({.grace = 2s});
    int exit_code = 0;
    if (!rt.spawn(serve(rt, cfg, exit_code))) {
        return 1;
    }
    const int rc = rt.run();
    return exit_code != 0 ? exit_code : rc;
}
