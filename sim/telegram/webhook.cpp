// Deliveries to a webhook, as Telegram makes them (Bot API "setWebhook"; the bot API server's
// WebhookActor): each pending update is POSTed as JSON to the URL, with the secret token in
// X-Telegram-Bot-Api-Secret-Token when one was set; a 2xx answer confirms it, anything else (a
// refusal, a 5xx, a reset connection, a timeout) leaves it pending and it is tried again after a
// delay, the failure shown by getWebhookInfo (last_error_date, last_error_message). At most
// max_connections deliveries are in flight, updates go out in id order, and a chat's next update
// waits until its previous one was confirmed, so each chat's updates arrive in order.
#include "sim/telegram/detail/state.hpp"

#include <boost/json/parse.hpp>

#include <algorithm>

namespace companion::sim {

using namespace telegram_detail;

namespace {

/// The chat an update belongs to (0: none), for per-chat ordering.
std::int64_t chat_of_update(const std::string& text) {
    boost::system::error_code ec;
    const auto v = json::parse(text, ec);
    const auto* o = ec ? nullptr : v.if_object();
    if (o == nullptr) {
        return 0;
    }
    const auto chat_id = [](const json::value* holder) -> std::int64_t {
        const auto* h = holder == nullptr ? nullptr : holder->if_object();
        const auto* chat = h == nullptr ? nullptr : h->if_contains("chat");
        const auto* c = chat == nullptr ? nullptr : chat->if_object();
        const auto* id = c == nullptr ? nullptr : c->if_contains("id");
        return id != nullptr && id->is_int64() ? id->as_int64() : 0;
    };
    for (const auto* key : {"message",
                            "edited_message",
                            "channel_post",
                            "my_chat_member",
                            "chat_member",
                            "stopped_message_generation"}) {
        if (const auto id = chat_id(o->if_contains(key)); id != 0) {
            return id;
        }
    }
    if (const auto* q = o->if_contains("callback_query"); q != nullptr && q->is_object()) {
        if (const auto id = chat_id(q->as_object().if_contains("message")); id != 0) {
            return id;
        }
        // No message (an inline_message_id): the presser's private chat, as the bot orders it.
        const auto* from = q->as_object().if_contains("from");
        const auto* f = from == nullptr ? nullptr : from->if_object();
        const auto* id = f == nullptr ? nullptr : f->if_contains("id");
        return id != nullptr && id->is_int64() ? id->as_int64() : 0;
    }
    return 0;
}

} // namespace

void telegram_simulator::wake_webhook() {
    if (webhook_wake_) {
        webhook_wake_->set();
    }
}

void telegram_simulator::start_webhook_loop() {
    if (webhook_loop_running_ || stopping_) {
        return;
    }
    if (!webhook_tasks_) {
        webhook_tasks_ =
            std::make_unique<engine::task_group>(ex_, engine::task_group::config{.name = "webhook"});
        webhook_wake_ = std::make_unique<detail::wakeup>(ex_, cfg_.time);
        net::client_config client_cfg;
        client_cfg.max_connections_per_origin = 100;
        client_cfg.tls.ca_file = cfg_.webhook_ca_file;
        client_cfg.name = "telegram_sim_webhook";
        webhook_client_ = std::make_unique<net::http_client>(ex_, client_cfg);
    }
    // Set first: a loop that ends at once (no URL any more) clears it before spawn() returns.
    webhook_loop_running_ = true;
    if (!webhook_tasks_->spawn(webhook_loop())) {
        webhook_loop_running_ = false; // stopping
    }
}

engine::awaitable<void> telegram_simulator::webhook_loop() {
    struct running_flag {
        bool& flag;
        ~running_flag() { flag = false; }
    } running{webhook_loop_running_};
    while (!webhook_url_.empty() && !stopping_) {
        webhook_wake_->reset();
        const auto now = time().now();
        auto next_retry = now + std::chrono::hours(1);
        std::set<std::int64_t> held_chats; // an earlier update of theirs is not confirmed yet
        for (const auto& u : pending_) {
            if (static_cast<int>(webhook_in_flight_.size()) >= webhook_max_connections_) {
                break;
            }
            if (!serves(u)) {
                continue;
            }
            const auto chat = chat_of_update(u.json);
            if (chat != 0 && (held_chats.contains(chat) || webhook_chats_in_flight_.contains(chat))) {
                held_chats.insert(chat);
                continue;
            }
            if (webhook_in_flight_.contains(u.id)) {
                continue; // chat 0: nothing to hold
            }
            if (const auto retry = webhook_retry_at_.find(u.id);
                retry != webhook_retry_at_.end() && retry->second > now) {
                next_retry = std::min(next_retry, retry->second);
                if (chat != 0) {
                    held_chats.insert(chat);
                }
                continue;
            }
            webhook_in_flight_.insert(u.id);
            if (chat != 0) {
                webhook_chats_in_flight_.insert(chat);
                held_chats.insert(chat);
            }
            if (!webhook_tasks_->spawn(deliver_webhook(u.id, u.json, chat))) {
                co_return; // stopping
            }
        }
        [[maybe_unused]] const bool woke = co_await webhook_wake_->wait_until(next_retry);
    }
}

engine::awaitable<void>
telegram_simulator::deliver_webhook(std::int64_t update_id, std::string body, std::int64_t chat) {
    struct done_guard {
        telegram_simulator& sim;
        std::int64_t id;
        std::int64_t chat;
        ~done_guard() {
            sim.webhook_in_flight_.erase(id);
            sim.webhook_chats_in_flight_.erase(chat);
            sim.wake_webhook();
        }
    } guard{*this, update_id, chat};
    net::request req;
    req.method = net::http::verb::post;
    req.url = webhook_url_;
    req.headers.set(net::http::field::content_type, "application/json");
    if (!webhook_secret_.empty()) {
        req.headers.set("X-Telegram-Bot-Api-Secret-Token", webhook_secret_);
    }
    req.body = std::move(body);
    net::phase_timeouts timeouts;
    timeouts.response_header = cfg_.webhook_timeout;
    req.timeouts = timeouts;
    req.replayable = net::replay::unsafe; // a lost answer is a failed delivery: sent again later
    auto r = co_await webhook_client_->send(std::move(req));
    if (r && r->status >= 200 && r->status < 300) {
        ++counters_.webhook_deliveries;
        webhook_retry_at_.erase(update_id);
        pending_.remove_if([&](const pending_update& u) { return u.id == update_id; });
        co_return;
    }
    ++counters_.webhook_failures;
    if (r && r->status == 401) {
        ++counters_.webhook_unauthorized;
    }
    // Telegram's words in getWebhookInfo.
    webhook_last_error_ = r ? "Wrong response from the webhook: " + std::to_string(r->status)
                            : "Connection refused or failed: " + r.error().message();
    webhook_last_error_date_ = unix_now();
    webhook_retry_at_[update_id] = time().now() + cfg_.webhook_retry_delay;
}

} // namespace companion::sim
