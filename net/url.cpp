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

std::string url_encode(std::string_view s) {
    return boost::urls::encode(s, boost::urls::unreserved_chars);
}

} // namespace companion::net
