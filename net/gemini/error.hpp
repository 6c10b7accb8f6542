// Typed errors of the Google clients (Gemini image, Gemini Omni interactions, Veo operations):
// the google.rpc.Status body with its RetryInfo and QuotaFailure details, the Interactions
// layer's string codes, and the "model no longer available" 404 that needs an operator.
#pragma once

#include "net/error.hpp"

#include <boost/assert/source_location.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

namespace companion::net::gemini {

enum class error_kind {
    rate_limited = 1,   ///< 429 per-minute quota: retry after `retry_after` (RetryInfo)
    quota_exhausted,    ///< 429 on a per-day quota, or billing required: not within seconds
    auth,               ///< API_KEY_INVALID, 401, 403
    bad_request,        ///< 400 INVALID_ARGUMENT and friends: the request is wrong (or refused)
    not_found,          ///< 404 unknown operation/file; 400 "Invalid interaction name"
    model_gone,         ///< 404 "no longer available": the configured model was retired
    server,             ///< 500/503/504: transient
    transport,          ///< below HTTP (see `transport`)
    malformed_response, ///< a 2xx body that is not what the protocol promises
};

std::string_view to_string(error_kind kind) noexcept;
std::ostream& operator<<(std::ostream& os, error_kind kind);
const boost::system::error_category& gemini_category() noexcept;

struct error {
    error_kind kind = error_kind::server;
    unsigned status = 0;         ///< HTTP status; 0 for transport failures
    std::string code{};          ///< error.code as text: "429", or "invalid_request" (Interactions)
    std::string google_status{}; ///< "RESOURCE_EXHAUSTED", "INVALID_ARGUMENT", ...
    std::string reason{};        ///< ErrorInfo.reason ("API_KEY_INVALID"), if any
    std::string quota_id{};      ///< QuotaFailure quotaId, if any
    std::string message{};       ///< redacted and truncated, safe to log
    std::optional<std::chrono::milliseconds> retry_after{};
    std::optional<net::failure> transport{};

    bool retryable() const noexcept;
};

std::ostream& operator<<(std::ostream& os, const error& e);

inline boost::system::error_code make_error_code(error_kind k) noexcept {
    return {static_cast<int>(k), gemini_category()};
}

[[noreturn]] void throw_exception_from_error(const error& e, const boost::source_location& loc);

template <class T>
using result = boost::system::result<T, error>;

/// Classifies a non-2xx response: `{"error":{code,message,status,details}}`, also wrapped in
/// `[ ... ]`, the Interactions layer's string codes, and bodies that are not JSON.
error parse_error(unsigned status, std::string_view body);

/// A protobuf Duration as JSON writes it: "12s", "2.500s", "0.5s".
std::optional<std::chrono::milliseconds> parse_proto_duration(std::string_view text);

error from_failure(const net::failure& f);
error malformed(unsigned status, std::string_view what);

} // namespace companion::net::gemini

template <>
struct boost::system::is_error_code_enum<companion::net::gemini::error_kind> : std::true_type {};
