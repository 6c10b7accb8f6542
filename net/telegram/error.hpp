// Typed outcomes of a Telegram Bot API call: every failure the bot must react to differently
// (flood wait, blocked user, conflict, unmodified edit, stale callback, transport fault with an
// unknown outcome) is its own kind, classified by HTTP status and description prefix as the
// contract says (contracts/telegram-bot-api.md §2, §8). No error text ever holds the bot token.
#pragma once

#include "net/error.hpp"

#include <boost/assert/source_location.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <type_traits>

namespace companion::net::telegram {

enum class error_kind {
    transport = 1,             ///< no HTTP answer (see error::transport, its request_sent flag)
    unauthorized,              ///< 401: the token is wrong; fatal
    forbidden,                 ///< 403: blocked by the user, user deactivated, ...
    not_found,                 ///< 404: bad method name or malformed token
    conflict,                  ///< 409: another getUpdates consumer, or a webhook is set
    flood,                     ///< 429: wait error::retry_after, then repeat the same request
    bad_request,               ///< 400 (and other 4xx) not covered by a finer kind
    not_modified,              ///< 400 "message is not modified": harmless for edits
    query_too_old,             ///< 400 "query is too old ...": a late or repeated callback answer
    message_to_edit_not_found, ///< 400 "message to edit not found": send a new message instead
    too_large,                 ///< 413: the upload is above Telegram's limits
    server,                    ///< 5xx (its body may be HTML)
    malformed_response,        ///< the answer was not the JSON envelope the contract promises
};

std::string_view to_string(error_kind kind) noexcept;
std::ostream& operator<<(std::ostream& os, error_kind kind);

const boost::system::error_category& telegram_category() noexcept;

inline boost::system::error_code make_error_code(error_kind k) noexcept {
    return {static_cast<int>(k), telegram_category()};
}

struct error {
    error_kind kind = error_kind::malformed_response;
    unsigned status = 0;     ///< HTTP status (0 for transport failures)
    std::string method;      ///< API method, e.g. "sendMessage"
    std::string description; ///< Telegram's description, redacted and truncated
    std::optional<std::chrono::seconds> retry_after{};
    std::optional<std::int64_t> migrate_to_chat_id{};
    std::optional<net::failure> transport{}; ///< set for error_kind::transport

    /// True when a transport failure happened after the request was written: the call may or
    /// may not have taken effect (a send must then be retried at most once, design.md §4).
    bool outcome_unknown() const noexcept { return transport && transport->request_sent; }
    /// 403 "bot was blocked by the user".
    bool blocked() const noexcept;
    /// "telegram sendMessage: flood (429): Too Many Requests: retry after 3" (token-free).
    std::string message() const;
};

std::ostream& operator<<(std::ostream& os, const error& e);

/// Lets boost::system::result<T, error>::value() throw a system_error with a redacted message.
[[noreturn]] void throw_exception_from_error(const error& e, const boost::source_location& loc);

template <class T>
using result = boost::system::result<T, error>;

/// Classifies a non-success envelope or status (sans-I/O, exposed for tests). `body` may be the
/// JSON envelope or anything else (an HTML 502). `token` is scrubbed from the description.
error classify_failure(std::string_view method,
                       unsigned status,
                       std::string_view body,
                       std::string_view token);

} // namespace companion::net::telegram

template <>
struct boost::system::is_error_code_enum<companion::net::telegram::error_kind> : std::true_type {};
