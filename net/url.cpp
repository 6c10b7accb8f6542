// URL parsing with Boost.URL.
#include "net/url.hpp"

#include <boost/url/encode.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>
#include <boost/url/url_view.hpp>

namespace companion::net {

std::string origin::key() const {
    return std::string(tls ? "https://" : "http://") + host + ":" + std::to_string(port);
}

std::string origin::host_header() const {
    const bool default_port = (tls && port == 443) || (!tls && port == 80);
    return default_port ? host : host + ":" + std::to_string(port);
}

result<url_parts> parse_url(std::string_view url) {
    auto parsed = boost::urls::parse_uri(url);
    if (!parsed) {
        return make_failure(errc::bad_url, "not an absolute URI");
    }
    const boost::urls::url_view& u = *parsed;
    url_parts out;
    if (u.scheme() == "https") {
        out.where.tls = true;
        out.where.port = 443;
    } else if (u.scheme() == "http") {
        out.where.tls = false;
        out.where.port = 80;
    } else {
        return make_failure(errc::bad_url, "scheme is not http or https");
    }
    out.where.host = std::string(u.encoded_host_address());
    if (out.where.host.size() > 2 && out.where.host.front() == '[' && out.where.host.back() == ']') {
        out.where.host = out.where.host.substr(1, out.where.host.size() - 2);
    }
    if (out.where.host.empty()) {
        return make_failure(errc::bad_url, "URL has no host");
    }
    if (u.has_port()) {
        const auto p = u.port_number();
        if (p == 0) {
            return make_failure(errc::bad_url, "bad port");
        }
        out.where.port = p;
    }
    out.target = std::string(u.encoded_path());
    if (out.target.empty()) {
        out.target = "/";
    }
    if (u.has_query()) {
        out.target += "?";
        out.target += std::string(u.encoded_query());
    }
    return out;
}

namespace {

bool hex(char c) noexcept {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/// A request target ("/path?query") of only what RFC 3986 lets a path and a query hold
/// (unreserved, sub-delims, ':', '@', '/', '?' and %XX escapes).
bool plain_target(std::string_view t) noexcept {
    if (t.empty() || t.front() != '/') {
        return false;
    }
    for (std::size_t i = 0; i < t.size(); ++i) {
        const char c = t[i];
        const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (alnum || std::string_view("-._~!$&'()*+,;=:@/?").find(c) != std::string_view::npos) {
            continue;
        }
        if (c == '%' && i + 2 < t.size() && hex(t[i + 1]) && hex(t[i + 2])) {
            i += 2;
            continue;
        }
        return false;
    }
    return true;
}

/// "scheme://authority" of `url`: up to the first '/', '?' or '#' after "://" (empty when none).
std::string_view prefix_of(std::string_view url) noexcept {
    const auto scheme_end = url.find("://");
    if (scheme_end == std::string_view::npos) {
        return {};
    }
    const auto end = url.find_first_of("/?#", scheme_end + 3);
    return end == std::string_view::npos ? std::string_view() : url.substr(0, end);
}

} // namespace

result<url_parts> url_cache::parse(std::string_view url) {
    for (const auto& e : entries_) {
        if (url.size() > e.prefix.size() && url.compare(0, e.prefix.size(), e.prefix) == 0) {
            const auto target = url.substr(e.prefix.size());
            if (target.front() != '/') {
                continue; // a longer authority ("h:80" after "h:8"): another entry's, or none
            }
            if (plain_target(target)) {
                return url_parts{e.where, std::string(target)};
            }
            break; // unusual: the full parse says what it is
        }
    }
    auto parts = parse_url(url);
    if (parts) {
        const auto prefix = prefix_of(url);
        // Cached only when a prefix match gives back exactly this parse.
        if (!prefix.empty() && plain_target(url.substr(prefix.size())) &&
            url.substr(prefix.size()) == parts->target) {
            entry e{std::string(prefix), parts->where};
            if (entries_.size() < capacity) {
                entries_.push_back(std::move(e));
            } else {
                entries_[next_] = std::move(e);
                next_ = (next_ + 1) % capacity;
            }
        }
    }
    return parts;
}

std::string url_encode(std::string_view s) {
    return boost::urls::encode(s, boost::urls::unreserved_chars);
}

} // namespace companion::net
