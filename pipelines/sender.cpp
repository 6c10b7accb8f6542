// The delivery loop of one outbound call: pace, send, classify, wait, retry.
#include "pipelines/sender.hpp"

#include "engine/log.hpp"
#include "pipelines/prompts.hpp"

#include <boost/system/system_error.hpp>

#include <type_traits>

namespace companion::pipelines {

void throw_exception_from_error(const send_failure& f, const boost::source_location& loc) {
    boost::throw_exception(std::runtime_error("telegram send failed: " + std::string(to_string(f.reason)) +
                                              (f.detail.empty() ? "" : ": " + f.detail)),
                           loc);
}

sender::sender(telegram_api& api, engine::time_source& time, sender_config cfg)
    : api_(api),
      time_(time),
      cfg_(cfg),
      policy_(cfg_),
      floods_(cfg_.global_flood_chats, cfg_.global_flood_window),
      limiter_({.per_key = cfg_.per_chat, .global = cfg_.global, .use_global = true}, time),
      sent_metric_(engine::metrics().make_counter("telegram_sent_total", "Messages delivered to Telegram.")),
      flood_metric_(engine::metrics().make_counter("telegram_flood_waits_total", "429 answers honoured.")),
      failed_metric_(engine::metrics().make_counter("telegram_send_failures_total", "Sends given up.")),
      drafts_metric_(engine::metrics().make_counter("telegram_drafts_total", "Streamed reply drafts sent.")),
      drafts_failed_metric_(engine::metrics().make_counter("telegram_draft_failures_total",
                                                           "Streamed reply drafts refused or lost.")) {}

namespace {

/// An answer kept as the caller's type: as is, or projected (a sent text keeps its id and date).
template <class T, class U>
tg::result<T> kept_as(tg::result<U>&& r) {
    if constexpr (std::is_same_v<T, U>) {
        return std::move(r);
    } else {
        if (!r) {
            return std::move(r).error();
        }
        return T::of(*r);
    }
}

} // namespace

template <class T, class Call>
engine::awaitable<send_result<T>>
sender::deliver(std::int64_t chat_id, std::string_view what, Call call, engine::duration outage_budget) {
    auto attempt = [this, chat_id, &call]() -> engine::awaitable<tg::result<T>> {
        co_await limiter_.acquire(chat_id);
        co_return kept_as<T>(co_await call());
    };
    const auto started = time_.now();
    int failures = 0;
    auto classify = [this, chat_id, what, started, outage_budget, &failures](const tg::result<T>& r) {
        if (r) {
            return engine::retry_verdict::done();
        }
        const auto& e = r.error();
        const auto verdict = policy_.classify(e);
        if (verdict.action != engine::retry_action::retry) {
            return verdict;
        }
        if (verdict.server_delay) {
            // Only this chat waits, unless many chats are told to wait at once (a global flood).
            ++stats_.flood_waits;
            flood_metric_.inc();
            note_flood(chat_id, *verdict.server_delay);
            engine::log().warn(
                "telegram.flood",
                {{"chat", chat_id},
                 {"what", what},
                 {"retry_after_ms",
                  std::chrono::duration_cast<std::chrono::milliseconds>(*verdict.server_delay).count()}});
        } else {
            if (policy_.give_up(++failures, time_.now() - started, outage_budget)) {
                return engine::retry_verdict::fail(); // the outage outlasted the budget
            }
            ++stats_.retries;
            if (e.outcome_unknown()) {
                // The request may have been delivered: repeating it risks one duplicate for this
                // one ambiguous answer, while giving up would lose the message for sure.
                ++stats_.unknown_outcome_retries;
            }
        }
        return verdict;
    };
    auto r = co_await engine::retry(policy_.retry(), std::move(attempt), std::move(classify), time_);
    if (r) {
        ++stats_.sent;
        sent_metric_.inc();
        co_return std::move(*r);
    }
    const auto& e = r.error();
    const auto reason = send_policy::reason(e);
    if (reason == send_failure_reason::blocked) {
        ++stats_.blocked;
        if (on_blocked_) {
            on_blocked_(chat_id);
        }
        engine::log().info("telegram.blocked", {{"chat", chat_id}, {"what", what}});
    } else {
        ++stats_.failed;
        failed_metric_.inc();
        engine::log().warn(
            "telegram.send_failed",
            {{"chat", chat_id}, {"what", what}, {"reason", to_string(reason)}, {"error", e.message()}});
    }
    co_return send_failure{reason, e.message()};
}

void sender::note_flood(std::int64_t chat_id, engine::duration retry_after) {
    limiter_.pause(chat_id, retry_after);
    if (on_flood_) {
        on_flood_(chat_id, retry_after);
    }
    if (floods_.note(chat_id, time_.now())) {
        ++stats_.global_pauses;
        limiter_.pause_all(retry_after);
        if (on_flood_) {
            on_flood_(0, retry_after);
        }
        engine::log().warn(
            "telegram.global_flood",
            {{"chats", cfg_.global_flood_chats},
             {"pause_ms", std::chrono::duration_cast<std::chrono::milliseconds>(retry_after).count()}});
    }
}

void sender::pause(std::int64_t chat_id, engine::duration d) {
    if (chat_id == 0) {
        limiter_.pause_all(d);
    } else {
        limiter_.pause(chat_id, d);
    }
}

engine::awaitable<send_result<sent_message>>
sender::text(std::int64_t chat_id, std::string text, std::optional<boost::json::value> markup) {
    auto parts = split_message(text);
    if (parts.empty()) {
        co_return send_failure{send_failure_reason::empty, {}};
    }
    send_result<sent_message> last = send_failure{send_failure_reason::empty, {}};
    for (std::size_t i = 0; i < parts.size(); ++i) {
        tg::send_message_params p;
        p.chat_id = chat_id;
        p.text = std::move(parts[i]);
        if (i + 1 == parts.size()) {
            p.reply_markup = markup;
        }
        // g++ 12 destroys a closure passed as a prvalue to a coroutine twice: pass a named one.
        auto call = [this, &p]() { return api_.send_message(p); };
        last = co_await deliver<sent_message>(chat_id, "sendMessage", std::move(call), cfg_.outage_budget);
        if (!last) {
            co_return last;
        }
    }
    co_return last;
}

engine::awaitable<send_result<tg::message>> sender::photo(tg::send_photo_params params) {
    const auto chat = params.chat_id;
    auto call = [this, &params]() { return api_.send_photo(params); };
    co_return co_await deliver<tg::message>(chat, "sendPhoto", std::move(call), cfg_.outage_budget);
}

engine::awaitable<send_result<tg::message>> sender::video(tg::send_video_params params) {
    const auto chat = params.chat_id;
    auto call = [this, &params]() { return api_.send_video(params); };
    co_return co_await deliver<tg::message>(chat, "sendVideo", std::move(call), cfg_.video_outage_budget);
}

engine::awaitable<send_result<tg::message>> sender::voice(tg::send_voice_params params) {
    const auto chat = params.chat_id;
    auto call = [this, &params]() { return api_.send_voice(params); };
    co_return co_await deliver<tg::message>(chat, "sendVoice", std::move(call), cfg_.outage_budget);
}

engine::awaitable<send_result<tg::message>> sender::invoice(tg::send_invoice_params params) {
    const auto chat = params.chat_id;
    auto call = [this, &params]() { return api_.send_invoice(params); };
    co_return co_await deliver<tg::message>(chat, "sendInvoice", std::move(call), cfg_.outage_budget);
}

engine::awaitable<send_result<tg::edit_outcome>> sender::edit(tg::edit_message_text_params params) {
    const auto chat = params.chat_id;
    auto call = [this, &params]() { return api_.edit_message_text(params); };
    const char* method = params.caption ? "editMessageCaption" : "editMessageText";
    co_return co_await deliver<tg::edit_outcome>(chat, method, std::move(call), edit_outage_budget);
}

engine::awaitable<void> sender::action(std::int64_t chat_id, tg::chat_action action) {
    if (limiter_.pause_remaining(chat_id) > engine::duration::zero()) {
        co_return; // Telegram told this chat to wait: a typing hint is not worth another 429
    }
    auto r = co_await api_.send_chat_action(chat_id, action);
    if (r) {
        co_return;
    }
    // A hint that did not arrive costs nothing; a flood it met is honoured like any other.
    if (r.error().kind == tg::error_kind::rate_limited && r.error().retry_after) {
        limiter_.pause(chat_id, *r.error().retry_after);
        if (on_flood_) {
            on_flood_(chat_id, *r.error().retry_after);
        }
    }
    engine::log().debug("telegram.action_failed", {{"chat", chat_id}, {"error", r.error().message()}});
}

engine::duration sender::draft_hold_remaining(std::int64_t chat_id) {
    const auto it = draft_holds_.find(chat_id);
    if (it == draft_holds_.end()) {
        return engine::duration::zero();
    }
    const auto now = time_.now();
    if (it->second > now) {
        return it->second - now;
    }
    draft_holds_.erase(it);
    return engine::duration::zero();
}

void sender::hold_drafts(std::int64_t chat_id, engine::duration d) {
    const auto now = time_.now();
    if (draft_holds_.size() >= 1024) { // chats that never drafted again: drop the expired holds
        std::erase_if(draft_holds_, [now](const auto& h) { return h.second <= now; });
    }
    auto& until = draft_holds_[chat_id];
    until = std::max(until, now + d);
}

engine::awaitable<draft_outcome> sender::draft(tg::send_message_draft_params params) {
    const auto chat = params.chat_id;
    // Telegram's retry_after on drafts outlives the reply that met it: the next reply's first
    // draft in this chat waits it out too (another draft sooner only earns another 429).
    if (const auto held = draft_hold_remaining(chat); held > engine::duration::zero()) {
        co_return draft_outcome{.what = draft_outcome::kind::held, .wait = held};
    }
    if (!limiter_.try_acquire_global(chat)) {
        co_return draft_outcome{.what = draft_outcome::kind::held};
    }
    auto r = co_await api_.send_message_draft(std::move(params));
    const auto out = classify_draft(r);
    if (!r && r.error().kind == tg::error_kind::rate_limited) {
        hold_drafts(chat, out.wait);
    }
    if (!r) {
        drafts_failed_metric_.inc();
        engine::log().debug("telegram.draft_failed", {{"chat", chat}, {"error", r.error().message()}});
    } else {
        drafts_metric_.inc();
    }
    co_return out;
}

engine::awaitable<void> sender::answer(std::string callback_query_id, std::string text) {
    tg::answer_callback_params p;
    p.callback_query_id = std::move(callback_query_id);
    p.text = std::move(text);
    auto r = co_await api_.answer_callback_query(p);
    // A late answer (query too old) only means the spinner already stopped; other failures are
    // logged and the flow goes on: the button's effect does not depend on the toast.
    if (!r && r.error().kind != tg::error_kind::query_too_old) {
        engine::log().warn("telegram.answer_failed", {{"error", r.error().message()}});
    }
}

} // namespace companion::pipelines
