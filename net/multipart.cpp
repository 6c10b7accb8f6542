// multipart/form-data and form encodings.
#include "net/multipart.hpp"

#include "net/url.hpp"

#include <array>
#include <fstream>
#include <iterator>
#include <random>

namespace companion::net {
namespace {

std::string random_boundary() {
    static constexpr char alphabet[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    thread_local std::mt19937_64 rng{std::random_device{}()};
    std::string b = "----companion";
    for (int i = 0; i < 24; ++i) {
        b.push_back(alphabet[rng() % (sizeof(alphabet) - 1)]);
    }
    return b;
}

std::string escape_quoted(std::string_view s) {
    std::string out;
    for (char c : s) {
        if (c == '"' || c == '\\') {
            out.push_back('\\');
        }
        if (c == '\r' || c == '\n') {
            continue;
        }
        out.push_back(c);
    }
    return out;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
        s.remove_suffix(1);
    }
    return s;
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        auto la = static_cast<char>(a[i] >= 'A' && a[i] <= 'Z' ? a[i] + 32 : a[i]);
        auto lb = static_cast<char>(b[i] >= 'A' && b[i] <= 'Z' ? b[i] + 32 : b[i]);
        if (la != lb) {
            return false;
        }
    }
    return true;
}

// Finds `key=value` or `key="value"` among `; `-separated parameters.
std::optional<std::string> header_param(std::string_view header, std::string_view key) {
    std::size_t pos = 0;
    while (pos < header.size()) {
        auto semi = header.find(';', pos);
        if (semi == std::string_view::npos) {
            break;
        }
        pos = semi + 1;
        auto rest = trim(header.substr(pos));
        auto eq = rest.find('=');
        if (eq == std::string_view::npos) {
            continue;
        }
        if (!iequals(trim(rest.substr(0, eq)), key)) {
            continue;
        }
        auto value = rest.substr(eq + 1);
        if (!value.empty() && value.front() == '"') {
            std::string out;
            for (std::size_t i = 1; i < value.size(); ++i) {
                if (value[i] == '\\' && i + 1 < value.size()) {
                    out.push_back(value[++i]);
                } else if (value[i] == '"') {
                    return out;
                } else {
                    out.push_back(value[i]);
                }
            }
            return std::nullopt; // unterminated quote
        }
        auto end = value.find(';');
        return std::string(trim(value.substr(0, end)));
    }
    return std::nullopt;
}

} // namespace

multipart_form::multipart_form() : boundary_(random_boundary()) {}

multipart_form& multipart_form::field(std::string_view name, std::string_view value) {
    parts_.push_back({std::string(name), {}, {}, std::string(value)});
    return *this;
}

multipart_form& multipart_form::file(std::string_view name,
                                     std::string_view filename,
                                     std::string_view content_type,
                                     std::string data) {
    parts_.push_back({std::string(name), std::string(filename), std::string(content_type), std::move(data)});
    return *this;
}

result<void> multipart_form::file_from_disk(std::string_view name,
                                            const std::filesystem::path& path,
                                            std::string_view content_type) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return make_failure(errc::file_error, "cannot open " + path.filename().string());
    }
    std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) {
        return make_failure(errc::file_error, "cannot read " + path.filename().string());
    }
    file(name, path.filename().string(), content_type, std::move(data));
    return {};
}

std::string multipart_form::content_type() const {
    return "multipart/form-data; boundary=" + boundary_;
}

std::string multipart_form::take_body() {
    // A boundary that occurs inside a part would end it early: pick another (astronomically
    // unlikely with 24 random characters, but cheap to rule out).
    for (;;) {
        bool clash = false;
        for (const auto& p : parts_) {
            if (p.data.find(boundary_) != std::string::npos) {
                clash = true;
                break;
            }
        }
        if (!clash) {
            break;
        }
        boundary_ = random_boundary();
    }
    std::size_t size = 0;
    for (const auto& p : parts_) {
        size += p.data.size() + p.name.size() + p.filename.size() + 128;
    }
    std::string body;
    body.reserve(size + boundary_.size() + 8);
    for (const auto& p : parts_) {
        body += "--";
        body += boundary_;
        body += "\r\nContent-Disposition: form-data; name=\"";
        body += escape_quoted(p.name);
        body += '"';
        if (!p.filename.empty()) {
            body += "; filename=\"";
            body += escape_quoted(p.filename);
            body += '"';
        }
        body += "\r\n";
        if (!p.content_type.empty()) {
            body += "Content-Type: ";
            body += p.content_type;
            body += "\r\n";
        }
        body += "\r\n";
        body += p.data;
        body += "\r\n";
    }
    body += "--";
    body += boundary_;
    body += "--\r\n";
    parts_.clear();
    return body;
}

