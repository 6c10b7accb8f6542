// One chat turn and the memory behind it.
#include "pipelines/chat.hpp"

#include "engine/log.hpp"
#include "pipelines/prompts.hpp"

#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/experimental/parallel_group.hpp>

#include <exception>
#include <optional>

namespace companion::pipelines {

namespace oa = net::openai;

chat_pipeline::chat_pipeline(bot_services& svc, sender& out, chat_config cfg, voice_pipeline* voice)
    : svc_(svc), out_(out), cfg_(cfg), voice_(voice), turns_(svc.db) {}

bool streams_reply(const chat_config& cfg, const user_context& c) noexcept {
    // A private chat's id is the user's own id; drafts are refused everywhere else.
    return cfg.stream && c.chat_id == c.user_id && c.chat_id > 0 && c.p != nullptr && c.p->stream &&
           c.user.stream_replies;
}

engine::awaitable<void> chat_pipeline::turn(const user_context& c, std::string text, bool spoke) {
    const persona& p = *c.p;
    ++turns_count_;
    // The user's turn is stored and the context read in one write: one savepoint instead of three
    // statements each committed on its own, and a fault in the reads leaves no stored turn behind
    // for the retry to store again. The write is grouped (storage::database::grouped): the turns
    // of the chats ready in one reactor pass share a commit. A plain function (not the coroutine)
    // holds the rows, so the turn's frame keeps only the request.
    co_await svc_.db.writes_open();
    oa::chat_request req;
    const auto store_and_read = [&] {
        turns_.append(c.user_id,
                      p.id,
                      storage::speaker::user,
                      sanitize_user_text(text, 4000),
                      svc_.time.wall());
        const std::optional<storage::conversation_summary> summary = turns_.summary(c.user_id, p.id);
        std::vector<storage::turn> history = turns_.last_turns(c.user_id, p.id, cfg_.history_turns);
        req.messages.clear();
        req.messages.reserve(history.size() + 1);
        req.messages.push_back(
            {oa::role::system, chat_system_prompt(p, c.lang, summary ? summary->text : "")});
        for (auto& t : history) {
            req.messages.push_back(
                {t.role == storage::speaker::user ? oa::role::user : oa::role::assistant, std::move(t.text)});
        }
    };
    co_await svc_.db.grouped(store_and_read);
    // Whether it may be spoken is known before the model writes: a spoken reply does not stream
    // (a draft of text would be followed by a voice note saying it again).
    const bool can_speak = voice_ != nullptr && voice_->enabled();
    const reply_form form = choose_reply_form(c.user.voice, spoke, can_speak);
    answer a;
    if (form != reply_form::voice && streams_reply(cfg_, c)) {
        a = co_await streamed(c, std::move(req));
    } else {
        a = co_await whole(c, std::move(req));
    }
    if (a.text.empty()) {
        if (a.stopped) {
            co_return; // stopped before a word: nothing was said, nothing to remember
        }
        std::string sorry = svc_.locales.text(c.lang, "chat.apology", {{"name", p.name_in(c.lang)}});
        auto apology = co_await out_.text(c.chat_id, std::move(sorry));
        if (!apology) {
            engine::log().info("chat.apology_not_sent",
                               {{"user", c.user_id}, {"reason", to_string(apology.error().reason)}});
        }
        co_return;
    }
    // A reply too long to listen to goes as text whatever the setting.
    const bool speak = form != reply_form::text && a.text.size() <= voice_->config().max_spoken_chars;
    bool said = false;
    bool blocked = false;
    if (!speak || form == reply_form::both) {
        // The final message also replaces a streamed draft (any message to the chat dismisses it).
        auto sent = co_await out_.text(c.chat_id, a.text);
        said = sent.has_value();
        if (!sent) {
            engine::log().warn("chat.reply_not_sent",
                               {{"user", c.user_id}, {"reason", to_string(sent.error().reason)}});
            blocked = sent.error().reason == send_failure_reason::blocked;
        }
    }
    if (speak && !blocked) {
        const spoken how = co_await voice_->speak(c, a.text);
        if (how == spoken::sent) {
            said = true;
        } else if (how == spoken::failed && !said) {
            // Never silence: the words go as text.
            ++voice_fallbacks_;
            auto sent = co_await out_.text(c.chat_id, a.text);
            said = sent.has_value();
            if (!sent) {
                engine::log().warn("chat.reply_not_sent",
                                   {{"user", c.user_id}, {"reason", to_string(sent.error().reason)}});
            }
        }
    }
    if (!said) {
        co_return; // not said, so not remembered as said: the next turn's history stays true
    }
    // Stored and counted in one write, grouped with the other chats' (as the user's turn above).
    co_await svc_.db.writes_open();
    std::int64_t since_summary = 0;
    const auto store_reply = [&] {
        turns_.append(c.user_id, p.id, storage::speaker::assistant, a.text, svc_.time.wall());
        since_summary = turns_.turns_since_summary(c.user_id, p.id);
    };
    co_await svc_.db.grouped(store_reply);
    if (since_summary >= cfg_.summary_every) {
        co_await refresh_summary(c, p);
    }
}

engine::awaitable<chat_pipeline::answer> chat_pipeline::whole(const user_context& c, oa::chat_request req) {
    // "typing…" for as long as the model writes (Telegram shows an action for 5 s at most).
    auto r = co_await out_.acting(c.chat_id, tg::chat_action::typing, svc_.llm.complete(std::move(req)));
    if (!r) {
        engine::log().warn("chat.llm_failed", {{"user", c.user_id}, {"error", r.error().message()}});
        co_return answer{};
    }
    if (!r->content || r->content->empty()) {
        engine::log().warn("chat.llm_empty",
                           {{"user", c.user_id}, {"finish", std::string(oa::to_string(r->finish))}});
        co_return answer{};
    }
    co_return answer{.text = std::move(*r->content)};
}

namespace {

using oa_result = oa::result<oa::chat_completion>;

// The model's stream, ended early by a stop: nullopt when the stop came first (the stream is
// cancelled, which closes its HTTP exchange). Whichever ends first cancels the other; an
// exception from the stream is the turn's.
engine::awaitable<std::optional<oa_result>>
generate(chat_model& llm, oa::chat_request req, oa::delta_handler on_delta, engine::event& stopped) {
    auto ex = co_await asio::this_coro::executor;
    auto streaming = [](chat_model& m,
                        oa::chat_request q,
                        oa::delta_handler d) -> engine::awaitable<std::optional<oa_result>> {
        co_return co_await m.stream(std::move(q), std::move(d));
    };
    auto [order, stream_error, result, stop_error] =
        co_await asio::experimental::make_parallel_group(
            asio::co_spawn(ex, streaming(llm, std::move(req), std::move(on_delta)), asio::deferred),
            asio::co_spawn(ex, stopped.wait(), asio::deferred))
            .async_wait(asio::experimental::wait_for_one(), engine::use_awaitable);
    if (order[0] == 0) {
        if (stream_error) {
            std::rethrow_exception(stream_error);
        }
        co_return std::move(result);
    }
    if (stop_error) {
        std::rethrow_exception(stop_error); // the turn itself was cancelled
    }
    co_return std::nullopt;
}

// The generation, then the end of the drafts (also when the turn is cancelled), so the draft
// loop finishes its last draft and returns before the final message goes out.
engine::awaitable<std::optional<oa_result>> generate_then_finish(chat_model& llm,
                                                                 oa::chat_request req,
                                                                 oa::delta_handler on_delta,
                                                                 engine::event& stopped,
                                                                 draft_stream& drafts,
                                                                 engine::event& changed) {
    std::optional<oa_result> r;
    std::exception_ptr failure;
    try {
        r = co_await generate(llm, std::move(req), std::move(on_delta), stopped);
    } catch (...) {
        failure = std::current_exception();
    }
    drafts.finish();
    changed.set();
    if (failure) {
        std::rethrow_exception(failure);
    }
    co_return r;
}

// Carries out draft_stream's actions until it says stop.
engine::awaitable<void> draft_loop(sender& out,
                                   engine::time_source& time,
                                   draft_stream& drafts,
                                   engine::event& changed,
                                   std::int64_t chat_id,
                                   std::int64_t draft_id) {
    using namespace asio::experimental::awaitable_operators;
    for (;;) {
        auto step = drafts.next(time.now());
        if (step.what == draft_stream::action::kind::stop) {
            co_return;
        }
        if (step.what == draft_stream::action::kind::send) {
            tg::send_message_draft_params d;
            d.chat_id = chat_id;
            d.draft_id = draft_id;
            d.text = step.text;
            d.can_stop = true;
            const auto at = time.now();
            const auto o = co_await out.draft(std::move(d));
            switch (o.what) {
            case draft_outcome::kind::sent:
                drafts.sent(at, std::move(step.text));
                break;
            case draft_outcome::kind::held:
                drafts.held(time.now(), o.wait);
                break;
            case draft_outcome::kind::failed:
                // The reply still goes out as a message; only the preview is lost.
                drafts.failed();
                break;
            }
            continue;
        }
        changed.reset();
        auto due = time.sleep_until(step.at);
        auto more = changed.wait();
        // Which one woke the loop does not matter: the next step reads the state again.
        [[maybe_unused]] auto woke = co_await (std::move(due) || std::move(more));
    }
}

} // namespace

engine::awaitable<chat_pipeline::answer> chat_pipeline::streamed(const user_context& c,
                                                                 oa::chat_request req) {
    auto ex = co_await asio::this_coro::executor;
    generation g{.draft_id = next_draft_id(), .stopped = engine::event(ex)};
    live_[c.chat_id] = &g;
    struct unlist {
        std::unordered_map<std::int64_t, generation*>& live;
        std::int64_t chat;
        ~unlist() { live.erase(chat); }
    } listed{live_, c.chat_id};

    draft_stream drafts(cfg_.drafts, svc_.time.now());
    engine::event changed(ex);
    oa::delta_handler on_delta = [&drafts, &changed](std::string_view piece) {
        drafts.append(piece);
        changed.set();
    };
    using namespace asio::experimental::awaitable_operators;
    auto generating =
        generate_then_finish(svc_.llm, std::move(req), std::move(on_delta), g.stopped, drafts, changed);
    auto drafting = draft_loop(out_, svc_.time, drafts, changed, c.chat_id, g.draft_id);
    auto r = co_await (std::move(generating) && std::move(drafting));

    answer a{.text = drafts.text(), .stopped = !r.has_value()};
    if (a.stopped) {
        ++stops_;
        engine::log().info("chat.stopped", {{"user", c.user_id}, {"chars", a.text.size()}});
    } else if (!*r) {
        engine::log().warn("chat.llm_failed", {{"user", c.user_id}, {"error", (*r).error().message()}});
    } else {
        const auto& done = **r;
        if (done.interrupted) {
            // What arrived is the reply; the rest of the stream is lost.
            engine::log().warn(
                "chat.stream_interrupted",
                {{"user", c.user_id}, {"chars", a.text.size()}, {"error", done.interrupted->message()}});
        }
        if (done.content && done.content->size() > a.text.size()) {
            a.text = *done.content; // a model that answered whole, or pieces the handler missed
        }
        if (a.text.empty()) {
            engine::log().warn("chat.llm_empty",
                               {{"user", c.user_id}, {"finish", std::string(oa::to_string(done.finish))}});
        }
    }
    engine::log().debug("chat.drafts", {{"user", c.user_id}, {"drafts", drafts.drafts_sent()}});
    co_return a;
}

bool chat_pipeline::stop(std::int64_t chat_id, std::int64_t draft_id) {
    auto it = live_.find(chat_id);
    if (it == live_.end() || it->second->draft_id != draft_id) {
        return false;
    }
    it->second->stopped.set();
    return true;
}

std::int64_t chat_pipeline::next_draft_id() noexcept {
    // A positive 31-bit id, new per generation: a stop names the draft it was pressed on.
    return static_cast<std::int64_t>(svc_.random.next() % 0x7FFF'FFFEULL) + 1;
}

engine::awaitable<void> chat_pipeline::refresh_summary(const user_context& c, const persona& p) {
    const auto turns = turns_.last_turns(c.user_id, p.id, static_cast<std::size_t>(cfg_.summary_every) * 2);
    if (turns.empty()) {
        co_return;
    }
    const auto old = turns_.summary(c.user_id, p.id);
    std::string transcript;
    for (const auto& t : turns) {
        transcript += (t.role == storage::speaker::user ? "User: " : p.name + ": ") + t.text + "\n";
    }
    oa::chat_request req;
    req.messages.push_back(
        {oa::role::system,
         "You keep a short memory for " + p.name +
             ". Merge the previous memory and the new conversation into at most 5 short "
             "sentences of facts about the user and what was discussed, in English, without "
             "repetition."});
    req.messages.push_back({oa::role::user,
                            "Previous memory: " + (old ? old->text : std::string("(none)")) +
                                "\nConversation:\n" + truncate_chars(transcript, 6000)});
    auto r = co_await svc_.llm.complete(std::move(req));
    if (r && r->content && !r->content->empty()) {
        co_await svc_.db.writes_open();
        turns_.set_summary(c.user_id,
                           p.id,
                           truncate_chars(*r->content, 1200),
                           turns.back().id,
                           svc_.time.wall());
    } else {
        // The old summary stays; the next turn past the threshold tries again.
        engine::log().info("chat.summary_not_refreshed", {{"user", c.user_id}});
    }
}

} // namespace companion::pipelines
