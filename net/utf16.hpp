// Telegram measures text in UTF-16 code units (entity offsets and lengths, the 4096-unit message
// limit) while the bot and its simulator hold UTF-8: the conversions both sides use.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace companion::net {

/// Length in bytes of the UTF-8 sequence starting with `lead`, or 0 for a continuation or
/// invalid byte.
std::size_t utf8_sequence_length(unsigned char lead) noexcept;

/// Byte offset in `utf8` of the UTF-16 code unit `units`; nullopt when past the end or inside a
/// surrogate pair (4-byte UTF-8 characters count as two UTF-16 units).
std::optional<std::size_t> utf16_to_byte_offset(std::string_view utf8, std::int64_t units) noexcept;

/// The number of UTF-16 code units of `utf8` (an invalid byte counts as one unit).
std::int64_t utf16_length(std::string_view utf8) noexcept;

} // namespace companion::net
