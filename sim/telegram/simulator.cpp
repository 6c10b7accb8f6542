// The Telegram simulator's world: the server and its stop, chats and their messages, the bot's
// identity, queued updates, what the bot did (and waiting for it), rate limits.
#include "sim/telegram/simulator.hpp"

#include "engine/log.hpp"
#include "engine/task_group.hpp"
#include "engine/time.hpp"
#include "sim/telegram/detail/state.hpp"

#include <boost/json/serialize.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <stdexcept>
#include <utility>

using namespace std::chrono_literals;

namespace companion::sim {

using namespace telegram_detail;

telegram_simulator::telegram_simulator(engine::executor ex, telegram_simulator_config cfg)
    : faults(cfg.time), ex_(ex), cfg_(std::move(cfg)), pollers_gone_(ex), rng_(std::random_device{}()) {
    pollers_gone_.set();
    // Update ids start at a random large base, as after a long silence on Telegram's side, so
    // nothing can assume they start small or at a fixed value.
    next_update_id_ = 100'000'000 + static_cast<std::int64_t>(rng_() % 800'000'000ULL);
    global_bucket_.emplace(cfg_.global_rate, time().now());
    server_ = std::make_unique<net::http_server>(
        ex_,
        net::server_config{.address = cfg_.address,
                           .port = cfg_.port,
                           .body_limit = std::max<std::size_t>(cfg_.max_upload_bytes, cfg_.max_photo_bytes) +
                                         1024 * 1024,
                           .name = cfg_.name});
    // The route lambdas only forward: the member coroutines hold `this` and the request, which the
    // server keeps alive until the handler completes.
    server_->route_prefix("/bot", [this](net::server_request& r) { return handle_api(r); });
    server_->route_prefix("/file/bot", [this](net::server_request& r) { return handle_file(r); });
    server_->route_prefix("/_sim/", [this](net::server_request& r) { return handle_control(r); });
    faults.expose(*server_);
}

telegram_simulator::~telegram_simulator() = default;

net::result<std::uint16_t> telegram_simulator::start() {
    return server_->start();
}

engine::awaitable<void> telegram_simulator::stop() {
    co_await engine::shielded(stop_serving());
}

engine::awaitable<void> telegram_simulator::stop_serving() {
    stopping_ = true;
    if (webhook_tasks_) {
        // Deliveries in flight end now; what they carried stays pending, as on Telegram.
        co_await webhook_tasks_->shutdown(1s);
    }
    // Held long polls answer now, with what they have, and before the server cancels its handlers:
    // a handler cancelled first could no longer write its answer, and the client would see its
    // connection cut instead of an empty result.
    for (auto& p : pollers_) {
        p->wake.set();
    }
    if (!pollers_.empty()) {
        engine::timer limit(ex_, 1s);
        limit.async_wait([this](boost::system::error_code ec) {
            if (!ec) {
                pollers_gone_.set(); // a poll that does not end is cancelled by the server's stop
            }
        });
        co_await pollers_gone_.wait();
    }
    co_await server_->stop(1s);
}

std::string telegram_simulator::base_url() const {
    return server_->base_url();
}

bool telegram_simulator::token_ok(std::string_view token) const {
    if (!cfg_.token.empty()) {
        return token == cfg_.token;
    }
    const auto colon = token.find(':');
    if (colon == std::string_view::npos || colon == 0) {
        return false;
    }
    for (char c : token.substr(0, colon)) {
        if (std::isdigit(static_cast<unsigned char>(c)) == 0) {
            return false;
        }
    }
    const auto secret = token.substr(colon + 1);
    if (secret.size() < 35) {
        return false;
    }
    return std::all_of(secret.begin(), secret.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-';
    });
}

std::int64_t telegram_simulator::bot_id() const noexcept {
    if (cfg_.bot_id != 0) {
        return cfg_.bot_id;
    }
    if (token_bot_id_ != 0) {
        return token_bot_id_;
    }
    std::int64_t id = 0;
    const auto colon = cfg_.token.find(':');
    if (colon != std::string::npos) {
        std::from_chars(cfg_.token.data(), cfg_.token.data() + colon, id);
    }
    return id != 0 ? id : 7000000001;
}

telegram_simulator::chat_state* telegram_simulator::find_chat(std::int64_t chat_id) {
    auto it = chats_.find(chat_id);
    return it == chats_.end() ? nullptr : it->second.get();
}

const telegram_simulator::chat_state* telegram_simulator::find_chat(std::int64_t chat_id) const {
    auto it = chats_.find(chat_id);
    return it == chats_.end() ? nullptr : it->second.get();
}

