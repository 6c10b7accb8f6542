// Bot API methods around updates and the bot itself: getUpdates (the long poll), webhooks, getMe,
// the commands with scopes and languages, getChat, getChatMember, the answers to callback, inline
// and pre-checkout queries, sendChatAction, and Telegram Stars (sendInvoice, refundStarPayment).
// Error texts: contract §8, or github.com/tdlib/telegram-bot-api Client.cpp (cited where used).
#include "sim/telegram/detail/state.hpp"
#include "sim/telegram/entities.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <charconv>

namespace companion::sim {

using namespace telegram_detail;

namespace {

// A required parameter is missing: Client.cpp, get_required_string_arg.
response required(std::string_view name) {
    return bad_request("parameter \"" + std::string(name) + "\" is required");
}

} // namespace

engine::awaitable<net::server_response> telegram_simulator::get_updates(call& c) {
    ++counters_.get_updates_calls;
    if (!webhook_url_.empty()) {
        ++counters_.conflicts;
        co_return api_error(
            409,
            "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook "
            "to delete the webhook first");
    }
    const auto offset = c.integer("offset");
    const auto limit = std::clamp<std::int64_t>(c.integer("limit").value_or(100), 1, 100);
    const auto timeout = std::chrono::seconds(std::max<std::int64_t>(0, c.integer("timeout").value_or(0)));
    if (!take_allowed_updates(c)) {
        co_return bad_request("can't parse allowed updates");
    }
    if (offset) {
        if (*offset < 0) {
            // -N: the last N updates; everything earlier is forgotten.
            while (static_cast<std::int64_t>(pending_.size()) > -*offset) {
                pending_.pop_front();
            }
        } else {
            // Every update below the offset is confirmed, wherever it stands in the queue (an
            // update injected with an old id is confirmed too, not served forever).
            pending_.remove_if([&](const pending_update& u) { return u.id < *offset; });
        }
    }

    // Only one consumer per token: a newer request terminates the older waiting ones.
    for (auto& p : pollers_) {
        p->kicked = true;
        p->wake.set();
    }
    auto me = std::make_shared<poller>(ex_, cfg_.time);
    pollers_.push_back(me);
    pollers_gone_.reset();
    struct unregister {
        telegram_simulator& sim;
        std::list<std::shared_ptr<poller>>::iterator it;
        ~unregister() {
            sim.pollers_.erase(it);
            sim.counters_.current_pollers = sim.pollers_.size();
            if (sim.pollers_.empty()) {
                sim.pollers_gone_.set();
            }
        }
    } guard{*this, std::prev(pollers_.end())};
    counters_.current_pollers = pollers_.size();
    counters_.max_concurrent_pollers = std::max(counters_.max_concurrent_pollers, pollers_.size());

    const auto hold = std::min<engine::duration>(timeout, cfg_.max_poll_hold);
    const auto deadline = time().now() + hold;
    for (;;) {
        if (me->kicked) {
            ++counters_.conflicts;
            co_return api_error(
                409,
                "Conflict: terminated by other getUpdates request; make sure that only one bot "
                "instance is running");
        }
        std::string batch;
        std::int64_t n = 0;
        for (const auto& u : pending_) {
            if (n >= limit) {
                break;
            }
            if (!serves(u)) {
                continue;
            }
            batch += n == 0 ? "" : ",";
            batch += u.json;
            ++n;
        }
        if (n > 0 || stopping_ || time().now() >= deadline) {
            co_return net::json_response(200, R"({"ok":true,"result":[)" + batch + "]}");
        }
        me->wake.reset();
        // At the deadline the loop answers with whatever is there (usually nothing).
        [[maybe_unused]] const bool woke = co_await me->wake.wait_until(deadline);
    }
}

bool telegram_simulator::serves(const pending_update& u) const {
    if (u.kind.empty()) {
        return true; // unparsable raw injections go out as they are
    }
    if (allowed_updates_.empty()) {
        return allowed_by_default(u.kind);
    }
    return std::find(allowed_updates_.begin(), allowed_updates_.end(), u.kind) != allowed_updates_.end();
}

bool telegram_simulator::take_allowed_updates(const call& c) {
    auto allowed = c.structured("allowed_updates");
    if (!allowed) {
        return true; // sticky: the last list stays
    }
    if (!allowed->is_array()) {
        return false;
    }
    allowed_updates_.clear();
    for (const auto& a : allowed->get_array()) {
        if (a.is_string()) {
            allowed_updates_.emplace_back(a.get_string());
        }
    }
    return true;
}

net::server_response telegram_simulator::get_me(call&) {
    // Bot API 10.5 returns the bot's full info; the User fields bots read are all there.
    auto me = bot_json();
    me["can_join_groups"] = true;
    me["can_read_all_group_messages"] = false;
    me["supports_inline_queries"] = true;
    me["can_connect_to_business"] = false;
    me["has_main_web_app"] = false;
    return api_ok(me);
}

net::server_response telegram_simulator::set_webhook(call& c, bool remove) {
    if (c.flag("drop_pending_updates")) {
        pending_.clear();
    }
    if (remove) {
        webhook_url_.clear();
        wake_webhook(); // the loop ends; deliveries in flight finish
        return api_ok(true);
    }
    const auto url = c.str("url").value_or("");
    if (url.empty()) {
        webhook_url_.clear();
        wake_webhook();
        return api_ok(true);
    }
    if (!url.starts_with("https://")) {
        return bad_request("bad webhook: An HTTPS URL must be provided for webhook");
    }
    if (auto secret = c.str("secret_token")) {
        if (secret->size() > 256) {
            return bad_request("secret token is too long"); // Client.cpp
        }
        const bool ok = std::all_of(secret->begin(), secret->end(), [](char ch) {
            return std::isalnum(static_cast<unsigned char>(ch)) != 0 || ch == '_' || ch == '-';
        });
        if (!ok) {
            return bad_request("secret token contains unallowed characters");
        }
    }
    if (!take_allowed_updates(c)) {
        return bad_request("can't parse allowed updates");
    }
    // Client.cpp: max_connections is clamped to 1-100 (default 40).
    webhook_max_connections_ =
        static_cast<int>(std::clamp<std::int64_t>(c.integer("max_connections").value_or(40), 1, 100));
    webhook_secret_ = c.str("secret_token").value_or("");
    webhook_url_ = url;
    webhook_last_error_.clear();
    webhook_last_error_date_ = 0;
    start_webhook_loop();
    wake_webhook();
    return api_ok(true);
}

net::server_response telegram_simulator::get_webhook_info(call&) {
    json::object info{{"url", webhook_url_},
                      {"has_custom_certificate", false},
                      {"pending_update_count", pending_.size()}};
    if (!webhook_url_.empty()) {
        info["max_connections"] = webhook_max_connections_;
    }
    if (webhook_last_error_date_ != 0) {
        info["last_error_date"] = webhook_last_error_date_;
        info["last_error_message"] = webhook_last_error_;
    }
    if (!allowed_updates_.empty()) {
        json::array allowed;
        for (const auto& a : allowed_updates_) {
            allowed.emplace_back(a);
        }
        info["allowed_updates"] = std::move(allowed);
    }
    return api_ok(info);
}

// --- commands ---------------------------------------------------------------------------------

std::variant<std::string, net::server_response> telegram_simulator::command_scope(const call& c) {
    // Client.cpp, get_bot_command_scope: the scope's errors follow "Can't parse BotCommandScope: ".
    auto scope = c.structured("scope");
    if (!scope) {
        return std::string(R"({"type":"default"})");
    }
    if (scope->is_null()) {
        return bad_request("can't parse BotCommandScope JSON object");
    }
    const auto* o = scope->if_object();
    if (o == nullptr) {
        return bad_request("can't parse BotCommandScope: BotCommandScope must be an Object");
    }
    const auto* type = o->if_contains("type");
    if (type == nullptr || !type->is_string()) {
        return bad_request("can't parse BotCommandScope: Field \"type\" must be of type String");
    }
    const std::string t(type->get_string());
    if (t == "default" || t == "all_private_chats" || t == "all_group_chats" ||
        t == "all_chat_administrators") {
        return json::serialize(json::object{{"type", t}});
    }
    if (t != "chat" && t != "chat_administrators" && t != "chat_member") {
        return bad_request("can't parse BotCommandScope: Unsupported type specified");
    }
    const auto* chat_id = o->if_contains("chat_id");
    std::string chat_text = chat_id == nullptr     ? std::string{}
                            : chat_id->is_string() ? std::string(chat_id->get_string())
                            : chat_id->is_int64()  ? std::to_string(chat_id->get_int64())
                                                   : std::string{};
    if (chat_text.empty()) {
        return bad_request("can't parse BotCommandScope: Empty chat_id specified");
    }
    std::int64_t chat = 0;
    std::from_chars(chat_text.data(), chat_text.data() + chat_text.size(), chat);
    if (find_chat(chat) == nullptr) {
        return chat_not_found();
    }
    json::object key{{"type", t}, {"chat_id", chat}};
    if (t == "chat_member") {
        const auto* user = o->if_contains("user_id");
        if (user == nullptr || !user->is_int64() || user->get_int64() <= 0) {
            return bad_request("can't parse BotCommandScope: Invalid user_id specified");
        }
        key["user_id"] = user->get_int64();
    }
    return json::serialize(key);
}

net::server_response telegram_simulator::set_my_commands(call& c) {
    auto list_value = c.structured("commands");
    if (!list_value || !list_value->is_array()) {
        return bad_request("can't parse commands JSON object");
    }
    const auto& list = list_value->get_array();
    if (list.size() > 100) {
        return bad_request("BOT_COMMANDS_TOO_MUCH");
    }
    for (const auto& item : list) {
        const auto* o = item.if_object();
        const auto* command = o != nullptr ? o->if_contains("command") : nullptr;
        const auto* description = o != nullptr ? o->if_contains("description") : nullptr;
        if (command == nullptr || !command->is_string()) {
            return bad_request("BOT_COMMAND_INVALID");
        }
        const auto& name = command->get_string();
        const bool name_ok =
            !name.empty() && name.size() <= 32 && std::all_of(name.begin(), name.end(), [](char ch) {
                return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_';
            });
        if (!name_ok) {
            return bad_request("BOT_COMMAND_INVALID");
        }
        if (description == nullptr || !description->is_string()) {
            return bad_request("BOT_COMMAND_DESCRIPTION_INVALID");
        }
        const auto n = telegram::utf16_length(description->get_string());
        if (n < 1 || n > 256) {
            return bad_request("BOT_COMMAND_DESCRIPTION_INVALID");
        }
    }
    auto scope = command_scope(c);
    if (auto* bad = std::get_if<response>(&scope)) {
        return std::move(*bad);
    }
    const auto key = std::get<std::string>(scope) + "|" + c.str("language_code").value_or("");
    if (list.empty()) {
        commands_.erase(key);
    } else {
        commands_[key] = json::serialize(*list_value);
    }
    return api_ok(true);
}

net::server_response telegram_simulator::get_my_commands(call& c) {
    auto scope = command_scope(c);
    if (auto* bad = std::get_if<response>(&scope)) {
        return std::move(*bad);
    }
    auto it = commands_.find(std::get<std::string>(scope) + "|" + c.str("language_code").value_or(""));
    return api_ok(it == commands_.end() ? json::value(json::array{}) : json::parse(it->second));
}

net::server_response telegram_simulator::delete_my_commands(call& c) {
    auto scope = command_scope(c);
    if (auto* bad = std::get_if<response>(&scope)) {
        return std::move(*bad);
    }
    commands_.erase(std::get<std::string>(scope) + "|" + c.str("language_code").value_or(""));
    return api_ok(true);
}

// --- chats ------------------------------------------------------------------------------------

net::server_response telegram_simulator::get_chat(call& c) {
    if (!c.has("chat_id")) {
        return bad_request("chat_id is empty");
    }
    const auto id = c.integer("chat_id").value_or(0);
    const auto* chat = find_chat(id);
    if (chat == nullptr) {
        return chat_not_found();
    }
    // ChatFullInfo: the Chat fields plus the ones every chat has.
    auto info = chat_json(id);
    info["accent_color_id"] = static_cast<std::int64_t>(id % 7 < 0 ? -(id % 7) : id % 7);
    info["max_reaction_count"] = 11;
    info["accepted_gift_types"] = json::object{{"unlimited_gifts", true},
                                               {"limited_gifts", true},
                                               {"unique_gifts", true},
                                               {"premium_subscription", true}};
    if (chat->type != "private") {
        info["permissions"] = json::object{{"can_send_messages", true}};
    }
    return api_ok(info);
}

net::server_response telegram_simulator::get_chat_member(call& c) {
    if (!c.has("chat_id")) {
        return bad_request("chat_id is empty");
    }
    const auto* chat = find_chat(c.integer("chat_id").value_or(0));
    if (chat == nullptr) {
        return chat_not_found();
    }
    const auto user_id = c.integer("user_id").value_or(0);
    if (user_id == bot_id()) {
        return api_ok(json::object{{"status", chat->type == "private" ? "member" : "administrator"},
                                   {"user", bot_json()}});
    }
    const auto* user = find_chat(user_id);
    if (user == nullptr || user->type != "private") {
        return bad_request("user not found"); // Client.cpp: fail_query_with_error(..., "user not found")
    }
    std::string status = "left";
    if (chat->type == "private") {
        status = chat->id == user_id ? "member" : "left";
    } else if (auto it = chat->members.find(user_id); it != chat->members.end()) {
        status = it->second;
    }
    return api_ok(json::object{{"status", status}, {"user", user_json(user_id)}});
}

// --- queries ----------------------------------------------------------------------------------

net::server_response telegram_simulator::answer_callback_query(call& c) {
    const auto id = c.str("callback_query_id").value_or("");
    auto it = queries_.find(id);
    if (it == queries_.end() || it->second.kind != "callback_query") {
        return api_error(400, query_too_old);
    }
    const auto text = c.str("text").value_or("");
    if (telegram::utf16_length(text) > 200) {
        return bad_request("MESSAGE_TOO_LONG");
    }
    const auto chat_id = it->second.chat_id;
    queries_.erase(it); // a second answer is "too old"
    record({.what = sent_item::kind::callback_answer,
            .chat_id = chat_id,
            .text = text,
            .callback_query_id = id,
            .show_alert = c.flag("show_alert")});
    return api_ok(true);
}

net::server_response telegram_simulator::answer_inline_query(call& c) {
    const auto id = c.str("inline_query_id").value_or("");
    auto it = queries_.find(id);
    if (it == queries_.end() || it->second.kind != "inline_query") {
        return api_error(400, query_too_old);
    }
    if (!c.has("results")) {
        return required("results");
    }
    auto results = c.structured("results");
    if (!results || !results->is_array()) {
        // Client.cpp, get_inline_query_results
        return bad_request("can't parse JSON encoded inline query results: expected an Array");
    }
    if (results->get_array().size() > 50) {
        return bad_request("RESULTS_TOO_MUCH");
    }
    for (const auto& r : results->get_array()) {
        const auto* o = r.if_object();
        const auto* type = o != nullptr ? o->if_contains("type") : nullptr;
        const auto* rid = o != nullptr ? o->if_contains("id") : nullptr;
        if (type == nullptr || !type->is_string()) {
            return bad_request("can't parse inline query result: Field \"type\" must be of type String");
        }
        if (rid == nullptr || !rid->is_string() || rid->get_string().empty()) {
            return bad_request("can't parse inline query result: Field \"id\" must be of type String");
        }
    }
    const auto chat_id = it->second.chat_id;
    queries_.erase(it);
    record({.what = sent_item::kind::inline_answer,
            .chat_id = chat_id,
            .text = json::serialize(*results),
            .callback_query_id = id});
    return api_ok(true);
}

net::server_response telegram_simulator::send_chat_action(call& c) {
    static const std::vector<std::string_view> actions{"typing",
                                                       "upload_photo",
                                                       "record_video",
                                                       "upload_video",
                                                       "record_voice",
                                                       "upload_voice",
                                                       "upload_document",
                                                       "choose_sticker",
                                                       "find_location",
                                                       "record_video_note",
                                                       "upload_video_note"};
    auto target = chat_for_send(c, "chat_id");
    if (auto* bad = std::get_if<response>(&target)) {
        return std::move(*bad);
    }
    auto& chat = *std::get<chat_state*>(target);
    const auto action = c.str("action").value_or("");
    if (std::find(actions.begin(), actions.end(), action) == actions.end()) {
        return bad_request("wrong parameter action in request");
    }
    record({.what = sent_item::kind::action, .chat_id = chat.id, .text = action});
    return api_ok(true);
}

// --- Telegram Stars ---------------------------------------------------------------------------
// contracts/telegram-drafts-stars-voice.md §2. The upper-case error names are Telegram's server
// errors as bots receive them (unconfirmed here which of them the Bot API server rewords).

std::variant<json::object, net::server_response> telegram_simulator::checked_invoice(call& c) {
    for (auto name : {"title", "description", "payload", "currency", "prices"}) {
        if (c.str(name).value_or("").empty() && !c.structured(name)) {
            return required(name);
        }
    }
    const auto title = c.str("title").value_or("");
    const auto description = c.str("description").value_or("");
    const auto payload = c.str("payload").value_or("");
    const auto currency = c.str("currency").value_or("");
    if (telegram::utf16_length(title) > 32) {
        return bad_request("TITLE_INVALID");
    }
    if (telegram::utf16_length(description) > 255) {
        return bad_request("DESCRIPTION_INVALID");
    }
    if (payload.size() > 128) {
        return bad_request("INVOICE_PAYLOAD_INVALID");
    }
    auto prices = c.structured("prices");
    if (!prices || !prices->is_array()) {
        return bad_request("can't parse prices JSON object");
    }
    std::int64_t total = 0;
    for (const auto& p : prices->get_array()) {
        const auto* o = p.if_object();
        const auto* label = o != nullptr ? o->if_contains("label") : nullptr;
        const auto* amount = o != nullptr ? o->if_contains("amount") : nullptr;
        if (label == nullptr || !label->is_string() || label->get_string().empty()) {
            return bad_request(
                "can't parse labeled price: LabeledPrice label must be non-empty"); // Client.cpp
        }
        if (amount == nullptr || !amount->is_int64()) {
            return bad_request("can't parse labeled price: Field \"amount\" must be of type Number");
        }
        total += amount->get_int64();
    }
    if (currency == "XTR" &&
        (prices->get_array().size() != 1 || !c.str("provider_token").value_or("").empty())) {
        return bad_request("STARS_INVOICE_INVALID"); // Stars: one price, no provider token
    }
    if (currency != "XTR" && c.str("provider_token").value_or("").empty()) {
        return bad_request("PAYMENT_PROVIDER_INVALID");
    }
    if (total <= 0) {
        return bad_request("CURRENCY_TOTAL_AMOUNT_INVALID");
    }
    return json::object{{"title", title},
                        {"description", description},
                        {"payload", payload},
                        {"currency", currency},
                        {"total_amount", total}};
}

net::server_response telegram_simulator::send_invoice(call& c) {
    auto target = chat_for_send(c, "chat_id");
    if (auto* bad = std::get_if<response>(&target)) {
        return std::move(*bad);
    }
    auto& chat = *std::get<chat_state*>(target);
    auto invoice = checked_invoice(c);
    if (auto* bad = std::get_if<response>(&invoice)) {
        return std::move(*bad);
    }
    const auto& meta = std::get<json::object>(invoice);
    auto markup = check_markup(c);
    if (auto* bad = std::get_if<response>(&markup)) {
        return std::move(*bad);
    }
    if (auto limited = check_rate(c, chat.id)) {
        return std::move(*limited);
    }
    const std::string title(meta.at("title").as_string());
    json::object msg{{"invoice",
                      json::object{{"title", title},
                                   {"description", meta.at("description")},
                                   {"start_parameter", c.str("start_parameter").value_or("")},
                                   {"currency", meta.at("currency")},
                                   {"total_amount", meta.at("total_amount")}}}};
    auto& stored = post(chat,
                        std::move(msg),
                        "invoice",
                        {.what = sent_item::kind::invoice, .text = title},
                        std::get<std::string>(markup));
    stored.meta = json::object{{"payload", meta.at("payload")},
                               {"currency", meta.at("currency")},
                               {"total_amount", meta.at("total_amount")}};
    return api_ok(stored.json);
}

net::server_response telegram_simulator::create_invoice_link(call& c) {
    auto invoice = checked_invoice(c);
    if (auto* bad = std::get_if<response>(&invoice)) {
        return std::move(*bad);
    }
    auto meta = std::get<json::object>(std::move(invoice));
    if (c.has("subscription_period")) {
        // Stars subscriptions: exactly 30 days, at most 10000 Stars (contract §2).
        const auto period = c.integer("subscription_period").value_or(0);
        if (period != 2592000) {
            return bad_request("SUBSCRIPTION_PERIOD_INVALID");
        }
        if (meta.at("currency") != "XTR" || meta.at("total_amount").as_int64() > 10000) {
            return bad_request("SUBSCRIPTION_INVALID");
        }
        meta["period"] = period;
    }
    auto link = "https://t.me/$" + random_suffix(rng_, 24);
    invoice_links_.emplace_back(link, std::move(meta));
    return api_ok(json::value(link));
}

net::server_response telegram_simulator::answer_pre_checkout_query(call& c) {
    const auto id = c.str("pre_checkout_query_id").value_or("");
    auto it = queries_.find(id);
    if (it == queries_.end() || it->second.kind != "pre_checkout_query") {
        return api_error(400, query_too_old);
    }
    if (!c.has("ok")) {
        return required("ok");
    }
    const bool ok = c.flag("ok");
    if (!ok && c.str("error_message").value_or("").empty()) {
        return bad_request("ERROR_MESSAGE_EMPTY");
    }
    const auto query = it->second;
    queries_.erase(it);
    if (time().now() - query.asked > cfg_.pre_checkout_timeout) {
        // Too late: Telegram cancelled the payment at the 10 s mark; the user was charged nothing.
        ++counters_.payments_cancelled;
        return api_error(400, query_too_old);
    }
    if (!ok) {
        ++counters_.payments_cancelled;
        checkout_refusals_.push_back(c.str("error_message").value_or(""));
        return api_ok(true); // the user sees the bot's error_message; no payment happens
    }
    // The payment goes through: the bot receives the successful_payment service message.
    auto& chat = *find_chat(query.chat_id);
    std::optional<std::int64_t> expires;
    if (const auto* period = query.invoice.if_contains("period")) {
        expires = unix_now() + period->as_int64();
    }
    complete_payment(chat, query.user_id, query.invoice, expires, true);
    if (expires) {
        subscriptions_[query.user_id] = {query.invoice, *expires, true};
    }
    return api_ok(true);
}

std::string telegram_simulator::complete_payment(chat_state& chat,
                                                 std::int64_t user_id,
                                                 const json::object& invoice,
                                                 std::optional<std::int64_t> expires,
                                                 bool first_recurring) {
    const auto charge_id = "stxSIM" + random_suffix(rng_, 40);
    json::object payment{{"currency", invoice.at("currency")},
                         {"total_amount", invoice.at("total_amount")},
                         {"invoice_payload", invoice.at("payload")},
                         {"telegram_payment_charge_id", charge_id},
                         {"provider_payment_charge_id", ""}};
    if (expires) {
        payment["subscription_expiration_date"] = *expires;
        payment["is_recurring"] = true;
        if (first_recurring) {
            payment["is_first_recurring"] = true;
        }
    }
    charges_[charge_id] = {user_id,
                           invoice.at("total_amount").as_int64(),
                           std::string(invoice.at("payload").as_string()),
                           false,
                           unix_now()};
    ++counters_.payments_completed;
    auto msg = user_message_json(chat, user_id, 0);
    msg["successful_payment"] = std::move(payment);
    auto& stored = add_message(chat, std::move(msg), "successful_payment", user_id);
    enqueue_update("message", json::serialize(stored.json));
    return charge_id;
}

net::server_response telegram_simulator::refund_star_payment(call& c) {
    const auto user_id = c.integer("user_id").value_or(0);
    const auto charge_id = c.str("telegram_payment_charge_id").value_or("");
    if (charge_id.empty()) {
        return required("telegram_payment_charge_id");
    }
    auto it = charges_.find(charge_id);
    if (it == charges_.end() || it->second.user_id != user_id) {
        return bad_request("CHARGE_NOT_FOUND");
    }
    if (it->second.refunded) {
        return bad_request("CHARGE_ALREADY_REFUNDED"); // the contract's §2 name
    }
    it->second.refunded = true;
    ++counters_.payments_refunded;
    auto* chat = find_chat(user_id);
    if (chat != nullptr) {
        auto msg = user_message_json(*chat, user_id, 0);
        msg["refunded_payment"] = json::object{{"currency", "XTR"},
                                               {"total_amount", it->second.amount},
                                               {"invoice_payload", it->second.payload},
                                               {"telegram_payment_charge_id", charge_id}};
        auto& stored = add_message(*chat, std::move(msg), "refunded_payment", user_id);
        enqueue_update("message", json::serialize(stored.json));
    }
    return api_ok(true);
}

net::server_response telegram_simulator::get_star_transactions(call& c) {
    // StarTransactions: the bot's incoming payments (and the refunds, as outgoing ones), newest
    // first, `offset` skipped, at most `limit` (1-100, default 100).
    const auto offset = c.integer("offset").value_or(0);
    const auto limit = c.integer("limit").value_or(100);
    if (offset < 0) {
        return bad_request("OFFSET_INVALID");
    }
    if (limit < 1 || limit > 100) {
        return bad_request("LIMIT_INVALID");
    }
    std::vector<const std::pair<const std::string, charge>*> ordered;
    for (const auto& entry : charges_) {
        ordered.push_back(&entry);
    }
    std::stable_sort(ordered.begin(), ordered.end(), [](const auto* a, const auto* b) {
        return a->second.date > b->second.date;
    });
    json::array list;
    for (std::size_t i = static_cast<std::size_t>(offset);
         i < ordered.size() && list.size() < static_cast<std::size_t>(limit);
         ++i) {
        const auto& [id, ch] = *ordered[i];
        json::object partner{{"type", "user"}, {"user", user_json(ch.user_id)}};
        json::object t{{"id", id}, {"amount", ch.amount}, {"date", ch.date}};
        if (ch.refunded) {
            t["receiver"] = std::move(partner); // the Stars went back to the user
        } else {
            t["source"] = std::move(partner);
        }
        list.push_back(std::move(t));
    }
    return api_ok(json::object{{"transactions", std::move(list)}});
}

std::vector<std::pair<std::int64_t, std::string>>
telegram_simulator::invoices_to(std::int64_t user_id) const {
    std::vector<std::pair<std::int64_t, std::string>> out;
    const auto it = chats_.find(user_id);
    if (it == chats_.end()) {
        return out;
    }
    for (const auto& [id, m] : it->second->messages) {
        if (m.content == "invoice") {
            out.emplace_back(id, std::string(m.meta.at("payload").as_string()));
        }
    }
    return out;
}

std::map<std::string, telegram_simulator::star_charge> telegram_simulator::star_charges() const {
    std::map<std::string, star_charge> out;
    for (const auto& [id, ch] : charges_) {
        out[id] = {ch.user_id, ch.amount, ch.payload, ch.refunded};
    }
    return out;
}

} // namespace companion::sim
