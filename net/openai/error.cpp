// Error classification for the OpenAI-shaped protocols: the body shapes of OpenAI, OpenRouter and
// vLLM, and the retry hints in OpenAI's headers.
#include "net/openai/error.hpp"

#include "engine/log.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <boost/system/system_error.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <ostream>

namespace companion::net::openai {
namespace {

constexpr std::size_t max_message = 500;

class category final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "companion.openai"; }
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

std::string json_text(const boost::json::value* v) {
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
    if (v->is_double()) {
        return std::to_string(static_cast<long long>(v->as_double()));
    }
    return {};
}

bool is_quota_code(std::string_view code) {
    static constexpr std::array<std::string_view, 7> codes{
        "insufficient_quota",
        "billing_hard_limit_reached",
        "billing_not_active",
        "credit_balance_exhausted",
        "organization_spend_limit_exceeded",
        "project_spend_limit_exceeded",
        "access_terminated",
    };
    return std::find(codes.begin(), codes.end(), code) != codes.end();
}

bool contains(std::string_view text, std::string_view word) {
    return text.find(word) != std::string_view::npos;
}

error_kind classify(unsigned status, const error& e) {
    if (is_quota_code(e.code) || is_quota_code(e.type) || status == 402) {
        return error_kind::quota_exhausted;
    }
    if (e.code == "context_length_exceeded" || e.code == "string_above_max_length" ||
        contains(e.message, "maximum context length") || contains(e.message, "context_length_exceeded")) {
        return error_kind::context_length;
    }
    if (status == 429) {
        return error_kind::rate_limited;
    }
    if (status == 401 || status == 403) {
        return error_kind::auth;
    }
    if (status == 404 || e.code == "model_not_found") {
        return error_kind::not_found;
    }
    if (status >= 500 || status == 408 || status == 409) {
        return error_kind::server; // 408/409 are transient too (OpenAI's SDK retries them)
    }
    return error_kind::bad_request;
}

std::optional<double> parse_number(std::string_view text) {
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
        text.remove_prefix(1);
    }
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
        text.remove_suffix(1);
    }
    double v = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc{} || p != text.data() + text.size() || !std::isfinite(v) || v < 0) {
        return std::nullopt;
    }
    return v;
}

// A hint beyond a year is nonsense from the server; saturating there also keeps the double to
// integer conversion defined (a huge "retry-after" was undefined behaviour, found by fuzzing).
std::chrono::milliseconds ms_ceil(double ms) {
    constexpr double max_hint_ms = 365.0 * 24 * 3600 * 1000;
    return std::chrono::milliseconds(static_cast<std::int64_t>(std::ceil(std::min(ms, max_hint_ms))));
}

