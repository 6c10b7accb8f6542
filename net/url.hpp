// Absolute http(s) URLs split into the origin a connection serves and the request target.
#pragma once

#include "net/error.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

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

/// parse_url with a memory of origins: a URL on an origin seen before is split by a prefix match
/// and a scan of its target (the hot calls go to a handful of origins, and a full parse of each
/// cost ~7k instructions a request). The results are parse_url's; a target with anything unusual
/// (a fragment, a character a path or query may not hold, a bad escape) takes the full parse.
class url_cache {
public:
    result<url_parts> parse(std::string_view url);

private:
    struct entry {
        std::string prefix; ///< "scheme://authority" as the URL wrote it
        origin where;
    };
    static constexpr std::size_t capacity = 16;
    std::vector<entry> entries_;
    std::size_t next_ = 0; ///< the entry a new origin replaces once full
};

/// Percent-encodes a query or form component (RFC 3986 unreserved characters pass).
std::string url_encode(std::string_view s);

} // namespace companion::net
