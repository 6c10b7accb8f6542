// PNG writing (filter "Up" rows deflated by zlib) and header-only size readers for PNG, JPEG, WebP.
#include "sim/media/png.hpp"

#include "sim/media/picture.hpp"

#include <zlib.h>

#include <array>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace companion::sim::media {
namespace {

constexpr std::string_view png_signature{"\x89PNG\r\n\x1a\n", 8};

void put_u32be(std::string& out, std::uint32_t v) {
    out.push_back(static_cast<char>(v >> 24U));
    out.push_back(static_cast<char>(v >> 16U));
    out.push_back(static_cast<char>(v >> 8U));
    out.push_back(static_cast<char>(v));
}

std::uint32_t u8_at(std::string_view b, std::size_t i) {
    return static_cast<std::uint8_t>(b[i]);
}

std::uint32_t u16be_at(std::string_view b, std::size_t i) {
    return (u8_at(b, i) << 8U) | u8_at(b, i + 1);
}

std::uint32_t u16le_at(std::string_view b, std::size_t i) {
    return u8_at(b, i) | (u8_at(b, i + 1) << 8U);
}

std::uint32_t u24le_at(std::string_view b, std::size_t i) {
    return u16le_at(b, i) | (u8_at(b, i + 2) << 16U);
}

std::uint32_t u32be_at(std::string_view b, std::size_t i) {
    return (u16be_at(b, i) << 16U) | u16be_at(b, i + 2);
}

std::uint32_t u32le_at(std::string_view b, std::size_t i) {
    return u16le_at(b, i) | (u16le_at(b, i + 2) << 16U);
}

std::uint32_t crc_of(std::string_view bytes) {
    const auto crc = crc32(0L, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(bytes.size()));
    return static_cast<std::uint32_t>(crc);
}

// A chunk is length, type, data, then the CRC of type and data.
void put_chunk(std::string& out, std::string_view type, std::string_view data) {
    put_u32be(out, static_cast<std::uint32_t>(data.size()));
    const std::size_t crc_from = out.size();
    out.append(type);
    out.append(data);
    put_u32be(out, crc_of(std::string_view(out).substr(crc_from)));
}

// Filtered scanlines: each row is prefixed by its filter type. "Up" turns the vertical gradient
// into runs of near-zero bytes, which is what keeps deflate fast at a low level.
std::vector<std::uint8_t> filtered_rows(const picture& pic) {
    const std::size_t stride = std::size_t{pic.width()} * 3;
    std::vector<std::uint8_t> raw((stride + 1) * pic.height());
    std::vector<std::uint8_t> previous(stride);
    std::vector<std::uint8_t> current(stride);
    for (std::uint32_t y = 0; y < pic.height(); ++y) {
        pic.render_row(y, current);
        std::uint8_t* row = raw.data() + (stride + 1) * y;
        row[0] = y == 0 ? 0 : 2;
        for (std::size_t i = 0; i < stride; ++i) {
            row[i + 1] = static_cast<std::uint8_t>(current[i] - (y == 0 ? 0 : previous[i]));
        }
        std::swap(previous, current);
    }
    return raw;
}

std::string deflated(const std::vector<std::uint8_t>& raw, int level) {
    uLongf size = compressBound(static_cast<uLong>(raw.size()));
    std::string out(size, '\0');
    const int rc = compress2(reinterpret_cast<Bytef*>(out.data()),
                             &size,
                             raw.data(),
                             static_cast<uLong>(raw.size()),
                             level);
    if (rc != Z_OK) {
        throw std::runtime_error("make_png: zlib compress2 failed");
    }
    out.resize(size);
    return out;
}

std::optional<image_size> checked(std::uint32_t width, std::uint32_t height) {
    if (width == 0 || height == 0) {
        return std::nullopt;
    }
    return image_size{width, height};
}

} // namespace

std::string make_png(std::uint32_t width, std::uint32_t height, const png_options& opts) {
    const picture pic(width, height, opts.seed);
    std::string ihdr;
    put_u32be(ihdr, width);
    put_u32be(ihdr, height);
    ihdr.append({'\x08', '\x02', '\x00', '\x00', '\x00'}); // 8 bits, RGB, deflate, filter 0, no interlace

    const std::string idat = deflated(filtered_rows(pic), opts.compression_level);
    std::string png;
    png.reserve(png_signature.size() + 25 + idat.size() + 12 + 12);
    png.append(png_signature);
    put_chunk(png, "IHDR", ihdr);
    if (!opts.comment.empty()) {
        std::string text("Comment");
        text.push_back('\0');
        text.append(opts.comment);
        put_chunk(png, "tEXt", text);
    }
    put_chunk(png, "IDAT", idat);
    put_chunk(png, "IEND", {});
    return png;
}