std::optional<std::string> multipart_boundary(std::string_view content_type) {
    auto semi = content_type.find(';');
    if (!iequals(trim(content_type.substr(0, semi)), "multipart/form-data")) {
        return std::nullopt;
    }
    auto b = header_param(content_type, "boundary");
    if (!b || b->empty() || b->size() > 200) {
        return std::nullopt;
    }
    return b;
}

result<std::vector<multipart_part>> parse_multipart(std::string_view body, std::string_view boundary) {
    const std::string delim = "--" + std::string(boundary);
    std::vector<multipart_part> parts;
    auto pos = body.find(delim);
    if (pos == std::string_view::npos) {
        return make_failure(errc::malformed_body, "multipart: no opening boundary");
    }
    pos += delim.size();
    for (;;) {
        if (body.substr(pos, 2) == "--") {
            return parts; // closing delimiter
        }
        if (body.substr(pos, 2) != "\r\n") {
            return make_failure(errc::malformed_body, "multipart: boundary not followed by CRLF");
        }
        pos += 2;
        const auto header_end = body.find("\r\n\r\n", pos);
        if (header_end == std::string_view::npos) {
            return make_failure(errc::malformed_body, "multipart: part headers not terminated");
        }
        multipart_part part;
        bool has_disposition = false;
        auto headers = body.substr(pos, header_end - pos);
        while (!headers.empty()) {
            auto eol = headers.find("\r\n");
            auto line = headers.substr(0, eol);
            headers = eol == std::string_view::npos ? std::string_view{} : headers.substr(eol + 2);
            auto colon = line.find(':');
            if (colon == std::string_view::npos) {
                return make_failure(errc::malformed_body, "multipart: header line without colon");
            }
            auto name = trim(line.substr(0, colon));
            auto value = trim(line.substr(colon + 1));
            if (iequals(name, "Content-Disposition")) {
                auto semi = value.find(';');
                if (!iequals(trim(value.substr(0, semi)), "form-data")) {
                    return make_failure(errc::malformed_body, "multipart: disposition is not form-data");
                }
                auto n = header_param(value, "name");
                if (!n) {
                    return make_failure(errc::malformed_body, "multipart: part without a name");
                }
                part.name = *n;
                if (auto f = header_param(value, "filename")) {
                    part.filename = *f;
                }
                has_disposition = true;
            } else if (iequals(name, "Content-Type")) {
                part.content_type = std::string(value);
            }
        }
        if (!has_disposition) {
            return make_failure(errc::malformed_body, "multipart: part without Content-Disposition");
        }
        const auto data_start = header_end + 4;
        const auto next = body.find("\r\n" + delim, data_start);
        if (next == std::string_view::npos) {
            return make_failure(errc::malformed_body, "multipart: part not terminated by a boundary");
        }
        part.data = std::string(body.substr(data_start, next - data_start));
        parts.push_back(std::move(part));
        pos = next + 2 + delim.size();
    }
}

bool url_decode(std::string_view in, std::string& out, bool plus_is_space) {
    out.clear();
    out.reserve(in.size());
    auto hexval = [](char c) -> int {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        if (c >= 'A' && c <= 'F') {
            return c - 'A' + 10;
        }
        return -1;
    };
    for (std::size_t i = 0; i < in.size(); ++i) {
        const char c = in[i];
        if (c == '%') {
            if (i + 2 >= in.size()) {
                return false;
            }
            const int hi = hexval(in[i + 1]);
            const int lo = hexval(in[i + 2]);
            if (hi < 0 || lo < 0) {
                return false;
            }
            out.push_back(static_cast<char>(hi * 16 + lo));
            i += 2;
        } else if (c == '+' && plus_is_space) {
            out.push_back(' ');
        } else {
            out.push_back(c);
        }
    }
    return true;
}

result<std::vector<std::pair<std::string, std::string>>> parse_form(std::string_view text) {
    std::vector<std::pair<std::string, std::string>> out;
    while (!text.empty()) {
        auto amp = text.find('&');
        auto pair = text.substr(0, amp);
        text = amp == std::string_view::npos ? std::string_view{} : text.substr(amp + 1);
        if (pair.empty()) {
            continue;
        }
        auto eq = pair.find('=');
        std::string key, value;
        if (!url_decode(pair.substr(0, eq), key, true) ||
            !url_decode(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1),
                        value,
                        true)) {
            return make_failure(errc::malformed_body, "form: malformed percent escape");
        }
        out.emplace_back(std::move(key), std::move(value));
    }
    return out;
}

} // namespace companion::net
