// Simulated images: real PNGs of the provider's documented size, and the size readers that check
// images coming in (PNG, JPEG, WebP) without decoding them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace companion::sim::media {

struct png_options {
    // Picks the picture; seed_from_text(prompt) gives each prompt its own image.
    std::uint64_t seed = 0;
    // zlib level: at 6 a 768x1376 image takes about 10 ms (the budget is 30 ms per request) and
    // the smooth picture deflates to tens of kilobytes.
    int compression_level = 6;
    // When not empty, a tEXt chunk "Comment" with this Latin-1 text goes before the pixels (the
    // Gemini simulator marks whose face a picture shows). A view, so the options stay trivially
    // destructible; it must outlive the make_png call.
    std::string_view comment{};
};

struct image_size {
    std::uint32_t width = 0;
    std::uint32_t height = 0;

    friend bool operator==(const image_size&, const image_size&) = default;
};

// An 8-bit RGB, non-interlaced PNG of the picture for opts.seed. Throws std::invalid_argument for
// a zero or larger than 16384 side, std::runtime_error if zlib fails.
[[nodiscard]] std::string make_png(std::uint32_t width, std::uint32_t height, const png_options& opts);

// The text of the first tEXt chunk named `keyword` before the pixels; nullopt when the PNG is
// malformed (bad signature, a chunk past the end or with a bad CRC) or has no such chunk.
[[nodiscard]] std::optional<std::string> read_png_text(std::string_view bytes, std::string_view keyword);

// Width and height from a PNG's IHDR; nullopt unless the signature, the IHDR layout and its CRC
// are all valid. Reads only the first 33 bytes.
[[nodiscard]] std::optional<image_size> read_png_header(std::string_view bytes);

// Width and height from a JPEG's first start-of-frame marker (any SOFn); nullopt when the markers
// are malformed or the scan starts before a frame header.
[[nodiscard]] std::optional<image_size> read_jpeg_size(std::string_view bytes);

// Width and height of a WebP (lossy VP8, lossless VP8L or extended VP8X canvas); nullopt otherwise.
[[nodiscard]] std::optional<image_size> read_webp_size(std::string_view bytes);

// Whichever of the three readers the leading bytes call for.
[[nodiscard]] std::optional<image_size> read_image_size(std::string_view bytes);

} // namespace companion::sim::media
