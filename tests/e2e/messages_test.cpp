// End-to-end tests of what the bot tells a user (issue 18, finding 6): the 18+ question asked once,
// before an offer that can go ahead, with a yes and a no; /forget that asks first; one message when
// a new video's first frame is refused; a progress line that ends saying how the video ended
// instead of at its last stage or repeating the caption; "typing…" and "sending a photo…" kept
// alive while the models work.
#include "pipelines/portrait.hpp"
#include "sim/gemini/simulator.hpp"
#include "storage/conversation.hpp"
#include "storage/generated_content.hpp"
#include "storage/users.hpp"
#include "tests/e2e/world.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <utility>

using namespace companion;
using namespace companion::test;
using namespace std::chrono_literals;
using engine::awaitable;

namespace {

struct openai_world : world {
    openai_world() { backend = video_backend::openai; }
};

bool is_video(const item& i) {
    return i.what == item::kind::video;
}

std::size_t count_where(const std::vector<item>& items, const std::function<bool(const item&)>& pred) {
    return static_cast<std::size_t>(std::count_if(items.begin(), items.end(), pred));
}

/// True when `text` is the localized line `key` with some elapsed time in its {elapsed}.
bool is_line_with_elapsed(const pipelines::locale_catalog& l,
                          const std::string& lang,
                          const std::string& key,
                          const std::string& text) {
    const std::string marked = l.text(lang, key, {{"elapsed", "\x01"}});
    const auto at = marked.find('\x01');
    if (at == std::string::npos) {
        return false;
    }
    const std::string_view before(marked.data(), at);
    const std::string_view after(marked.data() + at + 1, marked.size() - at - 1);
    return text.size() > before.size() + after.size() && text.starts_with(before) && text.ends_with(after);
}

/// The face the Gemini simulator marked in the picture stored at `path` ("" when none).
std::string face_in_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return sim::face_of(bytes).value_or("");
}

} // namespace

BOOST_AUTO_TEST_SUITE(messages_e2e)

BOOST_FIXTURE_TEST_CASE(the_adult_question_comes_once_before_the_offer_with_a_yes_and_a_no, openai_world) {
    test::run_test(ioc, [&]() -> awaitable<void> {
        co_await start();
        auto& t = sims->telegram();
        const auto user = t.add_user({.first_name = "Ivan", .language_code = "ru"});
        co_await onboard(*this, user, "masha");
        t.user_sends_text(user, "/video");
        auto question = co_await next(user, [](const item& i) { return text(i) && !i.reply_markup.empty(); });
        BOOST_TEST_REQUIRE(question.has_value());
        BOOST_TEST(question->text == locales.text("ru", "adult.ask"));
        BOOST_TEST(question->reply_markup.find("adult:yes") != std::string::npos);
        BOOST_TEST(question->reply_markup.find("adult:no") != std::string::npos);
        BOOST_TEST(question->reply_markup.find("vid:") == std::string::npos); // the offer comes after
        t.user_presses_button(user, question->message_id, "adult:no");
        auto toast = co_await next(user, [](const item& i) { return i.what == item::kind::callback_answer; });
        BOOST_TEST_REQUIRE(toast.has_value());
        BOOST_TEST(toast->text == locales.text("ru", "adult.declined"));
        auto offer = co_await next(user, offers_video);
        BOOST_TEST_REQUIRE(offer.has_value());
        BOOST_TEST(offer->text == locales.text("ru", "video.choose"));
        storage::user_repository users(*db);
        const auto stored = users.get(user);
        BOOST_TEST_REQUIRE(stored.has_value());
        BOOST_TEST(stored->adult_answered);
        BOOST_TEST(!stored->adult_confirmed);
        // Answered once: the next /video goes straight to the offer.
        t.user_sends_text(user, "/video");
        auto again = co_await next(user, [](const item& i) { return text(i) && !i.reply_markup.empty(); });
        BOOST_TEST_REQUIRE(again.has_value());
        BOOST_TEST(offers_video(*again));
        co_await finish();
    }());
}