std::optional<std::string> read_png_text(std::string_view bytes, std::string_view keyword) {
    if (!read_png_header(bytes)) {
        return std::nullopt;
    }
    std::size_t at = 8;
    while (at + 12 <= bytes.size()) {
        const std::size_t length = u32be_at(bytes, at);
        if (length > bytes.size() - at - 12) {
            return std::nullopt;
        }
        const std::string_view type = bytes.substr(at + 4, 4);
        const std::string_view data = bytes.substr(at + 8, length);
        if (crc_of(bytes.substr(at + 4, length + 4)) != u32be_at(bytes, at + 8 + length)) {
            return std::nullopt;
        }
        if (type == "IDAT" || type == "IEND") {
            return std::nullopt; // text that matters comes before the pixels
        }
        const auto nul = data.find('\0');
        if (type == "tEXt" && nul != std::string_view::npos && data.substr(0, nul) == keyword) {
            return std::string(data.substr(nul + 1));
        }
        at += 12 + length;
    }
    return std::nullopt;
}

std::optional<image_size> read_png_header(std::string_view bytes) {
    // signature (8), IHDR length (4), "IHDR" (4), data (13), CRC (4)
    if (bytes.size() < 33 || bytes.substr(0, 8) != png_signature || u32be_at(bytes, 8) != 13 ||
        bytes.substr(12, 4) != "IHDR") {
        return std::nullopt;
    }
    if (crc_of(bytes.substr(12, 17)) != u32be_at(bytes, 29)) {
        return std::nullopt;
    }
    const std::uint32_t width = u32be_at(bytes, 16);
    const std::uint32_t height = u32be_at(bytes, 20);
    if (width > 0x7FFFFFFFU || height > 0x7FFFFFFFU) {
        return std::nullopt;
    }
    return checked(width, height);
}

std::optional<image_size> read_jpeg_size(std::string_view bytes) {
    if (bytes.size() < 4 || u8_at(bytes, 0) != 0xFF || u8_at(bytes, 1) != 0xD8) {
        return std::nullopt;
    }
    std::size_t pos = 2;
    while (pos < bytes.size()) {
        if (u8_at(bytes, pos) != 0xFF) {
            return std::nullopt;
        }
        // Any number of 0xFF fill bytes may precede a marker code.
        while (pos < bytes.size() && u8_at(bytes, pos) == 0xFF) {
            ++pos;
        }
        if (pos >= bytes.size()) {
            return std::nullopt;
        }
        const std::uint32_t marker = u8_at(bytes, pos++);
        // Standalone markers carry no length: TEM, RSTn, SOI.
        if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD8)) {
            continue;
        }
        // End of image, or a scan with no frame header before it.
        if (marker == 0xD9 || marker == 0xDA || marker == 0x00) {
            return std::nullopt;
        }
        if (pos + 2 > bytes.size()) {
            return std::nullopt;
        }
        const std::uint32_t length = u16be_at(bytes, pos);
        if (length < 2 || pos + length > bytes.size()) {
            return std::nullopt;
        }
        // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC), which share the range.
        const bool frame =
            marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
        if (frame) {
            // length (2), precision (1), height (2), width (2)
            if (length < 7) {
                return std::nullopt;
            }
            return checked(u16be_at(bytes, pos + 5), u16be_at(bytes, pos + 3));
        }
        pos += length;
    }
    return std::nullopt;
}

std::optional<image_size> read_webp_size(std::string_view bytes) {
    // RIFF header (12), chunk FourCC (4), chunk size (4), then the chunk's own header.
    if (bytes.size() < 30 || bytes.substr(0, 4) != "RIFF" || bytes.substr(8, 4) != "WEBP") {
        return std::nullopt;
    }
    const std::string_view chunk = bytes.substr(12, 4);
    const std::size_t data = 20;
    if (chunk == "VP8 ") {
        // frame tag (3 bytes, bit 0 clear on a key frame), start code 9d 01 2a, 14-bit sizes.
        if ((u8_at(bytes, data) & 1U) != 0 || bytes.substr(data + 3, 3) != "\x9d\x01\x2a") {
            return std::nullopt;
        }
        return checked(u16le_at(bytes, data + 6) & 0x3FFFU, u16le_at(bytes, data + 8) & 0x3FFFU);
    }
    if (chunk == "VP8L") {
        // signature 0x2f, then width-1 and height-1 as two 14-bit little-endian fields.
        if (u8_at(bytes, data) != 0x2F) {
            return std::nullopt;
        }
        const std::uint32_t bits = u32le_at(bytes, data + 1);
        return checked((bits & 0x3FFFU) + 1, ((bits >> 14U) & 0x3FFFU) + 1);
    }
    if (chunk == "VP8X") {
        // flags (1), reserved (3), canvas width-1 and height-1 as 24-bit little-endian.
        return checked(u24le_at(bytes, data + 4) + 1, u24le_at(bytes, data + 7) + 1);
    }
    return std::nullopt;
}

std::optional<image_size> read_image_size(std::string_view bytes) {
    if (bytes.substr(0, 8) == png_signature) {
        return read_png_header(bytes);
    }
    if (bytes.size() >= 2 && u8_at(bytes, 0) == 0xFF && u8_at(bytes, 1) == 0xD8) {
        return read_jpeg_size(bytes);
    }
    if (bytes.substr(0, 4) == "RIFF") {
        return read_webp_size(bytes);
    }
    return std::nullopt;
}

} // namespace companion::sim::media
