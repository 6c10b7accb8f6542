// Simulation mode (design.md §7): the scripted demo that walks every flow and prints a readable
// transcript, and the interactive terminal chat where a person types as a Telegram user.
#pragma once

#include "engine/asio.hpp"
#include "pipelines/locale.hpp"
#include "sim/suite.hpp"

#include <cstdio>
#include <string>

namespace companion::app {

/// Drives scripted users through /start, persona choice, chat with memory, selfies, an image
/// refusal, a quota hit, the language switch and /video, in Turkish, Russian and English,
/// printing the transcript to `out`. Returns true when every step got its answer in time.
engine::awaitable<bool> run_demo(sim::suite& sims, const pipelines::locale_catalog& locales, std::FILE* out);

/// Reads lines from standard input as a Telegram user ("1".."9" presses the buttons of the
/// bot's last message) and prints what the bot sends, until end of input or "/quit".
engine::awaitable<void> run_terminal_chat(sim::suite& sims, std::string language, std::FILE* out);

} // namespace companion::app
