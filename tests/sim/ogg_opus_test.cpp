// Tests of the simulated voice notes: Ogg pages split by hand (CRCs recomputed with libogg), the
// Opus packets decoded back with libopus (a real decoder), the length and transcript read back,
// and corrupt, cut or foreign bytes refused.
#include "sim/media/ogg_opus.hpp"
#include "sim/media/png.hpp"

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <ogg/ogg.h>
#include <opus.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace companion::sim::media::test {
namespace {

std::uint64_t le(std::string_view b, std::size_t at, int n) {
    std::uint64_t v = 0;
    for (int i = n - 1; i >= 0; --i) {
        v = (v << 8U) | static_cast<std::uint8_t>(b[at + static_cast<std::size_t>(i)]);
    }
    return v;
}

struct page {
    std::size_t offset = 0; // in the file
    std::uint8_t flags = 0;
    std::int64_t granule = 0;
    std::uint32_t serial = 0;
    std::uint32_t sequence = 0;
    bool crc_ok = false;
    std::vector<std::string> packets; // packets that end on this page (a continued one whole)
};

// Splits an Ogg file into pages by its header fields alone (no libogg sync), checking each CRC by
// recomputing it with libogg over a copy whose CRC field is cleared.
std::vector<page> split_pages(std::string_view b) {
    std::vector<page> pages;
    std::string pending; // a packet continued onto the next page
    std::size_t at = 0;
    while (at < b.size()) {
        BOOST_TEST_REQUIRE(b.size() - at >= 27U);
        BOOST_TEST_REQUIRE(b.substr(at, 4) == "OggS");
        page p;
        p.offset = at;
        p.flags = static_cast<std::uint8_t>(b[at + 5]);
        p.granule = static_cast<std::int64_t>(le(b, at + 6, 8));
        p.serial = static_cast<std::uint32_t>(le(b, at + 14, 4));
        p.sequence = static_cast<std::uint32_t>(le(b, at + 18, 4));
        const auto stored_crc = static_cast<std::uint32_t>(le(b, at + 22, 4));
        const std::size_t segments = static_cast<std::uint8_t>(b[at + 26]);
        BOOST_TEST_REQUIRE(b.size() - at >= 27 + segments);
        std::size_t body = 0;
        for (std::size_t s = 0; s < segments; ++s) {
            body += static_cast<std::uint8_t>(b[at + 27 + s]);
        }
        const std::size_t header_len = 27 + segments;
        BOOST_TEST_REQUIRE(b.size() - at >= header_len + body);
        std::string header(b.substr(at, header_len));
        std::string payload(b.substr(at + header_len, body));
        header[22] = header[23] = header[24] = header[25] = 0;
        ogg_page og{};
        og.header = reinterpret_cast<unsigned char*>(header.data());
        og.header_len = static_cast<long>(header.size());
        og.body = reinterpret_cast<unsigned char*>(payload.data());
        og.body_len = static_cast<long>(payload.size());
        ogg_page_checksum_set(&og);
        p.crc_ok = static_cast<std::uint32_t>(le(header, 22, 4)) == stored_crc;
        std::size_t offset = 0;
        for (std::size_t s = 0; s < segments; ++s) {
            const std::size_t lace = static_cast<std::uint8_t>(b[at + 27 + s]);
            pending += payload.substr(offset, lace);
            offset += lace;
            if (lace < 255) {
                p.packets.push_back(std::move(pending));
                pending.clear();
            }
        }
        pages.push_back(std::move(p));
        at += header_len + body;
    }
    BOOST_TEST(pending.empty());
    return pages;
}

struct decoded {
    std::int64_t samples = 0; // every sample the packets decode to, pre-skip included
    int peak = 0;             // the loudest sample after the pre-skip
    int pre_skip = 0;
    std::int64_t last_granule = 0;
};

decoded decode(std::string_view file) {
    const auto pages = split_pages(file);
    BOOST_TEST_REQUIRE(pages.size() >= 3U);
    const auto& head = pages[0].packets.at(0);
    decoded out;
    out.pre_skip = static_cast<int>(le(head, 10, 2));
    out.last_granule = pages.back().granule;
    int err = OPUS_OK;
    std::unique_ptr<OpusDecoder, void (*)(OpusDecoder*)> dec(opus_decoder_create(48000, 1, &err),
                                                             opus_decoder_destroy);
    BOOST_TEST_REQUIRE(err == OPUS_OK);
    std::vector<opus_int16> pcm(5760);
    for (std::size_t i = 2; i < pages.size(); ++i) {
        for (const auto& packet : pages[i].packets) {
            const int n = opus_decode(dec.get(),
                                      reinterpret_cast<const unsigned char*>(packet.data()),
                                      static_cast<opus_int32>(packet.size()),
                                      pcm.data(),
                                      static_cast<int>(pcm.size()),
                                      0);
            BOOST_TEST_REQUIRE(n > 0);
            for (int k = 0; k < n; ++k) {
                if (out.samples + k >= out.pre_skip) {
                    out.peak =
                        std::max(out.peak, std::abs(static_cast<int>(pcm[static_cast<std::size_t>(k)])));
                }
            }
            out.samples += n;
        }
    }
    return out;
}

struct voice_case {
    double seconds;
    std::string_view transcript;
};

std::ostream& operator<<(std::ostream& os, const voice_case& c) {
    return os << c.seconds << " s, \"" << c.transcript << '"';
}

const std::vector<voice_case> voice_cases{
    {0.1, ""},
    {1.0, "merhaba"},
    {2.5, "Привет! Как дела? 😊"},
    {7.3, "a=b; TRANSCRIPT=inside"},
    {61.0, ""},
};

} // namespace

