// Absolute http(s) URLs split into the origin a connection serves and the request target.
#pragma once

#include "net/error.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace companion::net {

struct origin {
    bool tls = false;
    std::string host;
    std::uint16_t port = 80;

    /// "https://host:port": the key of the connection pool.
    std::string key() const;
    /// The Host header value ("host" or "host:port" when the port is not the default).
    std::string host_header() const;
    bool operator==(const origin&) const = default;
};

struct url_parts {
    origin where;
    std::string target; ///< path and query, at least "/"
};

/// Parses an absolute http:// or https:// URL. Errors: errc::bad_url.
result<url_parts> parse_url(std::string_view url);

/// Percent-encodes a query or form component (RFC 3986 unreserved characters pass).
std::string url_encode(std::string_view s);

} // namespace companion::net
