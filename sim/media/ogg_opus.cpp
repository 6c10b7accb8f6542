// Ogg Opus voice files (RFC 7845): libopus encodes 20 ms packets of a quiet tone, libogg pages them
// and checks the pages when reading; the Opus headers are written and read here.
#include "sim/media/ogg_opus.hpp"

#include "sim/media/picture.hpp"

#include <ogg/ogg.h>
#include <opus.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <numbers>
#include <stdexcept>
#include <vector>

namespace companion::sim::media {
namespace {

constexpr std::int64_t sample_rate = 48000;
constexpr int frame_samples = 960;  // 20 ms, what voice encoders use
constexpr int frames_per_page = 50; // a second per page, as opusenc pages
constexpr std::string_view vendor = "companion-sim";
constexpr std::string_view transcript_field = "TRANSCRIPT=";

void put_le(std::string& out, std::uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) {
        out.push_back(static_cast<char>((v >> (8 * i)) & 0xFFU));
    }
}

std::uint64_t get_le(std::string_view in, std::size_t at, int bytes) {
    std::uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; --i) {
        v = (v << 8U) | static_cast<std::uint8_t>(in[at + static_cast<std::size_t>(i)]);
    }
    return v;
}

std::string opus_head(int pre_skip) {
    std::string h = "OpusHead";
    h.push_back(1); // version
    h.push_back(1); // mono
    put_le(h, static_cast<std::uint64_t>(pre_skip), 2);
    put_le(h, static_cast<std::uint64_t>(sample_rate), 4); // the input's rate, informational
    put_le(h, 0, 2);                                       // output gain
    h.push_back(0);                                        // channel mapping family 0
    return h;
}

std::string opus_tags(std::string_view transcript) {
    std::string t = "OpusTags";
    put_le(t, vendor.size(), 4);
    t += vendor;
    put_le(t, transcript.empty() ? 0 : 1, 4);
    if (!transcript.empty()) {
        put_le(t, transcript_field.size() + transcript.size(), 4);
        t += transcript_field;
        t += transcript;
    }
    return t;
}

struct encoder_deleter {
    void operator()(OpusEncoder* e) const noexcept { opus_encoder_destroy(e); }
};

// The ogg_stream_state of one logical stream, cleared on every exit.
struct ogg_stream {
    ogg_stream_state state{};
    bool open = false;

    ogg_stream() = default;
    ogg_stream(const ogg_stream&) = delete;
    ogg_stream& operator=(const ogg_stream&) = delete;
    ~ogg_stream() {
        if (open) {
            ogg_stream_clear(&state);
        }
    }
    void init(int serial) {
        if (ogg_stream_init(&state, serial) != 0) {
            throw std::runtime_error("ogg_stream_init failed");
        }
        open = true;
    }
};

struct ogg_sync {
    ogg_sync_state state{};

    ogg_sync() { ogg_sync_init(&state); }
    ogg_sync(const ogg_sync&) = delete;
    ogg_sync& operator=(const ogg_sync&) = delete;
    ~ogg_sync() { ogg_sync_clear(&state); }
};

void packet_in(ogg_stream& os,
               std::string_view data,
               bool bos,
               bool eos,
               std::int64_t granule,
               std::int64_t n) {
    ogg_packet op{};
    // libogg copies the bytes (packetin does not write through the pointer).
    op.packet = reinterpret_cast<unsigned char*>(const_cast<char*>(data.data()));
    op.bytes = static_cast<long>(data.size());
    op.b_o_s = bos ? 1 : 0;
    op.e_o_s = eos ? 1 : 0;
    op.granulepos = granule;
    op.packetno = n;
    if (ogg_stream_packetin(&os.state, &op) != 0) {
        throw std::runtime_error("ogg_stream_packetin failed");
    }
}

void flush_pages(ogg_stream& os, std::string& out) {
    ogg_page og{};
    while (ogg_stream_flush(&os.state, &og) != 0) {
        out.append(reinterpret_cast<const char*>(og.header), static_cast<std::size_t>(og.header_len));
        out.append(reinterpret_cast<const char*>(og.body), static_cast<std::size_t>(og.body_len));
    }
}