std::string header(const boost::beast::http::fields& h, std::string_view name) {
    auto it = h.find(name);
    return it == h.end() ? std::string() : std::string(it->value());
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
    case error_kind::context_length:
        return "context_length";
    case error_kind::not_found:
        return "not_found";
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

const boost::system::error_category& openai_category() noexcept {
    static const category c;
    return c;
}

bool error::retryable() const noexcept {
    return kind == error_kind::rate_limited || kind == error_kind::server || kind == error_kind::transport;
}

std::ostream& operator<<(std::ostream& os, const error& e) {
    os << "openai." << e.kind << " status=" << e.status;
    if (!e.code.empty()) {
        os << " code=" << e.code;
    }
    if (e.retry_after) {
        os << " retry_after_ms=" << e.retry_after->count();
    }
    return os << " message=\"" << e.message << '"';
}

void throw_exception_from_error(const error& e, const boost::source_location&) {
    throw boost::system::system_error(make_error_code(e.kind), engine::secrets().redact(e.message));
}

std::optional<std::chrono::milliseconds> parse_go_duration(std::string_view text) {
    if (text.empty()) {
        return std::nullopt;
    }
    double total_ms = 0;
    while (!text.empty()) {
        std::size_t n = 0;
        while (n < text.size() && (std::isdigit(static_cast<unsigned char>(text[n])) || text[n] == '.')) {
            ++n;
        }
        auto number = parse_number(text.substr(0, n));
        if (n == 0 || !number) {
            return std::nullopt;
        }
        text.remove_prefix(n);
        std::size_t u = 0;
        while (u < text.size() && !std::isdigit(static_cast<unsigned char>(text[u])) && text[u] != '.') {
            ++u;
        }
        const std::string_view unit = text.substr(0, u);
        text.remove_prefix(u);
        double scale = 0;
        if (unit == "h") {
            scale = 3'600'000;
        } else if (unit == "m") {
            scale = 60'000;
        } else if (unit == "s") {
            scale = 1'000;
        } else if (unit == "ms") {
            scale = 1;
        } else if (unit == "us" || unit == "\xc2\xb5s") {
            scale = 0.001;
        } else if (unit == "ns") {
            scale = 0.000001;
        } else {
            return std::nullopt;
        }
        total_ms += *number * scale;
    }
    return ms_ceil(total_ms);
}

std::optional<std::chrono::milliseconds> parse_retry_after(const boost::beast::http::fields& headers) {
    if (auto ms = parse_number(header(headers, "retry-after-ms"))) {
        return ms_ceil(*ms);
    }
    if (auto s = parse_number(header(headers, "retry-after"))) {
        return ms_ceil(*s * 1000);
    }
    // No explicit hint: the bucket that ran dry says how long; when neither is marked empty, wait
    // for the later one rather than hammering a limit we cannot see.
    const auto requests = parse_go_duration(header(headers, "x-ratelimit-reset-requests"));
    const auto tokens = parse_go_duration(header(headers, "x-ratelimit-reset-tokens"));
    if (header(headers, "x-ratelimit-remaining-requests") == "0" && requests) {
        return requests;
    }
    if (header(headers, "x-ratelimit-remaining-tokens") == "0" && tokens) {
        return tokens;
    }
    if (requests && tokens) {
        return std::max(*requests, *tokens);
    }
    return requests ? requests : tokens;
}

error parse_error(unsigned status, std::string_view body, const boost::beast::http::fields& headers) {
    error e;
    e.status = status;
    e.request_id = header(headers, "x-request-id");
    boost::system::error_code ec;
    const auto v = boost::json::parse(body, ec);
    const boost::json::object* fields = nullptr;
    if (!ec && v.is_object()) {
        const auto& o = v.as_object();
        if (const auto* inner = o.if_contains("error"); inner && inner->is_object()) {
            fields = &inner->as_object(); // OpenAI and OpenRouter
        } else if (const auto* inner_text = o.if_contains("error"); inner_text && inner_text->is_string()) {
            e.message = clean_message(std::string_view(inner_text->as_string()));
        } else if (o.contains("message")) {
            fields = &o; // vLLM: {"object":"error","message":...,"code":400}
        }
    }
    if (fields != nullptr) {
        e.message = clean_message(json_text(fields->if_contains("message")));
        e.type = json_text(fields->if_contains("type"));
        e.code = json_text(fields->if_contains("code"));
        // OpenRouter reports errors that happened after generation started inside HTTP 200, with
        // the real status as the numeric code.
        if (const auto* c = fields->if_contains("code"); c && (c->is_int64() || c->is_uint64())) {
            const auto n = c->to_number<std::int64_t>();
            if ((e.status < 400) && n >= 400 && n < 600) {
                e.status = static_cast<unsigned>(n);
            }
        }
    } else if (e.message.empty()) {
        e.message = clean_message(body.substr(0, 200));
    }
    if (e.status < 400) {
        e.status = 502; // an error object without a usable status: an upstream failure
    }
    e.kind = classify(e.status, e);
    if (e.kind == error_kind::rate_limited || e.kind == error_kind::server) {
        e.retry_after = parse_retry_after(headers);
    }
    return e;
}

error from_failure(const net::failure& f) {
    error e;
    e.kind = error_kind::transport;
    e.status = f.status;
    e.message = clean_message(f.message());
    e.transport = f;
    return e;
}

error malformed(unsigned status, std::string_view what, const boost::beast::http::fields& headers) {
    error e;
    e.kind = error_kind::malformed_response;
    e.status = status;
    e.message = clean_message(what);
    e.request_id = header(headers, "x-request-id");
    return e;
}

} // namespace companion::net::openai
