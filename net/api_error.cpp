// The API error's names, category, printing and retry rule, and the constructors every client's
// classifier shares.
#include "net/api_error.hpp"

#include "engine/error_category.hpp"
#include "engine/log.hpp"

#include <boost/system/system_error.hpp>

#include <ostream>

namespace companion::net {
namespace {

std::string wait_text(std::chrono::milliseconds wait) {
    return wait.count() % 1000 == 0 ? std::to_string(wait.count() / 1000) + "s"
                                    : std::to_string(wait.count()) + "ms";
}

api_error make_api_error(api_error_kind kind,
                         std::string_view api,
                         std::string_view method,
                         unsigned status,
                         std::string_view detail) {
    api_error e;
    e.kind = kind;
    e.api = std::string(api);
    e.method = std::string(method);
    e.status = status;
    e.detail = redacted_text(detail);
    return e;
}

} // namespace

const boost::system::error_category& api_category() noexcept {
    static const engine::named_category<api_error_kind> instance("companion.api");
    return instance;
}

bool api_error::retryable() const noexcept {
    return kind == api_error_kind::rate_limited || kind == api_error_kind::server ||
           kind == api_error_kind::transport;
}

std::string api_error::message() const {
    std::string m = api;
    if (!method.empty()) {
        m += (m.empty() ? "" : " ") + method;
    }
    if (!m.empty()) {
        m += ": ";
    }
    m += to_string(kind);
    if (status != 0) {
        m += " (" + std::to_string(status) + ")";
    }
    if (!google_status.empty()) {
        m += " " + google_status;
    } else if (!code.empty() && code != std::to_string(status)) {
        m += " " + code;
    }
    if (!detail.empty()) {
        m += ": " + detail;
    }
    if (outcome_unknown()) {
        m += " [outcome unknown]";
    }
    if (retry_after) {
        m += " [retry after " + wait_text(*retry_after) + "]";
    }
    // Every field is redacted when it is set; this is the belt to those braces.
    return engine::secrets().redact(m);
}

std::ostream& operator<<(std::ostream& os, const api_error& e) {
    return os << e.message();
}

void throw_exception_from_error(const api_error& e, const boost::source_location&) {
    throw boost::system::system_error(make_error_code(e.kind), e.message());
}

std::string redacted_text(std::string_view text, std::size_t max) {
    // Redact before cutting, so a cut never leaves half a secret; a bounded prefix is enough.
    std::string out = engine::secrets().redact(text.substr(0, max * 2));
    if (out.size() > max) {
        out.resize(max);
        out += "...";
    }
    return out;
}

api_error transport_error(std::string_view api, std::string_view method, net::failure f) {
    engine::secrets().redact_in_place(f.detail);
    f.body.clear();
    auto e = make_api_error(api_error_kind::transport, api, method, f.status, f.message());
    e.transport = std::move(f);
    return e;
}

api_error invalid_request(std::string_view api, std::string_view method, std::string_view detail) {
    return make_api_error(api_error_kind::bad_request, api, method, 0, detail);
}

api_error
malformed_response(std::string_view api, std::string_view method, unsigned status, std::string_view what) {
    return make_api_error(api_error_kind::malformed_response, api, method, status, what);
}

} // namespace companion::net