telegram_simulator::chat_state& telegram_simulator::user_chat(std::int64_t user_id, std::int64_t chat_id) {
    auto* user = find_chat(user_id);
    if (user == nullptr || user->type != "private") {
        throw std::invalid_argument("telegram_simulator: unknown user " + std::to_string(user_id));
    }
    if (chat_id == 0 || chat_id == user_id) {
        return *user;
    }
    auto* group = find_chat(chat_id);
    if (group == nullptr || group->type == "private") {
        throw std::invalid_argument("telegram_simulator: unknown group " + std::to_string(chat_id));
    }
    auto member = group->members.find(user_id);
    if (member == group->members.end() || member->second == "left") {
        throw std::invalid_argument("telegram_simulator: user " + std::to_string(user_id) +
                                    " is not in group " + std::to_string(chat_id));
    }
    return *group;
}

json::object telegram_simulator::bot_json() const {
    return json::object{{"id", bot_id()},
                        {"is_bot", true},
                        {"first_name", cfg_.bot_first_name},
                        {"username", cfg_.bot_username}};
}

json::object telegram_simulator::user_json(std::int64_t user_id) const {
    json::object o{{"id", user_id}, {"is_bot", false}};
    if (const auto* chat = find_chat(user_id); chat != nullptr && chat->type == "private") {
        o["first_name"] = chat->user.first_name;
        if (!chat->user.last_name.empty()) {
            o["last_name"] = chat->user.last_name;
        }
        if (!chat->user.username.empty()) {
            o["username"] = chat->user.username;
        }
        if (!chat->user.language_code.empty()) {
            o["language_code"] = chat->user.language_code;
        }
    } else {
        o["first_name"] = "User";
    }
    return o;
}

json::object telegram_simulator::chat_json(std::int64_t chat_id) const {
    const auto* chat = find_chat(chat_id);
    if (chat != nullptr && chat->type != "private") {
        return json::object{{"id", chat_id}, {"title", chat->title}, {"type", chat->type}};
    }
    json::object o{{"id", chat_id}, {"type", "private"}};
    if (chat != nullptr) {
        o["first_name"] = chat->user.first_name;
        if (!chat->user.last_name.empty()) {
            o["last_name"] = chat->user.last_name;
        }
        if (!chat->user.username.empty()) {
            o["username"] = chat->user.username;
        }
    }
    return o;
}

telegram_simulator::stored_message& telegram_simulator::add_message(chat_state& chat,
                                                                    json::object msg,
                                                                    std::string content,
                                                                    std::int64_t from_user) {
    const auto id = chat.next_message_id++;
    msg["message_id"] = id;
    msg["chat"] = chat_json(chat.id);
    if (!msg.contains("date")) {
        msg["date"] = unix_now();
    }
    auto& stored = chat.messages[id];
    stored.from_bot = from_user == 0;
    stored.from_user = from_user;
    stored.content = std::move(content);
    if (const auto* markup = msg.if_contains("reply_markup")) {
        stored.markup = json::serialize(*markup);
    }
    stored.json = std::move(msg);
    if (from_user != 0) {
        chat.last_from_user[from_user] = id;
    }
    return stored;
}

telegram_simulator::stored_message* telegram_simulator::find_message(chat_state& chat,
                                                                     std::int64_t message_id) {
    auto it = chat.messages.find(message_id);
    return it == chat.messages.end() ? nullptr : &it->second;
}

json::object
telegram_simulator::user_message_json(chat_state& chat, std::int64_t user_id, std::int64_t reply_to) {
    json::object msg{{"from", user_json(user_id)}, {"date", unix_now()}};
    if (reply_to != 0) {
        auto* target = find_message(chat, reply_to);
        if (target == nullptr) {
            throw std::invalid_argument("telegram_simulator: no message " + std::to_string(reply_to) +
                                        " to reply to");
        }
        json::object replied = target->json;
        replied.erase("reply_to_message"); // Telegram nests one level only
        msg["reply_to_message"] = std::move(replied);
    }
    return msg;
}

std::optional<net::server_response> telegram_simulator::check_rate(const call& c, std::int64_t chat_id) {
    if (!cfg_.enforce_rate_limits) {
        return std::nullopt;
    }
    auto* chat = find_chat(chat_id);
    const auto now = time().now();
    const auto wait_for_token = [](engine::token_bucket& b, engine::time_point t) {
        const double missing = 1.0 - b.available(t);
        return std::chrono::seconds(
            static_cast<std::int64_t>(std::ceil(missing / b.config().rate_per_second)));
    };
    if (chat != nullptr) {
        if (!chat->bucket) {
            chat->bucket.emplace(cfg_.per_chat_rate, now);
        }
        if (!chat->bucket->try_take(now)) {
            ++counters_.rate_limited;
            return flood_for(c, chat_id, wait_for_token(*chat->bucket, now));
        }
    }
    if (!global_bucket_->try_take(now)) {
        if (chat != nullptr) {
            chat->bucket->refund();
        }
        ++counters_.rate_limited;
        return flood_for(c, chat_id, wait_for_token(*global_bucket_, now));
    }
    return std::nullopt;
}

