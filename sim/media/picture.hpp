// The deterministic picture behind every simulated image and video: a seed picks the colours and
// shapes, so different prompts give visibly different media and the same prompt the same bytes.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace companion::sim::media {

// A stable 64-bit seed for a prompt or any other text (FNV-1a: stable across runs and builds,
// unlike std::hash).
[[nodiscard]] std::uint64_t seed_from_text(std::string_view text) noexcept;

struct rgb {
    std::uint8_t r = 0;
    std::uint8_t g = 0;
    std::uint8_t b = 0;
};

// A vertical gradient under a few translucent bands and discs, with a strip of cells near the
// bottom that spells the seed's low 32 bits. Rendered one row at a time so a writer can stream it.
class picture {
public:
    picture(std::uint32_t width, std::uint32_t height, std::uint64_t seed);

    [[nodiscard]] std::uint32_t width() const noexcept { return width_; }
    [[nodiscard]] std::uint32_t height() const noexcept { return height_; }

    // Writes row y (< height) as width RGB triplets; out must hold at least 3 * width bytes.
    void render_row(std::uint32_t y, std::span<std::uint8_t> out) const;

private:
    struct band {
        int top = 0;
        int bottom = 0;
        rgb colour;
        int alpha = 0; // of 256
    };
    struct disc {
        int cx = 0;
        int cy = 0;
        int radius = 0;
        rgb colour;
        int alpha = 0;
    };

    std::uint32_t width_;
    std::uint32_t height_;
    rgb top_;
    rgb bottom_;
    std::vector<band> bands_;
    std::vector<disc> discs_;
    std::uint32_t label_bits_;
    int label_cell_;
    int label_top_;
    int label_left_;
};

} // namespace companion::sim::media
