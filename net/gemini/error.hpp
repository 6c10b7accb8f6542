// The classifier of the Google clients (Gemini image, Gemini Omni interactions, Veo operations):
// the google.rpc.Status body with its RetryInfo, ErrorInfo and QuotaFailure details, the
// Interactions layer's string codes, and the "model no longer available" 404 that needs an
// operator, onto net::api_error.
#pragma once

#include "net/api_error.hpp"

#include <chrono>
#include <optional>
#include <string_view>

namespace companion::net::gemini {

template <class T>
using result = net::api_result<T>;

/// Classifies a non-2xx response: `{"error":{code,message,status,details}}`, also wrapped in
/// `[ ... ]`, the Interactions layer's string codes, and bodies that are not JSON. A 429 on a
/// per-day quota (or a 400 FAILED_PRECONDITION: billing required) is quota_exhausted; 401, 403,
/// API_KEY_INVALID, UNAUTHENTICATED and PERMISSION_DENIED are unauthorized.
api_error parse_error(unsigned status, std::string_view body);

/// A protobuf Duration as JSON writes it: "12s", "2.500s", "0.5s".
std::optional<std::chrono::milliseconds> parse_proto_duration(std::string_view text);

/// A transport failure; a download answered with an API error body is classified as one.
api_error from_failure(const net::failure& f);
api_error malformed(unsigned status, std::string_view what);

} // namespace companion::net::gemini
