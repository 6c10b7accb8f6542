// What the end-to-end video suites share: asking for a video through the reply keyboard, taking a
// selfie, reading a user's last job, and the whole flow (both modes, three languages) any backend
// must pass.
#pragma once

#include "sim/media/mp4.hpp"
#include "storage/video_jobs.hpp"
#include "tests/e2e/world.hpp"

#include <boost/test/unit_test.hpp>

#include <optional>
#include <string>
#include <tuple>
#include <vector>

namespace companion::test {

inline bool is_video(const item& i) {
    return i.what == item::kind::video;
}

// Presses the reply keyboard's video button and chooses a mode.
inline engine::awaitable<void>
ask_video(world& w, std::int64_t user, const std::string& lang, const std::string& data) {
    auto& t = w.sims->telegram();
    t.user_sends_text(user, w.locales.text(lang, "btn.video"));
    auto offer = co_await w.video_offer(user);
    if (!offer) {
        for (const auto& i : t.sent_to(user)) {
            BOOST_TEST_MESSAGE("sent: " << sim::to_string(i.what) << " " << i.text << " " << i.reply_markup);
        }
    }
    BOOST_TEST_REQUIRE(offer.has_value());
    BOOST_TEST(offer->text.starts_with(w.locales.text(lang, "video.choose")),
               offer->text); // + credits when sold
    t.user_presses_button(user, offer->message_id, data);
}

inline engine::awaitable<void> take_selfie(world& w, std::int64_t user) {
    w.sims->telegram().user_sends_text(user, "/selfie");
    auto photo = co_await w.next(user, [](const item& i) { return i.what == item::kind::photo; });
    BOOST_TEST_REQUIRE(photo.has_value());
}

inline std::optional<storage::video_job> last_job(world& w, std::int64_t user) {
    SQLite::Statement q(w.db->connection(),
                        "SELECT id FROM video_jobs WHERE user_id = ?1 ORDER BY id DESC LIMIT 1");
    q.bind(1, user);
    if (!q.executeStep()) {
        return std::nullopt;
    }
    storage::video_job_repository jobs(*w.db);
    return jobs.get(q.getColumn(0).getInt64());
}

/// Asks for a video from the last selfie, "kills" the bot once the job is submitted (in flight at
/// the provider), starts it again on the same data folder and expects the video. Returns the job
/// as it was when the bot stopped.
inline engine::awaitable<storage::video_job>
restart_while_rendering(world& w, std::int64_t user, const std::string& lang) {
    co_await ask_video(w, user, lang, "vid:last");
    const bool submitted = co_await eventually(
        [&] {
            auto j = last_job(w, user);
            return j && j->state == storage::job_state::submitted;
        },
        std::chrono::seconds{10});
    BOOST_TEST_REQUIRE(submitted);
    const auto job = last_job(w, user);
    BOOST_TEST_REQUIRE(job.has_value());
    co_await w.stop_bot(); // the process "dies" with the job in flight
    w.start_bot();
    auto clip = co_await w.next(user, is_video, std::chrono::seconds{20});
    BOOST_TEST_REQUIRE(clip.has_value());
    co_return *job;
}

/// Both modes in TR, RU and EN on whichever backend `w` runs: a real 720x1280 MP4 of
/// `seconds` delivered, the job stored delivered with its prompt and provider id.
template <class World>
engine::awaitable<void> both_modes_in_three_languages(World& w, double seconds = 0) {
    co_await w.start();
    auto& t = w.sims->telegram();
    const std::vector<std::tuple<std::string, std::string, std::string>> cases{{"tr", "elif", "vid:last"},
                                                                               {"ru", "masha", "vid:new"},
                                                                               {"en", "emma", "vid:last"}};
    for (const auto& [lang, persona, mode] : cases) {
        const auto user = t.add_user({.first_name = "V" + lang, .language_code = lang});
        co_await onboard(w, user, persona);
        if (mode == "vid:last") {
            co_await take_selfie(w, user);
        }
        co_await ask_video(w, user, lang, mode);
        auto clip = co_await w.next(user, is_video, std::chrono::seconds{20});
        BOOST_TEST_REQUIRE(clip.has_value());
        BOOST_TEST(clip->text == w.locales.text(lang, "video.success"));
        const auto bytes = t.file_bytes(clip->file_id);
        BOOST_TEST_REQUIRE(bytes != nullptr);
        const auto info = sim::media::read_mp4_info(*bytes);
        BOOST_TEST_REQUIRE(info.has_value());
        BOOST_TEST(info->width == 720U);
        BOOST_TEST(info->height == 1280U);
        if (seconds > 0) {
            BOOST_TEST(info->duration.count() == seconds, boost::test_tools::tolerance(0.01));
        }
        const bool delivered = co_await eventually([&] {
            auto j = last_job(w, user);
            return j && j->state == storage::job_state::delivered;
        });
        BOOST_TEST(delivered);
        const auto job = last_job(w, user);
        BOOST_TEST_REQUIRE(job.has_value());
        BOOST_TEST(job->video_prompt.value_or("").find("Style:") == 0U);
        BOOST_TEST(job->provider_job_id.has_value());
    }
    co_await w.finish();
}

} // namespace companion::test
