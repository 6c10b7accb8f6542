// UTF-8 / UTF-16 unit conversions.
#include "net/utf16.hpp"

namespace companion::net {

std::size_t utf8_sequence_length(unsigned char lead) noexcept {
    if (lead < 0x80) {
        return 1;
    }
    if ((lead & 0xE0) == 0xC0) {
        return 2;
    }
    if ((lead & 0xF0) == 0xE0) {
        return 3;
    }
    if ((lead & 0xF8) == 0xF0) {
        return 4;
    }
    return 0;
}

std::optional<std::size_t> utf16_to_byte_offset(std::string_view utf8, std::int64_t units) noexcept {
    if (units < 0) {
        return std::nullopt;
    }
    std::size_t i = 0;
    std::int64_t seen = 0;
    while (seen < units) {
        if (i >= utf8.size()) {
            return std::nullopt;
        }
        std::size_t n = utf8_sequence_length(static_cast<unsigned char>(utf8[i]));
        if (n == 0 || i + n > utf8.size()) {
            n = 1; // invalid UTF-8: Telegram never sends it; count the byte as one unit
        }
        seen += n == 4 ? 2 : 1;
        i += n;
    }
    if (seen != units) {
        return std::nullopt; // the offset splits a surrogate pair
    }
    return i;
}

std::int64_t utf16_length(std::string_view utf8) noexcept {
    std::int64_t units = 0;
    for (std::size_t i = 0; i < utf8.size();) {
        std::size_t n = utf8_sequence_length(static_cast<unsigned char>(utf8[i]));
        if (n == 0 || i + n > utf8.size()) {
            n = 1;
        }
        units += n == 4 ? 2 : 1;
        i += n;
    }
    return units;
}

} // namespace companion::net
