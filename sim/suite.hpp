// All simulators together, in-process on loopback: what the bot's simulation mode, the
// end-to-end tests and the companion-sim executable start.
#pragma once

#include "engine/asio.hpp"
#include "sim/fal/simulator.hpp"
#include "sim/gemini/simulator.hpp"
#include "sim/openai/simulator.hpp"
#include "sim/openrouter/simulator.hpp"
#include "sim/telegram/simulator.hpp"

#include <boost/noncopyable.hpp>

#include <cstdint>
#include <memory>
#include <string>

namespace companion::sim {

struct suite_config {
    std::string address = "127.0.0.1";
    std::uint16_t telegram_port = 0; ///< 0: ephemeral
    std::uint16_t openai_port = 0;
    std::uint16_t gemini_port = 0;
    std::uint16_t fal_port = 0;
    std::uint16_t openrouter_port = 0;
    telegram_simulator_config telegram{};
    openai_sim_config openai{};
    gemini_sim_config gemini{};
    fal_sim_config fal{};
    openrouter_sim_config openrouter{};
};

class suite : boost::noncopyable {
public:
    suite(engine::executor ex, suite_config cfg);
    ~suite();

    /// Starts every simulator. Error: the first that could not listen, with the reason.
    net::result<void> start();
    /// Stops every simulator; runs to its end even when the caller is cancelled.
    engine::awaitable<void> stop();

    telegram_simulator& telegram() noexcept { return *telegram_; }
    openai_simulator& openai() noexcept { return *openai_; }
    gemini_simulator& gemini() noexcept { return *gemini_; }
    fal_simulator& fal() noexcept { return *fal_; }
    openrouter_simulator& openrouter() noexcept { return *openrouter_; }

    /// A well-formed bot token the Telegram simulator accepts.
    static std::string token();

private:
    engine::awaitable<void> stop_all();

    std::unique_ptr<telegram_simulator> telegram_;
    std::unique_ptr<openai_simulator> openai_;
    std::unique_ptr<gemini_simulator> gemini_;
    std::unique_ptr<fal_simulator> fal_;
    std::unique_ptr<openrouter_simulator> openrouter_;
};

} // namespace companion::sim
