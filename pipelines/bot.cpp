// The bot: wiring of its units, and the dispatch of each intent to the unit that carries it out.
#include "pipelines/bot.hpp"

#include "engine/log.hpp"
#include "engine/metrics.hpp"
#include "pipelines/admin_report.hpp"
#include "pipelines/storage_faults.hpp"
#include "storage/updates.hpp"

#include <algorithm>
#include <iterator>
#include <string_view>

namespace companion::pipelines {

namespace json = boost::json;

bot::bot(engine::executor ex, bot_services services, bot_config cfg)
    : ex_(ex),
      svc_(services),
      cfg_(std::move(cfg)),
      sender_(svc_.telegram, svc_.time, cfg_.sending),
      limits_(cfg_.limits, svc_.time.now()),
      voice_(svc_, sender_, cfg_.voice),
      chat_(svc_, sender_, cfg_.chat, &voice_),
      selfies_(svc_, sender_),
      profile_(svc_, sender_),
      history_(svc_, sender_),
      payments_(svc_, sender_, cfg_.payments),
      checkins_(svc_, sender_, cfg_.checkins),
      videos_(svc_.videos != nullptr ? std::make_unique<video_jobs>(ex,
                                                                    svc_,
                                                                    sender_,
                                                                    selfies_,
                                                                    [&] {
                                                                        auto vc = cfg_.video;
                                                                        vc.admins = cfg_.admins;
                                                                        vc.selfies_per_day =
                                                                            cfg_.selfies_per_day;
                                                                        return vc;
                                                                    }())
                                     : nullptr),
      offer_(svc_, sender_, videos_.get(), &payments_),
      intake_(ex, svc_, *this, cfg_.intake),
      users_(svc_.db),
      quotas_(svc_.db),
      floods_(svc_.db) {
    sender_.on_blocked([this](std::int64_t chat) { profile_.set_blocked(chat, true); });
    // Telegram's retry_after outlives a crash: stored now, waited out again after a restart.
    sender_.on_flood([this](std::int64_t chat, engine::duration wait) {
        try {
            // wall() is cut to whole milliseconds, so the deadline gets one more: a restart that
            // resumes the wait must never send before Telegram's (the long storm caught one
            // resend 0.x ms early).
            const auto until = svc_.time.wall() + std::chrono::ceil<std::chrono::milliseconds>(wait) +
                               std::chrono::milliseconds{1};
            floods_.set(chat, until);
        } catch (const std::exception& e) {
            engine::log().warn("bot.flood_wait_not_stored", {{"chat", chat}, {"error", e.what()}});
        }
    });
    const auto now = svc_.time.wall();
    for (const auto& [chat, until] : floods_.active(now)) {
        if (const auto left = until - now; left > engine::duration::zero()) {
            engine::log().info(
                "bot.flood_wait_resumed",
                {{"chat", chat},
                 {"left_ms", std::chrono::duration_cast<std::chrono::milliseconds>(left).count()}});
            sender_.pause(chat, left);
        }
    }
}

bot::~bot() = default;

bot_stats bot::stats() const noexcept {
    bot_stats s;
    static_cast<intake_stats&>(s) = intake_.stats();
    s.chat_turns = chat_.turns();
    s.voice_notes_heard = voice_.heard();
    s.voice_replies = voice_.spoken_notes();
    s.voice_fallbacks = chat_.voice_fallbacks();
    s.selfies = selfies_.made();
    s.rate_limited = rate_limited_;
    s.payments_granted = payments_.stats().granted;
    s.payments_duplicates = payments_.stats().duplicates;
    s.payments_refused = payments_.stats().refused;
    s.checkins_sent = checkins_.stats().sent;
    s.checkins_asked = checkins_.stats().asked;
    return s;
}

bool bot::is_admin(std::int64_t user_id) const {
    return std::find(cfg_.admins.begin(), cfg_.admins.end(), user_id) != cfg_.admins.end();
}

engine::awaitable<bool> bot::prepare() {
    // Who the bot is decides which stored updates are ours and which commands are addressed to
    // us: a start during a Telegram outage waits for the answer (capped back-off, as long as it
    // takes, until a stop) rather than run without it. Only a refused token is final.
    auto me = co_await svc_.telegram.get_me();
    for (engine::duration wait = std::chrono::milliseconds(500);
         !me && me.error().kind != tg::error_kind::unauthorized;
         wait = std::min<engine::duration>(wait * 2, std::chrono::seconds(30))) {
        engine::log().warn(
            "bot.get_me_retry",
            {{"error", me.error().message()},
             {"retry_in_ms", std::chrono::duration_cast<std::chrono::milliseconds>(wait).count()}});
        co_await svc_.time.sleep(wait);
        auto again = co_await svc_.telegram.get_me();
        me = std::move(again);
    }
    if (!me) {
        engine::log().error("bot.get_me_failed", {{"error", me.error().message()}});
        co_return false; // the token is refused (401)
    }
    engine::log().info("bot.identity", {{"username", me->username}, {"id", me->id}});
    username_ = me->username; // commands addressed to another bot are not ours
    // The stored offset, processed ids and inbox are this bot's only; another bot's (a token
    // switch) would confirm real updates away unanswered. A lock held by another connection is
    // waited out; any other storage fault ends the start.
    storage::update_claim claim;
    co_await through_storage_faults(svc_.time, "claiming the stored updates", [&] {
        claim = storage::claim_updates_for(svc_.db, me->id);
    });
    if (claim.other_bot) {
        engine::log().warn("bot.other_bot_updates_dropped",
                           {{"previous_bot", claim.previous_bot},
                            {"bot", me->id},
                            {"dropped_updates", claim.dropped_updates}});
    }
    // Long polling needs any webhook gone (getUpdates answers 409 while one is set): a bot moved
    // back from webhook mode keeps the updates Telegram holds. Webhook mode sets its own in run().
    if (!cfg_.webhook) {
        if (auto hook = co_await svc_.telegram.delete_webhook(tg::drop_pending::no); !hook) {
            engine::log().warn("bot.delete_webhook_failed", {{"error", hook.error().message()}});
        }
    }
    // The menu in each product language, and in English for every other client language (the
    // default scope), so no user sees bare command names.
    for (const std::string_view lang : {"", "tr", "ru", "en"}) {
        const std::string text_lang = lang.empty() ? std::string("en") : std::string(lang);
        std::vector<tg::command_description> commands;
        for (const char* name : {"start",
                                 "persona",
                                 "selfie",
                                 "video",
                                 "videos",
                                 "selfies",
                                 "language",
                                 "settings",
                                 "status",
                                 "forget",
                                 "help"}) {
            commands.push_back({name, svc_.locales.text(text_lang, std::string("cmd.") + name)});
        }
        if (checkins_.enabled()) {
            commands.push_back({"stop", svc_.locales.text(text_lang, "cmd.stop")});
        }
        if (payments_.enabled()) { // Telegram's policy expects /paysupport from a bot that sells
            commands.push_back({"balance", svc_.locales.text(text_lang, "cmd.balance")});
            commands.push_back({"paysupport", svc_.locales.text(text_lang, "cmd.paysupport")});
        }
        if (auto r = co_await svc_.telegram.set_my_commands(std::move(commands), std::string(lang)); !r) {
            engine::log().warn("bot.set_commands_failed", {{"lang", lang}, {"error", r.error().message()}});
        }
    }
    co_return true;
}

engine::awaitable<void> bot::run() {
    co_await intake_.replay(); // what a previous run left in the inbox goes first, in order
    if (videos_) {
        co_await videos_->resume();
    }
    // The check-in pass runs beside the intake; the stop cancels it with the rest.
    engine::task_group background(ex_, {.name = "checkins"});
    if (checkins_.enabled() && !background.spawn(checkins_.run())) {
        engine::log().error("bot.checkins_not_started", {});
    }
    std::exception_ptr error;
    try {
        if (cfg_.webhook) {
            co_await intake_.receive(*cfg_.webhook);
        } else {
            co_await intake_.poll();
        }
    } catch (...) {
        error = std::current_exception();
    }
    // Stop taking updates; give the ones in flight a moment, then cancel them (they stay in the
    // inbox and run again on the next start).
    // The whole stop runs to its end (shielded): the bot's owner destroys what the queues and jobs
    // use as soon as run() returns.
    co_await asio::this_coro::reset_cancellation_state(asio::enable_terminal_cancellation());
    co_await background.shutdown(cfg_.drain_grace, svc_.time);
    co_await engine::shielded(stop());
    engine::log().info("bot.stopped", {{"processed", intake_.stats().updates_processed}});
    if (error && !engine::is_cancellation(error)) {
        std::rethrow_exception(error);
    }
}

engine::awaitable<void> bot::stop() {
    co_await intake_.drain(cfg_.drain_grace);
    if (videos_) {
        co_await videos_->shutdown(cfg_.drain_grace);
    }
}

user_context bot::context_of(const sender_info& from) {
    user_context c;
    c.chat_id = from.chat_id;
    c.user_id = from.user_id;
    c.first_name = from.first_name;
    c.user = users_.record_contact(c.user_id,
                                   language_from_code(from.language_code),
                                   is_admin(c.user_id),
                                   svc_.time.wall());
    c.lang = c.user.language;
    if (c.user.persona_id) {
        c.p = svc_.personas.find(*c.user.persona_id);
    }
    return c;
}

namespace {

// Update kinds Telegram may send that this bot does not handle (Bot API up to 10.5): counted by
// name, any other name as "unknown", so the metric's labels stay a short fixed set.
constexpr std::string_view known_ignored_kinds[] = {"channel_post",
                                                    "edited_channel_post",
                                                    "business_connection",
                                                    "business_message",
                                                    "edited_business_message",
                                                    "deleted_business_messages",
                                                    "message_reaction",
                                                    "message_reaction_count",
                                                    "inline_query",
                                                    "chosen_inline_result",
                                                    "shipping_query",
                                                    "purchased_paid_media",
                                                    "poll",
                                                    "poll_answer",
                                                    "chat_member",
                                                    "chat_join_request",
                                                    "chat_boost",
                                                    "removed_chat_boost",
                                                    "guest_message",
                                                    "managed_bot",
                                                    "widget_query",
                                                    "shared_widget_query"};

} // namespace

void bot::count_ignored(std::string_view kind) {
    const auto* known = std::find(std::begin(known_ignored_kinds), std::end(known_ignored_kinds), kind);
    const std::string label(known != std::end(known_ignored_kinds) ? kind : std::string_view("unknown"));
    engine::metrics()
        .make_counter("bot_updates_ignored_total",
                      "Updates of kinds the bot does not handle.",
                      {{"kind", label}})
        .inc();
}

engine::awaitable<void> bot::handle(const tg::update& u) {
    const route r = route_update(u, svc_.locales, username_);
    if (const auto* ignored = std::get_if<intent::ignore>(&r.what)) {
        if (u.what == tg::update::kind::other) {
            count_ignored(u.other_kind);
        }
        engine::log().debug(
            "bot.update_ignored",
            {{"update", u.update_id}, {"kind", tg::to_string(u.what)}, {"why", ignored->why}});
        co_return;
    }
    if (const auto* block = std::get_if<intent::block_changed>(&r.what)) {
        profile_.set_blocked(r.from.user_id, block->blocked);
        co_return;
    }
    if (const auto* stop = std::get_if<intent::stop_generation>(&r.what)) {
        // Handled on its own lane (the chat's queue is busy with the generation it stops); a stop
        // for a generation that already ended, or another's draft id, does nothing.
        const bool stopped = chat_.stop(r.from.chat_id, stop->draft_id);
        engine::log().debug("bot.stop_pressed",
                            {{"chat", r.from.chat_id}, {"draft", stop->draft_id}, {"stopped", stopped}});
        co_return;
    }
    if (const auto* checkout = std::get_if<intent::pre_checkout>(&r.what)) {
        // On its own lane and before anything else: Telegram cancels the payment 10 s after the
        // press. Nothing is stored; the language is the stored one when the user is known.
        const auto known = users_.get(r.from.user_id);
        const std::string lang = known ? known->language : language_from_code(r.from.language_code);
        co_await payments_.pre_checkout(checkout->query, lang);
        co_return;
    }
    if (std::holds_alternative<intent::private_only>(r.what)) {
        // Answered with a toast, nothing stored about a user who may never have written to us.
        const auto lang = language_from_code(r.from.language_code);
        co_await sender_.answer(r.from.callback_id.value_or(""),
                                svc_.locales.text(lang, "group.private_only"));
        co_return;
    }
    const user_context c = context_of(r.from);
    if (r.limit == gate::action && !allow(limit::action, c.user_id)) {
        if (r.from.callback_id) {
            co_await sender_.answer(*r.from.callback_id,
                                    svc_.locales.text(c.lang, "rate_limited")); // a toast
        } else {
            co_await notice(c, svc_.locales.text(c.lang, "rate_limited"));
        }
        co_return;
    }
    co_await dispatch(c, r);
}

engine::awaitable<void> bot::handle_failure(const tg::update& u) {
    if (const auto chat = u.chat_id()) {
        // In the user's language: the stored one when the bot knows them (a private chat's id is
        // the user's), else the one their Telegram client reports.
        const auto known = users_.get(*chat);
        std::string client_language;
        if (u.message && u.message->from) {
            client_language = u.message->from->language_code;
        } else if (u.callback_query) {
            client_language = u.callback_query->from.language_code;
        }
        const std::string lang = known ? known->language : language_from_code(client_language);
        std::string sorry = svc_.locales.text(lang, "error.generic");
        auto sent = co_await sender_.text(*chat, std::move(sorry));
        if (!sent) {
            engine::log().info("bot.failure_not_told", {{"chat", *chat}});
        }
    }
}

namespace {

/// What a branch of dispatch() is given as its callback id when the update was no button press.
const std::string no_callback;

} // namespace

// Not a coroutine: it picks the branch and returns the branch's own coroutine, so a turn holds
// that frame alone (as a coroutine, dispatch kept every branch's temporaries in one 2 KB frame
// for the whole turn). What the branches take by reference lives in `c` and `r`, which handle()
// holds while it awaits the result.
engine::awaitable<void> bot::dispatch(const user_context& c, const route& r) {
    const auto& l = svc_.locales;
    const std::string& callback = r.from.callback_id ? *r.from.callback_id : no_callback;
    if (const auto* cmd = std::get_if<intent::run_command>(&r.what)) {
        return run_command(c, cmd->what);
    }
    if (const auto* text = std::get_if<intent::chat_text>(&r.what)) {
        if (c.p == nullptr) {
            return say(c, l.text(c.lang, "persona.none"));
        }
        if (!allow(limit::chat_turn, c.user_id)) {
            return notice(c, l.text(c.lang, "rate_limited"));
        }
        return converse(c, text->text);
    }
    if (const auto* note = std::get_if<intent::voice_note>(&r.what)) {
        if (c.p == nullptr) {
            return say(c, l.text(c.lang, "persona.none"));
        }
        if (!voice_.enabled()) {
            return notice(c, l.text(c.lang, "voice.unavailable"));
        }
        if (!allow(limit::chat_turn, c.user_id)) {
            return notice(c, l.text(c.lang, "rate_limited"));
        }
        return converse_by_voice(c, *note);
    }
    if (const auto* other = std::get_if<intent::unsupported>(&r.what)) {
        engine::log().debug("bot.unsupported_message", {{"user", c.user_id}, {"kind", other->kind}});
        return notice(c, l.text(c.lang, "chat.unsupported"));
    }
    if (const auto* p = std::get_if<intent::pick_persona>(&r.what)) {
        return profile_.pick_persona(c, callback, p->persona_id);
    }
    if (const auto* lang = std::get_if<intent::pick_language>(&r.what)) {
        return profile_.pick_language(c, callback, lang->lang);
    }
    if (const auto* adult = std::get_if<intent::answer_adult>(&r.what)) {
        return adult_answered(c, callback, adult->adult);
    }
    if (const auto* forget = std::get_if<intent::confirm_forget>(&r.what)) {
        return forget_answered(c, callback, forget->erase);
    }
    if (const auto* v = std::get_if<intent::choose_video>(&r.what)) {
        return choose_video(c, callback, *v);
    }
    if (const auto* streaming = std::get_if<intent::set_streaming>(&r.what)) {
        return profile_.set_streaming(c, callback, streaming->on);
    }
    if (const auto* voice = std::get_if<intent::set_voice>(&r.what)) {
        return profile_.set_voice(c, callback, voice->how, voice_.enabled());
    }
    if (const auto* checkins = std::get_if<intent::set_checkins>(&r.what)) {
        return checkins_.set(c, callback, checkins->on);
    }
    if (const auto* clock = std::get_if<intent::shift_clock>(&r.what)) {
        return checkins_.shift_clock(c, callback, clock->minutes);
    }
    if (const auto* again = std::get_if<intent::resend_media>(&r.what)) {
        return history_.resend(c, callback, again->id);
    }
    if (const auto* buy = std::get_if<intent::buy_pack>(&r.what)) {
        return payments_.send_invoice(c, callback, buy->credits);
    }
    if (std::holds_alternative<intent::subscribe>(r.what)) {
        return payments_.subscribe(c, callback);
    }
    if (const auto* changed = std::get_if<intent::subscription_changed>(&r.what)) {
        return payments_.subscription_changed(c, changed->state);
    }
    if (const auto* paid = std::get_if<intent::payment_received>(&r.what)) {
        return payments_.paid(c, paid->payment);
    }
    if (const auto* refund = std::get_if<intent::refund_payment>(&r.what)) {
        if (c.user.is_admin) {
            return payments_.refund(c, refund->charge_id);
        }
        return say(c, l.text(c.lang, "unknown_command"));
    }
    return sender_.answer(callback, l.text(c.lang, "button.expired"));
}

engine::awaitable<void> bot::converse(const user_context& c, std::string text) {
    co_await chat_.turn(c, std::move(text));
    co_await checkins_.maybe_ask(c);
}

engine::awaitable<void> bot::converse_by_voice(const user_context& c, intent::voice_note note) {
    auto words = co_await voice_.listen(c, std::move(note));
    if (words) {
        co_await chat_.turn(c, std::move(*words), true);
        co_await checkins_.maybe_ask(c);
    }
}

engine::awaitable<void>
bot::adult_answered(const user_context& c, const std::string& callback_id, bool adult) {
    co_await sender_.answer(callback_id,
                            svc_.locales.text(c.lang, adult ? "adult.confirmed" : "adult.declined"));
    profile_.answer_adult(c, adult);
    co_await offer_video(c, offer_step::choose_mode); // asked on the way to a video: go on
}

engine::awaitable<void>
bot::forget_answered(const user_context& c, const std::string& callback_id, bool erase) {
    co_await sender_.answer(callback_id);
    if (erase) {
        co_await profile_.forget(c);
    } else {
        co_await say(c, svc_.locales.text(c.lang, "forget.kept"));
    }
}

engine::awaitable<void> bot::run_command(const user_context& c, command what) {
    const auto& l = svc_.locales;
    switch (what) {
    case command::start:
    case command::persona:
        co_await profile_.choose_persona(c);
        break;
    case command::language:
        co_await profile_.choose_language(c);
        break;
    case command::help:
        co_await say(c, l.text(c.lang, "help"), profile_.main_keyboard(c.lang));
        break;
    case command::selfie:
        co_await selfie(c);
        break;
    case command::video:
        co_await offer_video(c, offer_step::ask_adult);
        break;
    case command::videos:
        co_await history_.list(c, storage::content_kind::video);
        break;
    case command::selfies:
        co_await history_.list(c, storage::content_kind::selfie);
        break;
    case command::forget:
        co_await profile_.ask_forget(c); // erased only after "yes"
        break;
    case command::settings:
        co_await profile_.show_settings(c, voice_.enabled(), checkins_.section(c));
        break;
    case command::status:
        // An admin sees the bot's; anyone else, their own video's.
        {
            // (No ternary in the co_await: g++ 12 destroys its temporary twice.)
            std::string status;
            if (c.user.is_admin) {
                status = status_report(*this, svc_.db, svc_.time.wall());
            } else {
                status = offer_.status_text(c.user_id, c.lang);
            }
            co_await say(c, std::move(status));
            break;
        }
    case command::balance:
        co_await payments_.show(c);
        break;
    case command::paysupport:
        co_await payments_.support(c);
        break;
    case command::stop:
        co_await checkins_.stop(c); // off even when check-ins are: the choice is kept for later
        break;
    case command::unknown:
        co_await say(c, l.text(c.lang, "unknown_command"));
        break;
    }
}

engine::awaitable<void> bot::selfie(const user_context& c) {
    const auto& l = svc_.locales;
    if (c.p == nullptr) {
        co_await say(c, l.text(c.lang, "persona.none"));
        co_return;
    }
    if (!allow(limit::selfie, c.user_id)) {
        co_await notice(c, l.text(c.lang, "rate_limited"));
        co_return;
    }
    const auto today = storage::utc_day(svc_.time.wall());
    if (!quotas_.try_consume(c.user_id, storage::quota_kind::selfie, today, cfg_.selfies_per_day)) {
        co_await say(c, l.text(c.lang, "quota.selfies"));
        co_return;
    }
    selfie_attempt made;
    std::exception_ptr cut;
    try {
        made = co_await selfies_.make(c.user_id, c.chat_id, *c.p, c.lang);
    } catch (...) {
        cut = std::current_exception();
    }
    if (cut) {
        // A stop (or a fault) cut the selfie short: the update stays in the inbox and consumes
        // again when it runs again, so this consumption is returned now.
        quotas_.refund(c.user_id, storage::quota_kind::selfie, today);
        std::rethrow_exception(cut);
    }
    if (!made.selfie) {
        quotas_.refund(c.user_id, storage::quota_kind::selfie, today); // not made: not counted
    }
}

engine::awaitable<void> bot::offer_video(const user_context& c, offer_step from) {
    const auto& l = svc_.locales;
    // Whatever stops the request is said first; the 18+ question comes only before an offer
    // that can go ahead, once per user.
    if (!offer_.available()) {
        co_await say(c, l.text(c.lang, "video.unavailable"));
    } else if (auto busy = offer_.busy_text(c.user_id, c.lang)) {
        co_await notice(c, std::move(*busy)); // no second offer while one is being made
    } else if (c.p == nullptr) {
        co_await say(c, l.text(c.lang, "persona.none"));
    } else if (offer_.used_up(c.user_id)) {
        if (payments_.enabled()) {
            co_await payments_.used_up(c); // the balance and the packs
        } else {
            co_await say(c, l.text(c.lang, "quota.videos"));
        }
    } else if (from == offer_step::ask_adult && !c.user.adult_answered) {
        co_await offer_.ask_adult(c);
    } else {
        co_await offer_.offer(c);
    }
}

engine::awaitable<void>
bot::choose_video(const user_context& c, const std::string& callback_id, const intent::choose_video& choice) {
    const auto& l = svc_.locales;
    if (auto busy = offer_.available() ? offer_.busy_text(c.user_id, c.lang) : std::nullopt) {
        co_await sender_.answer(callback_id, std::move(*busy)); // a toast: repeated presses stay quiet
        co_return;
    }
    co_await sender_.answer(callback_id);
    if (!offer_.available()) {
        co_await say(c, l.text(c.lang, "video.unavailable"));
    } else if (c.p == nullptr) {
        co_await say(c, l.text(c.lang, "persona.none"));
    } else {
        co_await offer_.request(c, choice.mode, choice.seconds);
    }
}

engine::awaitable<void> bot::request_video(std::int64_t user_id,
                                           std::int64_t chat_id,
                                           std::string persona_id,
                                           std::string lang,
                                           storage::video_mode mode) {
    user_context c;
    c.user_id = user_id;
    c.chat_id = chat_id;
    c.p = svc_.personas.find(persona_id);
    c.lang = std::move(lang);
    if (c.p != nullptr && offer_.available()) {
        co_await offer_.request(c, mode);
    }
}

engine::awaitable<void> bot::say(const user_context& c, std::string text, std::optional<json::value> markup) {
    return profile_.say(c, std::move(text), std::move(markup));
}

bool bot::allow(limit which, std::int64_t user_id) {
    if (limits_.allow(which, user_id, svc_.time.now())) {
        return true;
    }
    ++rate_limited_;
    engine::log().info("bot.rate_limited", {{"user", user_id}});
    return false;
}

engine::awaitable<void> bot::notice(const user_context& c, std::string text) {
    if (limits_.may_notice(c.user_id, svc_.time.now())) {
        co_await say(c, std::move(text));
    }
}

} // namespace companion::pipelines
