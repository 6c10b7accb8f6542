// Streamed replies on virtual time (issue 19): draft_stream's pacing as a table, what a draft's
// failure means, the sender's drafts yielding to messages, and whole chat turns against the fakes:
// a reply that grows as one draft then replaces it with the final message, a stop that keeps what
// was written, a stop for another draft that does nothing, a 429 on drafts that never delays the
// final message, a stream cut mid-way, and the paths that keep the typing action instead.
#include "pipelines/chat.hpp"
#include "pipelines/draft_stream.hpp"
#include "pipelines/sender.hpp"
#include "storage/conversation.hpp"
#include "storage/users.hpp"
#include "tests/common/services.hpp"

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <ostream>
#include <string>
#include <vector>

using namespace companion;
using namespace companion::pipelines;
using namespace std::chrono_literals;
using namespace companion::test;
namespace tg = net::telegram;
namespace oa = net::openai;

namespace {

using kind = draft_stream::action::kind;
constexpr engine::time_point t0{};

// One step of a draft_stream script: an event at `at`, then the action next() must give.
struct draft_step {
    enum class event { none, append, sent, held, failed, finish };
    engine::duration at{};
    event what = event::none;
    std::string text{};           ///< appended, or shown by the sent draft
    engine::duration wait{};      ///< for held
    kind expect = kind::wait;     ///< next()'s action kind at `at`
    std::string expect_text{};    ///< for send
    engine::duration expect_at{}; ///< for wait: when
};

struct draft_case {
    std::string name;
    std::vector<draft_step> steps;
};

std::ostream& operator<<(std::ostream& os, const draft_case& c) {
    return os << c.name;
}

using ev = draft_step::event;

const std::vector<draft_case> draft_cases{
    {"the first draft is the empty placeholder, at once", {{0ms, ev::none, "", {}, kind::send, "", 0ms}}},
    {"text sent no sooner than the interval after the last draft",
     {{0ms, ev::sent, "", {}, kind::wait, "", 20s},
      {100ms, ev::append, "Hello", {}, kind::wait, "", 400ms},
      {400ms, ev::none, "", {}, kind::send, "Hello", 0ms},
      {400ms, ev::sent, "Hello", {}, kind::wait, "", 20400ms}}},
    {"a quiet model gets the same text again before the draft expires",
     {{0ms, ev::sent, "", {}, kind::wait, "", 20s},
      {1s, ev::append, "Hi", {}, kind::send, "Hi", 0ms},
      {1s, ev::sent, "Hi", {}, kind::wait, "", 21s},
      {21s, ev::none, "", {}, kind::send, "Hi", 0ms}}},
    {"a 429 holds drafts for its retry_after",
     {{0ms, ev::sent, "", {}, kind::wait, "", 20s},
      {500ms, ev::append, "Hey", {}, kind::send, "Hey", 0ms},
      {500ms, ev::held, "", 3s, kind::wait, "", 3500ms},
      {3500ms, ev::none, "", {}, kind::send, "Hey", 0ms}}},
    {"a hold without a delay still waits the interval",
     {{0ms, ev::held, "", 0ms, kind::wait, "", 400ms}, {400ms, ev::none, "", {}, kind::send, "", 0ms}}},
    {"a refused draft ends the drafts",
     {{0ms, ev::failed, "", {}, kind::stop, "", 0ms}, {1s, ev::append, "more", {}, kind::stop, "", 0ms}}},
    {"the end of the generation ends the drafts",
     {{0ms, ev::sent, "", {}, kind::wait, "", 20s}, {1s, ev::finish, "", {}, kind::stop, "", 0ms}}},
    {"past 4096 units the draft grows the reply's last part",
     {{0ms, ev::sent, "", {}, kind::wait, "", 20s},
      {1s,
       ev::append,
       std::string(4000, 'a') + " " + std::string(200, 'b'),
       {},
       kind::send,
       std::string(200, 'b'),
       0ms}}},
};

BOOST_DATA_TEST_CASE(draft_pacing, boost::unit_test::data::make(draft_cases), c) {
    draft_stream d({}, t0);
    for (const auto& s : c.steps) {
        const auto now = t0 + s.at;
        switch (s.what) {
        case ev::none:
            break;
        case ev::append:
            d.append(s.text);
            break;
        case ev::sent:
            d.sent(now, s.text);
            break;
        case ev::held:
            d.held(now, s.wait);
            break;
        case ev::failed:
            d.failed();
            break;
        case ev::finish:
            d.finish();
            break;
        }
        const auto a = d.next(now);
        BOOST_TEST_CONTEXT("at " << s.at.count() << " ns") {
            BOOST_TEST(static_cast<int>(a.what) == static_cast<int>(s.expect));
            if (s.expect == kind::send) {
                BOOST_TEST(a.text == s.expect_text);
            }
            if (s.expect == kind::wait) {
                BOOST_TEST((a.at == t0 + s.expect_at));
            }
        }
    }
}

struct outcome_case {
    std::string name;
    tg::result<void> r;
    draft_outcome::kind expect;
    engine::duration wait;
};

std::ostream& operator<<(std::ostream& os, const outcome_case& c) {
    return os << c.name;
}

const std::vector<outcome_case> outcome_cases{
    {"sent", tg::result<void>{}, draft_outcome::kind::sent, 0s},
    {"a 429 holds for its retry_after",
     telegram_error(tg::error_kind::rate_limited, 7s),
     draft_outcome::kind::held,
     7s},
    {"a 429 without retry_after holds a second",
     telegram_error(tg::error_kind::rate_limited),
     draft_outcome::kind::held,
     1s},
    {"an outage holds", telegram_error(tg::error_kind::server), draft_outcome::kind::held, 0s},
    {"a lost answer holds",
     telegram_error(tg::error_kind::transport, std::nullopt, true),
     draft_outcome::kind::held,
     0s},
    {"a blocked bot ends drafts", telegram_error(tg::error_kind::forbidden), draft_outcome::kind::failed, 0s},
    {"a bad request ends drafts",
     telegram_error(tg::error_kind::bad_request),
     draft_outcome::kind::failed,
     0s},
};

BOOST_DATA_TEST_CASE(draft_outcomes, boost::unit_test::data::make(outcome_cases), c) {
    const auto o = classify_draft(c.r);
    BOOST_TEST(static_cast<int>(o.what) == static_cast<int>(c.expect));
    BOOST_TEST(o.wait.count() == engine::duration(c.wait).count());
}

constexpr std::int64_t user_id = 4242;

// A chat pipeline over the fakes, with the user stored and Aylin chosen.
struct stream_world : services_world {
    sender out{telegram, time, sender_config{}};
    chat_config cfg{};
    chat_pipeline chat{svc, out, cfg};
    storage::user_repository users{db};
    storage::conversation_repository turns{db};
    user_context c{};

