// Tests of the simulated media: PNGs a real decoder accepts with the seed's pixels, size readers on
// handmade headers, and MP4 files whose boxes, H.264 parameter sets and samples are consistent.
#include "sim/media/picture.hpp"
#include "sim/media/png.hpp"

#include <vips/vips8>
#include <zlib.h>

#include <array>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

namespace companion::sim::media {

std::ostream& operator<<(std::ostream& os, const image_size& s) {
    return os << s.width << 'x' << s.height;
}

std::ostream& operator<<(std::ostream& os, const std::optional<image_size>& s) {
    return s ? os << *s : os << "nullopt";
}

} // namespace companion::sim::media

namespace companion::sim::media::test {
namespace {

std::uint32_t be32(std::string_view b, std::size_t i) {
    std::uint32_t v = 0;
    for (std::size_t k = 0; k < 4; ++k) {
        v = (v << 8U) | static_cast<std::uint8_t>(b[i + k]);
    }
    return v;
}

std::string bytes(std::initializer_list<int> values) {
    std::string out;
    for (const int v : values) {
        out.push_back(static_cast<char>(v));
    }
    return out;
}

std::optional<image_size> size(std::uint32_t width, std::uint32_t height) {
    return image_size{width, height};
}

// libvips is initialised once per process; it is only a test oracle.
void ensure_vips() {
    static const bool ready = vips_init("sim_media_tests") == 0;
    BOOST_TEST_REQUIRE(ready);
}

struct png_chunk {
    std::string type;
    std::string_view data;
    bool crc_ok = false;
};

std::vector<png_chunk> png_chunks(std::string_view png) {
    std::vector<png_chunk> chunks;
    std::size_t pos = 8;
    while (pos + 12 <= png.size()) {
        const std::uint32_t length = be32(png, pos);
        BOOST_TEST_REQUIRE(pos + 12 + length <= png.size());
        const std::string_view typed = png.substr(pos + 4, 4 + length);
        const auto crc =
            crc32(0L, reinterpret_cast<const Bytef*>(typed.data()), static_cast<uInt>(typed.size()));
        chunks.push_back(
            {std::string(typed.substr(0, 4)), typed.substr(4), crc == be32(png, pos + 8 + length)});
        pos += 12 + length;
    }
    BOOST_TEST(pos == png.size());
    return chunks;
}

} // namespace

BOOST_AUTO_TEST_SUITE(sim_media)

BOOST_AUTO_TEST_CASE(png_has_signature_ihdr_idat_iend_with_valid_crcs) {
    const std::string png = make_png(768, 1376, {.seed = 7});
    BOOST_TEST(png.substr(0, 8) == std::string_view("\x89PNG\r\n\x1a\n", 8));
    const auto chunks = png_chunks(png);
    BOOST_TEST_REQUIRE(chunks.size() == 3U);
    BOOST_TEST(chunks[0].type == "IHDR");
    BOOST_TEST(chunks[1].type == "IDAT");
    BOOST_TEST(chunks[2].type == "IEND");
    for (const auto& chunk : chunks) {
        BOOST_TEST(chunk.crc_ok, chunk.type << " CRC");
    }
    BOOST_TEST(chunks[0].data.substr(8) == bytes({8, 2, 0, 0, 0}));
}

BOOST_AUTO_TEST_CASE(png_size_reads_back_for_the_gemini_portrait_sizes) {
    for (const auto& [w, h] : std::array<std::pair<std::uint32_t, std::uint32_t>, 4>{
             {{768, 1344}, {768, 1376}, {1, 1}, {1024, 1024}}}) {
        const std::string png = make_png(w, h, {.seed = w * 31U + h});
        BOOST_TEST(read_png_header(png) == size(w, h));
        BOOST_TEST(read_image_size(png) == size(w, h));
    }
}

BOOST_AUTO_TEST_CASE(png_decodes_in_libvips_to_the_seeds_pixels) {
    ensure_vips();
    const std::uint32_t width = 768;
    const std::uint32_t height = 1376;
    const std::string png = make_png(width, height, {.seed = 42});
    const vips::VImage image = vips::VImage::new_from_buffer(png.data(), png.size(), "");
    BOOST_TEST(image.width() == 768);
    BOOST_TEST(image.height() == 1376);
    BOOST_TEST(image.bands() == 3);

    const picture pic(width, height, 42);
    std::vector<std::uint8_t> row(std::size_t{width} * 3);
    for (const auto& [x, y] :
         std::array<std::pair<int, int>, 4>{{{0, 0}, {383, 700}, {767, 1375}, {100, 1300}}}) {
        pic.render_row(static_cast<std::uint32_t>(y), row);
        const std::vector<double> point = image.getpoint(x, y);
        BOOST_TEST_REQUIRE(point.size() == 3U);
        for (std::size_t band = 0; band < 3; ++band) {
            BOOST_TEST(point[band] == row[static_cast<std::size_t>(x) * 3 + band],
                       "pixel " << x << ',' << y << " band " << band);
        }
    }
    // A picture, not a flat fill: the image's deviation is well above noise.
    BOOST_TEST(image.deviate() > 10.0);
}

BOOST_AUTO_TEST_CASE(png_is_deterministic_for_a_seed_and_differs_between_seeds) {
    const auto a = make_png(320, 480, {.seed = seed_from_text("a cat on a roof")});
    const auto b = make_png(320, 480, {.seed = seed_from_text("a cat on a roof")});
    const auto c = make_png(320, 480, {.seed = seed_from_text("a dog in the rain")});
    BOOST_TEST((a == b));
    BOOST_TEST((a != c));
}

BOOST_AUTO_TEST_CASE(png_header_reader_rejects_bad_signature_crc_and_truncation) {
    const std::string png = make_png(16, 16, {.seed = 1});
    std::string bad_crc = png;
    bad_crc[20] = static_cast<char>(bad_crc[20] ^ 1); // height byte: CRC no longer matches
    std::string bad_signature = png;
    bad_signature[1] = 'Q';
    BOOST_TEST(!read_png_header(bad_crc));
    BOOST_TEST(!read_png_header(bad_signature));
    BOOST_TEST(!read_png_header(std::string_view(png).substr(0, 32)));
    BOOST_TEST(!read_png_header(""));
}

BOOST_AUTO_TEST_CASE(jpeg_size_comes_from_the_first_frame_header) {
    const std::string app0 =
        bytes({0xFF, 0xE0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0});
    const std::string dht = bytes({0xFF, 0xC4, 0x00, 0x06, 0x00, 0x01, 0x02, 0x03});
    // SOFn: length 17, precision 8, height 1280 (0x0500), width 720 (0x02D0), 3 components.
    const auto sof = [](int marker) {
        return bytes(
            {0xFF, marker, 0x00, 0x11, 8, 0x05, 0x00, 0x02, 0xD0, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1});
    };
    const std::string soi = bytes({0xFF, 0xD8});
    const std::string sos = bytes({0xFF, 0xDA, 0x00, 0x02});

    BOOST_TEST(read_jpeg_size(soi + app0 + sof(0xC0) + sos) == size(720, 1280));
    BOOST_TEST(read_jpeg_size(soi + app0 + dht + bytes({0xFF, 0xFF}) + sof(0xC2) + sos) == size(720, 1280));
    BOOST_TEST(read_image_size(soi + sof(0xC1)) == size(720, 1280));
    BOOST_TEST(!read_jpeg_size(soi + app0 + sos + sof(0xC0)));             // scan before frame header
    BOOST_TEST(!read_jpeg_size(soi + dht));                                // no frame header at all
    BOOST_TEST(!read_jpeg_size(soi + app0.substr(0, 6)));                  // segment runs past the end
    BOOST_TEST(!read_jpeg_size(soi + sof(0xC0).substr(0, 6)));             // frame header truncated
    BOOST_TEST(!read_jpeg_size(bytes({0x89, 'P', 'N', 'G'}) + sof(0xC0))); // not a JPEG
}

BOOST_AUTO_TEST_CASE(webp_size_comes_from_vp8_vp8l_or_vp8x) {
    const std::string riff = std::string("RIFF") + bytes({0x40, 0, 0, 0}) + "WEBP";
    const std::string length = bytes({0x20, 0, 0, 0});
    // Key frame tag, start code, 14-bit width 720 (0x02D0) and height 1280 (0x0500), scale bits 0.
    const std::string vp8 =
        riff + "VP8 " + length + bytes({0x50, 0x02, 0x00, 0x9D, 0x01, 0x2A, 0xD0, 0x02, 0x00, 0x05});
    // width-1 = 719, height-1 = 1279 packed as 14 + 14 bits after the 0x2f signature.
    const std::uint32_t packed = 719U | (1279U << 14U);
    const std::string vp8l = riff + "VP8L" + length +
                             bytes({0x2F,
                                    static_cast<int>(packed & 0xFFU),
                                    static_cast<int>((packed >> 8U) & 0xFFU),
                                    static_cast<int>((packed >> 16U) & 0xFFU),
                                    static_cast<int>(packed >> 24U),
                                    0,
                                    0,
                                    0,
                                    0,
                                    0});
    // flags, reserved, canvas width-1 = 767 (0x0002FF), height-1 = 1375 (0x00055F), 24-bit LE.
    const std::string vp8x =
        riff + "VP8X" + length + bytes({0x10, 0, 0, 0, 0xFF, 0x02, 0x00, 0x5F, 0x05, 0x00});

    BOOST_TEST(read_webp_size(vp8) == size(720, 1280));
    BOOST_TEST(read_webp_size(vp8l) == size(720, 1280));
    BOOST_TEST(read_webp_size(vp8x) == size(768, 1376));
    BOOST_TEST(read_image_size(vp8x) == size(768, 1376));
    std::string inter_frame = vp8;
    inter_frame[20] = 0x51;
    BOOST_TEST(!read_webp_size(inter_frame));
    BOOST_TEST(!read_webp_size(vp8.substr(0, 25)));
    BOOST_TEST(!read_webp_size(riff + "VP9 " + length + std::string(10, '\0')));
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace companion::sim::media::test
