// Image fitting through the image module, loaded on first use (detail/media_module.hpp).
#include "pipelines/media.hpp"

#include "engine/log.hpp"
#include "pipelines/detail/media_module.hpp"

#include <dlfcn.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <vector>

namespace companion::pipelines {
namespace {

using detail::fit_result;

fit_result fail(std::string reason) {
    return fit_result(boost::system::in_place_error, std::move(reason));
}

} // namespace

namespace detail {

std::vector<std::filesystem::path> media_module_candidates() {
    std::vector<std::filesystem::path> out;
    std::error_code ec;
    const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        out.push_back(exe.parent_path().parent_path() / COMPANION_MEDIA_MODULE_LIBDIR /
                      COMPANION_MEDIA_MODULE_NAME);
    }
    out.emplace_back(COMPANION_MEDIA_MODULE_BUILD_PATH);
    return out;
}

loaded_media_module load_media_module(const std::vector<std::filesystem::path>& candidates) {
    loaded_media_module out;
    const auto lacked = [&out](const std::string& what) { out.why += (out.why.empty() ? "" : "; ") + what; };
    for (const auto& path : candidates) {
        std::error_code ec;
        if (!std::filesystem::exists(path, ec)) {
            lacked(path.string() + " is missing");
            continue;
        }
        void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
        if (handle == nullptr) {
            const char* e = ::dlerror();
            lacked(e != nullptr ? std::string(e) : path.string() + " cannot be loaded");
            continue;
        }
        using entry_fn = const media_module* (*)() noexcept;
        // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): dlsym's symbol is a function
        auto entry = reinterpret_cast<entry_fn>(::dlsym(handle, media_module_symbol));
        const media_module* api = entry != nullptr ? entry() : nullptr;
        if (api == nullptr || api->abi != media_module_abi || api->fit_photo == nullptr ||
            api->fit_frame == nullptr) {
            // Another library, or a module of another build: not used, and not unloaded (a
            // library's destructors at dlclose are not ours to run early).
            lacked(path.string() + " is not this build's image module");
            continue;
        }
        out.api = api;
        out.path = path.string();
        out.why.clear();
        return out;
    }
    return out;
}

} // namespace detail

namespace {

// Loaded once per process, by the first caller (an offload thread: loading maps ~95 libraries).
const detail::loaded_media_module& image_module() {
    static std::once_flag once;
    static detail::loaded_media_module module;
    std::call_once(once, [] {
        module = detail::load_media_module(detail::media_module_candidates());
        if (module.api != nullptr) {
            engine::log().info("media.module_loaded", {{"path", module.path}});
        } else {
            // Every image fails with this reason until a restart: said once, loudly.
            engine::log().error("media.module_missing", {{"error", module.why}});
        }
    });
    return module;
}

} // namespace

boost::system::result<image_bytes, std::string>
fit_photo(std::string_view bytes, std::string_view mime, const photo_limits& limits) {
    const auto& m = image_module();
    if (m.api == nullptr) {
        return fail("the image library could not be loaded: " + m.why);
    }
    return m.api->fit_photo(bytes, mime, limits);
}

boost::system::result<image_bytes, std::string> fit_frame(std::string_view bytes, int width, int height) {
    const auto& m = image_module();
    if (m.api == nullptr) {
        return fail("the image library could not be loaded: " + m.why);
    }
    return m.api->fit_frame(bytes, width, height);
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
