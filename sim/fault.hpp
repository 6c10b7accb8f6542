// Fault knobs shared by every simulator: a queue of planned faults, each matching a request by
// its API method (or path fragment), applied to the next N matching requests. Settable in-process
// by tests and over HTTP (`POST /_sim/faults`, `DELETE /_sim/faults`) on every simulator.
#pragma once

#include "engine/asio.hpp"
#include "engine/clock.hpp"
#include "engine/enum_text.hpp"
#include "engine/time_source.hpp"
#include "net/http_server.hpp"

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>

namespace companion::sim {

enum class fault_kind {
    latency,        ///< answer normally after `delay`
    rate_limited,   ///< the service's own 429 shape, with `delay` as the retry hint
    server_error,   ///< `status` (default 500) with the service's error shape
    reset,          ///< read the request, then close the connection without answering
    reset_mid_body, ///< send the header and half the body, then close
    slow_body,      ///< send the body in chunks `delay` apart
    malformed_json, ///< 200 with a body that is not JSON
    refusal,        ///< the service's content-policy refusal (blocked prompt, failed job, ...)
    custom,         ///< service-specific; `detail` names it (e.g. "model_gone", "conflict")
};
// clang-format off
BOOST_DESCRIBE_ENUM(fault_kind, latency, rate_limited, server_error, reset, reset_mid_body, slow_body,
                    malformed_json, refusal, custom)
// clang-format on
using engine::operator<<; // to_string and printing of the described enums
using engine::to_string;

/// Parses the snake_case names above; false when unknown.
bool parse_fault_kind(std::string_view text, fault_kind& out);

struct fault {
    std::string match; ///< API method or path fragment; empty matches everything
    fault_kind kind = fault_kind::server_error;
    int count = 1;                                         ///< matching requests to affect; -1: until cleared
    engine::duration delay = std::chrono::milliseconds{0}; ///< latency, retry hint or slow-body pacing
    unsigned status = 0;                                   ///< for server_error (default 500) and custom
    std::string detail{};                                  ///< service-specific selector or text
    /// Zero: the fault waits for its `count` matching requests, however late they come. Above
    /// zero: an incident window; the fault also ends this long after it was planned, so a request
    /// that comes later finds the service well again (a real outage ends on the clock, not after
    /// a number of requests).
    engine::duration lasts = engine::duration::zero();
};

class fault_injector {
public:
    /// `time` null: real time. It times the windows of faults that have `lasts`.
    explicit fault_injector(engine::time_source* time = nullptr) : time_(time) {}

    void add(fault f);
    void clear();
    /// The planned fault for a request to `method` (consumes one use), if any.
    std::optional<fault> take(std::string_view method);
    std::size_t pending() const noexcept { return faults_.size(); }
    /// Faults applied so far (tests assert on it).
    std::size_t applied() const noexcept { return applied_; }

    /// Registers `POST /_sim/faults` (JSON:
    /// {"match","kind","count","delay_ms","status","detail","lasts_ms"})
    /// and `DELETE /_sim/faults` on `server`.
    void expose(net::http_server& server);

private:
    struct planned {
        fault f;
        engine::time_point ends; ///< time_point::max() when the fault has no window
    };
    engine::time_point now() const { return (time_ != nullptr ? *time_ : engine::system_time()).now(); }

    engine::time_source* time_;
    std::deque<planned> faults_;
    std::size_t applied_ = 0;
};

/// Applies the wire-level part of a fault that every service renders the same way (latency,
/// reset, reset_mid_body, slow_body, malformed_json) to `response`, sleeping for latency. Returns
/// true when `response` is complete. On false the service renders its answer into
/// `response.msg`, keeping `response.fault` (slow_body sends that answer slowly); the kinds
/// rate_limited, server_error, refusal and custom are always the service's to render. The
/// latency is slept on `time`.
engine::awaitable<bool> apply_wire_fault(const fault& f,
                                         net::server_response& response,
                                         engine::time_source& time = engine::system_time());

} // namespace companion::sim