BOOST_FIXTURE_TEST_CASE(the_adult_question_is_not_asked_when_no_video_can_be_made_today, openai_world) {
    test::run_test(ioc, [&]() -> awaitable<void> {
        cfg.video.videos_per_day = 0;
        co_await start();
        auto& t = sims->telegram();
        const auto user = t.add_user({.first_name = "Elif", .language_code = "tr"});
        co_await onboard(*this, user, "elif");
        t.user_sends_text(user, "/video");
        auto reply = co_await next(user, text);
        BOOST_TEST_REQUIRE(reply.has_value());
        BOOST_TEST(reply->text == locales.text("tr", "quota.videos"));
        BOOST_TEST(reply->reply_markup.empty());
        co_await finish();
    }());
}

BOOST_FIXTURE_TEST_CASE(a_new_video_whose_first_frame_is_refused_is_one_message_and_a_closed_line,
                        openai_world) {
    test::run_test(
        ioc,
        [&]() -> awaitable<void> {
            co_await start();
            auto& t = sims->telegram();
            const auto user = t.add_user({.first_name = "Emma", .language_code = "en"});
            co_await onboard(*this, user, "emma");
            // Her portrait (drawn at the first selfie) and both attempts at the first frame are
            // refused by the image model.
            sims->gemini().faults.add(
                {.match = "generateContent", .kind = sim::fault_kind::refusal, .count = 3});
            t.user_sends_text(user, "/video");
            auto offer = co_await video_offer(user);
            BOOST_TEST_REQUIRE(offer.has_value());
            const auto from = t.sent_to(user).size();
            const auto handled = bot->stats().updates_processed;
            t.user_presses_button(user, offer->message_id, "vid:new");
            auto refused = co_await next(
                user,
                [&](const item& i) { return text(i) && i.text == locales.text("en", "video.refused"); },
                20s);
            BOOST_TEST_REQUIRE(refused.has_value());
            // A later update, handled after the job's end, proves nothing else is on its way.
            t.user_sends_text(user, "/help");
            const bool both_handled = co_await processed(*this, handled + 2);
            BOOST_TEST_REQUIRE(both_handled);
            auto help = co_await next(user, text);
            BOOST_TEST_REQUIRE(help.has_value());
            const auto all = t.sent_to(user);
            const std::vector<item> after(all.begin() + static_cast<std::ptrdiff_t>(from), all.end());
            auto says = [&](const std::string& key) {
                return count_where(after, [&](const item& i) {
                    return text(i) && i.text == locales.text("en", key);
                });
            };
            BOOST_TEST(says("video.refused") == 1U);
            BOOST_TEST(says("selfie.refused") == 0U); // not a second message about the same failure
            BOOST_TEST(says("video.failed") == 0U);
            BOOST_TEST(count_where(after, [&](const item& i) {
                           return i.what == item::kind::edit &&
                                  is_line_with_elapsed(locales, "en", "video.progress_stopped", i.text);
                       }) == 1U);
            co_await finish();
        }(),
        60s);
}

BOOST_FIXTURE_TEST_CASE(a_delivered_video_closes_its_progress_line_without_repeating_the_caption,
                        openai_world) {
    test::run_test(
        ioc,
        [&]() -> awaitable<void> {
            co_await start();
            auto& t = sims->telegram();
            const auto user = t.add_user({.first_name = "Aylin", .language_code = "tr"});
            co_await onboard(*this, user, "aylin");
            t.user_sends_text(user, "/video");
            auto offer = co_await video_offer(user);
            BOOST_TEST_REQUIRE(offer.has_value());
            t.user_presses_button(user, offer->message_id, "vid:new");
            auto clip = co_await next(user, is_video, 20s);
            BOOST_TEST_REQUIRE(clip.has_value());
            auto closed = co_await next(
                user,
                [&](const item& i) {
                    return i.what == item::kind::edit &&
                           is_line_with_elapsed(locales, "tr", "video.progress_done", i.text);
                },
                10s);
            if (!closed) {
                for (const auto& i : t.sent_to(user)) {
                    BOOST_TEST_MESSAGE("sent: " << sim::to_string(i.what) << " " << i.text);
                }
            }
            BOOST_TEST_REQUIRE(closed.has_value());
            const auto all = t.sent_to(user);
            BOOST_TEST(count_where(all, [&](const item& i) {
                           return i.what == item::kind::edit && i.text == locales.text("tr", "video.success");
                       }) == 0U); // the caption is said once, on the video
            BOOST_TEST(count_where(all, [&](const item& i) {
                           return text(i) && i.text.find("5 saniye") != std::string::npos;
                       }) == 0U); // no promise of a five-second render
            co_await finish();
        }(),
        60s);
}