std::optional<net::server_response> telegram_simulator::check_draft_rate(const call& c, chat_state& chat) {
    if (!cfg_.enforce_rate_limits) {
        return std::nullopt;
    }
    const auto now = time().now();
    if (!chat.draft_bucket) {
        chat.draft_bucket.emplace(cfg_.per_chat_draft_rate, now);
    }
    if (chat.draft_bucket->try_take(now)) {
        return std::nullopt;
    }
    ++counters_.rate_limited;
    const double missing = 1.0 - chat.draft_bucket->available(now);
    const auto wait = std::chrono::seconds(
        static_cast<std::int64_t>(std::ceil(missing / chat.draft_bucket->config().rate_per_second)));
    return flood_for(c, chat.id, wait);
}

std::int64_t telegram_simulator::enqueue(std::string kind, std::function<std::string(std::int64_t)> render) {
    const auto id = next_update_id_++;
    pending_.push_back({id, std::move(kind), render(id)});
    for (auto& p : pollers_) {
        p->wake.set();
    }
    wake_webhook();
    return id;
}

std::int64_t telegram_simulator::enqueue_update(std::string kind, const std::string& body_json) {
    return enqueue(kind, [kind, body_json](std::int64_t id) {
        return R"({"update_id":)" + std::to_string(id) + R"(,")" + kind + R"(":)" + body_json + "}";
    });
}

void telegram_simulator::record(sent_item item) {
    item.at = time().now();
    auto* chat = find_chat(item.chat_id);
    if (chat == nullptr) {
        return;
    }
    switch (item.what) {
    case sent_item::kind::text:
    case sent_item::kind::photo:
    case sent_item::kind::video:
    case sent_item::kind::document:
    case sent_item::kind::audio:
    case sent_item::kind::voice:
    case sent_item::kind::animation:
    case sent_item::kind::invoice:
        chat->open_draft.reset(); // any real message dismisses the draft (contract §1)
        ++counters_.sends_per_chat[item.chat_id];
        break;
    case sent_item::kind::edit:
        ++counters_.sends_per_chat[item.chat_id];
        break;
    default:
        break;
    }
    chat->sent.push_back(std::move(item));
    for (auto* ev : sent_waiters_) {
        ev->set();
    }
}

std::vector<sent_item> telegram_simulator::sent_to(std::int64_t chat_id) const {
    const auto* chat = find_chat(chat_id);
    return chat == nullptr ? std::vector<sent_item>{} : chat->sent;
}

std::vector<sim_draft> telegram_simulator::drafts(std::int64_t chat_id) const {
    const auto* chat = find_chat(chat_id);
    return chat == nullptr ? std::vector<sim_draft>{} : chat->drafts;
}

bool telegram_simulator::draft_open(std::int64_t chat_id) const noexcept {
    const auto* chat = find_chat(chat_id);
    return chat != nullptr && chat->open_draft.has_value();
}

engine::awaitable<std::optional<sent_item>>
telegram_simulator::wait_for(std::int64_t chat_id,
                             std::function<bool(const sent_item&)> pred,
                             engine::duration timeout,
                             std::size_t from_index) {
    const auto deadline = time().now() + timeout;
    detail::wakeup ev(ex_, cfg_.time);
    auto it = sent_waiters_.insert(sent_waiters_.end(), &ev);
    struct unregister {
        std::list<detail::wakeup*>& list;
        std::list<detail::wakeup*>::iterator it;
        ~unregister() { list.erase(it); }
    } guard{sent_waiters_, it};
    for (;;) {
        if (auto* chat = find_chat(chat_id)) {
            for (; from_index < chat->sent.size(); ++from_index) {
                if (pred(chat->sent[from_index])) {
                    co_return chat->sent[from_index];
                }
            }
        }
        if (time().now() >= deadline) {
            co_return std::nullopt;
        }
        ev.reset();
        // Woken or not, the list is scanned once more before giving up.
        [[maybe_unused]] const bool woke = co_await ev.wait_until(deadline);
    }
}

std::string telegram_simulator::commands(const std::string& language_code) const {
    auto it = commands_.find(R"({"type":"default"})" + std::string("|") + language_code);
    return it == commands_.end() ? std::string("[]") : it->second;
}

const std::string* telegram_simulator::file_bytes(const std::string& file_id) const {
    auto it = files_.find(file_id);
    return it == files_.end() ? nullptr : it->second->bytes.get();
}

} // namespace companion::sim
