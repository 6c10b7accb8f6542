// What the provider simulators (OpenAI, Gemini) share: a loopback HTTP server with a fault
// injector exposed on it, its start and graceful stop, and the record of every video job the
// clients created (tests count creates to prove a job was never paid for twice).
#pragma once

#include "engine/asio.hpp"
#include "engine/time_source.hpp"
#include "net/http_server.hpp"
#include "sim/fault.hpp"

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace companion::sim {

/// `Create` is the simulator's record of one accepted create; it has a `prompt`.
template <class Create>
class provider_service {
public:
    provider_service(const provider_service&) = delete;
    provider_service& operator=(const provider_service&) = delete;

    net::result<std::uint16_t> start() { return server_.start(); }
    engine::awaitable<void> stop() { co_await server_.stop(std::chrono::milliseconds{200}); }

    fault_injector faults;

    /// Every accepted create, in order (a job submitted twice shows up twice).
    const std::vector<Create>& video_creates() const noexcept { return creates_; }
    /// Accepted creates whose prompt contains `marker`.
    std::size_t creates_with(std::string_view marker) const {
        return static_cast<std::size_t>(std::count_if(creates_.begin(), creates_.end(), [&](const Create& c) {
            return c.prompt.find(marker) != std::string::npos;
        }));
    }

protected:
    /// `time` null: the process's real time.
    provider_service(engine::executor ex, net::server_config server, engine::time_source* time)
        : faults(time),
          ex_(ex),
          time_(time != nullptr ? *time : engine::system_time()),
          server_(ex, std::move(server)) {
        faults.expose(server_);
    }
    ~provider_service() = default;

    /// What jobs progress on and latency sleeps on.
    engine::time_source& time() const noexcept { return time_; }

    /// The start every handler shares: takes the fault planned for `method` into `planned`,
    /// applies its wire part to `response` (apply_wire_fault), waits `latency`, then refuses a
    /// request whose key check gave `denied`. Returns the answer to send at once (a complete wire
    /// fault or the refusal), or nullopt to go on with `planned` for the service's own faults.
    /// `method` is read before the first suspension; the references must outlive the call.
    engine::awaitable<std::optional<net::server_response>>
    begin(std::string_view method,
          std::optional<fault>& planned,
          net::server_response& response,
          const std::optional<net::server_response>& denied,
          engine::duration latency = {}) {
        planned = faults.take(method);
        if (planned) {
            const bool complete = co_await apply_wire_fault(*planned, response, time_);
            if (complete) {
                co_return std::move(response);
            }
        }
        if (latency.count() > 0) {
            co_await time_.sleep(latency);
        }
        co_return denied;
    }

    engine::executor ex_;
    engine::time_source& time_;
    net::http_server server_;
    std::vector<Create> creates_{};
};

} // namespace companion::sim
