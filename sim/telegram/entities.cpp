// The three parse modes as small hand-written scanners over the UTF-8 input. Each appends the
// plain text to `out` and opens and closes entities on a stack; offsets are counted in UTF-16 units
// of the text written so far, error positions in bytes of the input (as Telegram reports them).
#include "sim/telegram/entities.hpp"

#include "net/utf16.hpp"

#include <boost/algorithm/string/case_conv.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <string>

namespace companion::sim::telegram {
namespace {

void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
}

// The text being built and the entities found so far.
struct builder {
    std::string text;
    std::int64_t units = 0; ///< UTF-16 length of `text`
    std::vector<message_entity> entities;

    void add(std::string_view s) {
        text += s;
        units += utf16_length(s);
    }
    void add_char(char c) {
        text.push_back(c);
        ++units; // ASCII only: multi-byte characters go through add()
    }
    void close(message_entity e, std::int64_t start) {
        e.offset = start;
        e.length = units - start;
        if (e.length > 0) {
            entities.push_back(std::move(e));
        }
    }
    formatted_text finish() {
        std::stable_sort(entities.begin(), entities.end(), [](const auto& a, const auto& b) {
            return a.offset != b.offset ? a.offset < b.offset : a.length > b.length;
        });
        return {std::move(text), std::move(entities)};
    }
};

// Copies one UTF-8 character of `in` at `i` into `b`; returns the next index.
std::size_t copy_char(std::string_view in, std::size_t i, builder& b) {
    // An invalid byte is copied alone.
    const auto n =
        std::min(std::max<std::size_t>(net::utf8_sequence_length(static_cast<unsigned char>(in[i])), 1),
                 in.size() - i);
    b.add(in.substr(i, n));
    return i + n;
}

std::string at_byte(std::size_t offset) {
    return " at byte offset " + std::to_string(offset);
}

// ---- HTML ------------------------------------------------------------------------------------

struct html_tag {
    std::string name;
    std::size_t byte_offset = 0;
    std::int64_t start = 0;
    message_entity entity; ///< type empty: the tag makes no entity (e.g. <a> without href)
};

std::optional<std::uint32_t> html_entity(std::string_view name) {
    if (name == "lt") {
        return '<';
    }
    if (name == "gt") {
        return '>';
    }
    if (name == "amp") {
        return '&';
    }
    if (name == "quot") {
        return '"';
    }
    if (name.size() > 1 && name[0] == '#') {
        std::uint32_t cp = 0;
        const bool hex = name[1] == 'x' || name[1] == 'X';
        const auto digits = name.substr(hex ? 2 : 1);
        auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), cp, hex ? 16 : 10);
        if (ec == std::errc{} && ptr == digits.data() + digits.size() && cp != 0 && cp <= 0x10FFFF &&
            (cp < 0xD800 || cp > 0xDFFF)) {
            return cp;
        }
    }
    return std::nullopt;
}

// The attributes of a start tag: name="value", name='value', name=value or a bare name.
struct html_attribute {
    std::string name;
    std::string value;
};

// Decodes the character references of an attribute value.
std::string decode_references(std::string_view v) {
    std::string out;
    for (std::size_t i = 0; i < v.size();) {
        if (v[i] == '&') {
            const auto semi = v.find(';', i);
            if (semi != std::string_view::npos) {
                if (auto cp = html_entity(v.substr(i + 1, semi - i - 1))) {
                    append_utf8(out, *cp);
                    i = semi + 1;
                    continue;
                }
            }
        }
        out.push_back(v[i++]);
    }
    return out;
}

