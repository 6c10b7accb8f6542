// Telegram's formatting options, sans-I/O: `parse_mode` HTML, MarkdownV2 and Markdown (legacy)
// turned into plain text plus MessageEntity objects with offsets and lengths in UTF-16 code units,
// with Telegram's validation and error texts (the part after "Bad Request: can't parse entities: ").
//
// Rules: the Bot API's "Formatting options" section (core.telegram.org/bots/api#formatting-options).
// Error texts: TDLib's MessageEntity.cpp (github.com/tdlib/td, td/telegram/MessageEntity.cpp), which
// the Bot API server passes on, as bots see them, e.g.
//   "Can't find end of the entity starting at byte offset 5"                         (Markdown)
//   "Character '.' is reserved and must be escaped with the preceding '\'"         (MarkdownV2)
//   "Can't find end of Bold entity at byte offset 0"                                (MarkdownV2)
//   "Unsupported start tag \"div\" at byte offset 0"                                (HTML)
//   "Can't find end tag corresponding to start tag \"b\""                           (HTML)
//   "Unmatched end tag at byte offset 9, expected \"</i>\", found \"</b>\""        (HTML)
#pragma once

#include "net/utf16.hpp"

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace companion::sim::telegram {

enum class parse_mode { html, markdown_v2, markdown };

/// "HTML", "MarkdownV2" or "Markdown", case-insensitive as the Bot API reads it; nullopt otherwise.
std::optional<parse_mode> parse_mode_from(std::string_view name);
std::string_view to_string(parse_mode m) noexcept;
std::ostream& operator<<(std::ostream& os, parse_mode m);

struct message_entity {
    std::string type;        ///< "bold", "italic", "text_link", "pre", ...
    std::int64_t offset = 0; ///< UTF-16 code units
    std::int64_t length = 0; ///< UTF-16 code units
    std::string url{};       ///< text_link
    std::string language{};  ///< pre
    std::string custom_emoji_id{};
    std::int64_t user_id = 0; ///< text_mention (tg://user?id=...)

    friend bool operator==(const message_entity&, const message_entity&) = default;
};
std::ostream& operator<<(std::ostream& os, const message_entity& e);

struct formatted_text {
    std::string text;
    std::vector<message_entity> entities; ///< sorted by offset, then by length (longest first)
};

struct parse_result {
    formatted_text value;
    std::string error{}; ///< non-empty on failure: Telegram's text after "can't parse entities: "

    bool ok() const noexcept { return error.empty(); }
};

/// Parses `markup` under `mode`. Entities of zero length are dropped, as Telegram drops them.
parse_result parse_formatted(std::string_view markup, parse_mode mode);

/// Length in UTF-16 code units (Telegram's unit for text limits and entity offsets).
using net::utf16_length; // net/utf16.hpp

/// The entities Telegram itself finds in plain text: bot commands, @mentions, #hashtags, $CASHTAGS,
/// URLs and e-mail addresses (a subset of its detection: the forms bots and tests meet).
std::vector<message_entity> detect_entities(std::string_view text);

} // namespace companion::sim::telegram
