// One chat turn and the memory behind it.
#include "pipelines/chat.hpp"

#include "engine/log.hpp"
#include "pipelines/prompts.hpp"

namespace companion::pipelines {

namespace oa = net::openai;

chat_pipeline::chat_pipeline(bot_services& svc, sender& out, chat_config cfg)
    : svc_(svc), out_(out), cfg_(cfg), turns_(svc.db) {}

engine::awaitable<void> chat_pipeline::turn(const user_context& c, std::string text) {
    const persona& p = *c.p;
    ++turns_count_;
    turns_.append(c.user_id, p.id, storage::speaker::user, sanitize_user_text(text, 4000), svc_.time.wall());

    oa::chat_request req;
    const auto summary = turns_.summary(c.user_id, p.id);
    req.messages.push_back({oa::role::system, chat_system_prompt(p, c.lang, summary ? summary->text : "")});
    for (const auto& t : turns_.last_turns(c.user_id, p.id, cfg_.history_turns)) {
        req.messages.push_back(
            {t.role == storage::speaker::user ? oa::role::user : oa::role::assistant, t.text});
    }
    // "typing…" for as long as the model writes (Telegram shows an action for 5 s at most).
    auto r = co_await out_.acting(c.chat_id, tg::chat_action::typing, svc_.llm.complete(std::move(req)));
    if (!r || !r->content || r->content->empty()) {
        if (!r) {
            engine::log().warn("chat.llm_failed", {{"user", c.user_id}, {"error", r.error().message()}});
        } else {
            engine::log().warn("chat.llm_empty",
                               {{"user", c.user_id}, {"finish", std::string(oa::to_string(r->finish))}});
        }
        std::string sorry = svc_.locales.text(c.lang, "chat.apology", {{"name", p.name_in(c.lang)}});
        auto apology = co_await out_.text(c.chat_id, std::move(sorry));
        if (!apology) {
            engine::log().info("chat.apology_not_sent",
                               {{"user", c.user_id}, {"reason", to_string(apology.error().reason)}});
        }
        co_return;
    }
    const std::string reply = std::move(*r->content);
    auto sent = co_await out_.text(c.chat_id, reply);
    if (!sent) {
        // Not said, so not remembered as said: the next turn's history stays true.
        engine::log().warn("chat.reply_not_sent",
                           {{"user", c.user_id}, {"reason", to_string(sent.error().reason)}});
        co_return;
    }
    turns_.append(c.user_id, p.id, storage::speaker::assistant, reply, svc_.time.wall());
    if (turns_.turns_since_summary(c.user_id, p.id) >= cfg_.summary_every) {
        co_await refresh_summary(c, p);
    }
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
