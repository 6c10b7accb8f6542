// Fitting generated images to what Telegram and the video providers accept (libvips; CPU work,
// so callers run it on the offload pool): a photo re-encoded when it exceeds Telegram's photo
// limits, and a first frame cropped to exactly the size the OpenAI videos protocol demands.
// libvips is a module loaded on the first image (detail/media_module.hpp); when it cannot be
// loaded, each call says so in its error.
#pragma once

#include <boost/system/result.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace companion::pipelines {

struct image_bytes {
    std::string bytes;
    std::string mime; ///< image/png, image/jpeg, image/webp
    int width = 0;
    int height = 0;

    /// Empties it and gives its memory back (assigning `{}` to a std::string keeps its capacity:
    /// a sleeping video job would hold its first frame's bytes).
    void release() noexcept {
        std::string().swap(bytes);
        mime.clear();
        width = 0;
        height = 0;
    }
};

struct photo_limits {
    std::size_t max_bytes = 10 * 1024 * 1024; ///< Telegram: 10 MB per uploaded photo
    int max_width_plus_height = 10000;        ///< Telegram: width + height <= 10000
    int max_aspect = 20;                      ///< Telegram: aspect ratio <= 20
};

/// The image unchanged when it fits `limits`; otherwise scaled down and re-encoded as JPEG until
/// it fits. Error: a readable reason (undecodable image, impossible aspect ratio).
boost::system::result<image_bytes, std::string>
fit_photo(std::string_view bytes, std::string_view mime, const photo_limits& limits = {});

/// Scales to cover `width`x`height` and crops to exactly that size, keeping the most interesting
/// part (libvips' attention crop), encoded as JPEG: the first frame of an image-to-video job.
boost::system::result<image_bytes, std::string> fit_frame(std::string_view bytes, int width, int height);

/// Reads a stored selfie at `path` as a video's first frame: fitted to `width`x`height` when the
/// provider demands an exact size (`exact`), else as it is (PNG or JPEG by its signature).
/// File I/O and image work: call it on the offload pool. Error: a readable reason.
boost::system::result<image_bytes, std::string>
load_first_frame(const std::string& path, bool exact, int width, int height);

} // namespace companion::pipelines
