// One error type for every typed API client in net/ (Telegram, the OpenAI-shaped protocols, the
// Google APIs): how a call ended without a result, as a kind the caller reacts to, with the HTTP
// status, the wait the server asked for, whether a transport failure left the outcome unknown,
// and the provider's redacted text. Each client keeps only its classifier (how its wire answers
// map onto these kinds); printing, the error category and the retry rule live here once.
// No text in an api_error ever holds a secret: every field is redacted when it is set.
#pragma once

#include "engine/enum_text.hpp"
#include "net/boxed.hpp"
#include "net/error.hpp"

#include <boost/assert/source_location.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

namespace companion::net {

enum class api_error_kind {
    transport = 1,   ///< no HTTP answer (see api_error::transport and outcome_unknown())
    unauthorized,    ///< 401 (OpenAI/Google also 403): the key or token is refused; an operator problem
    forbidden,       ///< Telegram 403: the bot was blocked by the user, user deactivated, ...
    not_found,       ///< 404: unknown method, model, job, operation or file
    conflict,        ///< Telegram 409: another getUpdates consumer, or a webhook is set
    rate_limited,    ///< 429 (Telegram's flood wait): wait retry_after, then repeat the request
    quota_exhausted, ///< out of credit or a per-day quota, billing required: not within seconds
    bad_request,     ///< 400 and other 4xx not covered by a finer kind: the request is wrong
    too_large,       ///< Telegram 413: the upload is above the limits
    context_length,  ///< OpenAI context_length_exceeded: trim the history, then retry once
    model_gone,      ///< Google 404 "no longer available": the configured model was retired
    not_modified,    ///< Telegram 400 "message is not modified": harmless for edits
    query_too_old,   ///< Telegram 400 "query is too old": a late or repeated callback answer
    message_to_edit_not_found, ///< Telegram 400 "message to edit not found": send a new message instead
    server,                    ///< 5xx (OpenAI also 408/409, Google 408): transient
    malformed_response,        ///< an answer that is not what the protocol promises
};
// clang-format off
BOOST_DESCRIBE_ENUM(api_error_kind, transport, unauthorized, forbidden, not_found, conflict, rate_limited,
                    quota_exhausted, bad_request, too_large, context_length, model_gone, not_modified,
                    query_too_old, message_to_edit_not_found, server, malformed_response)
// clang-format on
using engine::operator<<; // to_string and printing of the described enums
using engine::to_string;

/// The "companion.api" category; its messages are the kinds' names.
const boost::system::error_category& api_category() noexcept;

inline boost::system::error_code make_error_code(api_error_kind k) noexcept {
    return {static_cast<int>(k), api_category()};
}

struct api_error {
    api_error_kind kind = api_error_kind::server;
    std::string api{};    ///< who answered: "telegram", "openai", "gemini"
    std::string method{}; ///< the API method when the client names it ("sendMessage"); may be empty
    unsigned status = 0;  ///< HTTP status; 0 when there was no answer
    std::string
        code{}; ///< the provider's code ("rate_limit_exceeded", "429", "invalid_request"); may be empty
    std::string
        detail{}; ///< the provider's text (Telegram's description, the error message), redacted, truncated
    std::optional<std::chrono::milliseconds> retry_after{}; ///< the wait the server asked for
    boxed<net::failure> transport{}; ///< set for api_error_kind::transport; out of line, as it is rare

    // Provider details callers use; empty when the provider has none.
    std::string type{};          ///< OpenAI: "invalid_request_error", ...
    std::string request_id{};    ///< OpenAI: x-request-id, for support tickets
    std::string google_status{}; ///< Google: "RESOURCE_EXHAUSTED", "INVALID_ARGUMENT", ...
    std::string reason{};        ///< Google: ErrorInfo.reason ("API_KEY_INVALID")
    std::string quota_id{};      ///< Google: QuotaFailure quotaId
    std::optional<std::int64_t> migrate_to_chat_id{}; ///< Telegram: the group became a supergroup

    /// True when a transport failure happened after the request was written: the call may or may
    /// not have taken effect (a send is then retried at most once, a create never: design.md §4).
    bool outcome_unknown() const noexcept { return transport && transport->request_sent; }
    /// Whether repeating the same request later can succeed (rate limits, 5xx, transport).
    bool retryable() const noexcept;
    /// "telegram sendMessage: rate_limited (429): Too Many Requests [retry after 3s]" (secret-free).
    std::string message() const;
};

std::ostream& operator<<(std::ostream& os, const api_error& e);

/// Lets api_result<T>::value() throw a system_error with the redacted message.
[[noreturn]] void throw_exception_from_error(const api_error& e, const boost::source_location& loc);

template <class T>
using api_result = boost::system::result<T, api_error>;

/// The provider's text made safe to keep: secrets and token shapes redacted, at most `max`
/// characters (an HTML error page is useless past its start), "..." marking a cut.
std::string redacted_text(std::string_view text, std::size_t max = 500);

/// A failure below HTTP as an api_error of `api`. Its detail and body are redacted; the body is
/// dropped (it can echo the request).
api_error transport_error(std::string_view api, std::string_view method, net::failure f);

/// A request the client refused before sending anything (a length or size its configuration does
/// not allow): bad_request, status 0.
api_error invalid_request(std::string_view api, std::string_view method, std::string_view detail);

/// An answer (a 2xx, usually) whose body is not what the protocol promises.
api_error
malformed_response(std::string_view api, std::string_view method, unsigned status, std::string_view what);

} // namespace companion::net

template <>
struct boost::system::is_error_code_enum<companion::net::api_error_kind> : std::true_type {};