bool starts_with_ignoring_case(std::string_view text, std::string_view prefix) {
    return text.size() >= prefix.size() &&
           std::equal(prefix.begin(), prefix.end(), text.begin(), [](char a, char b) {
               const auto lower = [](char c) {
                   return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
               };
               return lower(a) == lower(b);
           });
}

struct head_fields {
    int pre_skip = 0;
};

std::optional<head_fields> read_head(std::string_view p) {
    if (p.size() < 19 || !p.starts_with("OpusHead")) {
        return std::nullopt;
    }
    const auto version = static_cast<std::uint8_t>(p[8]);
    const auto channels = static_cast<std::uint8_t>(p[9]);
    if ((version & 0xF0U) != 0 || channels == 0) {
        return std::nullopt; // a major version this reader does not know, or no audio
    }
    return head_fields{.pre_skip = static_cast<int>(get_le(p, 10, 2))};
}

// The transcript of an OpusTags packet (nullopt inside when it has none); nullopt when the packet
// is not one or its lengths run past it.
std::optional<std::optional<std::string>> read_tags(std::string_view p) {
    if (p.size() < 16 || !p.starts_with("OpusTags")) {
        return std::nullopt;
    }
    std::size_t at = 8;
    const auto vendor_len = get_le(p, at, 4);
    at += 4;
    if (vendor_len > p.size() - at || p.size() - at - vendor_len < 4) {
        return std::nullopt;
    }
    at += vendor_len;
    const auto count = get_le(p, at, 4);
    at += 4;
    std::optional<std::string> transcript;
    for (std::uint64_t i = 0; i < count; ++i) {
        if (p.size() - at < 4) {
            return std::nullopt;
        }
        const auto len = get_le(p, at, 4);
        at += 4;
        if (len > p.size() - at) {
            return std::nullopt;
        }
        const auto comment = p.substr(at, len);
        at += len;
        if (!transcript && starts_with_ignoring_case(comment, transcript_field)) {
            transcript = std::string(comment.substr(transcript_field.size()));
        }
    }
    return transcript;
}

} // namespace

std::string make_ogg_opus(const voice_options& opts) {
    if (!(opts.seconds >= 0.1 && opts.seconds <= 600.0)) {
        throw std::invalid_argument("make_ogg_opus: the length must be 0.1..600 s");
    }
    const std::int64_t samples = std::llround(opts.seconds * static_cast<double>(sample_rate));
    int err = OPUS_OK;
    std::unique_ptr<OpusEncoder, encoder_deleter> enc(
        opus_encoder_create(static_cast<opus_int32>(sample_rate), 1, OPUS_APPLICATION_VOIP, &err));
    if (err != OPUS_OK || !enc) {
        throw std::runtime_error(std::string("opus_encoder_create: ") + opus_strerror(err));
    }
    // Low bitrate and complexity: the tone needs no quality, and ten minutes encode in well under a
    // second.
    opus_encoder_ctl(enc.get(), OPUS_SET_BITRATE(16000));
    opus_encoder_ctl(enc.get(), OPUS_SET_COMPLEXITY(0));
    opus_encoder_ctl(enc.get(), OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE));
    opus_int32 lookahead = 0;
    opus_encoder_ctl(enc.get(), OPUS_GET_LOOKAHEAD(&lookahead));
    const int pre_skip = lookahead;
    // The decoder drops pre_skip samples first; the last granule position trims the padding of the
    // last frame, so exactly `samples` remain.
    const std::int64_t end_granule = pre_skip + samples;
    const std::int64_t frames = (end_granule + frame_samples - 1) / frame_samples;

    std::string seed_text(opts.transcript);
    seed_text += '/';
    seed_text += std::to_string(samples);
    ogg_stream os;
    os.init(static_cast<int>(seed_from_text(seed_text) & 0x7FFFFFFFU));

    std::string out;
    out.reserve(static_cast<std::size_t>(frames) * 48 + 4096);
    packet_in(os, opus_head(pre_skip), true, false, 0, 0);
    flush_pages(os, out); // OpusHead alone on the first page
    packet_in(os, opus_tags(opts.transcript), false, false, 0, 1);
    flush_pages(os, out); // the audio starts on a page of its own

    std::array<opus_int16, frame_samples> pcm{};
    std::array<unsigned char, 1500> packet{};
    constexpr double amplitude = 0.03 * 32767.0; // quiet: about -30 dBFS
    constexpr double step = 2.0 * std::numbers::pi * 440.0 / static_cast<double>(sample_rate);
    for (std::int64_t f = 0; f < frames; ++f) {
        for (std::size_t i = 0; i < pcm.size(); ++i) {
            const auto n = f * frame_samples + static_cast<std::int64_t>(i);
            pcm[i] =
                static_cast<opus_int16>(std::lround(amplitude * std::sin(step * static_cast<double>(n))));
        }
        const opus_int32 len = opus_encode(enc.get(),
                                           pcm.data(),
                                           frame_samples,
                                           packet.data(),
                                           static_cast<opus_int32>(packet.size()));
        if (len < 0) {
            throw std::runtime_error(std::string("opus_encode: ") + opus_strerror(len));
        }
        const bool last = f + 1 == frames;
        const std::int64_t granule = std::min((f + 1) * frame_samples, end_granule);
        packet_in(
            os,
            std::string_view(reinterpret_cast<const char*>(packet.data()), static_cast<std::size_t>(len)),
            false,
            last,
            granule,
            f + 2);
        if (last || (f + 1) % frames_per_page == 0) {
            flush_pages(os, out);
        }
    }
    return out;
}

