// The JSON writer: punctuation and string escapes by hand, doubles and whole values by Boost.JSON's
// serializer.
#include "net/detail/json_writer.hpp"

#include <array>
#include <bit>
#include <charconv>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace companion::net::detail {
namespace {

/// The bytes a JSON string cannot hold as they are: the control characters, '"' and '\\'.
constexpr std::array<bool, 256> escaped = [] {
    std::array<bool, 256> t{};
    for (std::size_t c = 0; c < 0x20; ++c) {
        t[c] = true;
    }
    t['"'] = true;
    t['\\'] = true;
    return t;
}();

/// How many bytes from `p` on (at most `n`) need no escape. With SSE2 (every x86-64), sixteen
/// bytes a step: the bytes equal to '"' or '\\', or at most 0x1f (unsigned), mark the stop.
std::size_t plain_run(const char* p, std::size_t n) noexcept {
    std::size_t i = 0;
#if defined(__SSE2__)
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i backslash = _mm_set1_epi8('\\');
    const __m128i last_control = _mm_set1_epi8(0x1f);
    for (; i + 16 <= n; i += 16) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i)); // NOLINT: unaligned load
        const __m128i special = _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash));
        const __m128i control = _mm_cmpeq_epi8(_mm_min_epu8(v, last_control), v);
        const auto mask = static_cast<unsigned>(_mm_movemask_epi8(_mm_or_si128(special, control)));
        if (mask != 0) {
            return i + static_cast<std::size_t>(std::countr_zero(mask));
        }
    }
#endif
    while (i < n && !escaped[static_cast<unsigned char>(p[i])]) {
        ++i;
    }
    return i;
}

} // namespace

void json_writer::separate() {
    if (comma_) {
        out_ += ',';
    }
}

json_writer& json_writer::drain() {
    while (!sr_.done()) {
        constexpr std::size_t round = 256; // the serializer stops where the room ends, goes on next round
        const auto at = out_.size();
        out_.resize(at + round);
        const auto written = sr_.read(out_.data() + at, round);
        out_.resize(at + written.size());
    }
    comma_ = true;
    return *this;
}

json_writer& json_writer::open(char bracket) {
    separate();
    out_ += bracket;
    comma_ = false;
    return *this;
}

json_writer& json_writer::close(char bracket) {
    out_ += bracket;
    comma_ = true;
    return *this;
}

json_writer& json_writer::key(std::string_view k) {
    string(k);
    out_ += ':';
    comma_ = false; // the value follows the colon
    return *this;
}

json_writer& json_writer::string(std::string_view s) {
    separate();
    out_ += '"';
    // Runs that need no escape are copied whole; the escapes are Boost.JSON's (the test holds the
    // two to the same text): the short forms, else \u00XX in lower-case hex.
    const char* p = s.data();
    const char* const end = s.data() + s.size();
    for (;;) {
        const auto n = plain_run(p, static_cast<std::size_t>(end - p));
        out_.append(p, n);
        p += n;
        if (p == end) {
            break;
        }
        const auto c = static_cast<unsigned char>(*p++);
        switch (c) {
        case '"':
            out_ += "\\\"";
            break;
        case '\\':
            out_ += "\\\\";
            break;
        case '\b':
            out_ += "\\b";
            break;
        case '\f':
            out_ += "\\f";
            break;
        case '\n':
            out_ += "\\n";
            break;
        case '\r':
            out_ += "\\r";
            break;
        case '\t':
            out_ += "\\t";
            break;
        default: {
            constexpr std::string_view hex = "0123456789abcdef";
            out_ += "\\u00";
            out_ += hex[c >> 4U];
            out_ += hex[c & 15U];
        }
        }
    }
    out_ += '"';
    comma_ = true;
    return *this;
}

json_writer& json_writer::number(std::int64_t n) {
    separate();
    char buf[24]; // NOLINT(cppcoreguidelines-avoid-c-arrays): to_chars' room for any int64
    const auto r = std::to_chars(buf, buf + sizeof buf, n);
    out_.append(buf, r.ptr);
    comma_ = true;
    return *this;
}

json_writer& json_writer::number(double d) {
    return value(boost::json::value(d)); // the serializer's own format for doubles
}

json_writer& json_writer::boolean(bool b) {
    separate();
    out_ += b ? "true" : "false";
    comma_ = true;
    return *this;
}

json_writer& json_writer::value(const boost::json::value& v) {
    separate();
    sr_.reset(&v);
    return drain();
}

json_writer& json_writer::value(const boost::json::object& o) {
    separate();
    sr_.reset(&o);
    return drain();
}

} // namespace companion::net::detail
