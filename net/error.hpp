// Typed failures of the net layer: transport and protocol faults as error codes of the
// "companion.net" category, plus a diagnostic text that never holds a secret.
#pragma once

#include "engine/enum_text.hpp"

#include <boost/assert/source_location.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <string>
#include <string_view>
#include <type_traits>

namespace companion::net {

enum class errc {
    bad_url = 1,           ///< the URL could not be parsed or has an unsupported scheme
    resolve_failed,        ///< the host name did not resolve
    resolve_timeout,       ///< resolving took longer than its deadline
    connect_refused,       ///< the peer refused the connection
    connect_failed,        ///< any other connect failure (unreachable, ...)
    connect_timeout,       ///< connecting took longer than its deadline
    proxy_failed,          ///< the proxy refused or broke the CONNECT tunnel
    tls_handshake_timeout, ///< the TLS handshake took longer than its deadline
    tls_verify_failed,     ///< the peer's certificate chain or host name did not verify
    tls_failed,            ///< any other TLS failure
    write_timeout,         ///< sending the request took longer than its deadline
    response_timeout,      ///< the response header did not arrive in time
    body_timeout,          ///< the response body did not arrive in time
    connection_reset,      ///< the peer reset or closed the connection mid-exchange
    header_too_large,      ///< the response header exceeded its limit
    body_too_large,        ///< the body exceeded its limit
    bad_response,          ///< the peer spoke malformed HTTP
    http_status,           ///< an HTTP status the caller treats as failure (see failure::status)
    too_many_redirects,    ///< a download redirected more often than allowed
    file_error,            ///< writing a downloaded file failed
    cancelled,             ///< the caller cancelled the operation
    malformed_body,        ///< a request or response body could not be parsed (multipart, form, JSON)
    bad_request,           ///< the request cannot be sent as given (a header with a line break)
};
// clang-format off
BOOST_DESCRIBE_ENUM(errc, bad_url, resolve_failed, resolve_timeout, connect_refused, connect_failed,
                    connect_timeout, proxy_failed, tls_handshake_timeout, tls_verify_failed, tls_failed,
                    write_timeout, response_timeout, body_timeout, connection_reset, header_too_large,
                    body_too_large, bad_response, http_status, too_many_redirects, file_error, cancelled,
                    malformed_body, bad_request)
// clang-format on

const boost::system::error_category& net_category() noexcept;

inline boost::system::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), net_category()};
}

/// A short label that groups net codes for metrics and logs ("resolve", "tls_verify",
/// "timeout", ...); "other" for a code of another category.
std::string_view kind_label(const boost::system::error_code& ec) noexcept;

/// A failed exchange: the typed code, a redacted diagnostic, and for HTTP-level failures the
/// status and the (truncated) body. `request_sent` tells whether the request may have reached
/// the server (a reset after the write: the outcome is unknown).
struct failure {
    boost::system::error_code code;
    std::string detail;
    unsigned status = 0;
    std::string body;
    bool request_sent = false;

    /// "<code message>: <detail>" (already redacted).
    std::string message() const;
};

/// Builds a failure whose detail passes through the secret redactor.
failure make_failure(errc e, std::string_view detail, bool request_sent = false);

[[noreturn]] void throw_exception_from_error(const failure& f, const boost::source_location& loc);

template <class T>
using result = boost::system::result<T, failure>;

} // namespace companion::net

template <>
struct boost::system::is_error_code_enum<companion::net::errc> : std::true_type {};
