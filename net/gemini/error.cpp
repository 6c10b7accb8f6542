// Classification of Google API errors and their retry hints.
#include "net/gemini/error.hpp"

#include "engine/log.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <boost/system/system_error.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <ostream>

namespace companion::net::gemini {
namespace {

constexpr std::size_t max_message = 500;

class category final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "companion.gemini"; }
    std::string message(int ev) const override { return std::string(to_string(static_cast<error_kind>(ev))); }
};

std::string clean_message(std::string_view text) {
    std::string out = engine::secrets().redact(text.substr(0, max_message * 2));
    if (out.size() > max_message) {
        out.resize(max_message);
        out += "...";
    }
    return out;
}

std::string text_of(const boost::json::value* v) {
    if (v == nullptr || v->is_null()) {
        return {};
    }
    if (v->is_string()) {
        return std::string(v->as_string());
    }
    if (v->is_int64()) {
        return std::to_string(v->as_int64());
    }
    if (v->is_uint64()) {
        return std::to_string(v->as_uint64());
    }
    return {};
}

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

std::string_view to_string(error_kind kind) noexcept {
    switch (kind) {
    case error_kind::rate_limited:
        return "rate_limited";
    case error_kind::quota_exhausted:
        return "quota_exhausted";
    case error_kind::auth:
        return "auth";
    case error_kind::bad_request:
        return "bad_request";
    case error_kind::not_found:
        return "not_found";
    case error_kind::model_gone:
        return "model_gone";
    case error_kind::server:
        return "server";
    case error_kind::transport:
        return "transport";
    case error_kind::malformed_response:
        return "malformed_response";
    }
    return "unknown";
}

std::ostream& operator<<(std::ostream& os, error_kind kind) {
    return os << to_string(kind);
}

const boost::system::error_category& gemini_category() noexcept {
    static const category c;
    return c;
}

bool error::retryable() const noexcept {
    return kind == error_kind::rate_limited || kind == error_kind::server || kind == error_kind::transport;
}

std::ostream& operator<<(std::ostream& os, const error& e) {
    os << "gemini." << e.kind << " status=" << e.status;
    if (!e.google_status.empty()) {
        os << ' ' << e.google_status;
    }
    if (e.retry_after) {
        os << " retry_after_ms=" << e.retry_after->count();
    }
    return os << " message=\"" << e.message << '"';
}

void throw_exception_from_error(const error& e, const boost::source_location&) {
    throw boost::system::system_error(make_error_code(e.kind), engine::secrets().redact(e.message));
}

std::optional<std::chrono::milliseconds> parse_proto_duration(std::string_view text) {
    if (text.size() < 2 || text.back() != 's') {
        return std::nullopt;
    }
    text.remove_suffix(1);
    double seconds = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
    if (ec != std::errc{} || p != text.data() + text.size() || !std::isfinite(seconds) || seconds < 0) {
        return std::nullopt;
    }
    // A hint beyond a year is nonsense; saturating there also keeps the conversion to an integer
    // defined (a huge value was undefined behaviour, found by fuzzing).
    constexpr double max_hint_seconds = 365.0 * 24 * 3600;
    return std::chrono::milliseconds(
        static_cast<std::int64_t>(std::ceil(std::min(seconds, max_hint_seconds) * 1000)));
}

error parse_error(unsigned status, std::string_view body) {
    error e;
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
        e.code = text_of(err->if_contains("code"));
        e.message = clean_message(text_of(err->if_contains("message")));
        e.google_status = text_of(err->if_contains("status"));
        if (const auto* details = err->if_contains("details"); details && details->is_array()) {
            for (const auto& d : details->as_array()) {
                const auto* o = d.if_object();
                if (o == nullptr) {
                    continue;
                }
                const std::string type = text_of(o->if_contains("@type"));
                if (type.ends_with("google.rpc.RetryInfo")) {
                    e.retry_after = parse_proto_duration(text_of(o->if_contains("retryDelay")));
                } else if (type.ends_with("google.rpc.ErrorInfo")) {
                    e.reason = text_of(o->if_contains("reason"));
                } else if (type.ends_with("google.rpc.QuotaFailure")) {
                    if (const auto* vs = o->if_contains("violations"); vs && vs->is_array()) {
                        for (const auto& q : vs->as_array()) {
                            if (q.is_object() && e.quota_id.empty()) {
                                e.quota_id = text_of(q.as_object().if_contains("quotaId"));
                            }
                        }
                    }
                }
            }
        }
    } else {
        e.message = clean_message(body.substr(0, 200));
    }
    if (!e.retry_after && status == 429) {
        e.retry_after = delay_in_message(e.message);
    }
    if (status == 404 && contains(e.message, "no longer available")) {
        e.kind = error_kind::model_gone;
    } else if (status == 404 || contains(e.message, "Invalid interaction name")) {
        e.kind = error_kind::not_found;
    } else if (status == 429) {
        // A per-day quota resets at midnight Pacific: retrying in seconds only burns requests.
        e.kind = contains(e.quota_id, "PerDay") ? error_kind::quota_exhausted : error_kind::rate_limited;
    } else if (status == 401 || status == 403 || e.reason == "API_KEY_INVALID" ||
               e.google_status == "UNAUTHENTICATED" || e.google_status == "PERMISSION_DENIED") {
        e.kind = error_kind::auth;
    } else if (status == 400 && e.google_status == "FAILED_PRECONDITION") {
        e.kind = error_kind::quota_exhausted; // free tier unavailable here / billing required
    } else if (status >= 500 || status == 408) {
        e.kind = error_kind::server;
    } else {
        e.kind = error_kind::bad_request;
    }
    return e;
}

error from_failure(const net::failure& f) {
    if (f.code == net::errc::http_status && f.status != 0) {
        return parse_error(f.status, f.body); // a download answered with an API error
    }
    error e;
    e.kind = error_kind::transport;
    e.status = f.status;
    e.message = clean_message(f.message());
    e.transport = f;
    return e;
}

error malformed(unsigned status, std::string_view what) {
    error e;
    e.kind = error_kind::malformed_response;
    e.status = status;
    e.message = clean_message(what);
    return e;
}

} // namespace companion::net::gemini
