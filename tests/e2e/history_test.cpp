// End-to-end tests of the gallery (issue 22): /videos and /selfies in TR, RU and EN list what the
// bot delivered, a press sends it again by its file_id with no new job, another user's button is
// refused with the expired-button toast, and /forget empties the gallery.
#include "storage/generated_content.hpp"
#include "tests/e2e/video_support.hpp"

#include <boost/test/unit_test.hpp>

using namespace companion;
using namespace companion::test;
using namespace std::chrono_literals;
using engine::awaitable;

namespace {

struct gallery_world : world {
    gallery_world() { backend = video_backend::openai; }
};

bool is_photo(const item& i) {
    return i.what == item::kind::photo;
}

bool has_gallery_button(const item& i) {
    return i.reply_markup.find("\"h:") != std::string::npos;
}

/// The callback data of the gallery message's first button ("h:<id>").
std::string first_gallery_data(const item& i) {
    const auto at = i.reply_markup.find("\"h:");
    BOOST_TEST_REQUIRE(at != std::string::npos);
    const auto end = i.reply_markup.find('"', at + 1);
    return i.reply_markup.substr(at + 1, end - at - 1);
}

std::int64_t jobs_of(world& w, std::int64_t user) {
    SQLite::Statement q(w.db->connection(), "SELECT count(*) FROM video_jobs WHERE user_id = ?1");
    q.bind(1, user);
    BOOST_TEST_REQUIRE(q.executeStep());
    return q.getColumn(0).getInt64();
}

bool file_ids_stored(world& w, std::int64_t user) {
    SQLite::Statement q(
        w.db->connection(),
        "SELECT count(*) FROM generated_content WHERE user_id = ?1 AND telegram_file_id IS NULL");
    q.bind(1, user);
    return q.executeStep() && q.getColumn(0).getInt64() == 0;
}

} // namespace

BOOST_AUTO_TEST_SUITE(history_e2e)

BOOST_FIXTURE_TEST_CASE(the_gallery_sends_videos_and_selfies_again_by_file_id_in_three_languages,
                        gallery_world) {
    test::run_test(
        ioc,
        [&]() -> awaitable<void> {
            co_await start();
            auto& t = sims->telegram();
            const auto text = [](const item& i) { return i.what == item::kind::text; };
            const auto answer = [](const item& i) { return i.what == item::kind::callback_answer; };
            const std::vector<std::pair<std::string, std::string>> cases{{"tr", "elif"},
                                                                         {"ru", "masha"},
                                                                         {"en", "emma"}};
            std::vector<std::string> earlier_buttons; // another user's, pressed by the next one
            struct gallery {
                std::int64_t user;
                std::string lang;
                std::int64_t message_id;
                std::string button;
            };
            std::vector<gallery> galleries;
            for (const auto& [lang, persona] : cases) {
                BOOST_TEST_CONTEXT(lang) {
                    const auto u = t.add_user({.first_name = "G" + lang, .language_code = lang});
                    co_await onboard(*this, u, persona);
                    t.user_sends_text(u, "/videos");
                    auto none = co_await next(u, text);
                    BOOST_TEST_REQUIRE(none.has_value());
                    BOOST_TEST(none->text == locales.text(lang, "history.no_videos"));

                    t.user_sends_text(u, "/selfie");
                    auto photo = co_await next(u, is_photo);
                    BOOST_TEST_REQUIRE(photo.has_value());
                    co_await ask_video(*this, u, lang, "vid:last");
                    auto clip = co_await next(u, is_video, 20s);
                    BOOST_TEST_REQUIRE(clip.has_value());
                    open_db();
                    BOOST_TEST_REQUIRE(co_await eventually([&] { return file_ids_stored(*this, u); }));
                    const auto jobs = jobs_of(*this, u);

                    // A press sends the same file again: the same file_id, no upload, no job.
                    t.user_sends_text(u, "/videos");
                    auto videos = co_await next(u, has_gallery_button);
                    BOOST_TEST_REQUIRE(videos.has_value());
                    BOOST_TEST(videos->text == locales.text(lang, "history.videos"));
                    const auto video_button = first_gallery_data(*videos);
                    t.user_presses_button(u, videos->message_id, video_button);
                    auto again = co_await next(u, is_video);
                    BOOST_TEST_REQUIRE(again.has_value());
                    BOOST_TEST(again->file_id == clip->file_id);
                    BOOST_TEST(jobs_of(*this, u) == jobs);

                    t.user_sends_text(u, "/selfies");
                    auto selfies = co_await next(u, has_gallery_button);
                    BOOST_TEST_REQUIRE(selfies.has_value());
                    BOOST_TEST(selfies->text == locales.text(lang, "history.selfies"));
                    t.user_presses_button(u, selfies->message_id, first_gallery_data(*selfies));
                    auto photo_again = co_await next(u, is_photo);
                    BOOST_TEST_REQUIRE(photo_again.has_value());
                    BOOST_TEST(photo_again->file_id == photo->file_id);

                    // The previous user's button, forged into this chat: refused, nothing sent.
                    for (const auto& forged : earlier_buttons) {
                        t.user_presses_button(u, videos->message_id, forged);
                        auto refused = co_await next(u, answer);
                        BOOST_TEST_REQUIRE(refused.has_value());
                        BOOST_TEST(refused->text == locales.text(lang, "button.expired"));
                    }
                    earlier_buttons = {video_button};
                    galleries.push_back({u, lang, videos->message_id, video_button});
                }
            }
            // /forget empties the gallery; a button pressed after it is refused.
            for (const auto& g : galleries) {
                BOOST_TEST_CONTEXT(g.lang) {
                    t.user_sends_text(g.user, "/forget");
                    auto confirm = co_await next(g.user, [](const item& i) {
                        return i.reply_markup.find("forget:yes") != std::string::npos;
                    });
                    BOOST_TEST_REQUIRE(confirm.has_value());
                    t.user_presses_button(g.user, confirm->message_id, "forget:yes");
                    const std::string done = locales.text(g.lang, "forget.done");
                    auto forgot = co_await next(g.user, [&](const item& i) {
                        return i.what == item::kind::text && i.text == done;
                    });
                    BOOST_TEST_REQUIRE(forgot.has_value());
                    t.user_sends_text(g.user, "/videos");
                    auto emptied = co_await next(g.user, text);
                    BOOST_TEST_REQUIRE(emptied.has_value());
                    BOOST_TEST(emptied->text == locales.text(g.lang, "history.no_videos"));
                    t.user_presses_button(g.user, g.message_id, g.button);
                    auto stale = co_await next(g.user, answer);
                    BOOST_TEST_REQUIRE(stale.has_value());
                    BOOST_TEST(stale->text == locales.text(g.lang, "button.expired"));
                    const auto sent = t.sent_to(g.user);
                    BOOST_TEST(std::count_if(sent.begin(), sent.end(), is_video) ==
                               2); // the clip and its resend
                }
            }
            co_await finish();
        }(),
        120s);
}

BOOST_AUTO_TEST_SUITE_END()
