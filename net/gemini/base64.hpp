// Standard base64 (RFC 4648, padded) for inline images and videos in Google's JSON bodies.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace companion::net::gemini {

std::string encode_base64(std::string_view bytes);

/// nullopt when `text` holds anything but base64 characters and trailing padding.
std::optional<std::string> decode_base64(std::string_view text);

} // namespace companion::net::gemini