parse_result parse_html(std::string_view in) {
    builder b;
    std::vector<html_tag> open;
    const auto fail = [](std::string message) { return parse_result{{}, std::move(message)}; };
    static const std::vector<std::string_view> supported{"a",
                                                         "b",
                                                         "strong",
                                                         "i",
                                                         "em",
                                                         "s",
                                                         "strike",
                                                         "del",
                                                         "u",
                                                         "ins",
                                                         "tg-spoiler",
                                                         "tg-emoji",
                                                         "span",
                                                         "pre",
                                                         "code",
                                                         "blockquote"};
    for (std::size_t i = 0; i < in.size();) {
        const char c = in[i];
        if (c == '&') {
            const auto semi = in.find(';', i);
            if (semi != std::string_view::npos && semi - i <= 10) {
                if (auto cp = html_entity(in.substr(i + 1, semi - i - 1))) {
                    std::string s;
                    append_utf8(s, *cp);
                    b.add(s);
                    i = semi + 1;
                    continue;
                }
            }
            b.add_char('&'); // an unknown reference stays as it is
            ++i;
            continue;
        }
        if (c != '<') {
            i = copy_char(in, i, b);
            continue;
        }
        const std::size_t tag_begin = i;
        if (i + 1 < in.size() && in[i + 1] == '/') {
            // An end tag: "</name>" with optional spaces before '>'.
            std::size_t j = i + 2;
            while (j < in.size() && (std::isalnum(static_cast<unsigned char>(in[j])) != 0 || in[j] == '-')) {
                ++j;
            }
            const std::string name =
                boost::algorithm::to_lower_copy(std::string(in.substr(i + 2, j - i - 2)));
            while (j < in.size() && std::isspace(static_cast<unsigned char>(in[j])) != 0) {
                ++j;
            }
            if (j >= in.size() || in[j] != '>') {
                return fail("Unclosed end tag" + at_byte(tag_begin));
            }
            if (open.empty()) {
                return fail("Unexpected end tag" + at_byte(tag_begin));
            }
            auto tag = std::move(open.back());
            open.pop_back();
            if (!name.empty() && name != tag.name) {
                return fail("Unmatched end tag" + at_byte(tag_begin) + ", expected \"</" + tag.name +
                            ">\", found \"</" + name + ">\"");
            }
            if (!tag.entity.type.empty()) {
                b.close(std::move(tag.entity), tag.start);
            }
            i = j + 1;
            continue;
        }
        // A start tag: "<name attr=...>".
        std::size_t j = i + 1;
        while (j < in.size() && (std::isalnum(static_cast<unsigned char>(in[j])) != 0 || in[j] == '-')) {
            ++j;
        }
        const std::string name = boost::algorithm::to_lower_copy(std::string(in.substr(i + 1, j - i - 1)));
        if (std::find(supported.begin(), supported.end(), name) == supported.end()) {
            return fail("Unsupported start tag \"" + name + "\"" + at_byte(tag_begin));
        }
        std::vector<html_attribute> attributes;
        for (;;) {
            while (j < in.size() && std::isspace(static_cast<unsigned char>(in[j])) != 0) {
                ++j;
            }
            if (j >= in.size()) {
                return fail("Unclosed start tag" + at_byte(tag_begin));
            }
            if (in[j] == '>') {
                ++j;
                break;
            }
            const std::size_t name_begin = j;
            while (j < in.size() && in[j] != '=' && in[j] != '>' &&
                   std::isspace(static_cast<unsigned char>(in[j])) == 0) {
                ++j;
            }
            html_attribute attribute{
                boost::algorithm::to_lower_copy(std::string(in.substr(name_begin, j - name_begin))),
                {}};
            if (attribute.name.empty()) {
                return fail("Empty attribute name in the tag \"" + name + "\"" + at_byte(tag_begin));
            }
            if (j < in.size() && in[j] == '=') {
                ++j;
                if (j >= in.size()) {
                    return fail("Unclosed start tag" + at_byte(tag_begin));
                }
                if (in[j] == '"' || in[j] == '\'') {
                    const auto quote = in[j];
                    const auto end = in.find(quote, j + 1);
                    if (end == std::string_view::npos) {
                        return fail("Unclosed start tag" + at_byte(tag_begin));
                    }
                    attribute.value = decode_references(in.substr(j + 1, end - j - 1));
                    j = end + 1;
                } else {
                    const std::size_t value_begin = j;
                    while (j < in.size() && in[j] != '>' &&
                           std::isspace(static_cast<unsigned char>(in[j])) == 0) {
                        ++j;
                    }
                    attribute.value = decode_references(in.substr(value_begin, j - value_begin));
                }
            }
            attributes.push_back(std::move(attribute));
        }
        const auto attribute = [&](std::string_view key) -> const html_attribute* {
            for (const auto& a : attributes) {
                if (a.name == key) {
                    return &a;
                }
            }
            return nullptr;
        };
        html_tag tag{name, tag_begin, b.units, {}};
        if (name == "b" || name == "strong") {
            tag.entity.type = "bold";
        } else if (name == "i" || name == "em") {
            tag.entity.type = "italic";
        } else if (name == "u" || name == "ins") {
            tag.entity.type = "underline";
        } else if (name == "s" || name == "strike" || name == "del") {
            tag.entity.type = "strikethrough";
        } else if (name == "tg-spoiler") {
            tag.entity.type = "spoiler";
        } else if (name == "span") {
            const auto* cls = attribute("class");
            if (cls == nullptr || cls->value != "tg-spoiler") {
                return fail("Tag \"span\" must have class \"tg-spoiler\"" + at_byte(tag_begin));
            }
            tag.entity.type = "spoiler";
        } else if (name == "a") {
            const auto* href = attribute("href");
            const std::string url = href != nullptr ? href->value : std::string{};
            constexpr std::string_view user_link = "tg://user?id=";
            if (url.starts_with(user_link)) {
                tag.entity.type = "text_mention";
                std::int64_t id = 0;
                const auto digits = std::string_view(url).substr(user_link.size());
                std::from_chars(digits.data(), digits.data() + digits.size(), id);
                tag.entity.user_id = id;
            } else if (!url.empty()) {
                tag.entity.type = "text_link";
                tag.entity.url = url;
            }
        } else if (name == "tg-emoji") {
            const auto* id = attribute("emoji-id");
            if (id == nullptr || id->value.empty()) {
                return fail("Custom emoji entity must contain a tg://emoji URL");
            }
            tag.entity.type = "custom_emoji";
            tag.entity.custom_emoji_id = id->value;
        } else if (name == "pre") {
            tag.entity.type = "pre";
        } else if (name == "code") {
            // <pre><code class="language-x">: the language goes to the enclosing pre.
            const auto* cls = attribute("class");
            if (!open.empty() && open.back().name == "pre" && open.back().start == b.units) {
                if (cls != nullptr && cls->value.starts_with("language-")) {
                    open.back().entity.language = cls->value.substr(9);
                }
            } else {
                tag.entity.type = "code";
            }
        } else if (name == "blockquote") {
            tag.entity.type = attribute("expandable") != nullptr ? "expandable_blockquote" : "blockquote";
        }
        open.push_back(std::move(tag));
        i = j;
    }
    if (!open.empty()) {
        return fail("Can't find end tag corresponding to start tag \"" + open.back().name + "\"");
    }
    return {b.finish(), {}};
}

