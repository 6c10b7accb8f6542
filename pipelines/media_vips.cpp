// The image module (libcompanion-media.so): libvips-based image fitting, loaded by
// pipelines/media.cpp on the first image (see detail/media_module.hpp).
#include "pipelines/detail/media_module.hpp"

#include <vips/vips8>

#include <algorithm>
#include <cmath>
#include <mutex>

namespace companion::pipelines {
namespace {

using detail::fit_result;

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

// Starts libvips once per process (thread-safe).
void init_image_library() {
    static std::once_flag once;
    std::call_once(once, [] {
        if (VIPS_INIT("companion") != 0) {
            vips_error_exit("cannot start libvips");
        }
        vips_cache_set_max(0); // every image is new: caching only costs memory
    });
}

fit_result vips_fit_photo(std::string_view bytes, std::string_view mime, const photo_limits& limits) {
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

fit_result vips_fit_frame(std::string_view bytes, int width, int height) {
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

} // namespace
} // namespace companion::pipelines

extern "C" __attribute__((visibility("default"))) const companion::pipelines::detail::media_module*
companion_media_module() noexcept {
    static const companion::pipelines::detail::media_module module{
        .abi = companion::pipelines::detail::media_module_abi,
        .fit_photo = &companion::pipelines::vips_fit_photo,
        .fit_frame = &companion::pipelines::vips_fit_frame,
    };
    return &module;
}
