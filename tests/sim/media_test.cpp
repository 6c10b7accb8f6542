// Tests of the simulated media: PNGs a real decoder accepts with the seed's pixels, size readers on
// handmade headers, and MP4 files whose boxes, H.264 parameter sets and samples are consistent.
#include "sim/media/mp4.hpp"
#include "sim/media/picture.hpp"
#include "sim/media/png.hpp"

#include <vips/vips8>
#include <zlib.h>

#include <array>
#include <cmath>
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

// ---- H.264 and MP4 readers written independently of the library, so a shared mistake cannot pass.

// NAL payload with emulation prevention bytes removed (header byte dropped).
std::string unescape_rbsp(std::string_view nal) {
    std::string rbsp;
    unsigned zeros = 0;
    for (std::size_t i = 1; i < nal.size(); ++i) {
        const auto byte = static_cast<std::uint8_t>(nal[i]);
        if (zeros >= 2 && byte == 3) {
            zeros = 0;
            continue;
        }
        rbsp.push_back(nal[i]);
        zeros = byte == 0 ? zeros + 1 : 0;
    }
    return rbsp;
}

class bit_reader {
public:
    explicit bit_reader(std::string_view bytes) : bytes_(bytes) {}

    std::uint32_t bits(unsigned count) {
        std::uint32_t v = 0;
        for (unsigned i = 0; i < count; ++i) {
            BOOST_TEST_REQUIRE(pos_ / 8 < bytes_.size());
            const auto byte = static_cast<std::uint8_t>(bytes_[pos_ / 8]);
            v = (v << 1U) | ((byte >> (7 - pos_ % 8)) & 1U);
            ++pos_;
        }
        return v;
    }
    bool flag() { return bits(1) == 1; }
    std::uint32_t ue() {
        unsigned zeros = 0;
        while (bits(1) == 0) {
            ++zeros;
            BOOST_TEST_REQUIRE(zeros < 32U);
        }
        return (1U << zeros) - 1 + bits(zeros);
    }
    std::int32_t se() {
        const std::uint32_t k = ue();
        const auto magnitude = static_cast<std::int32_t>((k + 1) / 2);
        return k % 2 == 1 ? magnitude : -magnitude;
    }
    void align() { pos_ = (pos_ + 7) / 8 * 8; }
    std::size_t byte_position() const { return pos_ / 8; }

private:
    std::string_view bytes_;
    std::size_t pos_ = 0;
};

struct parsed_sps {
    std::uint32_t profile = 0;
    std::uint32_t constraints = 0;
    std::uint32_t level = 0;
    std::uint32_t log2_max_frame_num = 0;
    std::uint32_t poc_type = 0;
    std::uint32_t max_ref_frames = 0;
    bool frame_mbs_only = false;
    std::uint32_t width = 0;
    std::uint32_t height = 0;
};

// Baseline SPS up to the cropping window (7.3.2.1.1); profile 66 has no chroma_format_idc.
parsed_sps parse_sps(std::string_view nal) {
    BOOST_TEST_REQUIRE(!nal.empty());
    BOOST_TEST((static_cast<std::uint8_t>(nal[0]) & 0x1FU) == 7U);
    const std::string rbsp = unescape_rbsp(nal);
    bit_reader r(rbsp);
    parsed_sps sps;
    sps.profile = r.bits(8);
    sps.constraints = r.bits(8);
    sps.level = r.bits(8);
    BOOST_TEST(r.ue() == 0U);
    sps.log2_max_frame_num = r.ue() + 4;
    sps.poc_type = r.ue();
    BOOST_TEST_REQUIRE(sps.poc_type == 2U);
    sps.max_ref_frames = r.ue();
    r.flag(); // gaps_in_frame_num_value_allowed_flag
    const std::uint32_t mb_width = r.ue() + 1;
    const std::uint32_t map_height = r.ue() + 1;
    sps.frame_mbs_only = r.flag();
    BOOST_TEST_REQUIRE(sps.frame_mbs_only);
    r.flag(); // direct_8x8_inference_flag
    std::uint32_t crop[4] = {0, 0, 0, 0};
    if (r.flag()) {
        for (auto& c : crop) {
            c = r.ue();
        }
    }
    sps.width = mb_width * 16 - 2 * (crop[0] + crop[1]);
    sps.height = map_height * 16 - 2 * (crop[2] + crop[3]);
    return sps;
}