// ---- MarkdownV2 ------------------------------------------------------------------------------

constexpr std::string_view markdown_v2_reserved = "_*[]()~`>#+-=|{}.!";

struct v2_open {
    std::string marker; ///< "*", "_", "__", "~", "||", "[", ">"
    std::string type;   ///< TDLib's name in errors: Bold, Italic, ...
    std::size_t byte_offset = 0;
    std::int64_t start = 0;
};

std::string reserved_error(char c) {
    return std::string("Character '") + c + "' is reserved and must be escaped with the preceding '\\'";
}

parse_result parse_markdown_v2(std::string_view in) {
    builder b;
    std::vector<v2_open> open;
    const auto fail = [](std::string message) { return parse_result{{}, std::move(message)}; };
    const auto close_quote = [&]() {
        if (!open.empty() && open.back().marker == ">") {
            message_entity e{.type = open.back().type == "ExpandableBlockQuote" ? "expandable_blockquote"
                                                                                : "blockquote"};
            b.close(std::move(e), open.back().start);
            open.pop_back();
        }
    };
    bool line_start = true;
    for (std::size_t i = 0; i < in.size();) {
        const char c = in[i];
        if (line_start && c == '>') {
            if (open.empty() || open.back().marker != ">") {
                open.push_back({">", "BlockQuote", i, b.units});
            }
            ++i;
            line_start = false;
            continue;
        }
        if (line_start && in.substr(i).starts_with("**>")) {
            open.push_back({">", "ExpandableBlockQuote", i, b.units});
            i += 3;
            line_start = false;
            continue;
        }
        line_start = false;
        if (c == '\n') {
            b.add_char('\n');
            ++i;
            line_start = true;
            // A quote ends at a line that does not start with '>' (or at "||" closing an expandable one).
            if (!open.empty() && open.back().marker == ">" && (i >= in.size() || in[i] != '>')) {
                b.units -= 1;
                b.text.pop_back();
                close_quote();
                b.add_char('\n');
            }
            continue;
        }
        if (c == '\\') {
            if (i + 1 >= in.size() || static_cast<unsigned char>(in[i + 1]) >= 127) {
                return fail(reserved_error('\\'));
            }
            b.add_char(in[i + 1]);
            i += 2;
            continue;
        }
        if (c == '`') {
            // Code or pre: everything up to the closing marker is literal, except \` and \\.
            const bool pre = in.substr(i).starts_with("```");
            const std::size_t begin = i;
            std::size_t j = i + (pre ? 3 : 1);
            std::string language;
            if (pre) {
                const auto eol = in.find('\n', j);
                const auto fence = in.find("```", j);
                if (eol != std::string_view::npos && (fence == std::string_view::npos || eol < fence)) {
                    language = std::string(in.substr(j, eol - j));
                    j = eol + 1;
                }
            }
            const std::int64_t start = b.units;
            bool closed = false;
            while (j < in.size()) {
                if (in[j] == '\\' && j + 1 < in.size() && (in[j + 1] == '`' || in[j + 1] == '\\')) {
                    b.add_char(in[j + 1]);
                    j += 2;
                    continue;
                }
                if (pre ? in.substr(j).starts_with("```") : in[j] == '`') {
                    closed = true;
                    break;
                }
                j = copy_char(in, j, b);
            }
            if (!closed) {
                return fail(std::string("Can't find end of ") + (pre ? "Pre" : "Code") + " entity" +
                            at_byte(begin));
            }
            message_entity e{.type = pre ? "pre" : "code"};
            e.language = language;
            b.close(std::move(e), start);
            i = j + (pre ? 3 : 1);
            continue;
        }
        if (c == '[' || (c == '!' && i + 1 < in.size() && in[i + 1] == '[')) {
            const bool emoji = c == '!';
            open.push_back({"[", emoji ? "CustomEmoji" : "TextUrl", i, b.units});
            i += emoji ? 2 : 1;
            continue;
        }
        if (c == ']') {
            if (open.empty() || open.back().marker != "[") {
                return fail(reserved_error(']'));
            }
            auto link = std::move(open.back());
            open.pop_back();
            if (i + 1 >= in.size() || in[i + 1] != '(') {
                return fail(reserved_error(']')); // "[text]" alone is not a link
            }
            std::string url;
            std::size_t j = i + 2;
            bool closed = false;
            while (j < in.size()) {
                if (in[j] == '\\' && j + 1 < in.size() && (in[j + 1] == ')' || in[j + 1] == '\\')) {
                    url.push_back(in[j + 1]);
                    j += 2;
                    continue;
                }
                if (in[j] == ')') {
                    closed = true;
                    break;
                }
                url.push_back(in[j++]);
            }
            if (!closed) {
                return fail("Can't find end of a URL" + at_byte(i + 1));
            }
            message_entity e;
            constexpr std::string_view user_link = "tg://user?id=";
            constexpr std::string_view emoji_link = "tg://emoji?id=";
            if (link.type == "CustomEmoji") {
                if (!url.starts_with(emoji_link)) {
                    return fail("Custom emoji entity must contain a tg://emoji URL");
                }
                e.type = "custom_emoji";
                e.custom_emoji_id = url.substr(emoji_link.size());
            } else if (url.starts_with(user_link)) {
                e.type = "text_mention";
                const auto digits = std::string_view(url).substr(user_link.size());
                std::from_chars(digits.data(), digits.data() + digits.size(), e.user_id);
            } else {
                e.type = "text_link";
                e.url = url;
            }
            b.close(std::move(e), link.start);
            i = j + 1;
            continue;
        }
        // Paired markers: "__" is tried before "_" (Telegram reads it greedily), "||" needs two.
        std::string marker;
        std::string type;
        if (in.substr(i).starts_with("__")) {
            marker = "__";
            type = "Underline";
        } else if (c == '_') {
            marker = "_";
            type = "Italic";
        } else if (c == '*') {
            marker = "*";
            type = "Bold";
        } else if (c == '~') {
            marker = "~";
            type = "Strikethrough";
        } else if (in.substr(i).starts_with("||")) {
            marker = "||";
            type = "Spoiler";
        }
        if (!marker.empty()) {
            auto it = std::find_if(open.rbegin(), open.rend(), [&](const v2_open& o) {
                return o.marker == marker;
            });
            if (it != open.rend()) {
                if (it != open.rbegin()) {
                    // Closing an outer marker while an inner one is open: the inner is unclosed.
                    return fail("Can't find end of " + open.back().type + " entity" +
                                at_byte(open.back().byte_offset));
                }
                static const std::pair<std::string_view, std::string_view> names[] = {{"__", "underline"},
                                                                                      {"_", "italic"},
                                                                                      {"*", "bold"},
                                                                                      {"~", "strikethrough"},
                                                                                      {"||", "spoiler"}};
                message_entity e;
                for (const auto& [m, t] : names) {
                    if (m == marker) {
                        e.type = std::string(t);
                    }
                }
                b.close(std::move(e), open.back().start);
                open.pop_back();
            } else {
                open.push_back({marker, type, i, b.units});
            }
            i += marker.size();
            continue;
        }
        if (markdown_v2_reserved.find(c) != std::string_view::npos) {
            return fail(reserved_error(c));
        }
        i = copy_char(in, i, b);
    }
    close_quote();
    if (!open.empty()) {
        return fail("Can't find end of " + open.back().type + " entity" + at_byte(open.back().byte_offset));
    }
    return {b.finish(), {}};
}

