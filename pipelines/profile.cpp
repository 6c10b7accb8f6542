// The persona and language menus, the main keyboard, and /forget.
#include "pipelines/profile.hpp"

#include "engine/log.hpp"
#include "storage/forget.hpp"

namespace companion::pipelines {

namespace json = boost::json;

namespace {

std::optional<json::value> built(const tg::inline_keyboard& kb) {
    if (auto v = kb.build()) {
        return *v;
    }
    return std::nullopt;
}

} // namespace

profile::profile(bot_services& svc, sender& out) : svc_(svc), out_(out), users_(svc.db) {}

void profile::note(const char* what, std::int64_t user_id, const boost::system::result<void>& r) const {
    if (!r) {
        // The user's choice is not stored: the next update reads the old value; nothing else breaks.
        engine::log().warn("bot.user_not_updated",
                           {{"what", what}, {"user", user_id}, {"error", r.error().message()}});
    }
}

void profile::answer_adult(const user_context& c, bool adult) {
    note("adult", c.user_id, users_.set_adult_answer(c.user_id, adult));
}

void profile::set_blocked(std::int64_t user_id, bool blocked) {
    note("blocked", user_id, users_.set_blocked_bot(user_id, blocked));
}

engine::awaitable<void>
profile::say(const user_context& c, std::string text, std::optional<json::value> markup) {
    auto sent = co_await out_.text(c.chat_id, std::move(text), std::move(markup));
    if (!sent) {
        // Why is logged by the sender; a blocked user is marked. The flow goes on.
        engine::log().debug("bot.reply_not_sent",
                            {{"user", c.user_id}, {"reason", to_string(sent.error().reason)}});
    }
}

json::value profile::main_keyboard(std::string_view lang) const {
    const auto& l = svc_.locales;
    auto kb = tg::reply_keyboard()
                  .button(l.text(lang, "btn.selfie"))
                  .button(l.text(lang, "btn.video"))
                  .row()
                  .button(l.text(lang, "btn.persona"))
                  .button(l.text(lang, "btn.language"))
                  .is_persistent()
                  .resize_keyboard()
                  .input_field_placeholder(l.text(lang, "input.placeholder"))
                  .build();
    return kb ? *kb : json::value{};
}

engine::awaitable<void> profile::choose_persona(const user_context& c) {
    tg::inline_keyboard kb;
    for (const auto& p : svc_.personas.all()) {
        kb.button(
              svc_.locales.text(
                  c.lang,
                  "persona.button",
                  {{"name", p.name_in(c.lang)}, {"age", std::to_string(p.age)}, {"city", p.city_in(c.lang)}}),
              "p:" + p.id)
            .row();
    }
    std::string text = svc_.locales.text(c.lang, "start.choose_persona", {{"first_name", c.first_name}});
    co_await say(c, std::move(text), built(kb));
}

engine::awaitable<void> profile::choose_language(const user_context& c) {
    tg::inline_keyboard kb;
    for (auto lang : supported_languages()) {
        kb.button(svc_.locales.language_name(lang), "lang:" + std::string(lang));
    }
    co_await say(c, svc_.locales.text(c.lang, "language.choose"), built(kb));
}

engine::awaitable<void>
profile::pick_persona(const user_context& c, const std::string& callback_id, const std::string& id) {
    const auto& l = svc_.locales;
    const persona* p = svc_.personas.find(id);
    if (p == nullptr) {
        co_await out_.answer(callback_id, l.text(c.lang, "button.expired"));
        co_return;
    }
    co_await out_.answer(callback_id);
    note("persona", c.user_id, users_.set_persona(c.user_id, p->id));
    std::string chosen = l.text(c.lang, "persona.chosen", {{"name", p->name_in(c.lang)}});
    co_await say(c, std::move(chosen), main_keyboard(c.lang));
    if (auto greeting = p->greeting.find(c.lang); greeting != p->greeting.end()) {
        co_await say(c, greeting->second);
    }
}

engine::awaitable<void>
profile::pick_language(const user_context& c, const std::string& callback_id, const std::string& lang) {
    co_await out_.answer(callback_id);
    note("language", c.user_id, users_.set_language(c.user_id, lang));
    co_await say(c, svc_.locales.text(lang, "language.set"), main_keyboard(lang));
}

namespace {

/// The settings line that says how replies come, and the button that chooses it.
struct voice_keys {
    std::string_view line;
    std::string_view button;
};

voice_keys keys_of(storage::voice_replies how) {
    switch (how) {
    case storage::voice_replies::mirror:
        break;
    case storage::voice_replies::text:
        return {"settings.voice_text", "settings.to_voice_text"};
    case storage::voice_replies::voice:
        return {"settings.voice_voice", "settings.to_voice_voice"};
    case storage::voice_replies::both:
        return {"settings.voice_both", "settings.to_voice_both"};
    }
    return {"settings.voice_mirror", "settings.to_voice_mirror"};
}

} // namespace

engine::awaitable<void>
profile::show_settings(const user_context& c, bool voice, std::optional<settings_section> more) {
    const auto& l = svc_.locales;
    tg::inline_keyboard kb;
    // The buttons offer the changes; the text says what holds now.
    if (c.user.stream_replies) {
        kb.button(l.text(c.lang, "settings.stream_off"), "set:stream:off");
    } else {
        kb.button(l.text(c.lang, "settings.stream_on"), "set:stream:on");
    }
    std::string text =
        l.text(c.lang, c.user.stream_replies ? "settings.streaming" : "settings.not_streaming");
    if (voice) {
        const std::vector<storage::voice_replies> choices{storage::voice_replies::mirror,
                                                          storage::voice_replies::text,
                                                          storage::voice_replies::voice,
                                                          storage::voice_replies::both};
        for (const auto how : choices) {
            if (how == c.user.voice) {
                continue;
            }
            kb.row().button(l.text(c.lang, keys_of(how).button),
                            "set:voice:" + std::string(storage::to_string(how)));
        }
        text += "\n" + l.text(c.lang, keys_of(c.user.voice).line);
    }
    if (more) {
        for (auto& row : more->rows) {
            kb.row();
            for (auto& [label, data] : row) {
                kb.button(std::move(label), std::move(data));
            }
        }
        text += "\n" + more->text;
    }
    co_await say(c, std::move(text), built(kb));
}

engine::awaitable<void> profile::set_voice(const user_context& c,
                                           const std::string& callback_id,
                                           storage::voice_replies how,
                                           bool voice) {
    co_await out_.answer(callback_id);
    if (!voice) {
        co_await say(c, svc_.locales.text(c.lang, "voice.unavailable"));
        co_return;
    }
    note("voice_replies", c.user_id, users_.set_voice_replies(c.user_id, how));
    co_await say(c, svc_.locales.text(c.lang, keys_of(how).line));
}

engine::awaitable<void>
profile::set_streaming(const user_context& c, const std::string& callback_id, bool on) {
    co_await out_.answer(callback_id);
    note("stream_replies", c.user_id, users_.set_stream_replies(c.user_id, on));
    co_await say(c, svc_.locales.text(c.lang, on ? "settings.streaming" : "settings.not_streaming"));
}

engine::awaitable<void> profile::ask_forget(const user_context& c) {
    const auto& l = svc_.locales;
    tg::inline_keyboard kb;
    kb.button(l.text(c.lang, "forget.yes"), "forget:yes").button(l.text(c.lang, "forget.no"), "forget:no");
    co_await say(c, l.text(c.lang, "forget.confirm"), built(kb));
}

engine::awaitable<void> profile::forget(const user_context& c) {
    auto result = storage::forget_user(svc_.db, c.user_id);
    for (const auto& path : result.media_paths) {
        if (auto ec = svc_.media.remove(path)) {
            // The rows are gone; a file left behind is pruned with the media retention.
            engine::log().warn("profile.forget_file_left", {{"user", c.user_id}, {"error", ec.message()}});
        }
    }
    engine::log().info("bot.forgot_user",
                       {{"user", c.user_id}, {"turns", result.turns}, {"media", result.media_paths.size()}});
    co_await say(c, svc_.locales.text(c.lang, "forget.done"));
}

} // namespace companion::pipelines
