// What each outside service last said.
#include "pipelines/service_health.hpp"

namespace companion::pipelines {

std::optional<service_state> state_after(const net::api_error& e) noexcept {
    using k = net::api_error_kind;
    switch (e.kind) {
    case k::unauthorized:
    case k::quota_exhausted:
    case k::model_gone:
        return service_state::refused;
    case k::transport:
    case k::server:
    case k::rate_limited:
    case k::malformed_response:
    case k::conflict: // another instance polls: Telegram serves the other one
        return service_state::failing;
    case k::forbidden: // one user blocked the bot
    case k::not_found:
    case k::bad_request:
    case k::too_large:
    case k::context_length:
    case k::not_modified:
    case k::query_too_old:
    case k::message_to_edit_not_found:
        return std::nullopt;
    }
    return std::nullopt;
}

std::optional<service_state> state_after(const video_error& e) noexcept {
    switch (e.kind) {
    case video_error_kind::auth:
    case video_error_kind::quota:
    case video_error_kind::model_gone:
        return service_state::refused;
    case video_error_kind::rate_limited:
    case video_error_kind::transient:
    case video_error_kind::unknown_outcome:
        return service_state::failing;
    case video_error_kind::refused:
    case video_error_kind::bad_request:
    case video_error_kind::expired:
    case video_error_kind::failed:
        return std::nullopt;
    }
    return std::nullopt;
}

void service_health::mark_unused(service s) {
    at(s) = {service_state::unused, {}, {}};
}

void service_health::record_ok(service s, engine::wall_time now) {
    auto& st = at(s);
    if (st.state != service_state::ok) {
        st = {service_state::ok, {}, now};
    }
}

void service_health::record_failure(service s,
                                    std::optional<service_state> state,
                                    std::string error,
                                    engine::wall_time now) {
    if (!state) {
        return;
    }
    auto& st = at(s);
    if (st.state != *state) {
        st.since = now;
    }
    st.state = *state;
    st.error = std::move(error);
}

std::vector<service> service_health::refused() const {
    std::vector<service> out;
    for (auto s : {service::telegram, service::llm, service::images, service::videos}) {
        if (at(s).state == service_state::refused) {
            out.push_back(s);
        }
    }
    return out;
}

} // namespace companion::pipelines
