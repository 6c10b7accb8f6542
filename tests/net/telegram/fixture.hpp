// A loopback fixture for the Telegram tests: the simulator fixture (tests/common/sim_fixture.hpp)
// and the typed Telegram client pointed at the simulator.
//
// The tests build parameter structs into named locals before each co_await: g++ 12 destroys a
// braced temporary in a co_await operand twice (seen as a crash in ~optional<json::value>).
#pragma once

#include "net/http_client.hpp"
#include "net/telegram/client.hpp"
#include "sim/telegram/simulator.hpp"
#include "tests/common/sim_fixture.hpp"
#include "tests/net/net_test_support.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>

#include <functional>
#include <optional>
#include <string>

namespace companion::test {

namespace tg = net::telegram;

/// A token of the real shape (digits, colon, 35 characters).
inline const std::string test_token = "123456789:AAHfake-token_for_tests_0123456789abcdef";

struct telegram_fixture : sim_fixture<sim::telegram_simulator> {
    std::optional<tg::client> bot;

    explicit telegram_fixture(sim::telegram_simulator_config cfg = default_sim_config(),
                              std::string token = test_token)
        : sim_fixture(std::move(cfg), "telegram_test") {
        bot.emplace(http, client_config_for(std::move(token)));
    }

    static sim::telegram_simulator_config default_sim_config() {
        return sim::telegram_simulator_config{.max_poll_hold = std::chrono::milliseconds{200}};
    }

    tg::client_config client_config_for(std::string token) const {
        return tg::client_config{.base_url = sim.base_url(),
                                 .token = std::move(token),
                                 .poll_timeout = std::chrono::seconds{1}};
    }
};

/// The same without flood control, for tests that send more than a chat's burst.
struct unthrottled_fixture : telegram_fixture {
    unthrottled_fixture()
        : telegram_fixture(sim::telegram_simulator_config{.enforce_rate_limits = false,
                                                          .max_poll_hold = std::chrono::milliseconds{200}}) {}
};

/// Milliseconds since `start` on the engine clock.
inline long long elapsed_ms(engine::time_point start) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(engine::clock::now() - start).count();
}

} // namespace companion::test
