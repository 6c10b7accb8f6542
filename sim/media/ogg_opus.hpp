// Simulated voice: real Ogg/Opus files (what Telegram voice notes and OpenAI's `opus` speech are),
// encoded with libopus and paged with libogg, that carry their transcript in a comment, and a
// reader that checks a file's structure and gets its length and transcript back without decoding.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace companion::sim::media {

struct voice_options {
    // The length; 0.1..600 s.
    double seconds = 1.0;
    // When not empty, the OpusTags comment "TRANSCRIPT=<text>" (UTF-8): what the OpenAI simulator
    // "hears" in the file. A view, so the options stay trivially destructible; it must outlive the
    // make_ogg_opus call.
    std::string_view transcript{};
};

// A mono 48 kHz Ogg Opus file of `seconds` (rounded to whole samples) of a quiet tone: OpusHead
// (with the encoder's pre-skip) and OpusTags (vendor "companion-sim") on pages of their own, then
// 20 ms packets on pages of at most a second, each page's granule position the samples decoded by
// its end, the last page marked end-of-stream with the granule that trims the padding. The same
// options give the same bytes. Throws std::invalid_argument for a length outside 0.1..600 s and
// std::runtime_error when libopus fails.
[[nodiscard]] std::string make_ogg_opus(const voice_options& opts);

struct voice_info {
    double seconds = 0; // the last granule position minus the pre-skip, over 48000
    std::optional<std::string> transcript{};
};

// The length and the TRANSCRIPT comment (field name in any case, as Vorbis comments go) of an Ogg
// Opus file; nullopt unless the bytes are whole Ogg pages with valid CRCs from the first byte on,
// the first packet is an OpusHead, the second an OpusTags, at least one audio packet follows and
// the last page ends the stream (a truncated file has no end). Pages of other logical streams
// (another serial number) are skipped.
[[nodiscard]] std::optional<voice_info> read_ogg_opus(std::string_view bytes);

} // namespace companion::sim::media
