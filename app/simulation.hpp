// Simulation mode (design.md §7): the scripted demo that walks every flow and prints a readable
// transcript, and the interactive terminal chat where a person types as a Telegram user. Each
// builds its own simulated world (the simulators on loopback and the bot wired by app/wiring, as
// companion-bot wires it), so it can stop and restart the bot and run a second video provider.
#pragma once

#include "app/config.hpp"
#include "app/wiring.hpp"
#include "engine/asio.hpp"
#include "engine/offload.hpp"
#include "engine/sync.hpp"
#include "pipelines/locale.hpp"
#include "pipelines/persona.hpp"

#include <cstdio>
#include <string>

namespace companion::sim {
class suite;
}

namespace companion::app {

/// Points `cfg` at the simulators of `sims` (their URLs, the keys they accept), as the simulation
/// runs: the video provider configured is kept, its simulator's URL filled in.
void point_at_simulators(config& cfg, sim::suite& sims);

/// `companion-bot check` without a token: the simulators started on loopback, `cfg` pointed at
/// them, then check_configured_services; the simulators are stopped before it returns.
engine::awaitable<std::vector<service_check>>
check_in_simulation(engine::executor ex, config cfg, engine::offload_pool& offload);

/// What the simulation modes build their worlds from. `cfg` is the simulation's configuration
/// (storage.data_dir is the simulation's own folder; the simulators' URLs and keys are filled in
/// at start); the catalogs and the pool outlive the run.
struct simulation_context {
    config cfg;
    const pipelines::persona_catalog& personas;
    const pipelines::locale_catalog& locales;
    engine::offload_pool& offload;
    std::FILE* out = stdout;
    /// Set when the process is asked to stop (the runtime's `stopping()`): the terminal chat then
    /// ends at once. nullptr: only cancellation ends it.
    engine::event* stopping = nullptr;
};

/// Drives scripted users through every flow the README names (persona choice, chat with memory,
/// selfies, the 18+ answer, a flirty video, a refused video and its clean retry, the busy message,
/// an image refusal, the quota, an LLM outage, a persona switch, /forget, the language switch, a
/// second video provider and a restart that resumes a video) and prints the transcript to
/// `ctx.out`; log lines go to a file (its path is printed at the end). Returns true when every step
/// got its answer in time. Cancellation (a signal) stops the bots and simulators before it ends.
engine::awaitable<bool> run_demo(simulation_context ctx);

/// A terminal chat: reads lines from standard input as a Telegram user (a number presses the
/// button shown with that number; /help lists what can be typed) and prints what the bot sends as
/// it arrives, with received photos and videos saved under the data folder; log lines go to
/// `<data_dir>/companion.log`. Ends at "/quit", or at the end of input once the bot is quiet.
engine::awaitable<bool> run_terminal_chat(simulation_context ctx, std::string language);

} // namespace companion::app