BOOST_AUTO_TEST_SUITE(sim_ogg_opus)

BOOST_AUTO_TEST_CASE(a_voice_file_decodes_with_libopus_to_its_length) {
    const std::string file = make_ogg_opus({.seconds = 1.5, .transcript = "hello"});
    const auto d = decode(file);
    const std::int64_t wanted = 72000; // 1.5 s at 48 kHz
    BOOST_TEST(d.last_granule - d.pre_skip == wanted);
    // Whole 20 ms frames: the decoded samples cover the pre-skip and the length, padding < 1 frame.
    BOOST_TEST(d.samples - d.pre_skip >= wanted);
    BOOST_TEST(d.samples - d.pre_skip < wanted + 960);
    BOOST_TEST(d.samples % 960 == 0);
    // A quiet tone: audible, far from full scale.
    BOOST_TEST(d.peak > 100);
    BOOST_TEST(d.peak < 4000);
}

BOOST_AUTO_TEST_CASE(pages_have_the_opus_headers_alone_valid_crcs_and_rising_granules) {
    const std::string file = make_ogg_opus({.seconds = 2.5, .transcript = "iyi geceler"});
    const auto pages = split_pages(file);
    BOOST_TEST_REQUIRE(pages.size() >= 5U); // head, tags, and a page per second of audio
    for (std::size_t i = 0; i < pages.size(); ++i) {
        BOOST_TEST(pages[i].crc_ok, "page " << i);
        BOOST_TEST(pages[i].sequence == i);
        BOOST_TEST(pages[i].serial == pages[0].serial);
    }
    BOOST_TEST(pages[0].flags == 0x02); // beginning of stream
    BOOST_TEST_REQUIRE(pages[0].packets.size() == 1U);
    const auto& head = pages[0].packets[0];
    BOOST_TEST(head.size() == 19U);
    BOOST_TEST(head.substr(0, 8) == "OpusHead");
    BOOST_TEST(head[8] == 1);              // version
    BOOST_TEST(head[9] == 1);              // mono
    BOOST_TEST(le(head, 12, 4) == 48000U); // input sample rate
    BOOST_TEST(pages[0].granule == 0);
    BOOST_TEST_REQUIRE(pages[1].packets.size() == 1U);
    const auto& tags = pages[1].packets[0];
    BOOST_TEST(tags.substr(0, 8) == "OpusTags");
    BOOST_TEST(le(tags, 8, 4) == 13U);
    BOOST_TEST(tags.substr(12, 13) == "companion-sim");
    BOOST_TEST(le(tags, 25, 4) == 1U);
    BOOST_TEST(tags.substr(33) == "TRANSCRIPT=iyi geceler");
    BOOST_TEST(pages[1].granule == 0);
    std::int64_t previous = 0;
    for (std::size_t i = 2; i < pages.size(); ++i) {
        BOOST_TEST(pages[i].granule > previous);
        BOOST_TEST(pages[i].packets.size() <= 50U); // at most a second of 20 ms packets per page
        previous = pages[i].granule;
        BOOST_TEST((pages[i].flags & 0x04) == (i + 1 == pages.size() ? 0x04 : 0), "page " << i);
    }
    // The same options make the same file; another transcript another stream.
    BOOST_TEST(make_ogg_opus({.seconds = 2.5, .transcript = "iyi geceler"}) == file);
    BOOST_TEST(split_pages(make_ogg_opus({.seconds = 2.5, .transcript = "x"}))[0].serial != pages[0].serial);
}

