// Google error kinds onto video_error_kind.
#include "pipelines/providers/gemini_errors.hpp"

#include "pipelines/providers/common.hpp"

namespace companion::pipelines::providers {

video_error to_video_error(const net::gemini::error& e, call_stage at) {
    namespace g = net::gemini;
    video_error out;
    out.message = e.message;
    if (!e.google_status.empty() && out.message.find(e.google_status) == std::string::npos) {
        out.message = e.google_status + ": " + out.message;
    }
    if (e.status != 0) {
        out.message = "HTTP " + std::to_string(e.status) + " " + out.message;
    }
    switch (e.kind) {
    case g::error_kind::rate_limited:
        out.kind = video_error_kind::rate_limited;
        out.retry_after = e.retry_after;
        break;
    case g::error_kind::quota_exhausted:
        out.kind = video_error_kind::quota;
        break;
    case g::error_kind::auth:
        out.kind = video_error_kind::auth;
        break;
    case g::error_kind::bad_request:
        out.kind = mentions_refusal(e.message) || mentions_refusal(e.reason) ? video_error_kind::refused
                                                                             : video_error_kind::bad_request;
        break;
    case g::error_kind::not_found:
        out.kind = at == call_stage::submit     ? video_error_kind::model_gone
                   : at == call_stage::download ? video_error_kind::expired
                                                : video_error_kind::failed;
        break;
    case g::error_kind::model_gone:
        out.kind = video_error_kind::model_gone;
        break;
    case g::error_kind::server:
        if (at == call_stage::submit && e.status == 504) {
            out.kind = video_error_kind::unknown_outcome; // DEADLINE_EXCEEDED: it may have started
        } else {
            out.kind = video_error_kind::transient;
            out.retry_after = e.retry_after;
        }
        break;
    case g::error_kind::transport:
        out.kind = at == call_stage::submit && e.transport && e.transport->request_sent
                       ? video_error_kind::unknown_outcome
                       : video_error_kind::transient;
        break;
    case g::error_kind::malformed_response:
        out.kind = at == call_stage::submit ? video_error_kind::unknown_outcome : video_error_kind::transient;
        break;
    }
    return out;
}

} // namespace companion::pipelines::providers
