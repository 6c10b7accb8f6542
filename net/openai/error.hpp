// The classifier of the OpenAI-shaped protocols (chat completions and the videos protocol,
// including the gateways and compatible servers that speak them): their error bodies and retry
// headers onto net::api_error, so pipelines decide about retries.
#pragma once

#include "net/api_error.hpp"

#include <boost/beast/http/fields.hpp>

#include <chrono>
#include <optional>
#include <string_view>

namespace companion::net::openai {

template <class T>
using result = net::api_result<T>;

/// Classifies a non-2xx response (or an error carried inside a 2xx body). Understands OpenAI's
/// `{"error":{message,type,param,code}}`, OpenRouter's numeric `code`, vLLM's unwrapped
/// `{"object":"error",...}` and bodies that are not JSON at all. 401/403 are unauthorized;
/// insufficient_quota, billing codes and OpenRouter's 402 are quota_exhausted; 408/409 are server.
api_error parse_error(unsigned status, std::string_view body, const boost::beast::http::fields& headers);

/// The wait a 429 asks for: `retry-after-ms`, then `retry-after` (seconds), then the
/// `x-ratelimit-reset-*` bucket that is empty (or the longer one when neither says).
std::optional<std::chrono::milliseconds> parse_retry_after(const boost::beast::http::fields& headers);

/// Go-style durations as in `x-ratelimit-reset-*`: "12ms", "1s", "6m0s", "1h2m3.5s".
std::optional<std::chrono::milliseconds> parse_go_duration(std::string_view text);

/// A transport failure as an error of this family.
api_error from_failure(const net::failure& f);

/// A malformed 2xx body.
api_error malformed(unsigned status, std::string_view what, const boost::beast::http::fields& headers);

} // namespace companion::net::openai