std::optional<voice_info> read_ogg_opus(std::string_view bytes) {
    if (!bytes.starts_with("OggS")) {
        return std::nullopt;
    }
    ogg_sync sync;
    char* buffer = ogg_sync_buffer(&sync.state, static_cast<long>(bytes.size()));
    if (buffer == nullptr) {
        return std::nullopt;
    }
    std::memcpy(buffer, bytes.data(), bytes.size());
    if (ogg_sync_wrote(&sync.state, static_cast<long>(bytes.size())) != 0) {
        return std::nullopt;
    }
    ogg_stream os;
    std::optional<head_fields> head;
    voice_info info;
    std::int64_t packets = 0;
    std::int64_t last_granule = -1;
    bool ended = false;
    ogg_page og{};
    for (;;) {
        const int got = ogg_sync_pageout(&sync.state, &og);
        if (got == 0) {
            break; // the bytes are used up, or what is left is no whole page
        }
        if (got < 0) {
            return std::nullopt; // bytes skipped: garbage or a page whose CRC does not match
        }
        if (!os.open) {
            if (ogg_page_bos(&og) == 0) {
                return std::nullopt;
            }
            os.init(ogg_page_serialno(&og));
        } else if (ogg_page_serialno(&og) != os.state.serialno) {
            continue; // another logical stream
        }
        if (ended || ogg_stream_pagein(&os.state, &og) != 0) {
            return std::nullopt;
        }
        ogg_packet op{};
        for (int p = ogg_stream_packetout(&os.state, &op); p != 0; p = ogg_stream_packetout(&os.state, &op)) {
            if (p < 0) {
                return std::nullopt; // a page is missing
            }
            const std::string_view data(reinterpret_cast<const char*>(op.packet),
                                        static_cast<std::size_t>(op.bytes));
            if (packets == 0) {
                head = read_head(data);
                if (!head) {
                    return std::nullopt;
                }
            } else if (packets == 1) {
                auto tags = read_tags(data);
                if (!tags) {
                    return std::nullopt;
                }
                info.transcript = std::move(*tags);
            }
            ++packets;
        }
        if (const auto g = ogg_page_granulepos(&og); g != -1) {
            last_granule = g;
        }
        ended = ogg_page_eos(&og) != 0;
    }
    // Bytes left over are a cut page; a stream without its end page was cut at a page boundary.
    if (sync.state.fill != sync.state.returned || !ended || packets < 3 || !head ||
        last_granule < head->pre_skip) {
        return std::nullopt;
    }
    info.seconds = static_cast<double>(last_granule - head->pre_skip) / static_cast<double>(sample_rate);
    return info;
}

} // namespace companion::sim::media