BOOST_DATA_TEST_CASE(length_and_transcript_read_back, boost::unit_test::data::make(voice_cases), c) {
    const auto info = read_ogg_opus(make_ogg_opus({.seconds = c.seconds, .transcript = c.transcript}));
    BOOST_TEST_REQUIRE(info.has_value());
    BOOST_TEST(std::abs(info->seconds - c.seconds) < 1.0 / 48000);
    if (c.transcript.empty()) {
        BOOST_TEST(!info->transcript.has_value());
    } else {
        BOOST_TEST(info->transcript.value_or("<none>") == c.transcript);
    }
}

BOOST_AUTO_TEST_CASE(corrupt_cut_and_foreign_bytes_are_not_voice) {
    const std::string file = make_ogg_opus({.seconds = 3.0, .transcript = "kept"});
    BOOST_TEST_REQUIRE(read_ogg_opus(file).has_value());
    const auto pages = split_pages(file);
    // A flipped bit anywhere in a page breaks its CRC: in the headers, the tags and the audio.
    const std::vector<std::size_t> flips{5, 30, 60, file.size() / 2, file.size() - 1};
    for (const std::size_t at : flips) {
        std::string broken = file;
        broken[at] = static_cast<char>(broken[at] ^ 0x10);
        BOOST_TEST(!read_ogg_opus(broken).has_value(), "flip at " << at);
    }
    // Cut mid-page, and cut exactly after a page (no end-of-stream page).
    const std::vector<std::size_t> cuts{0, 10, 47, 200, file.size() / 2, file.size() - 1};
    for (const std::size_t n : cuts) {
        BOOST_TEST(!read_ogg_opus(std::string_view(file).substr(0, n)).has_value(), "cut at " << n);
    }
    BOOST_TEST(!read_ogg_opus(std::string_view(file).substr(0, pages.back().offset)).has_value());
    // Garbage before or after the stream.
    BOOST_TEST(!read_ogg_opus("x" + file).has_value());
    BOOST_TEST(!read_ogg_opus(file + "trailing").has_value());
    // Not Ogg at all.
    BOOST_TEST(!read_ogg_opus("").has_value());
    BOOST_TEST(!read_ogg_opus("OggS").has_value());
    BOOST_TEST(!read_ogg_opus("ID3\x03 an mp3, say").has_value());
    BOOST_TEST(!read_ogg_opus(make_png(8, 8, {.seed = 1})).has_value());
}

BOOST_AUTO_TEST_CASE(an_ogg_stream_of_another_codec_is_not_opus) {
    // A well-formed Ogg stream whose first packet is a Vorbis identification header.
    ogg_stream_state os{};
    BOOST_TEST_REQUIRE(ogg_stream_init(&os, 77) == 0);
    std::string out;
    const std::vector<std::string> packets{std::string("\x01vorbis") + std::string(23, '\0'),
                                           std::string("\x03vorbis") + std::string(8, '\0'),
                                           std::string(40, 'a')};
    for (std::size_t i = 0; i < packets.size(); ++i) {
        ogg_packet op{};
        op.packet = reinterpret_cast<unsigned char*>(const_cast<char*>(packets[i].data()));
        op.bytes = static_cast<long>(packets[i].size());
        op.b_o_s = i == 0 ? 1 : 0;
        op.e_o_s = i + 1 == packets.size() ? 1 : 0;
        op.granulepos = i + 1 == packets.size() ? 48000 : 0;
        op.packetno = static_cast<ogg_int64_t>(i);
        ogg_stream_packetin(&os, &op);
        ogg_page og{};
        while (ogg_stream_flush(&os, &og) != 0) {
            out.append(reinterpret_cast<const char*>(og.header), static_cast<std::size_t>(og.header_len));
            out.append(reinterpret_cast<const char*>(og.body), static_cast<std::size_t>(og.body_len));
        }
    }
    ogg_stream_clear(&os);
    BOOST_TEST(split_pages(out).size() == 3U);
    BOOST_TEST(!read_ogg_opus(out).has_value());
}

BOOST_AUTO_TEST_CASE(lengths_outside_the_range_are_refused) {
    BOOST_CHECK_THROW((void)make_ogg_opus({.seconds = 0.05}), std::invalid_argument);
    BOOST_CHECK_THROW((void)make_ogg_opus({.seconds = 601}), std::invalid_argument);
    BOOST_CHECK_THROW((void)make_ogg_opus({.seconds = std::nan("")}), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace companion::sim::media::test
