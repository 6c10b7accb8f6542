// The tolerant scan of a getUpdates body: structure first, each item alone, text repaired.
#include "net/telegram/update_scan.hpp"

#include <boost/json/parse.hpp>

#include <array>
#include <charconv>
#include <cstring>
#include <functional>

namespace companion::net::telegram {

namespace json = boost::json;

namespace {

bool is_space(char c) noexcept {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

enum class byte_class : unsigned char { plain, quote, open, close };

constexpr std::array<byte_class, 256> byte_classes = [] {
    std::array<byte_class, 256> t{};
    t['"'] = byte_class::quote;
    t['{'] = t['['] = byte_class::open;
    t['}'] = t[']'] = byte_class::close;
    return t;
}();

/// The position of the quote that closes the string whose text starts at `from`, or npos. Strings
/// are most of an update's bytes: each quote is found by memchr, and it closes the string unless
/// an odd run of backslashes escapes it.
std::size_t closing_quote(std::string_view text, std::size_t from) noexcept {
    std::size_t at = from;
    while (at < text.size()) {
        const void* hit = std::memchr(text.data() + at, '"', text.size() - at);
        if (hit == nullptr) {
            return std::string_view::npos;
        }
        const auto quote = static_cast<std::size_t>(static_cast<const char*>(hit) - text.data());
        std::size_t backslashes = 0;
        while (quote - backslashes > from && text[quote - backslashes - 1] == '\\') {
            ++backslashes;
        }
        if (backslashes % 2 == 0) {
            return quote;
        }
        at = quote + 1;
    }
    return std::string_view::npos;
}

/// A cursor over JSON text that knows strings and nesting only; every step is bounds-checked and
/// reports the end of the text as a failure.
class cursor {
public:
    explicit cursor(std::string_view text) noexcept : text_(text) {}

    /// Where the next token starts (whitespace skipped).
    std::size_t mark() noexcept {
        skip_space();
        return pos_;
    }
    std::string_view slice(std::size_t from) const noexcept { return text_.substr(from, pos_ - from); }

    void skip_space() noexcept {
        while (pos_ < text_.size() && is_space(text_[pos_])) {
            ++pos_;
        }
    }
    bool eat(char c) noexcept {
        skip_space();
        if (pos_ < text_.size() && text_[pos_] == c) {
            ++pos_;
            return true;
        }
        return false;
    }
    bool at(char c) noexcept {
        skip_space();
        return pos_ < text_.size() && text_[pos_] == c;
    }
    /// A string token; its raw text (escapes kept) without the quotes.
    std::optional<std::string_view> string() noexcept {
        if (!at('"')) {
            return std::nullopt;
        }
        const auto start = ++pos_;
        const auto end = closing_quote(text_, start);
        if (end == std::string_view::npos) {
            pos_ = text_.size();
            return std::nullopt;
        }
        pos_ = end + 1;
        return text_.substr(start, end - start);
    }
    /// Skips one value of any kind; false at a structural fault.
    bool skip_value() noexcept {
        skip_space();
        if (pos_ >= text_.size()) {
            return false;
        }
        const char first = text_[pos_];
        if (first == '"') {
            return string().has_value();
        }
        if (first == '{' || first == '[') {
            // Every byte of the getUpdates body passes here (issue 16): one table lookup per byte
            // outside strings, and each string jumped over by closing_quote().
            int depth = 0;
            std::size_t i = pos_;
            while (i < text_.size()) {
                switch (byte_classes[static_cast<unsigned char>(text_[i])]) {
                case byte_class::plain:
                    ++i;
                    break;
                case byte_class::open:
                    ++depth;
                    ++i;
                    break;
                case byte_class::close:
                    ++i;
                    if (--depth == 0) {
                        pos_ = i;
                        return true;
                    }
                    break;
                case byte_class::quote:
                    i = closing_quote(text_, i + 1);
                    if (i == std::string_view::npos) {
                        pos_ = text_.size();
                        return false;
                    }
                    ++i;
                    break;
                }
            }
            pos_ = text_.size();
            return false;
        }
        const auto start = pos_;
        while (pos_ < text_.size() && !is_space(text_[pos_]) && text_[pos_] != ',' && text_[pos_] != '}' &&
               text_[pos_] != ']') {
            ++pos_;
        }
        return pos_ > start;
    }
    /// Walks the members of the object at the cursor, calling `member(key)` with the cursor on
    /// each value; `member` consumes the value (or returns false to fail the walk).
    bool object(const std::function<bool(std::string_view key)>& member) {
        if (!eat('{')) {
            return false;
        }
        if (eat('}')) {
            return true;
        }
        for (;;) {
            const auto key = string();
            if (!key || !eat(':') || !member(*key)) {
                return false;
            }
            if (eat(',')) {
                continue;
            }
            return eat('}');
        }
    }

private:
    std::string_view text_;
    std::size_t pos_ = 0;
};

/// The update_id of an item read from its text (a top-level member), if it is there.
std::optional<std::int64_t> update_id_of(std::string_view item) {
    std::optional<std::int64_t> id;
    cursor c(item);
    [[maybe_unused]] const bool whole = c.object([&](std::string_view key) {
        const auto start = c.mark();
        if (!c.skip_value()) {
            return false;
        }
        if (key == "update_id") {
            const auto digits = c.slice(start);
            std::int64_t v = 0;
            const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
            if (ec == std::errc{} && end == digits.data() + digits.size()) {
                id = v;
            }
        }
        return true;
    });
    return id; // read even when a later member is broken
}

int hex4(std::string_view s, std::size_t at) noexcept {
    if (at + 4 > s.size()) {
        return -1;
    }
    int v = 0;
    for (std::size_t i = at; i < at + 4; ++i) {
        const char c = s[i];
        int d = 0;
        if (c >= '0' && c <= '9') {
            d = c - '0';
        } else if (c >= 'a' && c <= 'f') {
            d = c - 'a' + 10;
        } else if (c >= 'A' && c <= 'F') {
            d = c - 'A' + 10;
        } else {
            return -1;
        }
        v = v * 16 + d;
    }
    return v;
}

/// Length of the well-formed UTF-8 sequence at `at` (RFC 3629: no overlongs, no surrogates,
/// nothing past U+10FFFF), or 0.
std::size_t valid_sequence(std::string_view s, std::size_t at) noexcept {
    const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
    const unsigned char lead = byte(at);
    std::size_t len = 0;
    unsigned char lo = 0x80;
    unsigned char hi = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
        len = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        len = 3;
        lo = lead == 0xE0 ? 0xA0 : 0x80;
        hi = lead == 0xED ? 0x9F : 0xBF;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        len = 4;
        lo = lead == 0xF0 ? 0x90 : 0x80;
        hi = lead == 0xF4 ? 0x8F : 0xBF;
    } else {
        return 0;
    }
    if (at + len > s.size() || byte(at + 1) < lo || byte(at + 1) > hi) {
        return 0;
    }
    for (std::size_t i = at + 2; i < at + len; ++i) {
        if (byte(i) < 0x80 || byte(i) > 0xBF) {
            return 0;
        }
    }
    return len;
}

constexpr std::string_view replacement_utf8 = "\xEF\xBF\xBD";
constexpr std::string_view replacement_escape = "\\ufffd";

} // namespace

std::string repair_json_text(std::string_view json_text) {
    const auto& s = json_text;
    std::string out;
    out.reserve(s.size());
    bool in_string = false;
    std::size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0x80) {
            const auto len = valid_sequence(s, i);
            if (len == 0) {
                out += replacement_utf8;
                ++i;
            } else {
                out.append(s.substr(i, len));
                i += len;
            }
            continue;
        }
        if (in_string && c == '\\' && i + 1 < s.size()) {
            const int unit = s[i + 1] == 'u' ? hex4(s, i + 2) : -1;
            const bool high = unit >= 0xD800 && unit <= 0xDBFF;
            const bool low = unit >= 0xDC00 && unit <= 0xDFFF;
            if (high) {
                const bool paired = i + 12 <= s.size() && s[i + 6] == '\\' && s[i + 7] == 'u' &&
                                    hex4(s, i + 8) >= 0xDC00 && hex4(s, i + 8) <= 0xDFFF;
                if (paired) {
                    out.append(s.substr(i, 12));
                    i += 12;
                } else {
                    out += replacement_escape;
                    i += 6;
                }
            } else if (low) {
                out += replacement_escape; // a low surrogate without its high half
                i += 6;
            } else {
                out.append(s.substr(i, 2)); // any other escape, kept as it is
                i += 2;
            }
            continue;
        }
        if (c == '"') {
            in_string = !in_string;
        }
        out += static_cast<char>(c);
        ++i;
    }
    return out;
}

