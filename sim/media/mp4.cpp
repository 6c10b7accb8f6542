// H.264 written by hand: SPS/PPS, an IDR of I_PCM macroblocks (raw samples need no transform or
// entropy coder) and P slices of skips or one shared motion vector; muxed as a faststart MP4.
#include "sim/media/mp4.hpp"

#include "sim/media/picture.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <stdexcept>
#include <vector>

namespace companion::sim::media {
namespace {

// ---------------------------------------------------------------------------------------------
// Bits: the RBSP writer and the NAL unit wrapper.

class bit_writer {
public:
    explicit bit_writer(std::size_t reserve = 64) { bytes_.reserve(reserve); }

    // count <= 32; value's bits above count are ignored.
    void put_bits(std::uint32_t value, unsigned count) {
        const std::uint64_t mask = (std::uint64_t{1} << count) - 1;
        acc_ = (acc_ << count) | (value & mask);
        pending_ += count;
        while (pending_ >= 8) {
            pending_ -= 8;
            bytes_.push_back(static_cast<char>(acc_ >> pending_));
        }
        acc_ &= (std::uint64_t{1} << pending_) - 1;
    }

    void put_flag(bool flag) { put_bits(flag ? 1U : 0U, 1); }

    // Exp-Golomb ue(v): leading zeros, then value + 1 in binary.
    void put_ue(std::uint32_t value) {
        const std::uint64_t coded = std::uint64_t{value} + 1;
        const auto length = static_cast<unsigned>(std::bit_width(coded));
        put_bits(0, length - 1);
        if (length > 32) {
            put_bits(static_cast<std::uint32_t>(coded >> 32U), length - 32);
            put_bits(static_cast<std::uint32_t>(coded), 32);
        } else {
            put_bits(static_cast<std::uint32_t>(coded), length);
        }
    }

    // se(v): 1, -1, 2, -2, ... map to code numbers 1, 2, 3, 4, ...
    void put_se(std::int32_t value) {
        const auto magnitude =
            static_cast<std::uint32_t>(value < 0 ? -static_cast<std::int64_t>(value) : value);
        put_ue(value > 0 ? 2 * magnitude - 1 : 2 * magnitude);
    }

    [[nodiscard]] bool aligned() const noexcept { return pending_ == 0; }

    void align_with_zeros() {
        if (pending_ != 0) {
            put_bits(0, 8 - pending_);
        }
    }

    // Raw bytes at a byte boundary (I_PCM samples follow pcm_alignment_zero_bits).
    void put_aligned_bytes(const std::uint8_t* data, std::size_t size) {
        bytes_.append(reinterpret_cast<const char*>(data), size);
    }