struct mp4_box {
    std::string type;
    std::string_view payload;
    std::size_t payload_offset = 0; // within the whole file
};

// The boxes directly inside [from, from + data.size()) of the file (32-bit sizes suffice here).
std::vector<mp4_box> boxes(std::string_view data, std::size_t from = 0) {
    std::vector<mp4_box> out;
    std::size_t pos = 0;
    while (pos < data.size()) {
        BOOST_TEST_REQUIRE(data.size() - pos >= 8U);
        const std::uint32_t size = be32(data, pos);
        BOOST_TEST_REQUIRE(size >= 8U);
        BOOST_TEST_REQUIRE(size <= data.size() - pos);
        out.push_back({std::string(data.substr(pos + 4, 4)), data.substr(pos + 8, size - 8), from + pos + 8});
        pos += size;
    }
    return out;
}

// The box at a path such as "moov/trak/mdia/minf/stbl/stsz" (first match at each level).
mp4_box find_box(std::string_view file, std::string_view path) {
    mp4_box current{"", file, 0};
    while (!path.empty()) {
        const auto slash = path.find('/');
        const std::string_view name = path.substr(0, slash);
        path = slash == std::string_view::npos ? std::string_view{} : path.substr(slash + 1);
        bool found = false;
        for (const auto& b : boxes(current.payload, current.payload_offset)) {
            if (b.type == name) {
                current = b;
                found = true;
                break;
            }
        }
        BOOST_TEST_REQUIRE(found, "box " << name);
    }
    return current;
}

std::vector<std::uint32_t> table_of_u32(const mp4_box& full_box, std::size_t skip, std::size_t count_at) {
    const std::uint32_t count = be32(full_box.payload, count_at);
    std::vector<std::uint32_t> values;
    for (std::uint32_t i = 0; i < count; ++i) {
        values.push_back(be32(full_box.payload, skip + 4 * std::size_t{i}));
    }
    return values;
}

// The samples of the (single) track, cut out of mdat by stsz and checked against stco/stsc.
std::vector<std::string_view> samples_of(std::string_view file) {
    const auto stsz = find_box(file, "moov/trak/mdia/minf/stbl/stsz");
    const auto stco = find_box(file, "moov/trak/mdia/minf/stbl/stco");
    const auto stsc = find_box(file, "moov/trak/mdia/minf/stbl/stsc");
    const auto mdat = find_box(file, "mdat");
    BOOST_TEST_REQUIRE(be32(stsz.payload, 4) == 0U); // per-sample sizes
    const auto sizes = table_of_u32(stsz, 12, 8);
    const auto chunk_offsets = table_of_u32(stco, 8, 4);
    BOOST_TEST_REQUIRE(!chunk_offsets.empty());
    BOOST_TEST(chunk_offsets[0] == mdat.payload_offset);
    const std::uint32_t per_chunk = be32(stsc.payload, 12);

    std::vector<std::string_view> samples;
    std::size_t offset = mdat.payload_offset;
    std::size_t total = 0;
    for (std::size_t i = 0; i < sizes.size(); ++i) {
        if (i % per_chunk == 0) {
            BOOST_TEST(chunk_offsets[i / per_chunk] == offset, "chunk " << i / per_chunk);
        }
        samples.push_back(file.substr(offset, sizes[i]));
        offset += sizes[i];
        total += sizes[i];
    }
    BOOST_TEST(total == mdat.payload.size());
    return samples;
}

// The NAL units of one sample, each behind a four-byte length.
std::vector<std::string_view> nal_units(std::string_view sample) {
    std::vector<std::string_view> nals;
    std::size_t pos = 0;
    while (pos < sample.size()) {
        BOOST_TEST_REQUIRE(sample.size() - pos >= 4U);
        const std::uint32_t length = be32(sample, pos);
        BOOST_TEST_REQUIRE(length <= sample.size() - pos - 4);
        nals.push_back(sample.substr(pos + 4, length));
        pos += 4 + length;
    }
    return nals;
}

