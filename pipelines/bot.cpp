// The update loop, router and the chat and selfie pipelines.
#include "pipelines/bot.hpp"

#include "engine/log.hpp"
#include "engine/time.hpp"
#include "pipelines/media.hpp"
#include "pipelines/prompts.hpp"
#include "storage/forget.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/system/system_error.hpp>

#include <algorithm>

namespace companion::pipelines {

namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

storage::timestamp wall_now() {
    return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

std::string moment_of_day(storage::timestamp now) {
    const auto secs = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
    const auto hour = (secs / 3600 + 3) % 24; // Istanbul and Moscow are UTC+3
    if (hour < 6) {
        return "late night";
    }
    if (hour < 12) {
        return "morning";
    }
    if (hour < 18) {
        return "afternoon";
    }
    return "evening";
}

std::int64_t chat_of(const tg::update& u) {
    if (u.message) {
        return u.message->chat.id;
    }
    if (u.callback_query) {
        if (u.callback_query->message) {
            return u.callback_query->message->chat.id;
        }
        return u.callback_query->from.id;
    }
    if (u.my_chat_member) {
        return u.my_chat_member->chat.id;
    }
    return 0;
}

bool is_cancellation(const std::exception_ptr& e) {
    try {
        std::rethrow_exception(e);
    } catch (const boost::system::system_error& se) {
        return engine::is_cancellation(se.code());
    } catch (...) {
        return false;
    }
}

std::string describe(const std::exception_ptr& e) {
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& ex) {
        return ex.what();
    } catch (...) {
        return "non-standard exception";
    }
}

} // namespace

struct bot::context {
    std::int64_t chat_id = 0;
    std::int64_t user_id = 0;
    std::string first_name;
    storage::user user;
    const persona* p = nullptr;
    std::string lang = "en";
};

bot::bot(engine::executor ex, bot_services services, bot_config cfg)
    : ex_(ex),
      svc_(services),
      cfg_(std::move(cfg)),
      sender_(svc_.telegram,
              cfg_.sending,
              [this](std::int64_t chat) {
                  auto r = users_.set_blocked_bot(chat, true);
                  (void)r;
              }),
      queue_(ex, {.per_key_limit = cfg_.per_chat_queue, .total_limit = cfg_.total_queue, .name = "chats"}),
      chat_limits_({.per_key = {static_cast<double>(cfg_.chat_turns_per_minute) / 60.0,
                                static_cast<double>(std::max(1, cfg_.chat_turns_per_minute / 4))},
                    .use_global = false},
                   engine::clock::now()),
      selfie_limits_({.per_key = {static_cast<double>(cfg_.selfies_per_minute) / 60.0,
                                  static_cast<double>(std::max(1, cfg_.selfies_per_minute))},
                      .use_global = false},
                     engine::clock::now()),
      action_limits_({.per_key = {static_cast<double>(cfg_.actions_per_minute) / 60.0,
                                  static_cast<double>(std::max(1, cfg_.actions_per_minute / 4))},
                      .use_global = false},
                     engine::clock::now()),
      notices_(
          {.per_key = {1.0 / std::max(0.001, std::chrono::duration<double>(cfg_.notice_every).count()), 1.0},
           .use_global = false},
          engine::clock::now()),
      users_(svc_.db),
      turns_(svc_.db),
      content_(svc_.db),
      quotas_(svc_.db),
      log_(svc_.db),
      inbox_(svc_.db),
      floods_(svc_.db) {
    // Telegram's retry_after outlives a crash: stored now, waited out again after a restart.
    sender_.on_flood([this](std::int64_t chat, engine::duration wait) {
        try {
            floods_.set(chat, wall_now() + std::chrono::ceil<std::chrono::milliseconds>(wait));
        } catch (const std::exception& e) {
            engine::log().warn("bot.flood_wait_not_stored", {{"chat", chat}, {"error", e.what()}});
        }
    });
    for (const auto& [chat, until] : floods_.active(wall_now())) {
        const auto left = until - wall_now();
        if (left > engine::duration::zero()) {
            engine::log().info(
                "bot.flood_wait_resumed",
                {{"chat", chat},
                 {"left_ms", std::chrono::duration_cast<std::chrono::milliseconds>(left).count()}});
            if (chat == 0) {
                sender_.limiter().pause_all(left);
            } else {
                sender_.limiter().pause(chat, left);
            }
        }
    }
    if (svc_.videos != nullptr) {
        video_jobs_services vs{
            svc_.db,
            svc_.media,
            svc_.llm,
            sender_,
            svc_.personas,
            svc_.locales,
            svc_.offload,
            *svc_.videos,
            [this](std::int64_t user, std::int64_t chat, std::string persona, std::string lang) {
                return make_selfie(user, chat, std::move(persona), std::move(lang));
            }};
        auto vc = cfg_.video;
        vc.admins = cfg_.admins;
        videos_ = std::make_unique<video_jobs>(ex_, std::move(vs), std::move(vc));
    }
}