    explicit stream_world(chat_config config = {}) : cfg(config), chat(svc, out, config) {
        llm.time = &time;
        llm.piece_every = 300ms;
        c.chat_id = user_id;
        c.user_id = user_id;
        c.user = users.record_contact(user_id, "en", false, time.wall());
        c.p = personas.find("aylin");
        BOOST_TEST_REQUIRE(c.p != nullptr);
        c.lang = "en";
    }

    void answer_with(std::string text) {
        oa::chat_completion done;
        done.content = std::move(text);
        done.finish = oa::finish_reason::stop;
        llm.answers.push_back(std::move(done));
    }

    std::vector<std::string> assistant_turns() {
        std::vector<std::string> said;
        for (const auto& t : turns.last_turns(user_id, "aylin", 50)) {
            if (t.role == storage::speaker::assistant) {
                said.push_back(t.text);
            }
        }
        return said;
    }

    engine::time_point time_of(std::string_view method) const {
        for (const auto& call : telegram.calls) {
            if (call.method == method) {
                return call.at;
            }
        }
        return engine::time_point::max();
    }
};

const std::string reply = "one two three four five six seven eight nine ten";

} // namespace

BOOST_AUTO_TEST_CASE(a_streamed_reply_grows_as_one_draft_then_arrives_whole) {
    stream_world w;
    w.llm.first_after = 800ms; // the model's first token takes a while
    w.answer_with(reply);
    auto done = w.spawn(w.chat.turn(w.c, "tell me"));
    BOOST_TEST_REQUIRE(w.advance_until([&] { return done->done; }));
    BOOST_TEST(!done->error);

    BOOST_TEST_REQUIRE(w.telegram.drafts.size() >= 3U);
    BOOST_TEST(w.telegram.drafts.front().text.empty()); // "Thinking..." at once
    const auto id = w.telegram.drafts.front().draft_id;
    BOOST_TEST(id > 0);
    BOOST_TEST(id <= 0x7FFF'FFFF);
    engine::time_point last{};
    std::size_t grown = 0;
    for (std::size_t i = 0; i < w.telegram.calls.size(); ++i) {
        const auto& call = w.telegram.calls[i];
        if (call.method != "sendMessageDraft") {
            continue;
        }
        if (grown > 0) {
            BOOST_TEST((call.at - last >= 400ms)); // one draft per 0.4 s at most
        }
        last = call.at;
        ++grown;
    }
    for (const auto& d : w.telegram.drafts) {
        BOOST_TEST(d.draft_id == id); // one animated draft
        BOOST_TEST(d.can_stop);
        BOOST_TEST(reply.starts_with(d.text));
    }
    // The drafts grew (coalesced: fewer drafts than pieces), and the final message replaced them.
    BOOST_TEST(w.telegram.drafts.size() < 11U);
    BOOST_TEST(w.telegram.texts_to(user_id) == std::vector<std::string>{reply});
    BOOST_TEST((w.time_of("sendMessage") > last));
    BOOST_TEST(w.assistant_turns() == std::vector<std::string>{reply}); // stored once, when final
    BOOST_TEST(w.telegram.count("sendChatAction") == 0U);
}

BOOST_AUTO_TEST_CASE(a_stop_ends_the_generation_and_keeps_what_was_written) {
    stream_world w;
    w.answer_with(reply);
    auto done = w.spawn(w.chat.turn(w.c, "tell me"));
    w.advance(1s); // four pieces written
    BOOST_TEST_REQUIRE(!done->done);
    BOOST_TEST_REQUIRE(!w.telegram.drafts.empty());
    const auto id = w.telegram.drafts.front().draft_id;
    BOOST_TEST(!w.chat.stop(user_id + 1, id)); // another chat's stop
    BOOST_TEST(!w.chat.stop(user_id, id + 1)); // another draft
    BOOST_TEST(w.chat.stop(user_id, id));
    BOOST_TEST_REQUIRE(w.advance_until([&] { return done->done; }, 5s));
    BOOST_TEST(!done->error);
    const auto sent = w.telegram.texts_to(user_id);
    BOOST_TEST_REQUIRE(sent.size() == 1U);
    BOOST_TEST(sent[0] == "one two three four");
    BOOST_TEST(w.assistant_turns() == sent);
    BOOST_TEST(w.chat.stops() == 1U);
    BOOST_TEST(!w.chat.stop(user_id, id)); // after the end: a no-op
}

BOOST_AUTO_TEST_CASE(a_stop_before_any_word_sends_nothing) {
    stream_world w;
    w.llm.first_after = 5s; // the model is slow to start: the placeholder shows meanwhile
    w.answer_with(reply);
    auto done = w.spawn(w.chat.turn(w.c, "tell me"));
    w.advance(1s);
    BOOST_TEST_REQUIRE(w.telegram.drafts.size() == 1U);
    BOOST_TEST(w.telegram.drafts.front().text.empty());
    BOOST_TEST(w.chat.stop(user_id, w.telegram.drafts.front().draft_id));
    BOOST_TEST_REQUIRE(w.advance_until([&] { return done->done; }, 1s));
    BOOST_TEST(!done->error);
    BOOST_TEST(w.telegram.texts_to(user_id).empty()); // nothing was said: no message, no apology
    BOOST_TEST(w.assistant_turns().empty());
}

BOOST_AUTO_TEST_CASE(a_429_on_drafts_never_delays_the_final_message) {
    stream_world w;
    w.answer_with(reply);
    w.telegram.fail("sendMessageDraft", telegram_error(tg::error_kind::rate_limited, 30s), 5);
    auto done = w.spawn(w.chat.turn(w.c, "tell me"));
    BOOST_TEST_REQUIRE(w.advance_until([&] { return done->done; }, 10s));
    // The model took 2.7 s; the draft flood's 30 s applied to drafts only.
    BOOST_TEST((w.time_of("sendMessage") - w.time_of("sendMessageDraft") < 3s));
    BOOST_TEST(w.telegram.texts_to(user_id) == std::vector<std::string>{reply});
    BOOST_TEST(w.out.pause_remaining(user_id).count() == 0);
}

BOOST_AUTO_TEST_CASE(a_stream_cut_midway_sends_what_arrived) {
    stream_world w;
    oa::chat_completion cut;
    cut.content = "one two three";
    cut.interrupted = net::api_error{};
    w.llm.answers.push_back(cut);
    auto done = w.spawn(w.chat.turn(w.c, "tell me"));
    BOOST_TEST_REQUIRE(w.advance_until([&] { return done->done; }, 5s));
    BOOST_TEST(w.telegram.texts_to(user_id) == std::vector<std::string>{"one two three"});
    BOOST_TEST(w.assistant_turns() == std::vector<std::string>{"one two three"});
}

BOOST_AUTO_TEST_CASE(a_stream_that_fails_before_a_word_gets_the_apology) {
    stream_world w;
    net::api_error e;
    e.kind = net::api_error_kind::server;
    w.llm.answers.push_back(e);
    auto done = w.spawn(w.chat.turn(w.c, "tell me"));
    BOOST_TEST_REQUIRE(w.advance_until([&] { return done->done; }, 5s));
    const auto sent = w.telegram.texts_to(user_id);
    BOOST_TEST_REQUIRE(sent.size() == 1U);
    BOOST_TEST(sent[0].find("Aylin") != std::string::npos); // the persona's apology
    BOOST_TEST(w.assistant_turns().empty());
    BOOST_TEST(!w.telegram.drafts.empty()); // the placeholder, replaced by the apology
}

struct off_case {
    std::string name;
    bool config = true;
    bool user = true;
    bool persona = true;
    bool group = false;
};

std::ostream& operator<<(std::ostream& os, const off_case& c) {
    return os << c.name;
}

const std::vector<off_case> off_cases{
    {"configuration off", false, true, true, false},
    {"user turned it off", true, false, true, false},
    {"persona without streaming", true, true, false, false},
    {"a group chat", true, true, true, true},
};

BOOST_DATA_TEST_CASE(without_streaming_the_typing_action_shows, boost::unit_test::data::make(off_cases), oc) {
    chat_config cfg;
    cfg.stream = oc.config;
    stream_world w(cfg);
    persona quiet = *w.c.p;
    quiet.stream = oc.persona;
    w.c.p = &quiet;
    w.c.user.stream_replies = oc.user;
    if (oc.group) {
        w.c.chat_id = -100123;
    }
    BOOST_TEST(!streams_reply(cfg, w.c));
    w.answer_with(reply);
    w.llm.think = 2s; // a noticeable wait
    auto done = w.spawn(w.chat.turn(w.c, "tell me"));
    BOOST_TEST_REQUIRE(w.advance_until([&] { return done->done; }, 10s));
    BOOST_TEST(w.telegram.drafts.empty());
    BOOST_TEST(w.telegram.count("sendChatAction") == 1U);
    BOOST_TEST(w.telegram.texts_to(w.c.chat_id) == std::vector<std::string>{reply});
}

// "typing…" only where the wait is noticeable (sender_config::action_after, 500 ms): a whole
// reply written sooner comes alone; a longer one shows the action, refreshed every 4 s.
struct typing_case {
    engine::duration think;
    std::size_t actions;
};

std::ostream& operator<<(std::ostream& os, const typing_case& c) {
    return os << std::chrono::duration_cast<std::chrono::milliseconds>(c.think).count() << " ms";
}

const typing_case typing_cases[] = {
    {0ms, 0},
    {300ms, 0},
    {600ms, 1},
    {4s, 1},
    {5s, 2},
};

BOOST_DATA_TEST_CASE(a_whole_reply_shows_typing_only_when_the_model_takes_a_noticeable_time,
                     boost::unit_test::data::make(typing_cases),
                     tc) {
    chat_config cfg;
    cfg.stream = false;
    stream_world w(cfg);
    w.answer_with(reply);
    w.llm.think = tc.think;
    auto done = w.spawn(w.chat.turn(w.c, "tell me"));
    BOOST_TEST_REQUIRE(w.advance_until([&] { return done->done; }, 10s));
    BOOST_TEST(w.telegram.count("sendChatAction") == tc.actions);
    BOOST_TEST(w.telegram.texts_to(w.c.chat_id) == std::vector<std::string>{reply});
}

BOOST_AUTO_TEST_CASE(drafts_yield_to_a_paused_chat) {
    virtual_loop loop;
    fake_telegram telegram{loop.time};
    sender out{telegram, loop.time, sender_config{}};
    out.pause(7, 5s);
    tg::send_message_draft_params d;
    d.chat_id = 7;
    d.draft_id = 1;
    auto held = loop.spawn(out.draft(d));
    BOOST_TEST_REQUIRE(held->done);
    BOOST_TEST(static_cast<int>(held->value->what) == static_cast<int>(draft_outcome::kind::held));
    BOOST_TEST(telegram.drafts.empty()); // never sent into a flood wait
    loop.advance(5s);
    auto sent = loop.spawn(out.draft(d));
    BOOST_TEST_REQUIRE(sent->done);
    BOOST_TEST(static_cast<int>(sent->value->what) == static_cast<int>(draft_outcome::kind::sent));
    BOOST_TEST(telegram.drafts.size() == 1U);
}

// A 429 on a draft outlives the reply that met it: Telegram refuses the chat's drafts for the
// whole retry_after, so the next reply's drafts wait it out instead of earning another 429 (the
// storm's retry_after oracle counted that as a violation). Messages are not held.
BOOST_AUTO_TEST_CASE(a_429_on_a_draft_holds_the_chats_next_drafts_for_its_retry_after) {
    virtual_loop loop;
    fake_telegram telegram{loop.time};
    sender out{telegram, loop.time, sender_config{}};
    telegram.fail("sendMessageDraft", telegram_error(tg::error_kind::rate_limited, 30s));
    tg::send_message_draft_params d;
    d.chat_id = 7;
    d.draft_id = 1;
    auto refused = loop.spawn(out.draft(d));
    BOOST_TEST_REQUIRE(refused->done);
    BOOST_TEST(static_cast<int>(refused->value->what) == static_cast<int>(draft_outcome::kind::held));
    BOOST_TEST(telegram.drafts.size() == 1U);

    loop.advance(10s);
    d.draft_id = 2; // the next reply's stream
    auto next = loop.spawn(out.draft(d));
    BOOST_TEST_REQUIRE(next->done);
    BOOST_TEST(static_cast<int>(next->value->what) == static_cast<int>(draft_outcome::kind::held));
    BOOST_TEST(next->value->wait.count() == engine::duration(20s).count()); // the rest of the 30 s
    BOOST_TEST(telegram.drafts.size() == 1U);                               // nothing sent into the wait

    d.chat_id = 8; // another chat's drafts are not held
    auto other = loop.spawn(out.draft(d));
    BOOST_TEST_REQUIRE(other->done);
    BOOST_TEST(static_cast<int>(other->value->what) == static_cast<int>(draft_outcome::kind::sent));
    BOOST_TEST(out.pause_remaining(7).count() == 0); // the chat's messages go on

    loop.advance(20s);
    d.chat_id = 7;
    auto after = loop.spawn(out.draft(d));
    BOOST_TEST_REQUIRE(after->done);
    BOOST_TEST(static_cast<int>(after->value->what) == static_cast<int>(draft_outcome::kind::sent));
    BOOST_TEST(telegram.drafts.size() == 3U);
}