// A video from the last selfie shows that selfie while it renders: the progress is the photo's
// caption (sent by file_id, no upload), edited as the job moves and closed when the video is
// there. In TR, RU and EN.
BOOST_FIXTURE_TEST_CASE(a_video_from_the_last_selfie_shows_it_as_the_progress_in_three_languages,
                        openai_world) {
    test::run_test(
        ioc,
        [&]() -> awaitable<void> {
            co_await start();
            auto& t = sims->telegram();
            const std::vector<std::pair<std::string, std::string>> cases{{"tr", "elif"},
                                                                         {"ru", "masha"},
                                                                         {"en", "emma"}};
            for (const auto& c : cases) {
                const std::string lang = c.first;
                const std::string persona = c.second;
                BOOST_TEST_CONTEXT(lang) {
                    const auto user = t.add_user({.first_name = "F", .language_code = lang});
                    co_await onboard(*this, user, persona);
                    t.user_sends_text(user, "/selfie");
                    auto selfie =
                        co_await next(user, [](const item& i) { return i.what == item::kind::photo; });
                    BOOST_TEST_REQUIRE(selfie.has_value());
                    t.user_sends_text(user, "/video");
                    auto offer = co_await video_offer(user);
                    BOOST_TEST_REQUIRE(offer.has_value());
                    t.user_presses_button(user, offer->message_id, "vid:last");
                    auto preview =
                        co_await next(user, [](const item& i) { return i.what == item::kind::photo; });
                    BOOST_TEST_REQUIRE(preview.has_value());
                    BOOST_TEST(preview->file_id == selfie->file_id); // the same file, not an upload
                    BOOST_TEST(preview->text == locales.text(lang, "video.generating"));
                    auto clip = co_await next(
                        user,
                        [](const item& i) { return i.what == item::kind::video; },
                        20s);
                    BOOST_TEST_REQUIRE(clip.has_value());
                    auto closed = co_await next(
                        user,
                        [&](const item& i) {
                            return i.what == item::kind::edit && i.message_id == preview->message_id &&
                                   is_line_with_elapsed(locales, lang, "video.progress_done", i.text);
                        },
                        10s);
                    BOOST_TEST(closed.has_value());
                    const auto all = t.sent_to(user);
                    BOOST_TEST(count_where(all, [&](const item& i) {
                                   return text(i) && i.text == locales.text(lang, "video.generating");
                               }) == 0U); // the photo carries the line: no second message
                    // Its stages were shown on the caption along the way.
                    BOOST_TEST(count_where(all, [&](const item& i) {
                                   return i.what == item::kind::edit && i.message_id == preview->message_id;
                               }) >= 2U);
                }
            }
            co_await finish();
        }(),
        90s);
}

