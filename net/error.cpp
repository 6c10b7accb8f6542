// Messages of the net error category and construction of redacted failures.
#include "net/error.hpp"

#include "engine/log.hpp"

#include <boost/system/system_error.hpp>

namespace companion::net {
namespace {

class net_category_impl final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "companion.net"; }

    std::string message(int ev) const override {
        switch (static_cast<errc>(ev)) {
        case errc::bad_url:
            return "bad URL";
        case errc::resolve_failed:
            return "host name did not resolve";
        case errc::resolve_timeout:
            return "timeout while resolving";
        case errc::connect_refused:
            return "connection refused";
        case errc::connect_failed:
            return "connect failed";
        case errc::connect_timeout:
            return "timeout while connecting";
        case errc::proxy_failed:
            return "proxy tunnel failed";
        case errc::tls_handshake_timeout:
            return "timeout in the TLS handshake";
        case errc::tls_verify_failed:
            return "TLS certificate verification failed";
        case errc::tls_failed:
            return "TLS failure";
        case errc::write_timeout:
            return "timeout while sending the request";
        case errc::response_timeout:
            return "timeout waiting for the response header";
        case errc::body_timeout:
            return "timeout while reading the response body";
        case errc::connection_reset:
            return "connection reset by peer";
        case errc::header_too_large:
            return "response header too large";
        case errc::body_too_large:
            return "body too large";
        case errc::bad_response:
            return "malformed HTTP response";
        case errc::http_status:
            return "unexpected HTTP status";
        case errc::too_many_redirects:
            return "too many redirects";
        case errc::file_error:
            return "file write failed";
        case errc::cancelled:
            return "operation cancelled";
        case errc::malformed_body:
            return "malformed body";
        }
        return "unknown net error";
    }
};

} // namespace

const boost::system::error_category& net_category() noexcept {
    static const net_category_impl instance;
    return instance;
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
