// Messages of the net error category and construction of redacted failures.
#include "net/error.hpp"

#include "engine/error_category.hpp"
#include "engine/log.hpp"

#include <boost/system/system_error.hpp>

#include <array>

namespace companion::net {

const boost::system::error_category& net_category() noexcept {
    // One message per errc, in the order of its BOOST_DESCRIBE_ENUM.
    // clang-format off
    static const engine::table_category<errc> instance("companion.net", {
        "bad URL", "host name did not resolve", "timeout while resolving", "connection refused",
        "connect failed", "timeout while connecting", "proxy tunnel failed", "timeout in the TLS handshake",
        "TLS certificate verification failed", "TLS failure", "timeout while sending the request",
        "timeout waiting for the response header", "timeout while reading the response body",
        "connection reset by peer", "response header too large", "body too large", "malformed HTTP response",
        "unexpected HTTP status", "too many redirects", "file write failed", "operation cancelled",
        "malformed body", "malformed request"
    }, "unknown net error");
    // clang-format on
    return instance;
}

std::string_view kind_label(const boost::system::error_code& ec) noexcept {
    using kinds = std::array<std::string_view, engine::table_category<errc>::size>;
    // One label per errc, in the order of its BOOST_DESCRIBE_ENUM.
    // clang-format off
    static constexpr kinds labels = {
        "protocol", "resolve", "resolve", "refused", "connect", "connect", "proxy", "tls", "tls_verify", "tls",
        "timeout", "timeout", "timeout", "reset", "too_large", "too_large", "protocol", "protocol", "protocol",
        "protocol", "cancelled", "protocol", "protocol"
    };
    // clang-format on
    if (ec.category() != net_category()) {
        return "other";
    }
    const std::size_t i = engine::described_index<errc>(ec.value(), labels.size());
    return i < labels.size() ? labels[i] : "protocol";
}

std::string failure::message() const {
    std::string m = code.message();
    if (status != 0) {
        m += " " + std::to_string(status);
    }
    if (!detail.empty()) {
        m += ": " + detail;
    }
    return m;
}

failure make_failure(errc e, std::string_view detail, bool request_sent) {
    failure f;
    f.code = make_error_code(e);
    f.detail = engine::secrets().redact(detail);
    f.request_sent = request_sent;
    return f;
}

void throw_exception_from_error(const failure& f, const boost::source_location&) {
    throw boost::system::system_error(f.code, engine::secrets().redact(f.detail));
}

} // namespace companion::net
