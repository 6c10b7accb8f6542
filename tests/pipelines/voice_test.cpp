// Her voice on virtual time: the form of a reply and whether a note can be heard as tables, then
// the voice pipeline and chat turns against the fakes: a voice note heard and answered by voice,
// text answered by text, both, a speech outage that falls back to text, a reply too long to speak,
// and every way a note cannot be heard told to the user in their language with nothing stored.
#include "pipelines/chat.hpp"
#include "pipelines/sender.hpp"
#include "pipelines/voice.hpp"
#include "storage/conversation.hpp"
#include "storage/users.hpp"
#include "storage/voice_notes.hpp"
#include "tests/common/services.hpp"

#include <boost/test/unit_test.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

using namespace companion;
using namespace companion::pipelines;
using namespace std::chrono_literals;
using namespace companion::test;
namespace tg = net::telegram;
namespace oa = net::openai;
using storage::voice_replies;

namespace {

constexpr std::int64_t user_id = 5151;

struct form_row {
    voice_replies how;
    bool spoke;
    bool can_speak;
    reply_form expected;
};

struct note_row {
    const char* name;
    intent::voice_note note;
    note_verdict expected;
};

net::api_error service_error(net::api_error_kind kind, unsigned status) {
    net::api_error e;
    e.kind = kind;
    e.api = "openai";
    e.status = status;
    return e;
}

// The voice and chat pipelines over the fakes, with the user stored and Elif chosen.
struct voice_world : services_world {
    fake_voice_model speech;
    // The chat actions at once (the fakes answer at once): this suite checks which are shown.
    sender out{telegram, time, [] {
                   sender_config s;
                   s.action_after = engine::duration::zero();
                   return s;
               }()};
    voice_pipeline voice{svc, out, voice_config{}};
    chat_pipeline chat{svc, out, chat_config{.stream = false}, &voice};
    storage::user_repository users{db};
    storage::conversation_repository turns{db};
    storage::voice_note_repository notes{db};
    user_context c{};

    voice_world() {
        svc.voice = &speech;
        c.chat_id = user_id;
        c.user_id = user_id;
        c.user = users.record_contact(user_id, "tr", false, time.wall());
        c.p = personas.find("elif");
        BOOST_TEST_REQUIRE(c.p != nullptr);
        c.lang = "tr";
    }

    void answer_with(std::string text) {
        oa::chat_completion done;
        done.content = std::move(text);
        done.finish = oa::finish_reason::stop;
        llm.answers.push_back(std::move(done));
    }

    /// Runs until `done()`: what the offload pool's real thread finishes (the note read from
    /// disk) is taken as it comes, and virtual time moves only while nothing else is ready, so a
    /// busy machine slows the test down but never fails it.
    bool finish(const std::function<bool()>& done) {
        for (int step = 0; !done() && step < 60'000; ++step) {
            settle();
            if (done()) {
                break;
            }
            ioc.restart();
            if (ioc.run_one_for(std::chrono::milliseconds(1)) > 0) { // a hang guard, not a timing
                continue;
            }
            advance(std::chrono::milliseconds(10));
        }
        return done();
    }

    template <class T>
    T run(engine::awaitable<T> task) {
        auto out_of = spawn(std::move(task));
        BOOST_REQUIRE(finish([&] { return out_of->done; }));
        BOOST_REQUIRE(!out_of->error);
        return std::move(*out_of->value);
    }
    void run(engine::awaitable<void> task) {
        auto out_of = spawn(std::move(task));
        BOOST_REQUIRE(finish([&] { return out_of->done; }));
        BOOST_REQUIRE(!out_of->error);
    }

    /// A note Telegram holds as `file_id`, heard and (when heard) answered as a turn.
    void user_says(const std::string& file_id, int seconds = 4) {
        intent::voice_note note{file_id, seconds, "audio/ogg", std::nullopt};
        auto words = run(voice.listen(c, note));
        if (words) {
            run(chat.turn(c, *words, true));
        }
    }

    std::vector<std::string> said(storage::speaker who) {
        std::vector<std::string> out_turns;
        for (const auto& t : turns.last_turns(user_id, "elif", 50)) {
            if (t.role == who) {
                out_turns.push_back(t.text);
            }
        }
        return out_turns;
    }
    std::string line(std::string_view key) const { return locales.text("tr", key, {{"minutes", "5"}}); }
};

} // namespace

BOOST_AUTO_TEST_SUITE(voice_suite)

