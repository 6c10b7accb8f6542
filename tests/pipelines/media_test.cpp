// Tests of pipelines/media with real images from sim/media: photos within Telegram's limits pass
// untouched, others are scaled and re-encoded; first frames are cropped to the exact size.
#include "pipelines/detail/media_module.hpp"
#include "pipelines/media.hpp"
#include "sim/media/png.hpp"

#include <boost/test/unit_test.hpp>

#include <dlfcn.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

using namespace companion;
using namespace companion::pipelines;

namespace {

std::string png(std::uint32_t w, std::uint32_t h) {
    return sim::media::make_png(w, h, {});
}

} // namespace

BOOST_AUTO_TEST_SUITE(media_suite)

BOOST_AUTO_TEST_CASE(a_photo_within_the_limits_is_left_alone) {
    const auto bytes = png(768, 1376);
    auto r = fit_photo(bytes, "image/png");
    BOOST_TEST_REQUIRE(r.has_value(), (r ? "" : r.error()));
    BOOST_TEST((r->bytes == bytes));
    BOOST_TEST(r->mime == "image/png");
    BOOST_TEST(r->width == 768);
}

BOOST_AUTO_TEST_CASE(too_many_pixels_are_scaled_to_width_plus_height_within_10000) {
    auto r = fit_photo(png(8000, 3000), "image/png");
    BOOST_TEST_REQUIRE(r.has_value(), (r ? "" : r.error()));
    BOOST_TEST(r->mime == "image/jpeg");
    BOOST_TEST(r->width + r->height <= 10000);
    const auto size = sim::media::read_image_size(r->bytes);
    BOOST_TEST_REQUIRE(size.has_value());
    BOOST_TEST(static_cast<int>(size->width) == r->width);
}

BOOST_AUTO_TEST_CASE(too_many_bytes_are_re_encoded_under_the_limit) {
    const auto bytes = png(768, 1376);
    auto r = fit_photo(bytes, "image/png", {.max_bytes = 5000});
    BOOST_TEST_REQUIRE(r.has_value(), (r ? "" : r.error()));
    BOOST_TEST(r->bytes.size() <= 5000U);
    BOOST_TEST(r->mime == "image/jpeg");
}

BOOST_AUTO_TEST_CASE(undecodable_and_extreme_images_are_refused_with_a_reason) {
    auto garbage = fit_photo("definitely not an image", "image/png");
    BOOST_TEST(!garbage.has_value());
    auto strip = fit_photo(png(2100, 100), "image/png");
    BOOST_TEST_REQUIRE(!strip.has_value());
    BOOST_TEST(strip.error().find("aspect") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(first_frames_are_cropped_to_exactly_the_requested_size) {
    for (auto [w, h] : {std::pair{768U, 1344U}, std::pair{768U, 1376U}, std::pair{1024U, 1024U}}) {
        auto r = fit_frame(png(w, h), 720, 1280);
        BOOST_TEST_REQUIRE(r.has_value(), (r ? "" : r.error()));
        const auto size = sim::media::read_image_size(r->bytes);
        BOOST_TEST_REQUIRE(size.has_value());
        BOOST_TEST(size->width == 720U);
        BOOST_TEST(size->height == 1280U);
        BOOST_TEST(r->mime == "image/jpeg");
    }
}

BOOST_AUTO_TEST_CASE(a_frame_of_the_exact_size_is_used_as_it_is) {
    const auto bytes = png(720, 1280);
    auto r = fit_frame(bytes, 720, 1280);
    BOOST_TEST_REQUIRE(r.has_value(), (r ? "" : r.error()));
    BOOST_TEST((r->bytes == bytes));
    BOOST_TEST(r->mime == "image/png");
}

// The loader (detail/media_module.hpp) over lists of candidates: what each kind of wrong file
// says, and the first good one wins.
BOOST_AUTO_TEST_CASE(the_image_module_loads_from_the_first_candidate_that_is_this_builds_module) {
    namespace fs = std::filesystem;
    const auto built = detail::media_module_candidates();
    BOOST_TEST_REQUIRE(built.size() == 2U);
    BOOST_TEST_REQUIRE(fs::exists(built.back())); // this build's module
    BOOST_TEST(built.front().filename() == built.back().filename());

    const auto dir = fs::temp_directory_path() / ("companion-media-test-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    const auto text = dir / "libcompanion-media.so";
    std::ofstream(text) << "not a library\n";
    Dl_info sqlite{}; // a library, not ours (and no sanitizer intercepts its functions)
    BOOST_TEST_REQUIRE(::dladdr(reinterpret_cast<void*>(&::sqlite3_libversion), &sqlite) != 0); // NOLINT
    const fs::path other = sqlite.dli_fname;
    const fs::path missing = dir / "gone.so";

    struct row {
        std::vector<fs::path> candidates;
        std::string loaded; ///< empty: none loads
        std::vector<std::string> said;
    };
    const std::vector<row> rows{
        {{missing}, "", {missing.string() + " is missing"}},
        {{text}, "", {text.string()}},
        {{other}, "", {other.string() + " is not this build's image module"}},
        {{missing, text, other, built.back()}, built.back().string(), {}},
        {{}, "", {}},
    };
    for (const auto& r : rows) {
        const auto m = detail::load_media_module(r.candidates);
        BOOST_TEST((m.api != nullptr) == !r.loaded.empty());
        BOOST_TEST(m.path == r.loaded);
        for (const auto& s : r.said) {
            BOOST_TEST(m.why.find(s) != std::string::npos, m.why << " lacks " << s);
        }
        if (m.api != nullptr) {
            BOOST_TEST(m.why.empty());
            BOOST_TEST(m.api->abi == detail::media_module_abi);
            const auto frame = m.api->fit_frame(png(720, 1280), 720, 1280);
            BOOST_TEST(frame.has_value());
        }
    }
    fs::remove_all(dir);
}

BOOST_AUTO_TEST_SUITE_END()
