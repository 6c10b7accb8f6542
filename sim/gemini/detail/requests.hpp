// Shared pieces of the Gemini simulator's sources: Google's error body and response helpers.
#pragma once

#include "net/http_server.hpp"

#include <boost/json/array.hpp>

#include <chrono>
#include <string>
#include <string_view>

namespace companion::sim::gemini_detail {

/// `{"error":{"code","message","status","details"}}` (google.rpc.Status as JSON).
std::string google_error(unsigned code,
                         std::string_view status,
                         std::string_view message,
                         boost::json::array details = {});

net::server_response error_response(unsigned code,
                                    std::string_view status,
                                    std::string_view message,
                                    boost::json::array details = {});

/// 429 RESOURCE_EXHAUSTED with QuotaFailure and RetryInfo ("12s", "2.500s").
net::server_response rate_limited(std::chrono::milliseconds delay, bool per_day);

/// The retired-model 404 Google sends, naming a replacement.
net::server_response model_gone(std::string_view model, std::string_view replacement);

} // namespace companion::sim::gemini_detail
