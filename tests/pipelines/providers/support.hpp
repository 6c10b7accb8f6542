// Helpers for the video provider tests: a simulator suite with render times of tens of
// milliseconds on a fresh loop, a test coroutine driver, and MP4 checks of downloaded files.
#pragma once

#include "engine/asio.hpp"
#include "engine/time.hpp"
#include "net/http_client.hpp"
#include "pipelines/video_provider.hpp"
#include "sim/fault.hpp"
#include "sim/media/mp4.hpp"
#include "sim/media/png.hpp"
#include "sim/suite.hpp"
#include "tests/common/sim_fixture.hpp"
#include "tests/common/sim_speed.hpp"
#include "tests/common/temp_dir.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <random>
#include <string>

namespace companion::test {

inline sim::suite_config fast_suite() {
    auto c = quick_videos(std::chrono::milliseconds{20}, std::chrono::milliseconds{40});
    c.gemini.veo_polls_before_done = 1;
    c.gemini.vertex_token = "ya29.sim-vertex-token";
    return c;
}

/// The whole simulator suite (`sims`, the same object as `sim`) and a temp folder for downloads.
struct suite_fixture : sim_fixture<sim::suite> {
    sim::suite& sims = sim;
    temp_dir dir;

    explicit suite_fixture(sim::suite_config cfg = fast_suite()) : sim_fixture(std::move(cfg)) {}
};

/// The first frame a provider test submits: a PNG of `width` x `height` drawn from `seed`.
struct test_frame {
    std::uint32_t width = 720;
    std::uint32_t height = 1280;
    std::uint64_t seed = 21;
};

/// Submits `prompt` for the default 5 s with `frame` as its first frame.
inline engine::awaitable<pipelines::video_result<std::string>>
submit_with_frame(pipelines::video_provider& p, std::string prompt, test_frame frame = {}) {
    pipelines::video_submit r;
    r.prompt = std::move(prompt);
    r.image = sim::media::make_png(frame.width, frame.height, {.seed = frame.seed});
    r.image_mime = "image/png";
    r.seconds = 5;
    auto id = co_await p.submit(std::move(r));
    co_return id;
}

/// Polls until the job leaves queued/running (10 ms apart, at most 2 s).
inline engine::awaitable<pipelines::video_result<pipelines::video_poll>>
wait_for(pipelines::video_provider& p, std::string job_id) {
    for (int i = 0; i < 200; ++i) {
        auto r = co_await p.poll(job_id);
        if (!r || (r->status != pipelines::video_poll::state::queued &&
                   r->status != pipelines::video_poll::state::running)) {
            co_return r;
        }
        co_await engine::sleep(std::chrono::milliseconds{10});
    }
    co_return pipelines::video_error{.kind = pipelines::video_error_kind::failed,
                                     .message = "never finished",
                                     .retry_after = {}};
}

/// The downloaded file is a real MP4 of `w` x `h` and `seconds`, matching its reported size.
inline void check_mp4(const pipelines::video_file& f, std::uint32_t w, std::uint32_t h, double seconds) {
    const auto bytes = read_file(f.path);
    BOOST_TEST(static_cast<std::int64_t>(bytes.size()) == f.bytes);
    BOOST_TEST(f.sha256.size() == 64U);
    BOOST_TEST(f.mime == "video/mp4");
    const auto info = sim::media::read_mp4_info(bytes);
    BOOST_REQUIRE(info.has_value());
    BOOST_TEST(info->width == w);
    BOOST_TEST(info->height == h);
    BOOST_TEST(info->duration.count() == seconds, boost::test_tools::tolerance(0.01));
}

} // namespace companion::test
