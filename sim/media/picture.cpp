// Renders the seed-derived picture row by row with integer blending, fast enough for 1 MP per request.
#include "sim/media/picture.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace companion::sim::media {
namespace {

// splitmix64: a tiny, well-mixed generator whose output is fixed by the seed on every platform
// (std:: distributions are not, which would make the bytes differ between standard libraries).
class seed_stream {
public:
    explicit seed_stream(std::uint64_t seed) : state_(seed) {}

    std::uint64_t next() noexcept {
        std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
        z = (z ^ (z >> 30U)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27U)) * 0x94D049BB133111EBULL;
        return z ^ (z >> 31U);
    }

    // Uniform in [lo, hi]; the modulo bias is irrelevant for picking colours.
    int between(int lo, int hi) noexcept {
        const auto span = static_cast<std::uint64_t>(hi - lo + 1);
        return lo + static_cast<int>(next() % span);
    }

    rgb colour(int lo, int hi) noexcept {
        return {static_cast<std::uint8_t>(between(lo, hi)),
                static_cast<std::uint8_t>(between(lo, hi)),
                static_cast<std::uint8_t>(between(lo, hi))};
    }

private:
    std::uint64_t state_;
};

std::uint8_t blend(std::uint8_t under, std::uint8_t over, int alpha) noexcept {
    return static_cast<std::uint8_t>((under * (256 - alpha) + over * alpha) >> 8);
}

void blend_span(std::span<std::uint8_t> row, int from, int to, rgb colour, int alpha) noexcept {
    for (int x = from; x < to; ++x) {
        const auto i = static_cast<std::size_t>(x) * 3;
        row[i] = blend(row[i], colour.r, alpha);
        row[i + 1] = blend(row[i + 1], colour.g, alpha);
        row[i + 2] = blend(row[i + 2], colour.b, alpha);
    }
}

} // namespace

std::uint64_t seed_from_text(std::string_view text) noexcept {
    std::uint64_t hash = 0xCBF29CE484222325ULL;
    for (const char c : text) {
        hash ^= static_cast<std::uint8_t>(c);
        hash *= 0x100000001B3ULL;
    }
    return hash;
}

picture::picture(std::uint32_t width, std::uint32_t height, std::uint64_t seed)
    : width_(width), height_(height), label_bits_(static_cast<std::uint32_t>(seed)) {
    if (width == 0 || height == 0 || width > 16384 || height > 16384) {
        throw std::invalid_argument("picture: size out of range");
    }
    seed_stream random(seed);
    top_ = random.colour(20, 120);
    bottom_ = random.colour(110, 235);
    const int w = static_cast<int>(width);
    const int h = static_cast<int>(height);
    const int short_side = std::min(w, h);

    const int band_count = random.between(2, 4);
    for (int i = 0; i < band_count; ++i) {
        const int top = random.between(0, h - 1);
        const int thickness = std::max(1, random.between(h / 40, h / 10));
        bands_.push_back({top, std::min(h, top + thickness), random.colour(0, 255), random.between(60, 140)});
    }
    // Discs keep a margin from the left and right edges: the video sways sideways by copying edge
    // columns inward, which is invisible on the gradient but would smear a disc touching an edge.
    const int disc_count = random.between(3, 6);
    for (int i = 0; i < disc_count; ++i) {
        const int radius = std::max(1, random.between(short_side / 16, short_side / 5));
        const int margin = std::min(w / 2, radius + w / 16);
        const int cx = random.between(margin, std::max(margin, w - 1 - margin));
        const int cy = random.between(0, h - 1);
        discs_.push_back({cx, cy, radius, random.colour(30, 255), random.between(120, 230)});
    }

    label_cell_ = std::max(1, w / 40);
    label_left_ = (w - 32 * label_cell_) / 2;
    label_top_ = std::max(0, h - 3 * label_cell_);
}

void picture::render_row(std::uint32_t y, std::span<std::uint8_t> out) const {
    if (y >= height_ || out.size() < std::size_t{width_} * 3) {
        throw std::out_of_range("picture: row out of range");
    }
    const int w = static_cast<int>(width_);
    const int row = static_cast<int>(y);
    const int last = std::max(1, static_cast<int>(height_) - 1);
    const int t = row * 256 / last;
    const rgb base{blend(top_.r, bottom_.r, t), blend(top_.g, bottom_.g, t), blend(top_.b, bottom_.b, t)};
    for (int x = 0; x < w; ++x) {
        const auto i = static_cast<std::size_t>(x) * 3;
        out[i] = base.r;
        out[i + 1] = base.g;
        out[i + 2] = base.b;
    }
    for (const band& b : bands_) {
        if (row >= b.top && row < b.bottom) {
            blend_span(out, 0, w, b.colour, b.alpha);
        }
    }
    for (const disc& d : discs_) {
        const int dy = row - d.cy;
        if (dy < -d.radius || dy > d.radius) {
            continue;
        }
        const int half = static_cast<int>(std::sqrt(static_cast<double>(d.radius * d.radius - dy * dy)));
        blend_span(out, std::max(0, d.cx - half), std::min(w, d.cx + half + 1), d.colour, d.alpha);
    }
    if (row >= label_top_ && row < label_top_ + label_cell_) {
        for (int bit = 0; bit < 32; ++bit) {
            const bool set = ((label_bits_ >> static_cast<unsigned>(bit)) & 1U) != 0;
            const int from = std::max(0, label_left_ + bit * label_cell_);
            const int to = std::min(w, from + label_cell_);
            blend_span(out, from, to, set ? rgb{250, 250, 250} : rgb{15, 15, 15}, 256);
        }
    }
}

} // namespace companion::sim::media
