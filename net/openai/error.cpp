// Error classification for the OpenAI-shaped protocols: the body shapes of OpenAI, OpenRouter and
// vLLM, and the retry hints in OpenAI's headers.
#include "net/openai/error.hpp"

#include "net/detail/client_support.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <array>
#include <cctype>

namespace companion::net::openai {
namespace {

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

api_error_kind classify(unsigned status, const api_error& e) {
    if (is_quota_code(e.code) || is_quota_code(e.type) || status == 402) {
        return api_error_kind::quota_exhausted;
    }
    if (e.code == "context_length_exceeded" || e.code == "string_above_max_length" ||
        contains(e.detail, "maximum context length") || contains(e.detail, "context_length_exceeded")) {
        return api_error_kind::context_length;
    }
    if (status == 429) {
        return api_error_kind::rate_limited;
    }
    if (status == 401 || status == 403) {
        return api_error_kind::unauthorized;
    }
    if (status == 404 || e.code == "model_not_found") {
        return api_error_kind::not_found;
    }
    if (status >= 500 || status == 408 || status == 409) {
        return api_error_kind::server; // 408/409 are transient too (OpenAI's SDK retries them)
    }
    return api_error_kind::bad_request;
}

} // namespace

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
        auto number = detail::parse_non_negative(text.substr(0, n));
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
    return detail::wait_hint(total_ms);
}

std::optional<std::chrono::milliseconds> parse_retry_after(const boost::beast::http::fields& headers) {
    if (auto ms = detail::parse_non_negative(detail::header_value(headers, "retry-after-ms"))) {
        return detail::wait_hint(*ms);
    }
    if (auto s = detail::parse_non_negative(detail::header_value(headers, "retry-after"))) {
        return detail::wait_hint(*s * 1000);
    }
    // No explicit hint: the bucket that ran dry says how long; when neither is marked empty, wait
    // for the later one rather than hammering a limit we cannot see.
    const auto requests = parse_go_duration(detail::header_value(headers, "x-ratelimit-reset-requests"));
    const auto tokens = parse_go_duration(detail::header_value(headers, "x-ratelimit-reset-tokens"));
    if (detail::header_value(headers, "x-ratelimit-remaining-requests") == "0" && requests) {
        return requests;
    }
    if (detail::header_value(headers, "x-ratelimit-remaining-tokens") == "0" && tokens) {
        return tokens;
    }
    if (requests && tokens) {
        return std::max(*requests, *tokens);
    }
    return requests ? requests : tokens;
}

api_error parse_error(unsigned status, std::string_view body, const boost::beast::http::fields& headers) {
    api_error e;
    e.api = "openai";
    e.status = status;
    e.request_id = detail::header_value(headers, "x-request-id");
    boost::system::error_code ec;
    const auto v = boost::json::parse(body, ec);
    const boost::json::object* fields = nullptr;
    if (!ec && v.is_object()) {
        const auto& o = v.as_object();
        if (const auto* inner = o.if_contains("error"); inner && inner->is_object()) {
            fields = &inner->as_object(); // OpenAI and OpenRouter
        } else if (const auto* inner_text = o.if_contains("error"); inner_text && inner_text->is_string()) {
            e.detail = net::redacted_text(std::string_view(inner_text->as_string()));
        } else if (o.contains("message")) {
            fields = &o; // vLLM: {"object":"error","message":...,"code":400}
        }
    }
    if (fields != nullptr) {
        e.detail = net::redacted_text(detail::json_text(fields->if_contains("message")));
        e.type = detail::json_text(fields->if_contains("type"));
        e.code = detail::json_text(fields->if_contains("code"));
        // OpenRouter reports errors that happened after generation started inside HTTP 200, with
        // the real status as the numeric code.
        if (const auto* c = fields->if_contains("code"); c && (c->is_int64() || c->is_uint64())) {
            const auto n = c->to_number<std::int64_t>();
            if ((e.status < 400) && n >= 400 && n < 600) {
                e.status = static_cast<unsigned>(n);
            }
        }
    } else if (e.detail.empty()) {
        e.detail = net::redacted_text(body.substr(0, 200));
    }
    if (e.status < 400) {
        e.status = 502; // an error object without a usable status: an upstream failure
    }
    e.kind = classify(e.status, e);
    if (e.kind == api_error_kind::rate_limited || e.kind == api_error_kind::server) {
        e.retry_after = parse_retry_after(headers);
    }
    return e;
}

api_error from_failure(const net::failure& f) {
    return net::transport_error("openai", {}, f);
}

api_error malformed(unsigned status, std::string_view what, const boost::beast::http::fields& headers) {
    api_error e = net::malformed_response("openai", {}, status, what);
    e.request_id = detail::header_value(headers, "x-request-id");
    return e;
}

} // namespace companion::net::openai
