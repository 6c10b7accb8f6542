// What the typed API clients in net/ share below their protocols: reading JSON scalars and
// headers leniently, base URLs, the phase deadlines of one call, and server wait hints.
// Internal to net/ (its clients and their tests).
#pragma once

#include "engine/clock.hpp"
#include "net/http_client.hpp"

#include <boost/beast/http/fields.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace companion::net::detail {

/// A JSON scalar as text: a string as it is, a number in decimal (rounded), else "".
std::string json_text(const boost::json::value* v);

/// A JSON number, or a string holding one, as an integer (rounded); nullopt otherwise.
std::optional<std::int64_t> json_int(const boost::json::value* v);

/// The rule json_int applies (shared with the streamed reader of net/detail/json_fields): the
/// number a JSON string holds whole ("12", "3.5"), nullopt when it holds anything else...
std::optional<double> number_in_text(std::string_view text);
/// ...and a number rounded to an int64, nullopt when not finite or outside int64 (where a
/// rounding is meaningless and llround's result unspecified).
std::optional<std::int64_t> rounded_int(double v) noexcept;

/// A header's value, "" when absent.
std::string header_value(const boost::beast::http::fields& headers, std::string_view name);

/// `url` without trailing slashes, so paths are appended with exactly one.
std::string without_trailing_slash(std::string url);

/// A client's base URL without trailing slashes; registers its key (when set) with the log
/// redactor first, so no log line or error text can show it.
std::string client_base_url(std::string base_url, std::string_view api_key);

/// The deadlines of one API call: connecting and the TLS handshake share `connect`.
phase_timeouts
call_timeouts(engine::duration connect, engine::duration response_header, engine::duration body);

/// What every call of a client carries, from its configuration: `method`, `url`, the deadlines
/// (connect_timeout, response_timeout, body_timeout) and the response body limit (body_limit, when
/// the configuration has one). Authorization and content headers are the client's.
template <class Config>
request api_request(http::verb method, std::string url, const Config& cfg) {
    request r;
    r.method = method;
    r.url = std::move(url);
    r.timeouts = call_timeouts(cfg.connect_timeout, cfg.response_timeout, cfg.body_timeout);
    if constexpr (requires { cfg.body_limit; }) {
        r.body_limit = cfg.body_limit;
    }
    return r;
}

/// Whether `value` is one of `allowed`; an empty list allows everything (the configuration left
/// the choice to the provider).
template <class T, class U>
bool allowed(const std::vector<T>& choices, const U& value) {
    return choices.empty() || std::find(choices.begin(), choices.end(), value) != choices.end();
}

/// A non-negative, finite decimal number, blanks around it allowed.
std::optional<double> parse_non_negative(std::string_view text);

/// A server's wait hint rounded up to whole milliseconds. A hint beyond a year is nonsense;
/// saturating there also keeps the conversion to an integer defined (a huge hint was undefined
/// behaviour, found by fuzzing).
std::chrono::milliseconds wait_hint(double milliseconds);

} // namespace companion::net::detail