    // rbsp_trailing_bits(): the stop bit, then zeros to the byte boundary.
    std::string finish() {
        put_bits(1, 1);
        align_with_zeros();
        return std::move(bytes_);
    }

private:
    std::string bytes_;
    std::uint64_t acc_ = 0;
    unsigned pending_ = 0;
};

enum nal_type : std::uint8_t { slice_non_idr = 1, slice_idr = 5, sps_type = 7, pps_type = 8 };

// A NAL unit: the header byte, then the RBSP with an emulation prevention byte after any two zero
// bytes that precede a byte <= 3, so no start code can appear inside.
std::string nal_unit(unsigned ref_idc, nal_type type, std::string_view rbsp) {
    std::string out;
    out.reserve(rbsp.size() + rbsp.size() / 64 + 2);
    out.push_back(static_cast<char>((ref_idc << 5U) | type));
    unsigned zeros = 0;
    for (const char c : rbsp) {
        const auto byte = static_cast<std::uint8_t>(c);
        if (zeros >= 2 && byte <= 3) {
            out.push_back('\x03');
            zeros = 0;
        }
        out.push_back(c);
        zeros = byte == 0 ? zeros + 1 : 0;
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// The stream's shape and its parameter sets.

struct stream_layout {
    std::uint32_t width = 0;
    std::uint32_t height = 0;
    std::uint32_t mb_width = 0;
    std::uint32_t mb_height = 0;
    std::uint32_t fps = 0;
    std::uint8_t level_idc = 0;

    [[nodiscard]] std::uint32_t mb_count() const noexcept { return mb_width * mb_height; }
    [[nodiscard]] std::uint32_t coded_width() const noexcept { return mb_width * 16; }
    [[nodiscard]] std::uint32_t coded_height() const noexcept { return mb_height * 16; }
};

constexpr std::uint8_t profile_baseline = 66;
// constraint_set0 (Baseline) and constraint_set1 (Main) together: Constrained Baseline, which
// every H.264 decoder, including browsers' and phones', plays.
constexpr std::uint8_t constraint_flags = 0xC0;
constexpr unsigned log2_max_frame_num = 16;

// Table A-1: the smallest level whose frame size and macroblock rate fit. Level 3.0 is the floor:
// tiny videos still get a level every player supports.
std::uint8_t pick_level(std::uint32_t mb_width, std::uint32_t mb_height, std::uint32_t fps) {
    struct level_limits {
        std::uint8_t idc;
        std::uint32_t max_mbps;
        std::uint32_t max_fs;
    };
    constexpr std::array<level_limits, 10> levels{{{30, 40500, 1620},
                                                   {31, 108000, 3600},
                                                   {32, 216000, 5120},
                                                   {40, 245760, 8192},
                                                   {42, 522240, 8704},
                                                   {50, 589824, 22080},
                                                   {51, 983040, 36864},
                                                   {52, 2073600, 36864},
                                                   {60, 4177920, 139264},
                                                   {62, 16711680, 139264}}};
    const std::uint32_t frame_mbs = mb_width * mb_height;
    for (const auto& level : levels) {
        // A side may not exceed sqrt(8 * MaxFS) macroblocks.
        const std::uint32_t max_side = 8 * level.max_fs;
        if (frame_mbs <= level.max_fs && mb_width * mb_width <= max_side &&
            mb_height * mb_height <= max_side && std::uint64_t{frame_mbs} * fps <= level.max_mbps) {
            return level.idc;
        }
    }
    throw std::invalid_argument("make_mp4: no H.264 level fits this size and rate");
}

std::string sequence_parameter_set(const stream_layout& layout) {
    bit_writer w;
    w.put_bits(profile_baseline, 8);
    w.put_bits(constraint_flags, 8);
    w.put_bits(layout.level_idc, 8);
    w.put_ue(0);                      // seq_parameter_set_id
    w.put_ue(log2_max_frame_num - 4); // log2_max_frame_num_minus4
    w.put_ue(2);                      // pic_order_cnt_type 2: output order is decoding order
    w.put_ue(1);                      // max_num_ref_frames
    w.put_flag(false);                // gaps_in_frame_num_value_allowed_flag
    w.put_ue(layout.mb_width - 1);
    w.put_ue(layout.mb_height - 1); // pic_height_in_map_units_minus1
    w.put_flag(true);               // frame_mbs_only_flag
    w.put_flag(true);               // direct_8x8_inference_flag
    // Cropping is counted in 2-sample units for 4:2:0 frames, hence the even-size requirement.
    const std::uint32_t crop_right = (layout.coded_width() - layout.width) / 2;
    const std::uint32_t crop_bottom = (layout.coded_height() - layout.height) / 2;
    w.put_flag(crop_right != 0 || crop_bottom != 0);
    if (crop_right != 0 || crop_bottom != 0) {
        w.put_ue(0);
        w.put_ue(crop_right);
        w.put_ue(0);
        w.put_ue(crop_bottom);
    }

    w.put_flag(true);  // vui_parameters_present_flag
    w.put_flag(false); // aspect_ratio_info_present_flag: square samples
    w.put_flag(false); // overscan_info_present_flag
    // The samples are BT.709 limited range; saying so keeps players from guessing BT.601 colours.
    w.put_flag(true);               // video_signal_type_present_flag
    w.put_bits(5, 3);               // video_format: unspecified
    w.put_flag(false);              // video_full_range_flag
    w.put_flag(true);               // colour_description_present_flag
    w.put_bits(1, 8);               // colour_primaries BT.709
    w.put_bits(1, 8);               // transfer_characteristics BT.709
    w.put_bits(1, 8);               // matrix_coefficients BT.709
    w.put_flag(false);              // chroma_loc_info_present_flag
    w.put_flag(true);               // timing_info_present_flag
    w.put_bits(1, 32);              // num_units_in_tick
    w.put_bits(2 * layout.fps, 32); // time_scale: two ticks per frame
    w.put_flag(true);               // fixed_frame_rate_flag
    w.put_flag(false);              // nal_hrd_parameters_present_flag
    w.put_flag(false);              // vcl_hrd_parameters_present_flag
    w.put_flag(false);              // pic_struct_present_flag
    // No reordering and a one-frame buffer: decoders output each frame as soon as it is decoded.
    w.put_flag(true); // bitstream_restriction_flag
    w.put_flag(true); // motion_vectors_over_pic_boundaries_flag
    w.put_ue(0);      // max_bytes_per_pic_denom
    w.put_ue(0);      // max_bits_per_mb_denom
    w.put_ue(16);     // log2_max_mv_length_horizontal
    w.put_ue(16);     // log2_max_mv_length_vertical
    w.put_ue(0);      // max_num_reorder_frames
    w.put_ue(1);      // max_dec_frame_buffering
    return nal_unit(3, sps_type, w.finish());
}

std::string picture_parameter_set() {
    bit_writer w;
    w.put_ue(0);       // pic_parameter_set_id
    w.put_ue(0);       // seq_parameter_set_id
    w.put_flag(false); // entropy_coding_mode_flag: CAVLC
    w.put_flag(false); // bottom_field_pic_order_in_frame_present_flag
    w.put_ue(0);       // num_slice_groups_minus1
    w.put_ue(0);       // num_ref_idx_l0_default_active_minus1
    w.put_ue(0);       // num_ref_idx_l1_default_active_minus1
    w.put_flag(false); // weighted_pred_flag
    w.put_bits(0, 2);  // weighted_bipred_idc
    w.put_se(0);       // pic_init_qp_minus26
    w.put_se(0);       // pic_init_qs_minus26
    w.put_se(0);       // chroma_qp_index_offset
    w.put_flag(true);  // deblocking_filter_control_present_flag, so slices can switch it off
    w.put_flag(false); // constrained_intra_pred_flag
    w.put_flag(false); // redundant_pic_cnt_present_flag
    return nal_unit(3, pps_type, w.finish());
}

// ---------------------------------------------------------------------------------------------
// Slices.

enum class slice_kind { idr, p };

void slice_header(bit_writer& w, slice_kind kind, std::uint32_t frame_num) {
    w.put_ue(0);                                 // first_mb_in_slice
    w.put_ue(kind == slice_kind::idr ? 7U : 5U); // I or P, and so are all slices of the picture
    w.put_ue(0);                                 // pic_parameter_set_id
    w.put_bits(frame_num, log2_max_frame_num);
    if (kind == slice_kind::idr) {
        w.put_ue(0); // idr_pic_id: there is only one IDR
    } else {
        w.put_flag(false); // num_ref_idx_active_override_flag
        w.put_flag(false); // ref_pic_list_modification_flag_l0
    }
    // dec_ref_pic_marking(): every picture is a reference; the sliding window keeps the last one.
    if (kind == slice_kind::idr) {
        w.put_flag(false); // no_output_of_prior_pics_flag
        w.put_flag(false); // long_term_reference_flag
    } else {
        w.put_flag(false); // adaptive_ref_pic_marking_mode_flag
    }
    w.put_se(0); // slice_qp_delta
    // Deblocking off: I_PCM edges must stay exact, and a filter would blur the copied frames.
    w.put_ue(1); // disable_deblocking_filter_idc
}

// The picture as 4:2:0 BT.709 limited-range planes at the coded (macroblock) size; the padding
// beyond the display size repeats the edge, and is cropped away by the SPS.
struct yuv_frame {
    std::uint32_t width = 0; // coded
    std::uint32_t height = 0;
    std::vector<std::uint8_t> y;
    std::vector<std::uint8_t> cb;
    std::vector<std::uint8_t> cr;
};

std::uint8_t clamp_sample(int value) {
    return static_cast<std::uint8_t>(std::clamp(value, 1, 255));
}

yuv_frame render_yuv(const stream_layout& layout, std::uint64_t seed) {
    const picture pic(layout.width, layout.height, seed);
    const std::uint32_t cw = layout.coded_width();
    const std::uint32_t ch = layout.coded_height();
    yuv_frame frame{cw,
                    ch,
                    std::vector<std::uint8_t>(std::size_t{cw} * ch),
                    std::vector<std::uint8_t>(std::size_t{cw} * ch / 4),
                    std::vector<std::uint8_t>(std::size_t{cw} * ch / 4)};

    std::vector<std::uint8_t> rgb_rows(std::size_t{layout.width} * 3 * 2);
    const std::span<std::uint8_t> rows[2] = {std::span(rgb_rows).first(rgb_rows.size() / 2),
                                             std::span(rgb_rows).last(rgb_rows.size() / 2)};
    const auto sample = [&](int row, std::uint32_t x) {
        const std::size_t i = std::size_t{std::min(x, layout.width - 1)} * 3;
        const auto r = rows[row][i];
        const auto g = rows[row][i + 1];
        const auto b = rows[row][i + 2];
        return std::array<int, 3>{r, g, b};
    };
    for (std::uint32_t cy = 0; cy < ch / 2; ++cy) {
        for (int row = 0; row < 2; ++row) {
            const std::uint32_t y = std::min(cy * 2 + static_cast<std::uint32_t>(row), layout.height - 1);
            pic.render_row(y, rows[row]);
        }
        for (std::uint32_t cx = 0; cx < cw / 2; ++cx) {
            std::array<int, 3> sum{};
            for (int row = 0; row < 2; ++row) {
                for (std::uint32_t dx = 0; dx < 2; ++dx) {
                    const auto [r, g, b] = sample(row, cx * 2 + dx);
                    // Y' = 16 + 219 * (0.2126 R + 0.7152 G + 0.0722 B) / 255, in 8.8 fixed point.
                    const int luma = 16 + ((47 * r + 157 * g + 16 * b + 128) >> 8);
                    frame.y[std::size_t{cy * 2 + static_cast<std::uint32_t>(row)} * cw + cx * 2 + dx] =
                        clamp_sample(luma);
                    sum[0] += r;
                    sum[1] += g;
                    sum[2] += b;
                }
            }
            const int r = sum[0] / 4;
            const int g = sum[1] / 4;
            const int b = sum[2] / 4;
            const std::size_t c = std::size_t{cy} * (cw / 2) + cx;
            frame.cb[c] = clamp_sample(128 + ((-26 * r - 86 * g + 112 * b + 128) >> 8));
            frame.cr[c] = clamp_sample(128 + ((112 * r - 102 * g - 10 * b + 128) >> 8));
        }
    }
    return frame;
}

// Every macroblock I_PCM: mb_type 25, zero bits to the byte boundary, then 256 luma and 2 x 64
// chroma samples in raster order.
std::string idr_slice(const stream_layout& layout, const yuv_frame& frame) {
    bit_writer w(std::size_t{layout.mb_count()} * 386 + 64);
    slice_header(w, slice_kind::idr, 0);
    const std::uint32_t chroma_width = frame.width / 2;
    for (std::uint32_t mby = 0; mby < layout.mb_height; ++mby) {
        for (std::uint32_t mbx = 0; mbx < layout.mb_width; ++mbx) {
            w.put_ue(25);
            w.align_with_zeros();
            for (std::uint32_t row = 0; row < 16; ++row) {
                w.put_aligned_bytes(&frame.y[std::size_t{mby * 16 + row} * frame.width + mbx * 16], 16);
            }
            for (const auto* plane : {&frame.cb, &frame.cr}) {
                for (std::uint32_t row = 0; row < 8; ++row) {
                    w.put_aligned_bytes(&(*plane)[std::size_t{mby * 8 + row} * chroma_width + mbx * 8], 8);
                }
            }
        }
    }
    return nal_unit(3, slice_idr, w.finish());
}

// A P picture that copies the previous one shifted by mv_x quarter samples. With mv_x == 0 it
// is one skip run over every macroblock (an exact copy). Otherwise every macroblock is
// P_L0_16x16 with no residual: the first carries the vector as its difference; for all others
// the median prediction from their neighbours already equals it, so their difference is zero.
std::string p_slice(const stream_layout& layout, std::uint32_t frame_num, std::int32_t mv_x) {
    bit_writer w(mv_x == 0 ? 32 : layout.mb_count() * 5 / 8 + 32);
    slice_header(w, slice_kind::p, frame_num);
    if (mv_x == 0) {
        w.put_ue(layout.mb_count()); // mb_skip_run
    } else {
        for (std::uint32_t mb = 0; mb < layout.mb_count(); ++mb) {
            w.put_ue(0);                  // mb_skip_run
            w.put_ue(0);                  // mb_type P_L0_16x16; one reference, so no ref_idx
            w.put_se(mb == 0 ? mv_x : 0); // mvd_l0 x
            w.put_se(0);                  // mvd_l0 y
            w.put_ue(0);                  // coded_block_pattern 0 (inter code number 0)
        }
    }
    return nal_unit(2, slice_non_idr, w.finish());
}

// Two luma samples per moved frame (a whole chroma sample, so chroma is copied, not filtered and
// blurred), on every other frame: one second to the right, one second back.
std::int32_t sway_vector(std::uint32_t frame, std::uint32_t fps) {
    const std::uint32_t phase = (frame - 1) % (2 * fps);
    if ((phase % fps) % 2 != 0) {
        return 0;
    }
    return phase < fps ? 8 : -8;
}

// ---------------------------------------------------------------------------------------------
// MP4 boxes (ISO/IEC 14496-12 and -15).

void put_u8(std::string& out, std::uint32_t v) {
    out.push_back(static_cast<char>(v));
}
void put_u16(std::string& out, std::uint32_t v) {
    put_u8(out, v >> 8U);
    put_u8(out, v);
}
void put_u32(std::string& out, std::uint32_t v) {
    put_u16(out, v >> 16U);
    put_u16(out, v & 0xFFFFU);
}
void put_zeros(std::string& out, std::size_t n) {
    out.append(n, '\0');
}

std::string box(std::string_view type, std::string_view payload) {
    std::string out;
    out.reserve(payload.size() + 8);
    put_u32(out, static_cast<std::uint32_t>(payload.size() + 8));
    out.append(type);
    out.append(payload);
    return out;
}

std::string full_box(std::string_view type, std::uint32_t version_and_flags, std::string_view payload) {
    std::string body;
    put_u32(body, version_and_flags);
    body.append(payload);
    return box(type, body);
}

void put_unity_matrix(std::string& out) {
    for (const std::uint32_t v : {0x00010000U, 0U, 0U, 0U, 0x00010000U, 0U, 0U, 0U, 0x40000000U}) {
        put_u32(out, v);
    }
}

struct track_samples {
    std::vector<std::uint32_t> sizes;
    std::vector<std::uint32_t> sync; // 1-based sample numbers
    std::uint32_t samples_per_chunk = 1;
};

constexpr std::uint32_t movie_timescale = 1000;
constexpr std::uint32_t ticks_per_frame = 512;

std::string avc_sample_entry(const stream_layout& layout, std::string_view sps, std::string_view pps) {
    std::string avcc;
    put_u8(avcc, 1); // configurationVersion
    put_u8(avcc, profile_baseline);
    put_u8(avcc, constraint_flags);
    put_u8(avcc, layout.level_idc);
    put_u8(avcc, 0xFC | 3U); // lengthSizeMinusOne 3: four-byte NAL lengths
    put_u8(avcc, 0xE0 | 1U); // one SPS
    put_u16(avcc, static_cast<std::uint32_t>(sps.size()));
    avcc.append(sps);
    put_u8(avcc, 1); // one PPS
    put_u16(avcc, static_cast<std::uint32_t>(pps.size()));
    avcc.append(pps);

    std::string entry;
    put_zeros(entry, 6);
    put_u16(entry, 1); // data_reference_index
    put_zeros(entry, 16);
    put_u16(entry, layout.width);
    put_u16(entry, layout.height);
    put_u32(entry, 0x00480000); // 72 dpi
    put_u32(entry, 0x00480000);
    put_u32(entry, 0);
    put_u16(entry, 1);      // frame_count per sample
    put_zeros(entry, 32);   // compressorname
    put_u16(entry, 0x0018); // depth
    put_u16(entry, 0xFFFF); // pre_defined -1
    entry.append(box("avcC", avcc));
    return box("avc1", entry);
}

// What the movie box and its sample table describe: the stream, its samples and parameter sets,
// and where the first sample's bytes start in the file.
struct track {
    const stream_layout& layout;
    const track_samples& samples;
    std::string_view sps;
    std::string_view pps;
    std::uint32_t first_sample_offset;
};

std::string sample_table(const track& t) {
    const auto& [layout, samples, sps, pps, first_sample_offset] = t;
    const auto count = static_cast<std::uint32_t>(samples.sizes.size());

    std::string stsd;
    put_u32(stsd, 1);
    stsd.append(avc_sample_entry(layout, sps, pps));

    std::string stts;
    put_u32(stts, 1);
    put_u32(stts, count);
    put_u32(stts, ticks_per_frame);

    std::string stss;
    put_u32(stss, static_cast<std::uint32_t>(samples.sync.size()));
    for (const std::uint32_t n : samples.sync) {
        put_u32(stss, n);
    }

    // Chunks of samples_per_chunk samples, the last one possibly shorter.
    const std::uint32_t full_chunks = count / samples.samples_per_chunk;
    const std::uint32_t remainder = count % samples.samples_per_chunk;
    std::string stsc;
    put_u32(stsc, (full_chunks > 0 ? 1U : 0U) + (remainder > 0 ? 1U : 0U));
    if (full_chunks > 0) {
        put_u32(stsc, 1);
        put_u32(stsc, samples.samples_per_chunk);
        put_u32(stsc, 1);
    }
    if (remainder > 0) {
        put_u32(stsc, full_chunks + 1);
        put_u32(stsc, remainder);
        put_u32(stsc, 1);
    }

    std::string stsz;
    put_u32(stsz, 0); // sizes differ per sample
    put_u32(stsz, count);
    std::string stco;
    put_u32(stco, full_chunks + (remainder > 0 ? 1U : 0U));
    std::uint64_t offset = first_sample_offset;
    for (std::uint32_t i = 0; i < count; ++i) {
        if (i % samples.samples_per_chunk == 0) {
            put_u32(stco, static_cast<std::uint32_t>(offset));
        }
        put_u32(stsz, samples.sizes[i]);
        offset += samples.sizes[i];
    }

    return box("stbl",
               full_box("stsd", 0, stsd) + full_box("stts", 0, stts) + full_box("stss", 0, stss) +
                   full_box("stsc", 0, stsc) + full_box("stsz", 0, stsz) + full_box("stco", 0, stco));
}

std::string movie_box(const track& t) {
    const auto& [layout, samples, sps, pps, first_sample_offset] = t;
    const auto frames = static_cast<std::uint32_t>(samples.sizes.size());
    const auto movie_duration =
        static_cast<std::uint32_t>(std::uint64_t{frames} * movie_timescale / layout.fps);

    std::string mvhd;
    put_zeros(mvhd, 8); // creation and modification time
    put_u32(mvhd, movie_timescale);
    put_u32(mvhd, movie_duration);
    put_u32(mvhd, 0x00010000); // rate 1.0
    put_u16(mvhd, 0x0100);     // volume 1.0
    put_zeros(mvhd, 10);
    put_unity_matrix(mvhd);
    put_zeros(mvhd, 24);
    put_u32(mvhd, 2); // next_track_ID

    std::string tkhd;
    put_zeros(tkhd, 8);
    put_u32(tkhd, 1); // track_ID
    put_u32(tkhd, 0);
    put_u32(tkhd, movie_duration);
    put_zeros(tkhd, 8);
    put_u16(tkhd, 0); // layer
    put_u16(tkhd, 0); // alternate_group
    put_u16(tkhd, 0); // volume: video
    put_u16(tkhd, 0);
    put_unity_matrix(tkhd);
    put_u32(tkhd, layout.width << 16U);
    put_u32(tkhd, layout.height << 16U);

    std::string mdhd;
    put_zeros(mdhd, 8);
    put_u32(mdhd, layout.fps * ticks_per_frame);
    put_u32(mdhd, frames * ticks_per_frame);
    put_u16(mdhd, 0x55C4); // language "und", packed ISO-639-2
    put_u16(mdhd, 0);

    std::string hdlr;
    put_u32(hdlr, 0);
    hdlr.append("vide");
    put_zeros(hdlr, 12);
    hdlr.append("VideoHandler", 13); // with its terminating zero

    std::string vmhd;
    put_zeros(vmhd, 8); // graphicsmode and opcolor
    std::string dref;
    put_u32(dref, 1);
    dref.append(full_box("url ", 1, {})); // flag 1: the media is in this file

    const std::string minf =
        box("minf", full_box("vmhd", 1, vmhd) + box("dinf", full_box("dref", 0, dref)) + sample_table(t));
    const std::string mdia = box("mdia", full_box("mdhd", 0, mdhd) + full_box("hdlr", 0, hdlr) + minf);
    const std::string trak = box("trak", full_box("tkhd", 3, tkhd) + mdia); // enabled, in movie
    return box("moov", full_box("mvhd", 0, mvhd) + trak);
}

std::string file_type_box() {
    std::string ftyp("isom");
    put_u32(ftyp, 0x200);
    ftyp.append("isomiso2avc1mp41");
    return box("ftyp", ftyp);
}

// ---------------------------------------------------------------------------------------------
// Reading boxes back.

std::uint32_t rd_u16(std::string_view b, std::size_t i) {
    return (std::uint32_t{static_cast<std::uint8_t>(b[i])} << 8U) | static_cast<std::uint8_t>(b[i + 1]);
}
std::uint32_t rd_u32(std::string_view b, std::size_t i) {
    return (rd_u16(b, i) << 16U) | rd_u16(b, i + 2);
}
std::uint64_t rd_u64(std::string_view b, std::size_t i) {
    return (std::uint64_t{rd_u32(b, i)} << 32U) | rd_u32(b, i + 4);
}

struct box_view {
    std::string_view type;
    std::string_view payload;
    std::size_t offset = 0; // of the box header within the walked range
};

// The boxes directly inside data; nullopt if one is malformed or runs past the end.
std::optional<std::vector<box_view>> boxes_in(std::string_view data) {
    std::vector<box_view> boxes;
    std::size_t pos = 0;
    while (pos < data.size()) {
        if (data.size() - pos < 8) {
            return std::nullopt;
        }
        std::uint64_t size = rd_u32(data, pos);
        std::size_t header = 8;
        if (size == 1) { // 64-bit largesize follows the type
            if (data.size() - pos < 16) {
                return std::nullopt;
            }
            size = rd_u64(data, pos + 8);
            header = 16;
        } else if (size == 0) { // extends to the end
            size = data.size() - pos;
        }
        if (size < header || size > data.size() - pos) {
            return std::nullopt;
        }
        boxes.push_back({data.substr(pos + 4, 4), data.substr(pos + header, size - header), pos});
        pos += size;
    }
    return boxes;
}

std::optional<std::string_view> child(std::string_view parent, std::string_view type) {
    const auto boxes = boxes_in(parent);
    if (!boxes) {
        return std::nullopt;
    }
    for (const auto& b : *boxes) {
        if (b.type == type) {
            return b.payload;
        }
    }
    return std::nullopt;
}

// Follows a path such as "mdia/minf/stbl" from parent.
std::optional<std::string_view> descend(std::string_view parent, std::string_view path) {
    std::optional<std::string_view> current = parent;
    while (current && !path.empty()) {
        const auto slash = path.find('/');
        current = child(*current, path.substr(0, slash));
        path = slash == std::string_view::npos ? std::string_view{} : path.substr(slash + 1);
    }
    return current;
}

// Parameter sets from an avcC payload.
bool read_avcc(std::string_view avcc, mp4_info& info) {
    if (avcc.size() < 7) {
        return false;
    }
    std::size_t pos = 5;
    const auto read_sets = [&](unsigned count, std::string& first) {
        for (unsigned i = 0; i < count; ++i) {
            if (avcc.size() - pos < 2 || avcc.size() - pos - 2 < rd_u16(avcc, pos)) {
                return false;
            }
            const std::uint32_t length = rd_u16(avcc, pos);
            if (i == 0) {
                first = std::string(avcc.substr(pos + 2, length));
            }
            pos += 2 + length;
        }
        return true;
    };
    if (!read_sets(static_cast<std::uint8_t>(avcc[pos++]) & 0x1FU, info.sps) || pos >= avcc.size()) {
        return false;
    }
    return read_sets(static_cast<std::uint8_t>(avcc[pos++]), info.pps);
}

// Fills info from one trak when it is a video track.
bool read_video_track(std::string_view trak, mp4_info& info) {
    const auto hdlr = descend(trak, "mdia/hdlr");
    if (!hdlr || hdlr->size() < 12 || hdlr->substr(8, 4) != "vide") {
        return false;
    }
    const auto tkhd = child(trak, "tkhd");
    const auto mdhd = descend(trak, "mdia/mdhd");
    const auto stbl = descend(trak, "mdia/minf/stbl");
    if (!tkhd || !mdhd || !stbl || tkhd->empty() || mdhd->empty()) {
        return false;
    }
    const bool tkhd_v1 = (*tkhd)[0] == 1;
    const std::size_t size_at = tkhd_v1 ? 88 : 76;
    if (tkhd->size() < size_at + 8) {
        return false;
    }
    info.width = rd_u32(*tkhd, size_at) >> 16U;
    info.height = rd_u32(*tkhd, size_at + 4) >> 16U;

    const bool mdhd_v1 = (*mdhd)[0] == 1;
    if (mdhd->size() < (mdhd_v1 ? 32U : 20U)) {
        return false;
    }
    const std::uint32_t timescale = rd_u32(*mdhd, mdhd_v1 ? 20 : 12);
    const std::uint64_t duration = mdhd_v1 ? rd_u64(*mdhd, 24) : rd_u32(*mdhd, 16);
    if (timescale == 0) {
        return false;
    }
    info.duration = std::chrono::duration<double>(static_cast<double>(duration) / timescale);

    const auto stsd = child(*stbl, "stsd");
    const auto stsz = child(*stbl, "stsz");
    if (!stsd || !stsz || stsd->size() < 8 || stsz->size() < 12) {
        return false;
    }
    const auto entries = boxes_in(stsd->substr(8));
    if (!entries || entries->empty()) {
        return false;
    }
    const box_view& entry = entries->front();
    info.codec = std::string(entry.type);
    // A visual sample entry keeps its own size at 24 and its child boxes from 78.
    if (entry.payload.size() >= 78) {
        if (info.width == 0 || info.height == 0) {
            info.width = rd_u16(entry.payload, 24);
            info.height = rd_u16(entry.payload, 26);
        }
        if (const auto avcc = child(entry.payload.substr(78), "avcC"); avcc && !read_avcc(*avcc, info)) {
            return false;
        }
    }
    info.frame_count = rd_u32(*stsz, 8);
    const auto stss = child(*stbl, "stss");
    info.sync_frame_count = stss && stss->size() >= 8 ? rd_u32(*stss, 4) : info.frame_count;
    return true;
}

void validate(const mp4_options& opts) {
    if (opts.width < 2 || opts.height < 2 || opts.width > 4096 || opts.height > 4096 || opts.width % 2 != 0 ||
        opts.height % 2 != 0) {
        throw std::invalid_argument("make_mp4: width and height must be even, 2..4096");
    }
    if (opts.seconds.count() < 1 || opts.seconds.count() > 600) {
        throw std::invalid_argument("make_mp4: length must be 1..600 s");
    }
    if (opts.fps < 1 || opts.fps > 120) {
        throw std::invalid_argument("make_mp4: fps must be 1..120");
    }
}

} // namespace

std::string make_mp4(const mp4_options& opts) {
    validate(opts);
    stream_layout layout{opts.width,
                         opts.height,
                         (opts.width + 15) / 16,
                         (opts.height + 15) / 16,
                         opts.fps,
                         0};
    layout.level_idc = pick_level(layout.mb_width, layout.mb_height, layout.fps);

    const std::string sps = sequence_parameter_set(layout);
    const std::string pps = picture_parameter_set();
    const auto frames = static_cast<std::uint32_t>(opts.seconds.count()) * opts.fps;

    // mdat payload: each sample is its NAL units, each behind a four-byte big-endian length.
    std::string mdat_payload;
    track_samples samples{.sizes = {}, .sync = {1}, .samples_per_chunk = opts.fps};
    samples.sizes.reserve(frames);
    const auto add_sample = [&](std::string_view nal) {
        put_u32(mdat_payload, static_cast<std::uint32_t>(nal.size()));
        mdat_payload.append(nal);
        samples.sizes.push_back(static_cast<std::uint32_t>(nal.size() + 4));
    };
    add_sample(idr_slice(layout, render_yuv(layout, opts.seed)));
    mdat_payload.reserve(mdat_payload.size() +
                         std::size_t{frames} * (std::size_t{layout.mb_count()} * 5 / 8 + 64));
    for (std::uint32_t frame = 1; frame < frames; ++frame) {
        const std::int32_t mv_x = opts.motion == video_motion::sway ? sway_vector(frame, opts.fps) : 0;
        add_sample(p_slice(layout, frame % (1U << log2_max_frame_num), mv_x));
    }

    // Faststart: moov goes first, so the chunk offsets depend on its size; the size does not
    // depend on the offsets' values, so measure once and build again with the real base.
    const std::string ftyp = file_type_box();
    const std::size_t moov_size = movie_box({layout, samples, sps, pps, 0}).size();
    const std::uint64_t data_start = ftyp.size() + moov_size + 8;
    if (data_start + mdat_payload.size() > 0xFFFFFFFFULL) {
        throw std::invalid_argument("make_mp4: the file would need 64-bit offsets");
    }
    const std::string moov = movie_box({layout, samples, sps, pps, static_cast<std::uint32_t>(data_start)});

    std::string file;
    file.reserve(static_cast<std::size_t>(data_start) + mdat_payload.size());
    file.append(ftyp);
    file.append(moov);
    put_u32(file, static_cast<std::uint32_t>(mdat_payload.size() + 8));
    file.append("mdat");
    file.append(mdat_payload);
    return file;
}

std::optional<mp4_info> read_mp4_info(std::string_view bytes) {
    const auto top = boxes_in(bytes);
    if (!top) {
        return std::nullopt;
    }
    std::optional<box_view> moov;
    std::optional<box_view> mdat;
    for (const auto& b : *top) {
        if (b.type == "moov" && !moov) {
            moov = b;
        } else if (b.type == "mdat" && !mdat) {
            mdat = b;
        }
    }
    if (!moov || !mdat) {
        return std::nullopt;
    }
    const auto tracks = boxes_in(moov->payload);
    if (!tracks) {
        return std::nullopt;
    }
    for (const auto& b : *tracks) {
        mp4_info info;
        if (b.type == "trak" && read_video_track(b.payload, info)) {
            info.faststart = moov->offset < mdat->offset;
            return info;
        }
    }
    return std::nullopt;
}

} // namespace companion::sim::media
