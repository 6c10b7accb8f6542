// What each outside service last said to the bot (issue 18, "honest health"): a plain record the
// ports write after every call and /healthz reads. A service whose credentials or model were
// refused can serve nobody until an operator acts, so it makes the bot unhealthy; a transient
// failure (a 5xx, a timeout) only shows as "failing" until the next success.
#pragma once

#include "engine/enum_text.hpp"
#include "engine/time_source.hpp"
#include "net/api_error.hpp"
#include "pipelines/video_provider.hpp"

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace companion::pipelines {

enum class service { telegram, llm, images, videos };
BOOST_DESCRIBE_ENUM(service, telegram, llm, images, videos)

enum class service_state {
    unused,  ///< not configured (videos off)
    unknown, ///< configured, not called yet
    ok,      ///< the last call succeeded
    failing, ///< the last call failed in a way that passes (5xx, transport, rate limit)
    refused, ///< the key, the token, the quota or the model was refused: an operator must act
};
BOOST_DESCRIBE_ENUM(service_state, unused, unknown, ok, failing, refused)
using engine::operator<<;
using engine::to_string;

/// How a failed call leaves its service. Errors about one request or one user (a bad request, a
/// user who blocked the bot, a content refusal) say nothing about the service: nullopt.
std::optional<service_state> state_after(const net::api_error& e) noexcept;
std::optional<service_state> state_after(const video_error& e) noexcept;

struct service_status {
    service_state state = service_state::unknown;
    std::string error{};       ///< the last failure's redacted text, kept until a success
    engine::wall_time since{}; ///< when the state began
};

class service_health {
public:
    void mark_unused(service s);
    void record_ok(service s, engine::wall_time now);
    /// Records a failure in `state` (nothing changes for a state of nullopt).
    void
    record_failure(service s, std::optional<service_state> state, std::string error, engine::wall_time now);

    const service_status& status(service s) const noexcept { return at(s); }
    /// The services nobody can be served by until an operator acts.
    std::vector<service> refused() const;

private:
    service_status& at(service s) noexcept { return statuses_[static_cast<std::size_t>(s)]; }
    const service_status& at(service s) const noexcept { return statuses_[static_cast<std::size_t>(s)]; }

    std::array<service_status, 4> statuses_{};
};

} // namespace companion::pipelines