BOOST_AUTO_TEST_CASE(the_form_of_a_reply_follows_the_setting_and_the_turn) {
    const std::vector<form_row> rows{
        {voice_replies::mirror, true, true, reply_form::voice},
        {voice_replies::mirror, false, true, reply_form::text},
        {voice_replies::text, true, true, reply_form::text},
        {voice_replies::voice, false, true, reply_form::voice},
        {voice_replies::voice, true, true, reply_form::voice},
        {voice_replies::both, false, true, reply_form::both},
        {voice_replies::both, true, true, reply_form::both},
        {voice_replies::mirror, true, false, reply_form::text}, // no speech configured
        {voice_replies::voice, true, false, reply_form::text},
        {voice_replies::both, false, false, reply_form::text},
    };
    for (const auto& r : rows) {
        BOOST_TEST_CONTEXT(storage::to_string(r.how)
                           << " spoke=" << r.spoke << " can_speak=" << r.can_speak) {
            BOOST_TEST((choose_reply_form(r.how, r.spoke, r.can_speak) == r.expected));
        }
    }
}

BOOST_AUTO_TEST_CASE(a_note_is_heard_only_when_short_small_and_audio) {
    const voice_config cfg{.max_seconds = 300, .max_bytes = 20 * 1024 * 1024};
    const std::vector<note_row> rows{
        {"a voice note", {"f", 12, "audio/ogg", 30'000}, note_verdict::ok},
        {"no type or size given", {"f", 12, "", std::nullopt}, note_verdict::ok},
        {"exactly the longest", {"f", 300, "audio/ogg", 1}, note_verdict::ok},
        {"a second too long", {"f", 301, "audio/ogg", 1}, note_verdict::too_long},
        {"over 20 MB", {"f", 10, "audio/ogg", 20 * 1024 * 1024 + 1}, note_verdict::too_big},
        {"an mp3", {"f", 10, "audio/mpeg", 1}, note_verdict::ok},
        {"a picture called a voice note", {"f", 10, "image/png", 1}, note_verdict::wrong_type},
        {"a document", {"f", 10, "application/pdf", 1}, note_verdict::wrong_type},
    };
    for (const auto& r : rows) {
        BOOST_TEST((check_voice_note(r.note, cfg) == r.expected), r.name);
    }
}

BOOST_AUTO_TEST_CASE(a_voice_note_is_answered_by_voice_in_her_voice_and_remembered) {
    voice_world w;
    w.telegram.files["AwA1"] = "merhaba bytes";
    w.answer_with("Sesini duymak çok güzel!");
    w.user_says("AwA1");

    BOOST_REQUIRE(w.speech.heard.size() == 1U);
    BOOST_TEST(w.speech.heard[0].audio == "merhaba bytes");
    BOOST_TEST(w.speech.heard[0].language == "tr"); // the user's language helps the model
    BOOST_TEST(w.said(storage::speaker::user) == std::vector<std::string>{"heard: merhaba bytes"});
    BOOST_REQUIRE(w.speech.spoken.size() == 1U);
    BOOST_TEST(w.speech.spoken[0].input == "Sesini duymak çok güzel!");
    BOOST_TEST(w.speech.spoken[0].voice == voice_of(*w.c.p, w.voice.config()));
    BOOST_TEST(w.speech.spoken[0].format == "opus");
    BOOST_TEST(w.telegram.voices == std::vector<std::string>{"OggSSesini duymak çok güzel!"});
    BOOST_TEST(w.telegram.count("sendMessage") == 0U);    // mirror: voice answers voice, nothing else
    BOOST_TEST(w.telegram.count("sendChatAction") >= 2U); // typing while heard, then the voice action
    BOOST_TEST(w.said(storage::speaker::assistant) == std::vector<std::string>{"Sesini duymak çok güzel!"});
    const auto kept = w.notes.of_user(user_id, 10);
    BOOST_REQUIRE(kept.size() == 1U);
    BOOST_TEST(kept[0].text == "Sesini duymak çok güzel!");
    BOOST_TEST(kept[0].telegram_file_id.starts_with("voice-"));
    BOOST_TEST(w.voice.heard() == 1U);
    BOOST_TEST(w.voice.spoken_notes() == 1U);
    // The downloaded note is not kept on disk.
    BOOST_TEST(std::filesystem::is_empty(w.media.directory()));
}

BOOST_AUTO_TEST_CASE(text_is_answered_by_text_and_both_sends_text_then_voice) {
    voice_world w;
    w.answer_with("Yazıyla cevap");
    w.run(w.chat.turn(w.c, "selam"));
    BOOST_TEST(w.telegram.texts_to(user_id) == std::vector<std::string>{"Yazıyla cevap"});
    BOOST_TEST(w.telegram.voices.empty());

    BOOST_TEST(w.users.set_voice_replies(user_id, voice_replies::both).has_value());
    w.c.user = *w.users.get(user_id);
    w.answer_with("İkisi birden");
    w.run(w.chat.turn(w.c, "bir daha"));
    // The text, then the voice note (whose caption, empty, the fake lists among the texts).
    BOOST_TEST(w.telegram.texts_to(user_id) ==
               (std::vector<std::string>{"Yazıyla cevap", "İkisi birden", ""}));
    BOOST_TEST(w.telegram.voices == std::vector<std::string>{"OggSİkisi birden"});

    BOOST_TEST(w.users.set_voice_replies(user_id, voice_replies::text).has_value());
    w.c.user = *w.users.get(user_id);
    w.telegram.files["AwA2"] = "ses";
    w.answer_with("Sadece yazı");
    w.user_says("AwA2");
    BOOST_TEST(w.telegram.texts_to(user_id).back() == "Sadece yazı");
    BOOST_TEST(w.telegram.voices.size() == 1U); // no new voice note
}

BOOST_AUTO_TEST_CASE(a_speech_outage_or_a_refused_voice_falls_back_to_text) {
    voice_world w;
    w.telegram.files["AwA1"] = "ses";
    w.speech.speeches.push_back(service_error(net::api_error_kind::server, 503));
    w.answer_with("Yine de buradayım");
    w.user_says("AwA1");
    BOOST_TEST(w.telegram.texts_to(user_id) == std::vector<std::string>{"Yine de buradayım"});
    BOOST_TEST(w.telegram.voices.empty());
    BOOST_TEST(w.chat.voice_fallbacks() == 1U);
    BOOST_TEST(w.said(storage::speaker::assistant).size() == 1U); // said, so remembered

    // Telegram refuses the upload itself (a 400): the words still arrive.
    w.telegram.fail("sendVoice", telegram_error(tg::error_kind::bad_request));
    w.answer_with("Yazıyla geliyor");
    w.user_says("AwA1");
    BOOST_TEST(w.telegram.texts_to(user_id).back() == "Yazıyla geliyor");
    BOOST_TEST(w.chat.voice_fallbacks() == 2U);
    BOOST_TEST(w.notes.of_user(user_id, 10).empty());
}

BOOST_AUTO_TEST_CASE(a_reply_too_long_to_listen_to_goes_as_text) {
    voice_world w;
    w.telegram.files["AwA1"] = "ses";
    const std::string essay(w.voice.config().max_spoken_chars + 1, 'a');
    w.answer_with(essay);
    w.user_says("AwA1");
    BOOST_TEST(w.speech.spoken.empty());
    BOOST_TEST(w.telegram.texts_to(user_id) == std::vector<std::string>{essay});
    BOOST_TEST(w.chat.voice_fallbacks() == 0U); // by design, not a failure
}

BOOST_AUTO_TEST_CASE(a_note_that_cannot_be_heard_is_explained_and_nothing_is_stored) {
    struct failure_case {
        const char* name;
        std::string expected_key;
        int seconds = 4;
        std::optional<net::api_error> transcription{};
        std::optional<oa::transcription> transcript{};
        std::optional<tg::error> get_file{};
        bool missing = false;
    };
    const std::vector<failure_case> cases{
        {"too long", "voice.too_long", 301},
        {"the service is down", "voice.failed", 4, service_error(net::api_error_kind::server, 503)},
        {"rate limited", "voice.failed", 4, service_error(net::api_error_kind::rate_limited, 429)},
        {"a corrupt file", "voice.unreadable", 4, service_error(net::api_error_kind::bad_request, 400)},
        {"no words in it", "voice.unclear", 4, std::nullopt, oa::transcription{.text = "  "}},
        {"over Telegram's download limit",
         "voice.too_big",
         4,
         std::nullopt,
         std::nullopt,
         telegram_error(tg::error_kind::too_large)},
        {"Telegram is down",
         "voice.failed",
         4,
         std::nullopt,
         std::nullopt,
         telegram_error(tg::error_kind::server)},
    };
    for (const auto& fc : cases) {
        BOOST_TEST_CONTEXT(fc.name) {
            voice_world w;
            w.telegram.files["AwA1"] = "ses";
            if (fc.transcription) {
                w.speech.transcripts.push_back(*fc.transcription);
            }
            if (fc.transcript) {
                w.speech.transcripts.push_back(*fc.transcript);
            }
            if (fc.get_file) {
                w.telegram.fail("getFile", *fc.get_file);
            }
            w.answer_with("should not be asked");
            w.user_says("AwA1", fc.seconds);
            BOOST_TEST(w.telegram.texts_to(user_id) == std::vector<std::string>{w.line(fc.expected_key)});
            BOOST_TEST(w.said(storage::speaker::user).empty());
            BOOST_TEST(w.said(storage::speaker::assistant).empty());
            BOOST_TEST(w.llm.requests.empty());
            BOOST_TEST(w.telegram.voices.empty());
            BOOST_TEST(std::filesystem::is_empty(w.media.directory()));
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