// ---- Markdown (legacy) -----------------------------------------------------------------------

parse_result parse_markdown(std::string_view in) {
    builder b;
    const auto fail = [](std::size_t at) {
        return parse_result{{}, "Can't find end of the entity starting" + at_byte(at)};
    };
    for (std::size_t i = 0; i < in.size();) {
        const char c = in[i];
        if (c == '\\' && i + 1 < in.size() &&
            (in[i + 1] == '_' || in[i + 1] == '*' || in[i + 1] == '`' || in[i + 1] == '[')) {
            b.add_char(in[i + 1]);
            i += 2;
            continue;
        }
        if (c == '_' || c == '*' || c == '`') {
            const bool pre = c == '`' && in.substr(i).starts_with("```");
            const std::string_view end_marker = pre ? "```" : in.substr(i, 1);
            std::size_t j = i + end_marker.size();
            std::string language;
            if (pre) {
                const auto eol = in.find('\n', j);
                const auto fence = in.find("```", j);
                if (eol != std::string_view::npos && fence != std::string_view::npos && eol < fence) {
                    language = std::string(in.substr(j, eol - j));
                    j = eol + 1;
                }
            }
            const auto end = in.find(end_marker, j);
            if (end == std::string_view::npos) {
                return fail(i);
            }
            const std::int64_t start = b.units;
            b.add(in.substr(j, end - j));
            message_entity e{.type = c == '_' ? "italic" : c == '*' ? "bold" : pre ? "pre" : "code"};
            e.language = language;
            b.close(std::move(e), start);
            i = end + end_marker.size();
            continue;
        }
        if (c == '[') {
            const auto close = in.find(']', i + 1);
            if (close == std::string_view::npos) {
                return fail(i);
            }
            const std::int64_t start = b.units;
            b.add(in.substr(i + 1, close - i - 1));
            if (close + 1 < in.size() && in[close + 1] == '(') {
                const auto paren = in.find(')', close + 2);
                if (paren == std::string_view::npos) {
                    return fail(close + 1);
                }
                b.close({.type = "text_link", .url = std::string(in.substr(close + 2, paren - close - 2))},
                        start);
                i = paren + 1;
            } else {
                i = close + 1;
            }
            continue;
        }
        i = copy_char(in, i, b);
    }
    return {b.finish(), {}};
}