bot::~bot() = default;

std::size_t bot::video_jobs_running() const noexcept {
    return videos_ ? videos_->running() : 0U;
}

double bot::draw() {
    if (cfg_.random) {
        return cfg_.random();
    }
    rng_state_ ^= rng_state_ >> 12;
    rng_state_ ^= rng_state_ << 25;
    rng_state_ ^= rng_state_ >> 27;
    return static_cast<double>((rng_state_ * 0x2545F4914F6CDD1DULL) >> 11) / 9007199254740992.0;
}

bool bot::is_admin(std::int64_t user_id) const {
    return std::find(cfg_.admins.begin(), cfg_.admins.end(), user_id) != cfg_.admins.end();
}

json::value bot::main_keyboard(std::string_view lang) const {
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

engine::awaitable<bool> bot::prepare() {
    auto me = co_await svc_.telegram.get_me();
    if (!me) {
        engine::log().error("bot.get_me_failed", {{"error", me.error().message()}});
        co_return me.error().kind != tg::error_kind::unauthorized;
    }
    engine::log().info("bot.identity", {{"username", me->username}, {"id", me->id}});
    auto hook = co_await svc_.telegram.delete_webhook(tg::drop_pending::no);
    if (!hook) {
        engine::log().warn("bot.delete_webhook_failed", {{"error", hook.error().message()}});
    }
    for (auto lang : supported_languages()) {
        std::vector<tg::command_description> commands;
        for (const char* name : {"start", "persona", "selfie", "video", "language", "forget", "help"}) {
            std::string description = svc_.locales.text(lang, std::string("btn.") + name);
            if (description == std::string("btn.") + name) {
                description = name;
            }
            commands.push_back({name, description});
        }
        auto r = co_await svc_.telegram.set_my_commands(std::move(commands), std::string(lang));
        if (!r) {
            engine::log().warn("bot.set_commands_failed", {{"lang", lang}, {"error", r.error().message()}});
        }
    }
    co_return true;
}

engine::awaitable<void> bot::run() {
    // Whatever a previous run left in the inbox goes first, in order.
    for (auto& entry : inbox_.pending()) {
        accept(std::move(entry));
    }
    if (videos_) {
        co_await videos_->resume();
    }
    std::exception_ptr error;
    try {
        co_await poll_loop();
    } catch (...) {
        error = std::current_exception();
    }
    polling_ = false;
    if (error && !is_cancellation(error)) {
        engine::log().error("bot.poll_loop_failed", {{"error", describe(error)}});
    }
    // Stop taking updates; give the ones in flight a moment, then cancel them (they stay in the
    // inbox and run again on the next start).
    co_await asio::this_coro::reset_cancellation_state(asio::enable_terminal_cancellation());
    co_await queue_.shutdown(cfg_.drain_grace);
    if (videos_) {
        co_await videos_->shutdown(cfg_.drain_grace);
    }
    engine::log().info("bot.stopped", {{"processed", stats_.updates_processed}});
    if (error && !is_cancellation(error)) {
        std::rethrow_exception(error);
    }
}

engine::awaitable<void> bot::poll_loop() {
    std::optional<std::int64_t> offset = log_.offset();
    engine::retry_schedule backoff(
        {.max_attempts = 1 << 30, .base_delay = 500ms, .max_delay = cfg_.poll_backoff_max});
    int failures = 0;
    polling_ = true;
    for (;;) {
        // Backpressure: while more updates wait in memory than the queues hold, leave the rest
        // with Telegram (it keeps them for a day) instead of growing without bound.
        while (overflow_size_ > cfg_.total_queue) {
            co_await engine::sleep(std::chrono::milliseconds(50));
        }
        json::object params;
        if (offset) {
            params["offset"] = *offset;
        }
        params["limit"] = 100;
        params["timeout"] = cfg_.poll_timeout.count();
        params["allowed_updates"] =
            json::array{"message", "edited_message", "callback_query", "my_chat_member"};
        // A stop drops the held long poll at once: its answer is confirmed only by the next
        // call's offset, so Telegram delivers those updates again after the restart.
        auto r = co_await engine::abandon_on_cancel(svc_.telegram.call("getUpdates", std::move(params)));
        const auto cancel_state = co_await asio::this_coro::cancellation_state;
        if (cancel_state.cancelled() != asio::cancellation_type::none) {
            co_return;
        }
        last_poll_ = engine::clock::now();
        ++stats_.polls;
        if (!r) {
            ++stats_.poll_errors;
            const auto& e = r.error();
            engine::duration wait = backoff.next_delay(++failures).value_or(cfg_.poll_backoff_max);
            if (e.kind == tg::error_kind::unauthorized) {
                engine::log().error("bot.token_refused", {{"error", e.message()}});
                polling_ = false;
                co_return;
            }
            if (e.kind == tg::error_kind::conflict) {
                engine::log().error(
                    "bot.conflict",
                    {{"error", e.message()},
                     {"hint", "another instance polls with this token, or a webhook is set"}});
                wait = std::max<engine::duration>(wait, 5s);
            } else if (e.kind == tg::error_kind::flood && e.retry_after) {
                wait = *e.retry_after;
            } else {
                engine::log().warn(
                    "bot.poll_failed",
                    {{"error", e.message()},
                     {"retry_in_ms", std::chrono::duration_cast<std::chrono::milliseconds>(wait).count()}});
            }
            co_await engine::sleep(wait);
            continue;
        }
        failures = 0;
        if (!r->is_array()) {
            ++stats_.updates_malformed;
            co_await engine::sleep(1s);
            continue;
        }
        // Store the batch and advance the offset in one transaction; then it is ours to process.
        std::vector<storage::inbox_entry> fresh;
        std::optional<std::int64_t> next = offset;
        const auto now = wall_now();
        svc_.db.in_transaction([&] {
            for (const auto& item : r->as_array()) {
                std::int64_t id = 0;
                std::int64_t chat = 0;
                if (item.is_object()) {
                    if (const auto* uid = item.as_object().if_contains("update_id"); uid && uid->is_int64()) {
                        id = uid->as_int64();
                    }
                }
                if (id == 0) {
                    ++stats_.updates_malformed; // without an id it cannot even be confirmed
                    continue;
                }
                if (auto parsed = tg::parse_update(item)) {
                    chat = chat_of(*parsed);
                }
                next = std::max(next.value_or(0), id + 1);
                ++stats_.updates_received;
                storage::inbox_entry e{id, chat, json::serialize(item)};
                if (inbox_.add(e, now)) {
                    fresh.push_back(std::move(e));
                } else {
                    ++stats_.updates_replayed;
                }
            }
            if (next && next != offset) {
                log_.set_offset(*next);
            }
        });
        offset = next;
        for (auto& e : fresh) {
            accept(std::move(e));
        }
    }
}

void bot::accept(storage::inbox_entry entry) {
    const auto chat = entry.chat_id;
    if (auto it = overflow_.find(chat); it != overflow_.end()) {
        it->second.push_back(std::move(entry)); // behind what already waits: order is kept
        ++overflow_size_;
        return;
    }
    if (auto ec = queue_.submit(chat, process(entry))) {
        // The chat floods faster than it is served (or every queue is full): the update waits
        // here, in order, until its chat's queue has room.
        ++stats_.updates_deferred;
        engine::log().debug("bot.update_deferred",
                            {{"update", entry.update_id}, {"chat", chat}, {"reason", ec.message()}});
        overflow_[chat].push_back(std::move(entry));
        ++overflow_size_;
    }
}

void bot::drain_overflow(std::int64_t chat) {
    const auto drain = [this](std::int64_t key) {
        auto it = overflow_.find(key);
        if (it == overflow_.end()) {
            return true;
        }
        auto& waiting = it->second;
        while (!waiting.empty()) {
            if (queue_.submit(key, process(waiting.front()))) {
                return false; // still full
            }
            waiting.pop_front();
            --overflow_size_;
        }
        overflow_.erase(it);
        return true;
    };
    drain(chat);
    // Chats held back by the total limit rather than their own get the room this one left.
    for (auto it = overflow_.begin(); it != overflow_.end();) {
        const auto key = (it++)->first;
        if (key != chat && !drain(key)) {
            break;
        }
    }
}

engine::awaitable<void> bot::process(storage::inbox_entry entry) {
    const auto id = entry.update_id;
    if (log_.is_processed(id)) {
        ++stats_.updates_replayed;
        inbox_.remove(id);
        if (!overflow_.empty()) {
            drain_overflow(entry.chat_id);
        }
        co_return;
    }
    boost::system::error_code ec;
    auto value = json::parse(entry.payload, ec);
    std::exception_ptr failure;
    if (ec) {
        ++stats_.updates_malformed;
        engine::log().warn("bot.update_malformed", {{"update", id}, {"error", ec.message()}});
    } else if (auto u = tg::parse_update(value); !u) {
        ++stats_.updates_malformed;
        engine::log().warn("bot.update_malformed", {{"update", id}, {"error", u.error().reason}});
    } else {
        try {
            co_await handle(*u);
        } catch (...) {
            failure = std::current_exception();
        }
    }
    if (failure) {
        if (is_cancellation(failure)) {
            std::rethrow_exception(failure); // stays in the inbox for the next start
        }
        ++stats_.handler_failures;
        engine::log().error("bot.handler_failed",
                            {{"update", id}, {"chat", entry.chat_id}, {"error", describe(failure)}});
        if (entry.chat_id != 0) {
            co_await sender_.text(entry.chat_id, svc_.locales.text("en", "error.generic"));
        }
    }
    // Marked processed even after a failure: a poisoned update must not replay forever.
    svc_.db.in_transaction([&] {
        log_.mark_processed(id, wall_now());
        inbox_.remove(id);
    });
    ++stats_.updates_processed;
    if (!overflow_.empty()) {
        drain_overflow(entry.chat_id);
    }
}

engine::awaitable<void> bot::handle(const tg::update& u) {
    switch (u.what) {
    case tg::update::kind::message:
        if (u.message) {
            co_await on_message(*u.message);
        }
        break;
    case tg::update::kind::callback_query:
        if (u.callback_query) {
            co_await on_callback(*u.callback_query);
        }
        break;
    case tg::update::kind::my_chat_member:
        if (u.my_chat_member && u.my_chat_member->chat.type == "private") {
            const bool blocked = u.my_chat_member->new_status == "kicked";
            auto r = users_.set_blocked_bot(u.my_chat_member->chat.id, blocked);
            (void)r;
        }
        break;
    default:
        break; // edited messages and unknown kinds are confirmed and ignored
    }
}

engine::awaitable<void> bot::on_message(const tg::message& m) {
    if (m.chat.type != "private" || !m.from || m.from->is_bot) {
        co_return; // the companion talks one to one
    }
    context c;
    c.chat_id = m.chat.id;
    c.user_id = m.from->id;
    c.first_name = m.from->first_name;
    c.user = users_.record_contact(c.user_id,
                                   language_from_code(m.from->language_code),
                                   is_admin(c.user_id),
                                   wall_now());
    c.lang = c.user.language;
    if (c.user.persona_id) {
        c.p = svc_.personas.find(*c.user.persona_id);
    }
    if (auto cmd = tg::extract_command(m)) {
        if (!allow(action_limits_, c.user_id)) {
            co_await notice(c, svc_.locales.text(c.lang, "rate_limited"));
            co_return;
        }
        co_await on_command(c, cmd->name);
        co_return;
    }
    if (m.text.empty()) {
        co_return; // photos, stickers, voice: nothing to answer yet
    }
    const auto label =
        svc_.locales.match_label(m.text, {"btn.selfie", "btn.video", "btn.persona", "btn.language"});
    if (label && !allow(action_limits_, c.user_id)) {
        co_await notice(c, svc_.locales.text(c.lang, "rate_limited"));
        co_return;
    }
    if (label == "btn.selfie") {
        co_await selfie(c);
    } else if (label == "btn.video") {
        co_await on_command(c, "video");
    } else if (label == "btn.persona") {
        co_await choose_persona(c);
    } else if (label == "btn.language") {
        co_await choose_language(c);
    } else {
        co_await chat_turn(c, m.text);
    }
}

engine::awaitable<void> bot::on_command(context& c, std::string_view command) {
    const auto& l = svc_.locales;
    if (command == "start" || command == "persona") {
        co_await choose_persona(c);
    } else if (command == "language") {
        co_await choose_language(c);
    } else if (command == "help") {
        std::string help = l.text(c.lang, "help");
        std::optional<json::value> keyboard = main_keyboard(c.lang);
        co_await sender_.text(c.chat_id, std::move(help), std::move(keyboard));
    } else if (command == "selfie") {
        co_await selfie(c);
    } else if (command == "video") {
        co_await offer_video(c);
    } else if (command == "forget" || command == "delete") {
        auto result = storage::forget_user(svc_.db, c.user_id);
        for (const auto& path : result.media_paths) {
            (void)svc_.media.remove(path);
        }
        engine::log().info(
            "bot.forgot_user",
            {{"user", c.user_id}, {"turns", result.turns}, {"media", result.media_paths.size()}});
        co_await sender_.text(c.chat_id, l.text(c.lang, "forget.done"));
    } else if ((command == "status" || command == "stats") && c.user.is_admin) {
        co_await admin_status(c);
    } else {
        co_await sender_.text(c.chat_id, l.text(c.lang, "unknown_command"));
    }
}

engine::awaitable<void> bot::choose_persona(context& c) {
    tg::inline_keyboard kb;
    for (const auto& p : svc_.personas.all()) {
        kb.button(svc_.locales.text(c.lang,
                                    "persona.button",
                                    {{"name", p.name}, {"age", std::to_string(p.age)}, {"city", p.city}}),
                  "p:" + p.id)
            .row();
    }
    auto built = kb.build();
    std::optional<json::value> markup;
    if (built) {
        markup = *built;
    }
    std::string text = svc_.locales.text(c.lang, "start.choose_persona", {{"first_name", c.first_name}});
    co_await sender_.text(c.chat_id, std::move(text), std::move(markup));
}

engine::awaitable<void> bot::choose_language(context& c) {
    tg::inline_keyboard kb;
    for (auto lang : supported_languages()) {
        kb.button(svc_.locales.language_name(lang), "lang:" + std::string(lang));
    }
    auto built = kb.build();
    std::optional<json::value> markup;
    if (built) {
        markup = *built;
    }
    std::string text = svc_.locales.text(c.lang, "language.choose");
    co_await sender_.text(c.chat_id, std::move(text), std::move(markup));
}

engine::awaitable<void> bot::on_callback(const tg::callback_query& q) {
    // Answer at once so the client's spinner stops; the slow work follows.
    const std::string data = q.data;
    context c;
    c.user_id = q.from.id;
    c.chat_id = q.message ? q.message->chat.id : q.from.id;
    c.first_name = q.from.first_name;
    c.user = users_.record_contact(c.user_id,
                                   language_from_code(q.from.language_code),
                                   is_admin(c.user_id),
                                   wall_now());
    c.lang = c.user.language;
    if (c.user.persona_id) {
        c.p = svc_.personas.find(*c.user.persona_id);
    }
    const auto& l = svc_.locales;
    if (!allow(action_limits_, c.user_id)) {
        co_await sender_.answer(q.id, l.text(c.lang, "rate_limited")); // a toast, not a message
        co_return;
    }
    if (data.rfind("p:", 0) == 0) {
        const persona* p = svc_.personas.find(std::string_view(data).substr(2));
        if (p == nullptr) {
            co_await sender_.answer(q.id, l.text(c.lang, "button.expired"));
            co_return;
        }
        co_await sender_.answer(q.id);
        auto r = users_.set_persona(c.user_id, p->id);
        (void)r;
        std::string chosen = l.text(c.lang, "persona.chosen", {{"name", p->name}});
        std::optional<json::value> keyboard = main_keyboard(c.lang);
        co_await sender_.text(c.chat_id, std::move(chosen), std::move(keyboard));
        auto greeting = p->greeting.find(c.lang);
        if (greeting != p->greeting.end()) {
            co_await sender_.text(c.chat_id, greeting->second);
        }
        co_return;
    }
    if (data.rfind("lang:", 0) == 0) {
        const std::string lang = data.substr(5);
        if (!is_supported_language(lang)) {
            co_await sender_.answer(q.id, l.text(c.lang, "button.expired"));
            co_return;
        }
        co_await sender_.answer(q.id);
        auto r = users_.set_language(c.user_id, lang);
        (void)r;
        std::string done = l.text(lang, "language.set");
        std::optional<json::value> keyboard = main_keyboard(lang);
        co_await sender_.text(c.chat_id, std::move(done), std::move(keyboard));
        co_return;
    }
    if (data == "adult:yes") {
        co_await sender_.answer(q.id, l.text(c.lang, "adult.confirmed"));
        auto r = users_.set_adult_confirmed(c.user_id, true);
        (void)r;
        co_return;
    }
    if (data == "vid:last" || data == "vid:new") {
        if (videos_) {
            if (auto busy = videos_->busy_text(c.user_id, c.lang)) {
                co_await sender_.answer(q.id, std::move(*busy)); // a toast: repeated presses stay quiet
                co_return;
            }
        }
        co_await sender_.answer(q.id);
        if (!videos_) {
            co_await sender_.text(c.chat_id, l.text(c.lang, "video.unavailable"));
            co_return;
        }
        if (c.p == nullptr) {
            co_await sender_.text(c.chat_id, l.text(c.lang, "persona.none"));
            co_return;
        }
        const auto mode =
            data == "vid:last" ? storage::video_mode::from_last_selfie : storage::video_mode::new_video;
        co_await videos_->request(c.user_id, c.chat_id, c.p->id, c.lang, mode, c.user.adult_confirmed);
        co_return;
    }
    // Unknown or stale buttons (an older version's data, a forged query).
    co_await sender_.answer(q.id, l.text(c.lang, "button.expired"));
}

engine::awaitable<void> bot::chat_turn(context& c, std::string text) {
    const auto& l = svc_.locales;
    if (c.p == nullptr) {
        co_await sender_.text(c.chat_id, l.text(c.lang, "persona.none"));
        co_return;
    }
    if (!allow(chat_limits_, c.user_id)) {
        co_await notice(c, l.text(c.lang, "rate_limited"));
        co_return;
    }
    ++stats_.chat_turns;
    const persona& p = *c.p;
    // The user's turn is stored first: an LLM failure must not lose it.
    turns_.append(c.user_id, p.id, storage::speaker::user, sanitize_user_text(text, 4000), wall_now());
    co_await sender_.action(c.chat_id, tg::chat_action::typing);

    net::openai::chat_request req;
    const auto summary = turns_.summary(c.user_id, p.id);
    req.messages.push_back(
        {net::openai::role::system, chat_system_prompt(p, c.lang, summary ? summary->text : "")});
    for (const auto& t : turns_.last_turns(c.user_id, p.id, cfg_.history_turns)) {
        req.messages.push_back(
            {t.role == storage::speaker::user ? net::openai::role::user : net::openai::role::assistant,
             t.text});
    }
    auto r = co_await svc_.llm.complete(std::move(req));
    std::string reply;
    if (r && r->content && !r->content->empty()) {
        reply = *r->content;
    } else {
        if (!r) {
            engine::log().warn("chat.llm_failed", {{"user", c.user_id}, {"error", r.error().message}});
        } else {
            engine::log().warn(
                "chat.llm_empty",
                {{"user", c.user_id}, {"finish", std::string(net::openai::to_string(r->finish))}});
        }
        std::string apology = l.text(c.lang, "chat.apology", {{"name", p.name}});
        co_await sender_.text(c.chat_id, std::move(apology));
        co_return;
    }
    co_await sender_.text(c.chat_id, reply);
    turns_.append(c.user_id, p.id, storage::speaker::assistant, reply, wall_now());
    if (turns_.turns_since_summary(c.user_id, p.id) >= cfg_.summary_every) {
        co_await refresh_summary(c, p);
    }
}

engine::awaitable<void> bot::refresh_summary(context& c, const persona& p) {
    const auto turns = turns_.last_turns(c.user_id, p.id, static_cast<std::size_t>(cfg_.summary_every) * 2);
    if (turns.empty()) {
        co_return;
    }
    const auto old = turns_.summary(c.user_id, p.id);
    std::string transcript;
    for (const auto& t : turns) {
        transcript += (t.role == storage::speaker::user ? "User: " : p.name + ": ") + t.text + "\n";
    }
    net::openai::chat_request req;
    req.messages.push_back(
        {net::openai::role::system,
         "You keep a short memory for " + p.name +
             ". Merge the previous memory and the new conversation into at most 5 short sentences "
             "of facts about the user and what was discussed, in English, without repetition."});
    req.messages.push_back({net::openai::role::user,
                            "Previous memory: " + (old ? old->text : std::string("(none)")) +
                                "\nConversation:\n" + truncate_chars(transcript, 6000)});
    auto r = co_await svc_.llm.complete(std::move(req));
    if (r && r->content && !r->content->empty()) {
        turns_.set_summary(c.user_id, p.id, truncate_chars(*r->content, 1200), turns.back().id, wall_now());
    }
}

bool bot::allow(engine::keyed_token_bucket<std::int64_t>& limits, std::int64_t user_id) {
    if (limits.reserve(user_id, engine::clock::now()) > engine::duration::zero()) {
        limits.refund(user_id);
        ++stats_.rate_limited;
        engine::log().info("bot.rate_limited", {{"user", user_id}});
        return false;
    }
    return true;
}

engine::awaitable<void> bot::notice(const context& c, std::string text) {
    if (notices_.reserve(c.user_id, engine::clock::now()) > engine::duration::zero()) {
        notices_.refund(c.user_id);
        co_return; // told recently: stay quiet
    }
    co_await sender_.text(c.chat_id, std::move(text));
}

engine::awaitable<void> bot::selfie(context& c) {
    const auto& l = svc_.locales;
    if (c.p == nullptr) {
        co_await sender_.text(c.chat_id, l.text(c.lang, "persona.none"));
        co_return;
    }
    if (!allow(selfie_limits_, c.user_id)) {
        co_await notice(c, l.text(c.lang, "rate_limited"));
        co_return;
    }
    const auto today = storage::utc_day(wall_now());
    if (!quotas_.try_consume(c.user_id, storage::quota_kind::selfie, today, cfg_.selfies_per_day)) {
        co_await sender_.text(c.chat_id, l.text(c.lang, "quota.selfies"));
        co_return;
    }
    auto made = co_await make_selfie(c.user_id, c.chat_id, c.p->id, c.lang);
    if (!made) {
        quotas_.refund(c.user_id, storage::quota_kind::selfie, today);
    }
}

engine::awaitable<std::optional<made_selfie>>
bot::make_selfie(std::int64_t user_id, std::int64_t chat_id, std::string persona_id, std::string lang) {
    const auto& l = svc_.locales;
    const persona* found = svc_.personas.find(persona_id);
    if (found == nullptr) {
        co_return std::nullopt;
    }
    const persona& p = *found;
    context c;
    c.user_id = user_id;
    c.chat_id = chat_id;
    c.lang = lang;
    const auto now = wall_now();
    ++stats_.selfies;
    co_await sender_.action(c.chat_id, tg::chat_action::upload_photo);
    const std::string moment = moment_of_day(now);

    // The photo prompt as structured output ({"prompt": "..."}), so chatty answers are rejected.
    std::string prompt;
    net::openai::chat_request req;
    req.messages.push_back(
        {net::openai::role::user,
         selfie_prompt_instruction(p, moment) + " Answer as JSON: {\"prompt\": \"...\"}."});
    net::openai::json_schema_format format;
    format.name = "photo_prompt";
    format.strict = true;
    format.schema = json::object{{"type", "object"},
                                 {"additionalProperties", false},
                                 {"required", json::array{"prompt"}},
                                 {"properties", json::object{{"prompt", json::object{{"type", "string"}}}}}};
    req.format = std::move(format);
    auto written = co_await svc_.llm.complete(std::move(req));
    if (written && written->content) {
        boost::system::error_code ec;
        auto v = json::parse(*written->content, ec);
        if (!ec && v.is_object()) {
            if (const auto* text = v.as_object().if_contains("prompt");
                text && text->is_string() && text->as_string().size() > 20) {
                prompt = sanitize_user_text(std::string_view(text->as_string()), 1500);
            }
        }
    }
    if (prompt.empty()) {
        prompt = template_selfie_prompt(p, moment);
    }

    // One retry: with the plain template after a refusal, as is after "no image".
    std::optional<net::gemini::inline_image> image;
    for (int attempt = 0; attempt < 2 && !image; ++attempt) {
        net::gemini::image_request image_req;
        image_req.prompt = prompt;
        auto r = co_await svc_.images.generate(std::move(image_req));
        if (!r) {
            engine::log().warn("selfie.image_failed", {{"user", c.user_id}, {"error", r.error().message}});
            break;
        }
        if (r->outcome == net::gemini::image_outcome::image && r->image) {
            image = std::move(r->image);
            break;
        }
        engine::log().info("selfie.image_refused",
                           {{"user", c.user_id},
                            {"outcome", std::string(net::gemini::to_string(r->outcome))},
                            {"reason", r->reason}});
        if (r->outcome != net::gemini::image_outcome::no_image) {
            prompt = template_selfie_prompt(p, moment);
        }
    }
    if (!image) {
        co_await sender_.text(c.chat_id, l.text(c.lang, "selfie.refused"));
        co_return std::nullopt;
    }
    // Over Telegram's photo limits (a 4K PNG can pass 10 MB): scale and re-encode, off the loop.
    const std::string original = std::move(image->bytes);
    const std::string original_mime = image->mime_type;
    auto fit_job = [original, original_mime] { return fit_photo(original, original_mime); };
    auto fitted = co_await svc_.offload.run(std::move(fit_job));
    if (!fitted) {
        engine::log().warn("selfie.unusable_image", {{"user", c.user_id}, {"reason", fitted.error()}});
        co_await sender_.text(c.chat_id, l.text(c.lang, "selfie.failed"));
        co_return std::nullopt;
    }
    image->bytes = std::move(fitted->bytes);
    image->mime_type = fitted->mime;
    const std::string ext = image->mime_type == "image/jpeg"   ? "jpg"
                            : image->mime_type == "image/webp" ? "webp"
                                                               : "png";
    // Writing and fsyncing the file is I/O that can take milliseconds: off the loop.
    auto& media = svc_.media;
    const std::string stem = "selfie-" + std::to_string(c.user_id);
    const std::string bytes = image->bytes;
    auto write_file = [&media, stem, ext, bytes] { return media.write(stem, ext, bytes); };
    auto stored = co_await svc_.offload.run(std::move(write_file));
    if (!stored) {
        co_await sender_.text(c.chat_id, l.text(c.lang, "selfie.failed"));
        co_return std::nullopt;
    }
    storage::new_content row;
    row.user_id = c.user_id;
    row.persona_id = p.id;
    row.kind = storage::content_kind::selfie;
    row.prompt = prompt;
    row.media_path = stored->path.string();
    row.size_bytes = stored->size_bytes;
    row.sha256 = stored->sha256;
    row.mime = image->mime_type;
    row.created = now;
    const auto content_id = content_.insert(row);

    tg::send_photo_params params;
    params.chat_id = c.chat_id;
    params.photo = tg::input_file::from_memory("selfie." + ext, image->mime_type, image->bytes);
    params.caption = l.text(c.lang, "selfie.caption", {{"name", p.name}});
    auto sent = co_await sender_.photo(std::move(params));
    if (sent) {
        if (const auto* largest = sent->largest_photo()) {
            auto r = content_.set_telegram_file_id(content_id, largest->file_id);
            (void)r;
        }
    } else {
        // Telegram would not take the photo after every retry: say so, rather than nothing.
        co_await sender_.text(c.chat_id, l.text(c.lang, "selfie.failed"));
    }
    made_selfie out{content_id, prompt, stored->path.string()};
    co_return out;
}

engine::awaitable<void> bot::offer_video(context& c) {
    const auto& l = svc_.locales;
    if (!videos_) {
        co_await sender_.text(c.chat_id, l.text(c.lang, "video.unavailable"));
        co_return;
    }
    if (auto busy = videos_->busy_text(c.user_id, c.lang)) {
        co_await notice(c, std::move(*busy)); // no second offer while one is being made
        co_return;
    }
    if (c.p == nullptr) {
        co_await sender_.text(c.chat_id, l.text(c.lang, "persona.none"));
        co_return;
    }
    tg::inline_keyboard kb;
    kb.button(l.text(c.lang, "video.from_last"), "vid:last")
        .row()
        .button(l.text(c.lang, "video.new"), "vid:new");
    auto built = kb.build();
    std::optional<json::value> markup;
    if (built) {
        markup = *built;
    }
    std::string choose = l.text(c.lang, "video.choose");
    co_await sender_.text(c.chat_id, std::move(choose), std::move(markup));
    if (!c.user.adult_confirmed) {
        tg::inline_keyboard adult;
        adult.button(l.text(c.lang, "adult.yes"), "adult:yes");
        auto adult_built = adult.build();
        std::optional<json::value> adult_markup;
        if (adult_built) {
            adult_markup = *adult_built;
        }
        std::string ask = l.text(c.lang, "adult.ask");
        co_await sender_.text(c.chat_id, std::move(ask), std::move(adult_markup));
    }
}

engine::awaitable<void> bot::admin_status(context& c) {
    const auto& d = sender_.stats();
    std::string s = "📊 status\n";
    s += "updates: received " + std::to_string(stats_.updates_received) + ", processed " +
         std::to_string(stats_.updates_processed) + ", replayed " + std::to_string(stats_.updates_replayed) +
         ", malformed " + std::to_string(stats_.updates_malformed) + "\n";
    s += "queues: " + std::to_string(queue_.active_keys()) + " chats, " + std::to_string(queue_.queued()) +
         " waiting\n";
    s += "sent: " + std::to_string(d.sent) + ", flood waits " + std::to_string(d.flood_waits) + ", failed " +
         std::to_string(d.failed) + "\n";
    s += "users: " + std::to_string(users_.count()) + ", chat turns " + std::to_string(stats_.chat_turns) +
         ", selfies " + std::to_string(stats_.selfies) + "\n";
    if (videos_) {
        const auto& v = videos_->stats();
        const auto& info = videos_->provider_info();
        s += "videos: provider " + info.name + " (" + info.model + "), " +
             std::to_string(videos_->effective_seconds()) + " s clips, " +
             std::to_string(videos_->running()) + " jobs running; requested " + std::to_string(v.requested) +
             ", delivered " + std::to_string(v.delivered) + ", failed " + std::to_string(v.failed) +
             ", refused " + std::to_string(v.refused) + "\n";
        storage::quota_repository spend(svc_.db);
        s += "spend today: " + std::to_string(spend.spent_total(storage::utc_day(wall_now()))) + " cents";
    } else {
        s += "videos: no provider configured";
    }
    co_await sender_.text(c.chat_id, s);
}

} // namespace companion::pipelines
