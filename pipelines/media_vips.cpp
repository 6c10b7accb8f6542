// libvips-based image fitting.
#include "pipelines/media.hpp"

#include <vips/vips8>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <mutex>

namespace companion::pipelines {
namespace {

using fit_result = boost::system::result<image_bytes, std::string>;

// image_bytes starts with a string, so the error needs naming explicitly.
fit_result fail(std::string reason) {
    return fit_result(boost::system::in_place_error, std::move(reason));
}

std::string encode_jpeg(vips::VImage img, int quality) {
    void* buf = nullptr;
    std::size_t size = 0;
    img.write_to_buffer(".jpg", &buf, &size, vips::VImage::option()->set("Q", quality)->set("strip", true));
    std::string out(static_cast<const char*>(buf), size);
    g_free(buf);
    return out;
}

vips::VImage flatten_to_srgb(vips::VImage img) {
    if (img.has_alpha()) {
        img = img.flatten(vips::VImage::option()->set("background", std::vector<double>{255, 255, 255}));
    }
    if (img.interpretation() != VIPS_INTERPRETATION_sRGB) {
        img = img.colourspace(VIPS_INTERPRETATION_sRGB);
    }
    return img;
}

} // namespace

void init_image_library() {
    static std::once_flag once;
    std::call_once(once, [] {
        if (VIPS_INIT("companion") != 0) {
            vips_error_exit("cannot start libvips");
        }
        vips_cache_set_max(0); // every image is new: caching only costs memory
    });
}

boost::system::result<image_bytes, std::string>
fit_photo(std::string_view bytes, std::string_view mime, const photo_limits& limits) {
    init_image_library();
    try {
        auto img = vips::VImage::new_from_buffer(bytes.data(), bytes.size(), "");
        const int w = img.width();
        const int h = img.height();
        if (std::max(w, h) > limits.max_aspect * std::min(w, h)) {
            return fail("aspect ratio above " + std::to_string(limits.max_aspect));
        }
        if (bytes.size() <= limits.max_bytes && w + h <= limits.max_width_plus_height) {
            return image_bytes{std::string(bytes), std::string(mime), w, h};
        }
        double scale =
            std::min(1.0, static_cast<double>(limits.max_width_plus_height) / static_cast<double>(w + h));
        img = flatten_to_srgb(img);
        // Lower the quality first, then the size, until it fits (a smaller photo beats none).
        int quality = 90;
        for (int step = 0; step < 16; ++step) {
            auto scaled = scale < 1.0 ? img.resize(scale) : img;
            auto jpeg = encode_jpeg(scaled, quality);
            if (jpeg.size() <= limits.max_bytes) {
                return image_bytes{std::move(jpeg), "image/jpeg", scaled.width(), scaled.height()};
            }
            if (quality > 70) {
                quality -= 10;
            } else {
                scale *= 0.75;
            }
            if (scaled.width() < 64 || scaled.height() < 64) {
                break;
            }
        }
        return fail("cannot bring the image under the size limit");
    } catch (const vips::VError& e) {
        return fail(std::string("image: ") + e.what());
    }
}

boost::system::result<image_bytes, std::string> fit_frame(std::string_view bytes, int width, int height) {
    init_image_library();
    try {
        // Already the exact size (a 720x1280 selfie used again): no decode, no re-encode. Only
        // the header is read here; libvips decodes lazily.
        auto header = vips::VImage::new_from_buffer(bytes.data(), bytes.size(), "");
        const bool is_jpeg = bytes.size() > 2 && static_cast<unsigned char>(bytes[0]) == 0xFF &&
                             static_cast<unsigned char>(bytes[1]) == 0xD8;
        const bool is_png = bytes.size() > 8 && bytes.substr(1, 3) == "PNG";
        if (header.width() == width && header.height() == height && (is_jpeg || is_png)) {
            return image_bytes{std::string(bytes), is_jpeg ? "image/jpeg" : "image/png", width, height};
        }
        auto img = flatten_to_srgb(header);
        const double scale =
            std::max(static_cast<double>(width) / img.width(), static_cast<double>(height) / img.height());
        auto scaled = img.resize(scale);
        auto cropped =
            scaled.smartcrop(width,
                             height,
                             vips::VImage::option()->set("interesting", VIPS_INTERESTING_ATTENTION));
        auto jpeg = encode_jpeg(cropped, 92);
        return image_bytes{std::move(jpeg), "image/jpeg", cropped.width(), cropped.height()};
    } catch (const vips::VError& e) {
        return fail(std::string("image: ") + e.what());
    }
}

boost::system::result<image_bytes, std::string>
load_first_frame(const std::string& path, bool exact, int width, int height) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return {boost::system::in_place_error, "the first frame is missing"};
    }
    std::string frame((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (exact) {
        return fit_frame(frame, width, height);
    }
    const bool jpeg = frame.size() > 3 && frame[0] == '\xFF' && frame[1] == '\xD8';
    return image_bytes{std::move(frame), jpeg ? "image/jpeg" : "image/png"};
}

} // namespace companion::pipelines
