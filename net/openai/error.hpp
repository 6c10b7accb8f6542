// Typed errors of the OpenAI-shaped clients (chat completions and the videos protocol, including
// the gateways and compatible servers that speak them): one struct for every way a call can end
// without a result, with the retry hint the provider gave, so pipelines decide about retries.
#pragma once

#include "net/error.hpp"

#include <boost/assert/source_location.hpp>
#include <boost/beast/http/fields.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

namespace companion::net::openai {

enum class error_kind {
    rate_limited = 1,   ///< 429 rate_limit_exceeded: retry after `retry_after`
    quota_exhausted,    ///< insufficient_quota, billing codes, OpenRouter 402: never retry, alert
    auth,               ///< 401/403: bad key, region, project without access
    bad_request,        ///< 400/413/422: the request is wrong (bad seconds, size, reference, ...)
    context_length,     ///< context_length_exceeded: trim the history, then retry once
    not_found,          ///< 404: unknown model or job id
    server,             ///< 5xx, 408, 409: transient, retry with backoff
    transport,          ///< the exchange failed below HTTP (see `transport`)
    malformed_response, ///< a 2xx whose body is not what the protocol promises
};

std::string_view to_string(error_kind kind) noexcept;
std::ostream& operator<<(std::ostream& os, error_kind kind);

const boost::system::error_category& openai_category() noexcept;

struct error {
    error_kind kind = error_kind::server;
    unsigned status = 0;      ///< HTTP status; 0 for transport failures
    std::string code{};       ///< provider code ("rate_limit_exceeded", or a number as text); may be empty
    std::string type{};       ///< provider type ("invalid_request_error", ...); may be empty
    std::string message{};    ///< redacted and truncated provider text, safe to log
    std::string request_id{}; ///< x-request-id, for support tickets
    std::optional<std::chrono::milliseconds> retry_after{};
    std::optional<net::failure> transport{}; ///< set for error_kind::transport

    /// Whether retrying the same request later can succeed (rate limits, 5xx, transport).
    bool retryable() const noexcept;
};

std::ostream& operator<<(std::ostream& os, const error& e);

inline boost::system::error_code make_error_code(error_kind k) noexcept {
    return {static_cast<int>(k), openai_category()};
}

[[noreturn]] void throw_exception_from_error(const error& e, const boost::source_location& loc);

template <class T>
using result = boost::system::result<T, error>;

/// Classifies a non-2xx response (or an error carried inside a 2xx body). Understands OpenAI's
/// `{"error":{message,type,param,code}}`, OpenRouter's numeric `code`, vLLM's unwrapped
/// `{"object":"error",...}` and bodies that are not JSON at all.
error parse_error(unsigned status, std::string_view body, const boost::beast::http::fields& headers);

/// The wait a 429 asks for: `retry-after-ms`, then `retry-after` (seconds), then the
/// `x-ratelimit-reset-*` bucket that is empty (or the longer one when neither says).
std::optional<std::chrono::milliseconds> parse_retry_after(const boost::beast::http::fields& headers);

/// Go-style durations as in `x-ratelimit-reset-*`: "12ms", "1s", "6m0s", "1h2m3.5s".
std::optional<std::chrono::milliseconds> parse_go_duration(std::string_view text);

/// A transport failure as an error of this family.
error from_failure(const net::failure& f);

/// A malformed 2xx body.
error malformed(unsigned status, std::string_view what, const boost::beast::http::fields& headers);

} // namespace companion::net::openai

template <>
struct boost::system::is_error_code_enum<companion::net::openai::error_kind> : std::true_type {};