bool is_word_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' ||
           static_cast<unsigned char>(c) >= 0x80;
}

} // namespace

std::optional<parse_mode> parse_mode_from(std::string_view name) {
    const auto n = boost::algorithm::to_lower_copy(std::string(name));
    if (n == "html") {
        return parse_mode::html;
    }
    if (n == "markdownv2") {
        return parse_mode::markdown_v2;
    }
    if (n == "markdown") {
        return parse_mode::markdown;
    }
    return std::nullopt;
}

std::string_view to_string(parse_mode m) noexcept {
    switch (m) {
    case parse_mode::html:
        return "HTML";
    case parse_mode::markdown_v2:
        return "MarkdownV2";
    case parse_mode::markdown:
        return "Markdown";
    }
    return "HTML";
}

std::ostream& operator<<(std::ostream& os, parse_mode m) {
    return os << to_string(m);
}

std::ostream& operator<<(std::ostream& os, const message_entity& e) {
    os << '{' << e.type << ' ' << e.offset << '+' << e.length;
    if (!e.url.empty()) {
        os << " url=" << e.url;
    }
    if (!e.language.empty()) {
        os << " language=" << e.language;
    }
    if (!e.custom_emoji_id.empty()) {
        os << " emoji=" << e.custom_emoji_id;
    }
    if (e.user_id != 0) {
        os << " user=" << e.user_id;
    }
    return os << '}';
}

