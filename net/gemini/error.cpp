// Classification of Google API errors and their retry hints.
#include "net/gemini/error.hpp"

#include "net/detail/client_support.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <cctype>

namespace companion::net::gemini {
namespace {

bool contains(std::string_view text, std::string_view word) {
    return text.find(word) != std::string_view::npos;
}

// "Please retry in 12.59s." — some 429s carry the delay only in the message.
std::optional<std::chrono::milliseconds> delay_in_message(std::string_view message) {
    const auto at = message.find("retry in ");
    if (at == std::string_view::npos) {
        return std::nullopt;
    }
    std::string_view rest = message.substr(at + 9);
    std::size_t n = 0;
    while (n < rest.size() && (std::isdigit(static_cast<unsigned char>(rest[n])) || rest[n] == '.')) {
        ++n;
    }
    if (n == 0 || n >= rest.size() || rest[n] != 's') {
        return std::nullopt;
    }
    return parse_proto_duration(rest.substr(0, n + 1));
}

} // namespace

std::optional<std::chrono::milliseconds> parse_proto_duration(std::string_view text) {
    if (text.size() < 2 || text.back() != 's') {
        return std::nullopt;
    }
    text.remove_suffix(1);
    const auto seconds = detail::parse_non_negative(text);
    if (!seconds) {
        return std::nullopt;
    }
    return detail::wait_hint(*seconds * 1000);
}

api_error parse_error(unsigned status, std::string_view body) {
    api_error e;
    e.api = "gemini";
    e.status = status;
    boost::system::error_code ec;
    auto v = boost::json::parse(body, ec);
    if (!ec && v.is_array() && !v.as_array().empty()) {
        boost::json::value first = v.as_array().front(); // some front ends wrap the error in [ ]
        v = std::move(first);
    }
    const boost::json::object* err = nullptr;
    if (!ec && v.is_object()) {
        if (const auto* inner = v.as_object().if_contains("error"); inner && inner->is_object()) {
            err = &inner->as_object();
        }
    }
    if (err != nullptr) {
        e.code = detail::json_text(err->if_contains("code"));
        e.detail = net::redacted_text(detail::json_text(err->if_contains("message")));
        e.google_status = detail::json_text(err->if_contains("status"));
        if (const auto* details = err->if_contains("details"); details && details->is_array()) {
            for (const auto& d : details->as_array()) {
                const auto* o = d.if_object();
                if (o == nullptr) {
                    continue;
                }
                const std::string type = detail::json_text(o->if_contains("@type"));
                if (type.ends_with("google.rpc.RetryInfo")) {
                    e.retry_after = parse_proto_duration(detail::json_text(o->if_contains("retryDelay")));
                } else if (type.ends_with("google.rpc.ErrorInfo")) {
                    e.reason = detail::json_text(o->if_contains("reason"));
                } else if (type.ends_with("google.rpc.QuotaFailure")) {
                    if (const auto* vs = o->if_contains("violations"); vs && vs->is_array()) {
                        for (const auto& q : vs->as_array()) {
                            if (q.is_object() && e.quota_id.empty()) {
                                e.quota_id = detail::json_text(q.as_object().if_contains("quotaId"));
                            }
                        }
                    }
                }
            }
        }
    } else {
        e.detail = net::redacted_text(body.substr(0, 200));
    }
    if (!e.retry_after && status == 429) {
        e.retry_after = delay_in_message(e.detail);
    }
    if (status == 404 && contains(e.detail, "no longer available")) {
        e.kind = api_error_kind::model_gone;
    } else if (status == 404 || contains(e.detail, "Invalid interaction name")) {
        e.kind = api_error_kind::not_found;
    } else if (status == 429) {
        // A per-day quota resets at midnight Pacific: retrying in seconds only burns requests.
        e.kind =
            contains(e.quota_id, "PerDay") ? api_error_kind::quota_exhausted : api_error_kind::rate_limited;
    } else if (status == 401 || status == 403 || e.reason == "API_KEY_INVALID" ||
               e.google_status == "UNAUTHENTICATED" || e.google_status == "PERMISSION_DENIED") {
        e.kind = api_error_kind::unauthorized;
    } else if (status == 400 && e.google_status == "FAILED_PRECONDITION") {
        e.kind = api_error_kind::quota_exhausted; // free tier unavailable here / billing required
    } else if (status >= 500 || status == 408) {
        e.kind = api_error_kind::server;
    } else {
        e.kind = api_error_kind::bad_request;
    }
    return e;
}

api_error from_failure(const net::failure& f) {
    if (f.code == net::errc::http_status && f.status != 0) {
        return parse_error(f.status, f.body); // a download answered with an API error
    }
    return net::transport_error("gemini", {}, f);
}

api_error malformed(unsigned status, std::string_view what) {
    return net::malformed_response("gemini", {}, status, what);
}

} // namespace companion::net::gemini
