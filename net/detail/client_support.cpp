// Lenient JSON and header reading, base URLs, deadlines and wait hints for the API clients.
#include "net/detail/client_support.hpp"

#include "engine/log.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>

namespace companion::net::detail {

std::string json_text(const boost::json::value* v) {
    if (v == nullptr || v->is_null()) {
        return {};
    }
    if (v->is_string()) {
        return std::string(v->as_string());
    }
    if (v->is_number()) {
        if (auto n = json_int(v)) {
            return std::to_string(*n);
        }
    }
    return {};
}

std::optional<std::int64_t> json_int(const boost::json::value* v) {
    if (v == nullptr) {
        return std::nullopt;
    }
    if (v->is_int64()) {
        return v->as_int64();
    }
    if (v->is_uint64()) {
        return static_cast<std::int64_t>(v->as_uint64());
    }
    if (v->is_double()) {
        return rounded_int(v->as_double());
    }
    if (v->is_string()) {
        const auto d = number_in_text(v->as_string());
        return d ? rounded_int(*d) : std::nullopt;
    }
    return std::nullopt;
}

std::optional<double> number_in_text(std::string_view text) {
    const std::string s(text); // strtod needs the terminator
    char* end = nullptr;
    const double d = std::strtod(s.c_str(), &end);
    if (end == s.c_str() || *end != '\0') {
        return std::nullopt;
    }
    return d;
}

std::optional<std::int64_t> rounded_int(double v) noexcept {
    if (!std::isfinite(v) || std::fabs(v) >= 9.2e18) {
        return std::nullopt;
    }
    return static_cast<std::int64_t>(std::llround(v));
}

std::string header_value(const boost::beast::http::fields& headers, std::string_view name) {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : std::string(it->value());
}

std::string without_trailing_slash(std::string url) {
    while (!url.empty() && url.back() == '/') {
        url.pop_back();
    }
    return url;
}

std::string client_base_url(std::string base_url, std::string_view api_key) {
    if (!api_key.empty()) {
        engine::secrets().add_secret(api_key);
    }
    return without_trailing_slash(std::move(base_url));
}

phase_timeouts
call_timeouts(engine::duration connect, engine::duration response_header, engine::duration body) {
    phase_timeouts t;
    t.connect = connect;
    t.tls_handshake = connect;
    t.response_header = response_header;
    t.body = body;
    return t;
}

std::optional<double> parse_non_negative(std::string_view text) {
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

std::chrono::milliseconds wait_hint(double milliseconds) {
    constexpr double max_hint_ms = 365.0 * 24 * 3600 * 1000;
    return std::chrono::milliseconds(
        static_cast<std::int64_t>(std::ceil(std::min(milliseconds, max_hint_ms))));
}

} // namespace companion::net::detail
