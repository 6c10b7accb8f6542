// The delivery loop of one outbound call: pace, send, classify, wait, retry.
#include "pipelines/sender.hpp"

#include "engine/log.hpp"
#include "engine/time.hpp"
#include "pipelines/prompts.hpp"

#include <algorithm>
#include <vector>

namespace companion::pipelines {

sender::sender(tg::client& client, sender_config cfg, std::function<void(std::int64_t)> on_blocked)
    : client_(client),
      cfg_(cfg),
      on_blocked_(std::move(on_blocked)),
      limiter_({.per_key = cfg.per_chat, .global = cfg.global, .use_global = true}),
      backoff_(
          {.max_attempts = cfg.max_attempts, .base_delay = cfg.base_backoff, .max_delay = cfg.max_backoff}),
      sent_metric_(engine::metrics().make_counter("telegram_sent_total", "Messages delivered to Telegram.")),
      flood_metric_(engine::metrics().make_counter("telegram_flood_waits_total", "429 answers honoured.")),
      failed_metric_(engine::metrics().make_counter("telegram_send_failures_total", "Sends given up.")) {}

template <class T, class Op>
engine::awaitable<std::optional<T>> sender::deliver(std::int64_t chat_id, std::string_view what, Op op) {
    for (int attempt = 1;; ++attempt) {
        co_await limiter_.acquire(chat_id);
        auto r = co_await op();
        if (r) {
            ++stats_.sent;
            sent_metric_.inc();
            co_return std::optional<T>(std::move(*r));
        }
        const auto& e = r.error();
        std::optional<engine::duration> wait;
        switch (e.kind) {
        case tg::error_kind::flood: {
            const auto ra = e.retry_after.value_or(std::chrono::seconds(1));
            if (ra > cfg_.max_flood_wait) {
                break;
            }
            ++stats_.flood_waits;
            flood_metric_.inc();
            // Only this chat waits, unless many chats are told to wait at once (a global flood).
            note_flood(chat_id, ra);
            engine::log().warn("telegram.flood",
                               {{"chat", chat_id}, {"what", what}, {"retry_after_s", ra.count()}});
            --attempt; // an honoured flood wait is not a failed attempt
            continue;
        }
        case tg::error_kind::forbidden:
            ++stats_.blocked;
            if (on_blocked_) {
                on_blocked_(chat_id);
            }
            engine::log().info("telegram.blocked", {{"chat", chat_id}, {"what", what}});
            co_return std::nullopt;
        case tg::error_kind::transport:
            if (e.outcome_unknown()) {
                // The request may have been delivered: repeating it risks one duplicate for
                // this one ambiguous answer, while giving up would lose the message for sure.
                // Each lost answer allows one repeat, within max_attempts.
                ++stats_.unknown_outcome_retries;
            }
            wait = backoff_.next_delay(attempt);
            break;
        case tg::error_kind::server:
        case tg::error_kind::malformed_response:
            wait = backoff_.next_delay(attempt);
            break;
        default:
            break;
        }
        if (!wait) {
            ++stats_.failed;
            failed_metric_.inc();
            engine::log().warn("telegram.send_failed",
                               {{"chat", chat_id}, {"what", what}, {"error", e.message()}});
            co_return std::nullopt;
        }
        ++stats_.retries;
        co_await engine::sleep(*wait);
    }
}

void sender::note_flood(std::int64_t chat_id, engine::duration retry_after) {
    const auto now = engine::clock::now();
    limiter_.pause(chat_id, retry_after);
    if (on_flood_) {
        on_flood_(chat_id, retry_after);
    }
    while (!recent_floods_.empty() && now - recent_floods_.front().first > cfg_.global_flood_window) {
        recent_floods_.pop_front();
    }
    recent_floods_.emplace_back(now, chat_id);
    std::vector<std::int64_t> chats;
    for (const auto& [when, chat] : recent_floods_) {
        (void)when;
        if (std::find(chats.begin(), chats.end(), chat) == chats.end()) {
            chats.push_back(chat);
        }
    }
    if (chats.size() >= cfg_.global_flood_chats) {
        ++stats_.global_pauses;
        limiter_.pause_all(retry_after);
        if (on_flood_) {
            on_flood_(0, retry_after);
        }
        engine::log().warn(
            "telegram.global_flood",
            {{"chats", chats.size()},
             {"pause_ms", std::chrono::duration_cast<std::chrono::milliseconds>(retry_after).count()}});
        recent_floods_.clear();
    }
}

engine::awaitable<std::optional<tg::message>>
sender::text(std::int64_t chat_id, std::string text, std::optional<boost::json::value> markup) {
    auto parts = split_message(text);
    if (parts.empty()) {
        co_return std::nullopt;
    }
    std::optional<tg::message> last;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        tg::send_message_params p;
        p.chat_id = chat_id;
        p.text = parts[i];
        if (i + 1 == parts.size()) {
            p.reply_markup = markup;
        }
        // g++ 12 destroys a closure passed as a prvalue to a coroutine twice: pass a named one.
        auto op = [this, p]() { return client_.send_message(p); };
        last = co_await deliver<tg::message>(chat_id, "sendMessage", std::move(op));
        if (!last) {
            co_return std::nullopt;
        }
    }
    co_return last;
}

engine::awaitable<std::optional<tg::message>> sender::photo(tg::send_photo_params params) {
    const auto chat = params.chat_id;
    auto op = [this, params]() { return client_.send_photo(params); };
    auto r = co_await deliver<tg::message>(chat, "sendPhoto", std::move(op));
    co_return r;
}

engine::awaitable<std::optional<tg::message>> sender::video(tg::send_video_params params) {
    const auto chat = params.chat_id;
    auto op = [this, params]() { return client_.send_video(params); };
    auto r = co_await deliver<tg::message>(chat, "sendVideo", std::move(op));
    co_return r;
}

engine::awaitable<bool> sender::edit(tg::edit_message_text_params params) {
    const auto chat = params.chat_id;
    auto op = [this, params]() { return client_.edit_message_text(params); };
    auto r = co_await deliver<tg::edit_outcome>(chat, "editMessageText", std::move(op));
    co_return r.has_value();
}

engine::awaitable<void> sender::action(std::int64_t chat_id, tg::chat_action action) {
    if (limiter_.pause_remaining(chat_id) > engine::duration::zero()) {
        co_return; // Telegram told this chat to wait: a typing hint is not worth another 429
    }
    auto r = co_await client_.send_chat_action(chat_id, action);
    if (!r && r.error().kind == tg::error_kind::flood && r.error().retry_after) {
        limiter_.pause(chat_id, *r.error().retry_after);
        if (on_flood_) {
            on_flood_(chat_id, *r.error().retry_after);
        }
    }
}

engine::awaitable<void> sender::answer(std::string callback_query_id, std::string text) {
    tg::answer_callback_params p;
    p.callback_query_id = std::move(callback_query_id);
    p.text = std::move(text);
    auto r = co_await client_.answer_callback_query(p);
    if (!r && r.error().kind != tg::error_kind::query_too_old) {
        engine::log().warn("telegram.answer_failed", {{"error", r.error().message()}});
    }
}

} // namespace companion::pipelines
