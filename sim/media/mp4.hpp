// Simulated videos: real, playable MP4 files (H.264 Constrained Baseline, moov before mdat) of the
// requested size and length, written without an encoder library, and a box reader that checks them.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace companion::sim::media {

// still: the first picture held for the whole length. sway: the picture slides sideways and back
// once every two seconds (motion vectors only, ~2 KB a frame), so a player visibly plays it.
enum class video_motion { still, sway };

struct mp4_options {
    // Any even sizes up to 4096; the stream codes whole 16x16 macroblocks and crops the rest.
    std::uint32_t width = 720;
    std::uint32_t height = 1280;
    std::chrono::seconds seconds{8};
    std::uint32_t fps = 24;
    // Picks the picture, as for images: seed_from_text(prompt).
    std::uint64_t seed = 0;
    video_motion motion = video_motion::sway;
};

// An MP4 of exactly seconds * fps frames: one IDR picture of raw (I_PCM) macroblocks, about
// 1.4 MB at 720x1280, followed by P pictures that copy or shift it. Throws std::invalid_argument
// for odd or out-of-range sizes, a length outside 1..600 s or a rate outside 1..120 fps.
[[nodiscard]] std::string make_mp4(const mp4_options& opts);

struct mp4_info {
    std::uint32_t width = 0; // display size, from the video track header
    std::uint32_t height = 0;
    std::chrono::duration<double> duration{}; // of the video track
    std::uint32_t frame_count = 0;
    std::uint32_t sync_frame_count = 0; // key frames; every frame when the file has no stss
    bool faststart = false;             // moov precedes mdat, so playback can start while downloading
    std::string codec;                  // sample entry type, "avc1" for ours
    std::string sps;                    // first SPS NAL unit of the avcC box, header byte included
    std::string pps;
};

// Walks the boxes of the first video track; nullopt when the file has no moov, no mdat, no video
// track or a box that runs past its parent.
[[nodiscard]] std::optional<mp4_info> read_mp4_info(std::string_view bytes);

} // namespace companion::sim::media
