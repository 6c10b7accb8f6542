// Classification of Telegram failures by HTTP status and description prefix.
#include "net/telegram/error.hpp"

#include "engine/log.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <charconv>
#include <utility>

namespace companion::net::telegram {
namespace {

// Telegram's descriptions are short; an HTML error page is not, and is useless past its start.
constexpr std::size_t max_description = 300;

std::string scrub(std::string_view text, std::string_view token) {
    std::string out(text.substr(0, 2 * max_description));
    if (!token.empty()) {
        for (auto pos = out.find(token); pos != std::string::npos; pos = out.find(token, pos)) {
            out.replace(pos, token.size(), engine::redactor::mask);
        }
    }
    return net::redacted_text(out, max_description);
}

// "Too Many Requests: retry after 35" when `parameters` is missing (older gateways).
std::optional<std::chrono::seconds> retry_after_from_description(std::string_view d) {
    constexpr std::string_view marker = "retry after ";
    const auto pos = d.find(marker);
    if (pos == std::string_view::npos) {
        return std::nullopt;
    }
    const auto digits = d.substr(pos + marker.size());
    std::int64_t n = 0;
    // Digits may be followed by anything ("35 seconds"): where they end does not matter.
    const auto parsed = std::from_chars(digits.data(), digits.data() + digits.size(), n);
    if (parsed.ec != std::errc{} || n < 0) {
        return std::nullopt;
    }
    return std::chrono::seconds(n);
}

error_kind kind_of(unsigned status, std::string_view description) {
    // What a 400 means is in its description; other statuses say it themselves.
    static constexpr std::pair<std::string_view, error_kind> bad_requests[] = {
        {"Bad Request: message is not modified", error_kind::not_modified},
        {"Bad Request: query is too old", error_kind::query_too_old},
        {"Bad Request: message to edit not found", error_kind::message_to_edit_not_found}};
    static constexpr std::pair<unsigned, error_kind> statuses[] = {{401, error_kind::unauthorized},
                                                                   {403, error_kind::forbidden},
                                                                   {404, error_kind::not_found},
                                                                   {409, error_kind::conflict},
                                                                   {413, error_kind::too_large},
                                                                   {429, error_kind::rate_limited}};
    if (status == 400) {
        for (const auto& [prefix, kind] : bad_requests) {
            if (description.starts_with(prefix)) {
                return kind;
            }
        }
        return error_kind::bad_request;
    }
    for (const auto& [code, kind] : statuses) {
        if (code == status) {
            return kind;
        }
    }
    if (status >= 500 && status < 600) {
        return error_kind::server;
    }
    if (status >= 400 && status < 500) {
        return error_kind::bad_request;
    }
    return error_kind::malformed_response; // a 1xx/2xx/3xx that is not a success envelope
}

} // namespace

bool blocked(const error& e) noexcept {
    return e.kind == error_kind::forbidden && e.detail.find("blocked by the user") != std::string::npos;
}

error classify_failure(std::string_view method,
                       unsigned status,
                       std::string_view body,
                       std::string_view token) {
    error e;
    e.api = "telegram";
    e.method = std::string(method);
    e.status = status;

    boost::system::error_code ec;
    auto v = boost::json::parse(body, ec);
    const boost::json::object* envelope = ec ? nullptr : v.if_object();
    if (envelope != nullptr) {
        const auto* ok = envelope->if_contains("ok");
        if (ok != nullptr && ok->is_bool() && ok->get_bool()) {
            // A success envelope with a failure status: trust neither.
            e.kind = error_kind::malformed_response;
            e.detail = "success envelope with HTTP status " + std::to_string(status);
            return e;
        }
        if (const auto* d = envelope->if_contains("description"); d != nullptr && d->is_string()) {
            e.detail = scrub(d->get_string(), token);
        }
        // HTTP status equals error_code; a 200 with ok:false (some proxies) uses error_code.
        if (const auto* code = envelope->if_contains("error_code"); code != nullptr && code->is_int64()) {
            const auto c = code->get_int64();
            if ((status < 400 || status >= 600) && c >= 400 && c < 600) {
                e.status = static_cast<unsigned>(c);
            }
        }
        if (const auto* p = envelope->if_contains("parameters"); p != nullptr && p->is_object()) {
            const auto& params = p->get_object();
            if (const auto* r = params.if_contains("retry_after"); r != nullptr && r->is_int64()) {
                e.retry_after = std::chrono::seconds(std::max<std::int64_t>(0, r->get_int64()));
            }
            if (const auto* m = params.if_contains("migrate_to_chat_id"); m != nullptr && m->is_int64()) {
                e.migrate_to_chat_id = m->get_int64();
            }
        }
    } else {
        // Not JSON: a proxy's HTML 502 or garbage. Keep a short, scrubbed excerpt for the log.
        e.detail = scrub(body.substr(0, 120), token);
    }
    // Without an envelope the status alone decides (a front proxy's HTML 502 is still a 5xx);
    // a non-error status without a success envelope is malformed.
    e.kind = kind_of(e.status, e.detail);
    if (e.kind == error_kind::rate_limited && !e.retry_after) {
        e.retry_after = retry_after_from_description(e.detail).value_or(std::chrono::seconds(1));
    }
    return e;
}

} // namespace companion::net::telegram
