// Telegram's classifier: a failed Bot API call onto net::api_error, by HTTP status and
// description prefix as the contract says (contracts/telegram-bot-api.md §2, §8): flood wait,
// blocked user, conflict, unmodified edit, stale callback, each its own kind. No error text
// ever holds the bot token.
#pragma once

#include "net/api_error.hpp"

#include <string_view>

namespace companion::net::telegram {

using error = net::api_error;
using error_kind = net::api_error_kind;

template <class T>
using result = net::api_result<T>;

/// 403 "bot was blocked by the user".
bool blocked(const error& e) noexcept;

/// Classifies a non-success envelope or status (sans-I/O, exposed for tests). `body` may be the
/// JSON envelope or anything else (an HTML 502). `token` is scrubbed from the description.
/// A 429 without a retry_after (in `parameters` or the description) waits one second.
error classify_failure(std::string_view method,
                       unsigned status,
                       std::string_view body,
                       std::string_view token);

} // namespace companion::net::telegram