// No start code prefix (00 00 00, 00 00 01, 00 00 02) may appear inside a NAL unit.
bool free_of_start_codes(std::string_view nal) {
    for (std::size_t i = 0; i + 2 < nal.size(); ++i) {
        if (nal[i] == 0 && nal[i + 1] == 0 && static_cast<std::uint8_t>(nal[i + 2]) <= 2) {
            return false;
        }
    }
    return true;
}

mp4_options short_video(std::uint32_t width, std::uint32_t height) {
    return {.width = width, .height = height, .seconds = std::chrono::seconds{1}, .fps = 24, .seed = 3};
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

BOOST_AUTO_TEST_CASE(png_comment_is_a_text_chunk_before_the_pixels_that_reads_back) {
    const std::string png = make_png(32, 48, {.seed = 3, .comment = "face:ab12"});
    const auto chunks = png_chunks(png);
    BOOST_TEST_REQUIRE(chunks.size() == 4U);
    BOOST_TEST(chunks[1].type == "tEXt");
    BOOST_TEST(chunks[1].crc_ok);
    BOOST_TEST(chunks[1].data == std::string("Comment\0face:ab12", 17));
    BOOST_TEST(read_png_text(png, "Comment").value_or("none") == "face:ab12");
    BOOST_TEST(read_png_header(png) == size(32, 48));
    // Another keyword, a picture without a comment, a broken CRC and a cut file give nothing.
    BOOST_TEST(!read_png_text(png, "Title"));
    BOOST_TEST(!read_png_text(make_png(32, 48, {.seed = 3}), "Comment"));
    std::string broken = png;
    broken[33 + 8 + 3] ^= 1; // a byte of the text: its CRC no longer matches
    BOOST_TEST(!read_png_text(broken, "Comment"));
    BOOST_TEST(!read_png_text(png.substr(0, 40), "Comment"));
    BOOST_TEST(!read_png_text("not a png", "Comment"));
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

BOOST_AUTO_TEST_CASE(mp4_is_faststart_avc1_of_the_requested_size_and_length) {
    const std::string mp4 =
        make_mp4({.width = 720, .height = 1280, .seconds = std::chrono::seconds{8}, .seed = 11});
    const auto info = read_mp4_info(mp4);
    BOOST_TEST_REQUIRE(info.has_value());
    BOOST_TEST(info->width == 720U);
    BOOST_TEST(info->height == 1280U);
    BOOST_TEST(info->duration.count() == 8.0);
    BOOST_TEST(info->frame_count == 192U);
    BOOST_TEST(info->sync_frame_count == 1U);
    BOOST_TEST(info->faststart);
    BOOST_TEST(info->codec == "avc1");
    BOOST_TEST(mp4.size() < 10'000'000U);

    const auto top = boxes(mp4);
    BOOST_TEST_REQUIRE(top.size() == 3U);
    BOOST_TEST(top[0].type == "ftyp");
    BOOST_TEST(top[1].type == "moov");
    BOOST_TEST(top[2].type == "mdat");
    const auto mdhd = find_box(mp4, "moov/trak/mdia/mdhd");
    BOOST_TEST(be32(mdhd.payload, 16) == 8 * be32(mdhd.payload, 12)); // duration == 8 s of timescale
    const auto stts = find_box(mp4, "moov/trak/mdia/minf/stbl/stts");
    BOOST_TEST(be32(stts.payload, 4) == 1U);
    BOOST_TEST(be32(stts.payload, 8) == 192U);
    BOOST_TEST(be32(stts.payload, 12) * 24 == be32(mdhd.payload, 12)); // one frame is 1/24 s
    const auto stss = find_box(mp4, "moov/trak/mdia/minf/stbl/stss");
    BOOST_TEST(table_of_u32(stss, 8, 4) == std::vector<std::uint32_t>{1}, boost::test_tools::per_element());
    const auto tkhd = find_box(mp4, "moov/trak/tkhd");
    BOOST_TEST(be32(tkhd.payload, 76) == 720U << 16U);
}

BOOST_AUTO_TEST_CASE(sps_in_avcc_parses_back_to_the_display_size) {
    struct row {
        std::uint32_t width;
        std::uint32_t height;
        std::uint32_t level;
    };
    // 720x1280@24 is 86400 macroblocks/s (level 3.1); 1080x1920 needs cropping and level 4.0.
    for (const row r : {row{720, 1280, 31}, row{1280, 720, 31}, row{1080, 1920, 40}, row{200, 120, 30}}) {
        const std::string mp4 = make_mp4(short_video(r.width, r.height));
        const auto info = read_mp4_info(mp4);
        BOOST_TEST_REQUIRE(info.has_value());
        const parsed_sps sps = parse_sps(info->sps);
        BOOST_TEST(sps.profile == 66U);
        BOOST_TEST((sps.constraints & 0x40U) != 0U, "constraint_set1: Constrained Baseline");
        BOOST_TEST(sps.level == r.level);
        BOOST_TEST(sps.max_ref_frames == 1U);
        BOOST_TEST(sps.width == r.width);
        BOOST_TEST(sps.height == r.height);
        BOOST_TEST(info->width == r.width);
        BOOST_TEST(info->height == r.height);

        // PPS: ids 0, CAVLC, deblocking control present.
        BOOST_TEST_REQUIRE(info->pps.size() >= 2U);
        BOOST_TEST((static_cast<std::uint8_t>(info->pps[0]) & 0x1FU) == 8U);
        const std::string pps = unescape_rbsp(info->pps);
        bit_reader p(pps);
        BOOST_TEST(p.ue() == 0U);
        BOOST_TEST(p.ue() == 0U);
        BOOST_TEST(!p.flag());
    }
}

BOOST_AUTO_TEST_CASE(samples_fill_mdat_as_one_idr_then_p_slices_without_start_codes) {
    const std::string mp4 = make_mp4(short_video(320, 240));
    const auto samples = samples_of(mp4);
    BOOST_TEST_REQUIRE(samples.size() == 24U);
    for (std::size_t i = 0; i < samples.size(); ++i) {
        const auto nals = nal_units(samples[i]);
        BOOST_TEST_REQUIRE(nals.size() == 1U);
        const auto header = static_cast<std::uint8_t>(nals[0][0]);
        BOOST_TEST((header & 0x1FU) == (i == 0 ? 5U : 1U), "sample " << i);
        BOOST_TEST((header >> 5U) != 0U, "every picture is a reference");
        BOOST_TEST(free_of_start_codes(nals[0]), "sample " << i);
    }
}

BOOST_AUTO_TEST_CASE(idr_macroblocks_hold_the_pictures_samples_as_i_pcm) {
    const std::uint32_t width = 64;
    const std::uint32_t height = 48;
    const std::string mp4 = make_mp4(short_video(width, height));
    const auto samples = samples_of(mp4);
    BOOST_TEST_REQUIRE(!samples.empty());
    const std::string rbsp = unescape_rbsp(nal_units(samples[0]).at(0));
    bit_reader r(rbsp);
    BOOST_TEST(r.ue() == 0U);     // first_mb_in_slice
    BOOST_TEST(r.ue() == 7U);     // I
    BOOST_TEST(r.ue() == 0U);     // pps
    BOOST_TEST(r.bits(16) == 0U); // frame_num of an IDR
    r.ue();                       // idr_pic_id
    r.bits(2);                    // no_output_of_prior_pics_flag, long_term_reference_flag
    r.se();                       // slice_qp_delta
    BOOST_TEST(r.ue() == 1U);     // deblocking off
    BOOST_TEST(r.ue() == 25U);    // I_PCM
    r.align();

    // Macroblock 0's luma against BT.709 limited range of the top-left 16x16 pixels.
    const picture pic(width, height, 3);
    std::vector<std::uint8_t> row(std::size_t{width} * 3);
    const std::size_t luma_at = r.byte_position();
    BOOST_TEST_REQUIRE(rbsp.size() >= luma_at + 384);
    for (std::uint32_t y = 0; y < 16; ++y) {
        pic.render_row(y, row);
        for (std::size_t x = 0; x < 16; ++x) {
            const double expected =
                16 + 219 * (0.2126 * row[3 * x] + 0.7152 * row[3 * x + 1] + 0.0722 * row[3 * x + 2]) / 255;
            const auto actual = static_cast<std::uint8_t>(rbsp[luma_at + 16 * y + x]);
            BOOST_TEST(std::abs(actual - expected) <= 1.0, "luma " << x << ',' << y);
        }
    }
}

BOOST_AUTO_TEST_CASE(still_video_is_skips_and_sway_adds_small_motion_frames) {
    auto still = short_video(720, 1280);
    still.motion = video_motion::still;
    auto sway = still;
    sway.motion = video_motion::sway;
    const std::string still_mp4 = make_mp4(still);
    const std::string sway_mp4 = make_mp4(sway);
    const auto still_samples = samples_of(still_mp4);
    const auto sway_samples = samples_of(sway_mp4);
    BOOST_TEST_REQUIRE(still_samples.size() == sway_samples.size());
    BOOST_TEST((still_samples[0] == sway_samples[0])); // the same IDR
    for (std::size_t i = 1; i < still_samples.size(); ++i) {
        BOOST_TEST(still_samples[i].size() < 20U, "sample " << i);
        BOOST_TEST(sway_samples[i].size() < 3000U, "sample " << i);
    }
    BOOST_TEST(sway_samples[1].size() > 1000U); // the first frame moves
}

BOOST_AUTO_TEST_CASE(mp4_is_deterministic_for_a_seed_and_differs_between_seeds) {
    auto a = short_video(160, 96);
    auto c = a;
    c.seed = 4;
    BOOST_TEST((make_mp4(a) == make_mp4(a)));
    BOOST_TEST((make_mp4(a) != make_mp4(c)));
}

BOOST_AUTO_TEST_CASE(mp4_rejects_odd_sizes_and_out_of_range_lengths) {
    BOOST_CHECK_THROW(make_mp4(short_video(721, 1280)), std::invalid_argument);
    BOOST_CHECK_THROW(make_mp4(short_video(0, 1280)), std::invalid_argument);
    BOOST_CHECK_THROW(make_mp4(short_video(8192, 64)), std::invalid_argument);
    auto no_length = short_video(64, 64);
    no_length.seconds = std::chrono::seconds{0};
    BOOST_CHECK_THROW(make_mp4(no_length), std::invalid_argument);
    auto no_rate = short_video(64, 64);
    no_rate.fps = 0;
    BOOST_CHECK_THROW(make_mp4(no_rate), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(mp4_reader_reports_moov_after_mdat_and_rejects_broken_files) {
    const std::string mp4 = make_mp4(short_video(64, 64));
    const auto top = boxes(mp4);
    BOOST_TEST_REQUIRE(top.size() == 3U);
    // Reassemble as ftyp, mdat, moov: still readable, no longer faststart.
    const auto whole = [&](const mp4_box& b) {
        return mp4.substr(b.payload_offset - 8, b.payload.size() + 8);
    };
    const auto late_moov = read_mp4_info(whole(top[0]) + whole(top[2]) + whole(top[1]));
    BOOST_TEST_REQUIRE(late_moov.has_value());
    BOOST_TEST(!late_moov->faststart);

    BOOST_TEST(!read_mp4_info(std::string_view(mp4).substr(0, mp4.size() / 2))); // box past the end
    BOOST_TEST(!read_mp4_info(whole(top[0]) + whole(top[1])));                   // no mdat
    BOOST_TEST(!read_mp4_info(whole(top[0]) + whole(top[2])));                   // no moov
    BOOST_TEST(!read_mp4_info(std::string(64, '\x01')));
    BOOST_TEST(!read_mp4_info(""));
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace companion::sim::media::test