parse_result parse_formatted(std::string_view markup, parse_mode mode) {
    switch (mode) {
    case parse_mode::html:
        return parse_html(markup);
    case parse_mode::markdown_v2:
        return parse_markdown_v2(markup);
    case parse_mode::markdown:
        return parse_markdown(markup);
    }
    return parse_html(markup);
}

std::vector<message_entity> detect_entities(std::string_view text) {
    std::vector<message_entity> found;
    const auto add = [&](std::string type, std::size_t begin, std::size_t end) {
        found.push_back({.type = std::move(type),
                         .offset = utf16_length(text.substr(0, begin)),
                         .length = utf16_length(text.substr(begin, end - begin))});
    };
    for (std::size_t i = 0; i < text.size();) {
        const char c = text[i];
        const bool boundary = i == 0 || !is_word_char(text[i - 1]);
        if (boundary && (c == '/' || c == '@' || c == '#' || c == '$')) {
            std::size_t j = i + 1;
            while (j < text.size() && is_word_char(text[j]) && static_cast<unsigned char>(text[j]) < 0x80) {
                ++j;
            }
            if (c == '/' && j < text.size() && text[j] == '@') { // "/start@bot"
                ++j;
                while (j < text.size() && is_word_char(text[j])) {
                    ++j;
                }
            }
            const auto n = j - i - 1;
            const bool upper = std::all_of(text.begin() + static_cast<std::ptrdiff_t>(i + 1),
                                           text.begin() + static_cast<std::ptrdiff_t>(j),
                                           [](char ch) { return ch >= 'A' && ch <= 'Z'; });
            if (c == '/' && n >= 1 && n <= 64) {
                add("bot_command", i, j);
            } else if (c == '@' && n >= 2 && n <= 32) {
                add("mention", i, j);
            } else if (c == '#' && n >= 1) {
                add("hashtag", i, j);
            } else if (c == '$' && n >= 3 && n <= 8 && upper) {
                add("cashtag", i, j);
            }
            i = std::max(j, i + 1);
            continue;
        }
        if (boundary && (text.substr(i).starts_with("http://") || text.substr(i).starts_with("https://"))) {
            std::size_t j = i;
            while (j < text.size() && std::isspace(static_cast<unsigned char>(text[j])) == 0) {
                ++j;
            }
            while (j > i && std::string_view(".:;,('?!`").find(text[j - 1]) != std::string_view::npos) {
                --j;
            }
            add("url", i, j);
            i = j;
            continue;
        }
        if (c == '@' && i > 0 && is_word_char(text[i - 1])) {
            // local@domain.tld: an e-mail address
            std::size_t begin = i;
            while (begin > 0 && (is_word_char(text[begin - 1]) || text[begin - 1] == '.')) {
                --begin;
            }
            std::size_t end = i + 1;
            while (end < text.size() && (is_word_char(text[end]) || text[end] == '.' || text[end] == '-')) {
                ++end;
            }
            while (end > i + 1 && text[end - 1] == '.') {
                --end;
            }
            const auto domain = text.substr(i + 1, end - i - 1);
            const auto dot = domain.rfind('.');
            if (dot != std::string_view::npos && dot > 0 && domain.size() - dot > 2) {
                add("email", begin, end);
                i = end;
                continue;
            }
        }
        ++i;
    }
    return found;
}

} // namespace companion::sim::telegram