std::optional<std::vector<std::string_view>> result_items(std::string_view body) {
    bool ok = false;
    bool have_result = false;
    std::vector<std::string_view> items;
    cursor c(body);
    const bool whole = c.object([&](std::string_view key) {
        // A key is compared as written: an escaped one (`"res\u0075lt"`) could be `result` to a
        // parser, so it is refused rather than read as some other member.
        if (key.find('\\') != std::string_view::npos) {
            return false;
        }
        if (key == "ok") {
            const auto start = c.mark();
            const bool read = c.skip_value();
            ok = read && c.slice(start) == "true";
            return read;
        }
        if (key != "result") {
            return c.skip_value();
        }
        // A second `result` is refused: which one a JSON parser keeps is its own choice, and the
        // items must be the ones the DOM holds.
        if (have_result || !c.eat('[')) {
            return false;
        }
        have_result = true;
        if (c.eat(']')) {
            return true;
        }
        for (;;) {
            const auto start = c.mark();
            if (!c.skip_value()) {
                return false;
            }
            items.push_back(c.slice(start));
            if (c.eat(',')) {
                continue;
            }
            return c.eat(']');
        }
    });
    if (!whole || !ok || !have_result) {
        return std::nullopt;
    }
    return items;
}

std::optional<update_batch> scan_updates(std::string_view body) {
    const auto items = result_items(body);
    if (!items) {
        return std::nullopt;
    }
    update_batch batch;
    for (const auto item : *items) {
        boost::system::error_code ec;
        auto v = json::parse(item, ec);
        bool repaired = false;
        std::string fixed;
        if (ec) {
            fixed = repair_json_text(item);
            boost::system::error_code again;
            v = json::parse(fixed, again);
            repaired = !again;
        }
        if (ec && !repaired) {
            batch.malformed.push_back({update_id_of(item), "update is not valid JSON: " + ec.message()});
            continue;
        }
        auto u = parse_update(v);
        if (!u) {
            batch.malformed.push_back(u.error());
            continue;
        }
        // The text as received (or as repaired): it parsed just now, so the inbox can replay it.
        u->raw = repaired ? std::move(fixed) : std::string(item);
        if (repaired) {
            batch.repaired.push_back(u->update_id);
        }
        batch.updates.push_back(std::move(*u));
    }
    return batch;
}

} // namespace companion::net::telegram