BOOST_FIXTURE_TEST_CASE(selfies_of_a_persona_show_the_same_face_in_three_languages, world) {
    test::run_test(
        ioc,
        [&]() -> awaitable<void> {
            co_await start();
            auto& t = sims->telegram();
            const std::vector<std::pair<std::string, std::string>> cases{{"tr", "elif"},
                                                                         {"ru", "masha"},
                                                                         {"en", "emma"}};
            std::vector<std::int64_t> users;
            for (const auto& c : cases) {
                const std::string lang = c.first;
                const std::string persona = c.second;
                BOOST_TEST_CONTEXT(lang) {
                    const auto user = t.add_user({.first_name = "F", .language_code = lang});
                    users.push_back(user);
                    co_await onboard(*this, user, persona);
                    for (int i = 0; i < 2; ++i) {
                        t.user_sends_text(user, "/selfie");
                        auto photo =
                            co_await next(user, [](const item& it) { return it.what == item::kind::photo; });
                        BOOST_TEST_REQUIRE(photo.has_value());
                        const auto* p = personas.find(persona);
                        BOOST_TEST(photo->text ==
                                   locales.text(lang, "selfie.caption", {{"name", p->name_in(lang)}}));
                    }
                }
            }
            co_await stop_bot(); // a restart must not draw another face
            start_bot();
            for (std::size_t i = 0; i < cases.size(); ++i) {
                t.user_sends_text(users[i], "/selfie");
                auto photo =
                    co_await next(users[i], [](const item& it) { return it.what == item::kind::photo; });
                BOOST_TEST_REQUIRE(photo.has_value());
            }

            storage::generated_content_repository content(*db);
            const auto& requests = sims->gemini().image_requests();
            std::set<std::string> faces;
            for (std::size_t i = 0; i < cases.size(); ++i) {
                const auto& persona = *personas.find(cases[i].second);
                BOOST_TEST_CONTEXT(cases[i].first) {
                    // Her portrait was drawn once, from her description, and kept.
                    const auto portrait_file = dir.path / "media" / "portraits" / (persona.id + ".png");
                    const std::string face = face_in_file(portrait_file);
                    BOOST_TEST_REQUIRE(!face.empty());
                    faces.insert(face);
                    const auto drawings = std::count_if(requests.begin(), requests.end(), [&](const auto& r) {
                        return r.prompt == pipelines::portrait_prompt(persona);
                    });
                    BOOST_TEST(drawings == 1);
                    // Each of her three selfies sent it as the input image and shows her face.
                    const auto with_her_face =
                        std::count_if(requests.begin(), requests.end(), [&](const auto& r) {
                            return r.faces == std::vector<std::string>{face} &&
                                   r.prompt.find(pipelines::same_face_instruction()) != std::string::npos;
                        });
                    BOOST_TEST(with_her_face == 3);
                    // Her three selfies (the simulated LLM writes one prompt, so the pictures may
                    // share a file) all show that face.
                    const auto selfies = content.delivered(users[i], storage::content_kind::selfie, 10);
                    BOOST_TEST_REQUIRE(!selfies.empty());
                    for (const auto& s : selfies) {
                        BOOST_TEST(face_in_file(s.media_path) == face);
                    }
                    SQLite::Statement rows(
                        db->connection(),
                        "SELECT count(*) FROM generated_content WHERE user_id = ?1 AND kind = 'selfie'");
                    rows.bind(1, users[i]);
                    BOOST_TEST_REQUIRE(rows.executeStep());
                    BOOST_TEST(rows.getColumn(0).getInt64() == 3);
                }
            }
            BOOST_TEST(faces.size() == 3U); // three women, three faces
            co_await finish();
        }(),
        90s);
}

BOOST_FIXTURE_TEST_CASE(typing_and_the_photo_action_stay_alive_while_the_models_work, world) {
    cfg.chat.stream = false; // whole replies show "typing…" (streamed ones show a draft instead)
    test::run_test(
        ioc,
        [&]() -> awaitable<void> {
            cfg.sending.action_after = 100ms; // the first once the wait is noticeable
            cfg.sending.action_every = 100ms;
            sim_cfg.openai.latency = 700ms;
            sim_cfg.gemini.latency = 700ms;
            co_await start();
            auto& t = sims->telegram();
            const auto user = t.add_user({.first_name = "Anya", .language_code = "ru"});
            co_await onboard(*this, user, "anya");
            const auto actions = [&](std::string_view which) {
                return count_where(t.sent_to(user), [&](const item& i) {
                    return i.what == item::kind::action && i.text == which;
                });
            };
            t.user_sends_text(user, "Привет!");
            auto reply = co_await next(user, text, 10s);
            BOOST_TEST_REQUIRE(reply.has_value());
            BOOST_TEST(actions("typing") >= 3U); // refreshed while the model wrote for 0.7 s
            t.user_sends_text(user, "/selfie");
            auto photo = co_await next(
                user,
                [](const item& i) { return i.what == item::kind::photo; },
                10s);
            BOOST_TEST_REQUIRE(photo.has_value());
            BOOST_TEST(actions("upload_photo") >= 6U); // the prompt and the picture: 1.4 s of work
            co_await finish();
        }(),
        60s);
}

BOOST_AUTO_TEST_SUITE_END()
