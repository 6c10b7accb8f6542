// The Telegram simulator: request decoding (query, form, JSON, multipart), the methods the bot
// uses with Telegram's validation and error texts, long polls, rate limits, file storage, the
// scripted-user API and its HTTP control endpoints.
#include "sim/telegram/simulator.hpp"

#include "engine/log.hpp"
#include "engine/task_group.hpp"
#include "engine/time.hpp"
#include "net/multipart.hpp"
#include "sim/media/mp4.hpp"
#include "sim/media/png.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <iomanip>
#include <sstream>
#include <stdexcept>
#include <utility>
#include <variant>

namespace companion::sim {

namespace json = boost::json;
namespace http = net::http;

struct telegram_simulator::stored_file {
    std::string file_id;
    std::string file_unique_id;
    bool video = false;
    std::shared_ptr<const std::string> bytes;
    std::int64_t width = 0;
    std::int64_t height = 0;
    std::int64_t duration = 0;
    std::string file_path;
    std::string mime_type;
    std::string file_name;
    std::uint64_t group = 0; ///< photos: the upload this size belongs to
};

struct telegram_simulator::chat_state {
    struct bot_message {
        sent_item::kind what = sent_item::kind::text;
        std::string text;
        std::string markup;
    };

    std::int64_t id = 0;
    telegram_sim_user user;
    bool blocked = false;
    std::int64_t next_message_id = 1;
    std::vector<sent_item> sent;
    std::map<std::int64_t, bot_message> bot_messages;
    std::optional<engine::token_bucket> bucket;
};

// One API call's method and parameters, whatever encoding they came in.
struct telegram_simulator::call {
    std::string method; ///< canonical name, e.g. "sendMessage"
    json::object params;
    std::map<std::string, net::multipart_part> files;

    bool has(std::string_view key) const { return params.contains(key); }

    std::optional<std::string> str(std::string_view key) const {
        const auto* v = params.if_contains(key);
        if (v == nullptr || v->is_null()) {
            return std::nullopt;
        }
        if (const auto* s = v->if_string()) {
            return std::string(*s);
        }
        if (v->is_int64() || v->is_uint64()) {
            return json::serialize(*v);
        }
        return std::nullopt;
    }

    std::optional<std::int64_t> integer(std::string_view key) const {
        const auto* v = params.if_contains(key);
        if (v == nullptr) {
            return std::nullopt;
        }
        if (v->is_int64()) {
            return v->get_int64();
        }
        if (v->is_double() && std::trunc(v->get_double()) == v->get_double()) {
            return static_cast<std::int64_t>(v->get_double());
        }
        if (const auto* s = v->if_string()) {
            std::int64_t n = 0;
            const char* end = s->data() + s->size();
            auto [ptr, ec] = std::from_chars(s->data(), end, n);
            if (ec == std::errc{} && ptr == end) {
                return n;
            }
        }
        return std::nullopt;
    }

    bool flag(std::string_view key) const {
        const auto* v = params.if_contains(key);
        if (v == nullptr) {
            return false;
        }
        if (v->is_bool()) {
            return v->get_bool();
        }
        if (const auto* s = v->if_string()) {
            return *s == "true" || *s == "1" || *s == "True";
        }
        return false;
    }

    /// An object or array parameter: native in JSON bodies, a JSON string in forms.
    /// nullopt when absent; a null value when present but unparsable.
    std::optional<json::value> structured(std::string_view key) const {
        const auto* v = params.if_contains(key);
        if (v == nullptr || v->is_null()) {
            return std::nullopt;
        }
        if (v->is_object() || v->is_array()) {
            return *v;
        }
        if (const auto* s = v->if_string()) {
            boost::system::error_code ec;
            auto parsed = json::parse(*s, ec);
            if (!ec) {
                return parsed;
            }
        }
        return json::value(nullptr);
    }
};

namespace {

net::server_response api_ok(const json::value& result) {
    json::object o;
    o["ok"] = true;
    o["result"] = result;
    return net::json_response(200, json::serialize(o));
}

net::server_response api_error(unsigned code, std::string_view description, json::object parameters = {}) {
    json::object o;
    o["ok"] = false;
    o["error_code"] = code;
    o["description"] = description;
    if (!parameters.empty()) {
        o["parameters"] = std::move(parameters);
    }
    return net::json_response(code, json::serialize(o));
}

net::server_response flood(std::chrono::seconds retry_after) {
    const auto n = std::max<std::int64_t>(1, retry_after.count());
    return api_error(429,
                     "Too Many Requests: retry after " + std::to_string(n),
                     json::object{{"retry_after", n}});
}

net::server_response blocked_error() {
    return api_error(403, "Forbidden: bot was blocked by the user");
}

net::server_response chat_not_found() {
    return api_error(400, "Bad Request: chat not found");
}

constexpr std::string_view query_too_old =
    "Bad Request: query is too old and response timeout expired or query ID is invalid";

std::int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::size_t utf8_sequence_length(unsigned char lead) noexcept {
    if (lead < 0x80) {
        return 1;
    }
    if ((lead & 0xE0) == 0xC0) {
        return 2;
    }
    if ((lead & 0xF0) == 0xE0) {
        return 3;
    }
    if ((lead & 0xF8) == 0xF0) {
        return 4;
    }
    return 1;
}

// Telegram counts text limits and entity offsets in UTF-16 code units.
std::int64_t utf16_length(std::string_view s) noexcept {
    std::int64_t units = 0;
    for (std::size_t i = 0; i < s.size();) {
        const auto n = utf8_sequence_length(static_cast<unsigned char>(s[i]));
        units += n == 4 ? 2 : 1;
        i += n;
    }
    return units;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return out;
}

const std::map<std::string, std::string>& method_names() {
    static const std::map<std::string, std::string> names = [] {
        std::map<std::string, std::string> m;
        for (const char* n : {"getMe",
                              "getUpdates",
                              "deleteWebhook",
                              "setWebhook",
                              "getWebhookInfo",
                              "sendMessage",
                              "editMessageText",
                              "sendPhoto",
                              "sendVideo",
                              "sendChatAction",
                              "answerCallbackQuery",
                              "setMyCommands",
                              "getMyCommands",
                              "getFile",
                              "deleteMessage"}) {
            m.emplace(lower(n), n);
        }
        return m;
    }();
    return names;
}

bool allowed_by_default(std::string_view kind) {
    return kind != "chat_member" && kind != "message_reaction" && kind != "message_reaction_count";
}

// Validates a reply_markup parameter the way Telegram does; returns its JSON text ("" when
// absent) or the error response.
std::variant<std::string, net::server_response> check_markup(const telegram_simulator::call& c) {
    auto markup = c.structured("reply_markup");
    if (!markup) {
        return std::string{};
    }
    const auto* o = markup->if_object();
    if (o == nullptr) {
        return api_error(400, "Bad Request: can't parse reply keyboard markup JSON object");
    }
    if (const auto* ik = o->if_contains("inline_keyboard")) {
        const auto* rows = ik->if_array();
        if (rows == nullptr) {
            return api_error(400, "Bad Request: field \"inline_keyboard\" must be an Array");
        }
        for (const auto& row : *rows) {
            const auto* buttons = row.if_array();
            if (buttons == nullptr) {
                return api_error(400, "Bad Request: field \"inline_keyboard\" must be an Array of Arrays");
            }
            for (const auto& b : *buttons) {
                const auto* button = b.if_object();
                if (button == nullptr || button->if_contains("text") == nullptr ||
                    !button->at("text").is_string()) {
                    return api_error(
                        400,
                        "Bad Request: can't parse inline keyboard button: Text is not specified");
                }
                if (const auto* data = button->if_contains("callback_data")) {
                    const auto* s = data->if_string();
                    if (s == nullptr || s->empty() || s->size() > 64) {
                        return api_error(400, "Bad Request: BUTTON_DATA_INVALID");
                    }
                } else if (button->if_contains("url") == nullptr) {
                    return api_error(
                        400,
                        "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the "
                        "inline keyboard");
                }
            }
        }
    } else if (o->if_contains("keyboard") == nullptr && o->if_contains("remove_keyboard") == nullptr &&
               o->if_contains("force_reply") == nullptr) {
        return api_error(400, "Bad Request: can't parse reply keyboard markup JSON object");
    }
    return json::serialize(*markup);
}

std::optional<net::server_response> check_text(std::string_view text, bool caption) {
    const auto n = utf16_length(text);
    if (caption) {
        if (n > 1024) {
            return api_error(400, "Bad Request: message caption is too long");
        }
        return std::nullopt;
    }
    if (n == 0) {
        return api_error(400, "Bad Request: message text is empty");
    }
    if (n > 4096) {
        return api_error(400, "Bad Request: message is too long");
    }
    return std::nullopt;
}

std::string random_suffix(std::mt19937_64& rng, std::size_t n) {
    static constexpr std::string_view alphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string s;
    s.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        s.push_back(alphabet[rng() % alphabet.size()]);
    }
    return s;
}

json::object file_json(const telegram_simulator::stored_file& f) {
    json::object o{{"file_id", f.file_id},
                   {"file_unique_id", f.file_unique_id},
                   {"file_size", static_cast<std::int64_t>(f.bytes->size())},
                   {"width", f.width},
                   {"height", f.height}};
    if (f.video) {
        o["duration"] = f.duration;
        o["mime_type"] = f.mime_type;
        if (!f.file_name.empty()) {
            o["file_name"] = f.file_name;
        }
    }
    return o;
}

json::object sent_item_json(const sent_item& s) {
    json::object o{{"kind", to_string(s.what)}, {"chat_id", s.chat_id}, {"message_id", s.message_id}};
    o["text"] = s.text;
    if (!s.reply_markup.empty()) {
        boost::system::error_code ec;
        auto markup = json::parse(s.reply_markup, ec);
        o["reply_markup"] = ec ? json::value(s.reply_markup) : markup;
    }
    if (!s.file_id.empty()) {
        o["file_id"] = s.file_id;
    }
    if (!s.callback_query_id.empty()) {
        o["callback_query_id"] = s.callback_query_id;
        o["show_alert"] = s.show_alert;
    }
    o["at_ms"] = std::chrono::duration_cast<std::chrono::milliseconds>(s.at.time_since_epoch()).count();
    return o;
}

} // namespace

std::string_view to_string(sent_item::kind k) noexcept {
    switch (k) {
    case sent_item::kind::text:
        return "text";
    case sent_item::kind::photo:
        return "photo";
    case sent_item::kind::video:
        return "video";
    case sent_item::kind::edit:
        return "edit";
    case sent_item::kind::action:
        return "action";
    case sent_item::kind::callback_answer:
        return "callback_answer";
    }
    return "text";
}

std::ostream& operator<<(std::ostream& os, sent_item::kind k) {
    return os << to_string(k);
}

telegram_simulator::telegram_simulator(engine::executor ex, telegram_simulator_config cfg)
    : ex_(ex), cfg_(std::move(cfg)), pollers_gone_(ex), rng_(std::random_device{}()) {
    pollers_gone_.set();
    // Update ids start at a random large base, as after a long silence on Telegram's side, so
    // nothing can assume they start small or at a fixed value.
    next_update_id_ = 100'000'000 + static_cast<std::int64_t>(rng_() % 800'000'000ULL);
    global_bucket_.emplace(cfg_.global_rate, engine::clock::now());
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

telegram_simulator::chat_state* telegram_simulator::find_chat(std::int64_t chat_id) {
    auto it = chats_.find(chat_id);
    return it == chats_.end() ? nullptr : it->second.get();
}

json::object telegram_simulator::bot_json() const {
    return json::object{{"id", cfg_.bot_id},
                        {"is_bot", true},
                        {"first_name", cfg_.bot_first_name},
                        {"username", cfg_.bot_username}};
}

json::object telegram_simulator::chat_json(std::int64_t chat_id) const {
    json::object o{{"id", chat_id}, {"type", "private"}};
    if (auto it = chats_.find(chat_id); it != chats_.end()) {
        o["first_name"] = it->second->user.first_name;
        if (!it->second->user.username.empty()) {
            o["username"] = it->second->user.username;
        }
    }
    return o;
}

std::optional<net::server_response> telegram_simulator::check_rate(std::int64_t chat_id) {
    if (!cfg_.enforce_rate_limits) {
        return std::nullopt;
    }
    auto* chat = find_chat(chat_id);
    const auto now = engine::clock::now();
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
            return flood_for(chat_id, wait_for_token(*chat->bucket, now));
        }
    }
    if (!global_bucket_->try_take(now)) {
        if (chat != nullptr) {
            chat->bucket->refund();
        }
        ++counters_.rate_limited;
        return flood_for(chat_id, wait_for_token(*global_bucket_, now));
    }
    return std::nullopt;
}

net::server_response telegram_simulator::flood_for(std::int64_t chat_id, std::chrono::seconds retry_after) {
    const auto n = std::max<std::int64_t>(1, retry_after.count());
    auto& until = flood_until_[chat_id];
    until = std::max(until, engine::clock::now() + std::chrono::seconds(n));
    return flood(std::chrono::seconds(n));
}

void telegram_simulator::check_flood_respected(const std::string& method,
                                               std::optional<std::int64_t> chat_id) {
    if (!chat_id || method == "getUpdates" || method == "answerCallbackQuery") {
        return;
    }
    auto it = flood_until_.find(*chat_id);
    if (it == flood_until_.end()) {
        return;
    }
    if (engine::clock::now() < it->second) {
        ++counters_.retry_after_violations; // Telegram would answer 429 again, or ban the bot
        engine::log().warn(
            "telegram_sim.retry_after_ignored",
            {{"chat", *chat_id},
             {"method", method},
             {"early_ms",
              std::chrono::duration_cast<std::chrono::milliseconds>(it->second - engine::clock::now())
                  .count()}});
    } else {
        flood_until_.erase(it);
    }
}

std::int64_t telegram_simulator::enqueue(std::string kind, std::function<std::string(std::int64_t)> render) {
    const auto id = next_update_id_++;
    pending_.push_back({id, std::move(kind), render(id)});
    for (auto& p : pollers_) {
        p->wake.set();
    }
    return id;
}

void telegram_simulator::record(sent_item item) {
    item.at = engine::clock::now();
    auto* chat = find_chat(item.chat_id);
    if (chat == nullptr) {
        return;
    }
    if (item.what == sent_item::kind::text || item.what == sent_item::kind::photo ||
        item.what == sent_item::kind::video || item.what == sent_item::kind::edit) {
        ++counters_.sends_per_chat[item.chat_id];
    }
    chat->sent.push_back(std::move(item));
    for (auto* ev : sent_waiters_) {
        ev->set();
    }
}

// --- scripted users -------------------------------------------------------------------------

std::int64_t telegram_simulator::add_user(telegram_sim_user u) {
    if (u.id == 0) {
        u.id = next_user_id_++;
    }
    auto& chat = chats_[u.id];
    if (!chat) {
        chat = std::make_unique<chat_state>();
        chat->id = u.id;
    }
    chat->user = u;
    return u.id;
}

std::int64_t telegram_simulator::user_sends_text(std::int64_t user_id, std::string text) {
    auto* chat = find_chat(user_id);
    if (chat == nullptr) {
        throw std::invalid_argument("telegram_simulator: unknown user " + std::to_string(user_id));
    }
    const auto message_id = chat->next_message_id++;
    json::object from{{"id", user_id}, {"is_bot", false}, {"first_name", chat->user.first_name}};
    if (!chat->user.username.empty()) {
        from["username"] = chat->user.username;
    }
    if (!chat->user.language_code.empty()) {
        from["language_code"] = chat->user.language_code;
    }
    json::object msg{{"message_id", message_id},
                     {"date", unix_now()},
                     {"from", std::move(from)},
                     {"chat", chat_json(user_id)},
                     {"text", text}};
    if (!text.empty() && text.front() == '/') {
        const auto end = text.find_first_of(" \n\t");
        const auto command = std::string_view(text).substr(0, end);
        msg["entities"] = json::array{
            json::object{{"offset", 0}, {"length", utf16_length(command)}, {"type", "bot_command"}}};
    }
    std::string body = json::serialize(msg);
    return enqueue("message", [body = std::move(body)](std::int64_t id) {
        return R"({"update_id":)" + std::to_string(id) + R"(,"message":)" + body + "}";
    });
}

std::string telegram_simulator::user_presses_button(std::int64_t user_id,
                                                    std::int64_t message_id,
                                                    std::string callback_data) {
    auto* chat = find_chat(user_id);
    if (chat == nullptr) {
        throw std::invalid_argument("telegram_simulator: unknown user " + std::to_string(user_id));
    }
    const auto query_id = std::to_string(2199023255552000ULL + next_callback_++);
    callbacks_[query_id] = user_id;
    json::object message;
    if (auto it = chat->bot_messages.find(message_id); it != chat->bot_messages.end()) {
        message = json::object{{"message_id", message_id},
                               {"date", unix_now()},
                               {"from", bot_json()},
                               {"chat", chat_json(user_id)}};
        if (it->second.what == sent_item::kind::text) {
            message["text"] = it->second.text;
        } else if (!it->second.text.empty()) {
            message["caption"] = it->second.text;
        }
        if (!it->second.markup.empty()) {
            message["reply_markup"] = json::parse(it->second.markup);
        }
    } else {
        // Unknown or deleted: Telegram sends an InaccessibleMessage (date 0).
        message = json::object{{"message_id", message_id}, {"date", 0}, {"chat", chat_json(user_id)}};
    }
    json::object from{{"id", user_id}, {"is_bot", false}, {"first_name", chat->user.first_name}};
    if (!chat->user.language_code.empty()) {
        from["language_code"] = chat->user.language_code;
    }
    json::object query{{"id", query_id},
                       {"from", std::move(from)},
                       {"message", std::move(message)},
                       {"chat_instance", std::to_string(-5317843091238470111LL + user_id)},
                       {"data", callback_data}};
    std::string body = json::serialize(query);
    enqueue("callback_query", [body = std::move(body)](std::int64_t id) {
        return R"({"update_id":)" + std::to_string(id) + R"(,"callback_query":)" + body + "}";
    });
    return query_id;
}

void telegram_simulator::user_blocks_bot(std::int64_t user_id, bool blocked) {
    auto* chat = find_chat(user_id);
    if (chat == nullptr) {
        throw std::invalid_argument("telegram_simulator: unknown user " + std::to_string(user_id));
    }
    chat->blocked = blocked;
    json::object from{{"id", user_id}, {"is_bot", false}, {"first_name", chat->user.first_name}};
    const auto date = unix_now();
    json::object member{
        {"chat", chat_json(user_id)},
        {"from", std::move(from)},
        {"date", date},
        {"old_chat_member", json::object{{"user", bot_json()}, {"status", blocked ? "member" : "kicked"}}},
        {"new_chat_member",
         json::object{{"user", bot_json()}, {"status", blocked ? "kicked" : "member"}, {"until_date", 0}}}};
    std::string body = json::serialize(member);
    enqueue("my_chat_member", [body = std::move(body)](std::int64_t id) {
        return R"({"update_id":)" + std::to_string(id) + R"(,"my_chat_member":)" + body + "}";
    });
}

std::int64_t telegram_simulator::inject_raw_update(std::string text) {
    return enqueue("", [text = std::move(text)](std::int64_t id) {
        std::string out = text;
        const std::string id_text = std::to_string(id);
        for (auto pos = out.find("$ID"); pos != std::string::npos; pos = out.find("$ID", pos)) {
            out.replace(pos, 3, id_text);
        }
        return out;
    });
}

std::vector<sent_item> telegram_simulator::sent_to(std::int64_t chat_id) const {
    auto it = chats_.find(chat_id);
    if (it == chats_.end()) {
        return {};
    }
    return it->second->sent;
}

engine::awaitable<std::optional<sent_item>>
telegram_simulator::wait_for(std::int64_t chat_id,
                             std::function<bool(const sent_item&)> pred,
                             engine::duration timeout,
                             std::size_t from_index) {
    const auto deadline = engine::clock::now() + timeout;
    detail::wakeup ev(ex_);
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
        if (engine::clock::now() >= deadline) {
            co_return std::nullopt;
        }
        ev.reset();
        // Woken or not, the list is scanned once more before giving up.
        [[maybe_unused]] const bool woke = co_await ev.wait_until(deadline);
    }
}

std::string telegram_simulator::commands(const std::string& language_code) const {
    auto it = commands_.find(language_code);
    return it == commands_.end() ? std::string("[]") : it->second;
}

const std::string* telegram_simulator::file_bytes(const std::string& file_id) const {
    auto it = files_.find(file_id);
    return it == files_.end() ? nullptr : it->second->bytes.get();
}

// --- the API ----------------------------------------------------------------------------------

engine::awaitable<net::server_response> telegram_simulator::handle_api(net::server_request& req) {
    ++counters_.requests;
    // "/bot<token>/<method>"
    const std::string_view rest = req.path().substr(4);
    const auto slash = rest.find('/');
    if (slash == std::string_view::npos) {
        co_return api_error(404, "Not Found");
    }
    if (!token_ok(rest.substr(0, slash))) {
        co_return api_error(401, "Unauthorized");
    }
    const auto names = method_names().find(lower(rest.substr(slash + 1)));
    if (names == method_names().end()) {
        co_return api_error(404, "Not Found");
    }

    call c;
    c.method = names->second;
    if (auto q = net::parse_form(req.query())) {
        for (auto& [k, v] : *q) {
            c.params[k] = v;
        }
    }
    const std::string content_type = lower(req.header("Content-Type"));
    const std::string& body = req.msg.body();
    if (content_type.starts_with("application/json") && !body.empty()) {
        boost::system::error_code ec;
        auto v = json::parse(body, ec);
        if (ec || !v.is_object()) {
            co_return api_error(400, "Bad Request: can't parse JSON object");
        }
        for (auto& kv : v.as_object()) {
            c.params[kv.key()] = kv.value();
        }
    } else if (content_type.starts_with("application/x-www-form-urlencoded")) {
        auto form = net::parse_form(body);
        if (!form) {
            co_return api_error(400, "Bad Request: can't parse form data");
        }
        for (auto& [k, v] : *form) {
            c.params[k] = v;
        }
    } else if (content_type.starts_with("multipart/form-data")) {
        auto boundary = net::multipart_boundary(req.header("Content-Type"));
        if (!boundary) {
            co_return api_error(400, "Bad Request: multipart boundary is missing");
        }
        auto parts = net::parse_multipart(body, *boundary);
        if (!parts) {
            co_return api_error(400, "Bad Request: can't parse multipart data");
        }
        for (auto& p : *parts) {
            if (!p.filename.empty()) {
                auto name = p.name;
                c.files[name] = std::move(p);
            } else {
                c.params[p.name] = p.data;
            }
        }
    }

    net::server_response planned;
    bool cut_mid_body = false;
    bool reset_after_effect = false;
    const auto chat_param = c.integer("chat_id");
    check_flood_respected(c.method, chat_param);
    if (auto f = faults.take(c.method)) {
        switch (f->kind) {
        case fault_kind::rate_limited:
            ++counters_.rate_limited;
            if (chat_param) {
                co_return flood_for(*chat_param, std::chrono::ceil<std::chrono::seconds>(f->delay));
            }
            co_return flood(std::chrono::ceil<std::chrono::seconds>(f->delay));
        case fault_kind::server_error:
            if (f->detail == "html") {
                co_return net::text_response(
                    f->status != 0 ? f->status : 502,
                    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad "
                    "Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n",
                    "text/html");
            }
            co_return api_error(f->status != 0 ? f->status : 500, "Internal Server Error");
        case fault_kind::custom:
            if (f->detail == "conflict") {
                ++counters_.conflicts;
                co_return api_error(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only one "
                    "bot instance is running");
            }
            co_return api_error(f->status != 0 ? f->status : 400, "Bad Request: " + f->detail);
        case fault_kind::refusal:
            // Telegram has no content refusal; the nearest is a user who cannot be written to.
            co_return blocked_error();
        case fault_kind::reset_mid_body:
            // Cut the real answer, so the client sees a complete header and a truncated body.
            cut_mid_body = true;
            break;
        case fault_kind::reset:
            if (f->detail == "after_effect") {
                // The method takes effect, then the answer is lost: the client cannot tell.
                reset_after_effect = true;
                ++counters_.resets_after_effect;
                break;
            }
            [[fallthrough]];
        default: {
            const bool done = co_await apply_wire_fault(*f, planned);
            if (done) {
                co_return planned;
            }
            break;
        }
        }
    }
    auto response = co_await dispatch(c);
    if (planned.fault.what != net::response_fault::kind::none) {
        response.fault = planned.fault;
    }
    if (cut_mid_body) {
        response.fault.what = net::response_fault::kind::reset_mid_body;
    }
    if (reset_after_effect) {
        response.fault.what = net::response_fault::kind::reset;
    }
    co_return response;
}

engine::awaitable<net::server_response> telegram_simulator::dispatch(call& c) {
    const std::string& m = c.method;
    if (m == "getUpdates") {
        auto r = co_await get_updates(c);
        co_return r;
    }
    if (m == "getMe") {
        auto me = bot_json();
        me["can_join_groups"] = true;
        me["can_read_all_group_messages"] = false;
        me["supports_inline_queries"] = false;
        co_return api_ok(me);
    }
    if (m == "sendMessage") {
        co_return send_message(c);
    }
    if (m == "editMessageText") {
        co_return edit_message_text(c);
    }
    if (m == "sendPhoto") {
        co_return send_media(c, false);
    }
    if (m == "sendVideo") {
        co_return send_media(c, true);
    }
    if (m == "sendChatAction") {
        co_return send_chat_action(c);
    }
    if (m == "answerCallbackQuery") {
        co_return answer_callback_query(c);
    }
    if (m == "setMyCommands") {
        co_return set_my_commands(c);
    }
    if (m == "getMyCommands") {
        const auto lang = c.str("language_code").value_or("");
        co_return api_ok(json::parse(commands(lang)));
    }
    if (m == "getFile") {
        co_return get_file(c);
    }
    if (m == "setWebhook") {
        co_return set_webhook(c, false);
    }
    if (m == "deleteWebhook") {
        co_return set_webhook(c, true);
    }
    if (m == "getWebhookInfo") {
        co_return api_ok(json::object{{"url", webhook_url_},
                                      {"has_custom_certificate", false},
                                      {"pending_update_count", pending_.size()}});
    }
    if (m == "deleteMessage") {
        auto* chat = find_chat(c.integer("chat_id").value_or(0));
        if (chat == nullptr) {
            co_return chat_not_found();
        }
        if (chat->bot_messages.erase(c.integer("message_id").value_or(0)) == 0) {
            co_return api_error(400, "Bad Request: message to delete not found");
        }
        co_return api_ok(true);
    }
    co_return api_error(404, "Not Found");
}

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
    if (auto allowed = c.structured("allowed_updates")) {
        if (!allowed->is_array()) {
            co_return api_error(400, "Bad Request: can't parse allowed updates");
        }
        allowed_updates_.clear();
        for (const auto& a : allowed->get_array()) {
            if (a.is_string()) {
                allowed_updates_.emplace_back(a.get_string());
            }
        }
    }
    if (offset) {
        if (*offset < 0) {
            // -N: the last N updates; everything earlier is forgotten.
            while (static_cast<std::int64_t>(pending_.size()) > -*offset) {
                pending_.pop_front();
            }
        } else {
            while (!pending_.empty() && pending_.front().id < *offset) {
                pending_.pop_front(); // confirmed
            }
        }
    }

    // Only one consumer per token: a newer request terminates the older waiting ones.
    for (auto& p : pollers_) {
        p->kicked = true;
        p->wake.set();
    }
    auto me = std::make_shared<poller>(ex_);
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
    const auto deadline = engine::clock::now() + hold;
    const auto allowed = [this](const pending_update& u) {
        if (u.kind.empty()) {
            return true;
        }
        if (allowed_updates_.empty()) {
            return allowed_by_default(u.kind);
        }
        return std::find(allowed_updates_.begin(), allowed_updates_.end(), u.kind) != allowed_updates_.end();
    };
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
            if (!allowed(u)) {
                continue;
            }
            batch += n == 0 ? "" : ",";
            batch += u.json;
            ++n;
        }
        if (n > 0 || stopping_ || engine::clock::now() >= deadline) {
            co_return net::json_response(200, R"({"ok":true,"result":[)" + batch + "]}");
        }
        me->wake.reset();
        // At the deadline the loop answers with whatever is there (usually nothing).
        [[maybe_unused]] const bool woke = co_await me->wake.wait_until(deadline);
    }
}

net::server_response telegram_simulator::send_message(call& c) {
    const auto chat_id = c.integer("chat_id");
    if (!chat_id) {
        return c.has("chat_id") ? chat_not_found() : api_error(400, "Bad Request: chat_id is empty");
    }
    auto* chat = find_chat(*chat_id);
    if (chat == nullptr) {
        return chat_not_found();
    }
    if (chat->blocked) {
        return blocked_error();
    }
    const auto text = c.str("text").value_or("");
    if (auto bad = check_text(text, false)) {
        return std::move(*bad);
    }
    auto markup = check_markup(c);
    if (auto* bad = std::get_if<net::server_response>(&markup)) {
        return std::move(*bad);
    }
    if (auto limited = check_rate(*chat_id)) {
        return std::move(*limited);
    }
    const auto message_id = chat->next_message_id++;
    const auto& markup_text = std::get<std::string>(markup);
    chat->bot_messages[message_id] = {sent_item::kind::text, text, markup_text};
    json::object msg{{"message_id", message_id},
                     {"from", bot_json()},
                     {"chat", chat_json(*chat_id)},
                     {"date", unix_now()},
                     {"text", text}};
    if (!markup_text.empty()) {
        auto parsed = json::parse(markup_text);
        if (parsed.as_object().contains("inline_keyboard")) {
            msg["reply_markup"] = std::move(parsed);
        }
    }
    record({.what = sent_item::kind::text,
            .chat_id = *chat_id,
            .message_id = message_id,
            .text = text,
            .reply_markup = markup_text});
    return api_ok(msg);
}

net::server_response telegram_simulator::edit_message_text(call& c) {
    if (c.has("inline_message_id")) {
        return api_error(400, "Bad Request: message to edit not found");
    }
    const auto chat_id = c.integer("chat_id");
    if (!chat_id) {
        return api_error(400, "Bad Request: chat_id is empty");
    }
    auto* chat = find_chat(*chat_id);
    if (chat == nullptr) {
        return chat_not_found();
    }
    if (chat->blocked) {
        return blocked_error();
    }
    const auto message_id = c.integer("message_id").value_or(0);
    auto it = chat->bot_messages.find(message_id);
    if (it == chat->bot_messages.end()) {
        return api_error(400, "Bad Request: message to edit not found");
    }
    if (it->second.what != sent_item::kind::text) {
        return api_error(400, "Bad Request: there is no text in the message to edit");
    }
    const auto text = c.str("text").value_or("");
    if (auto bad = check_text(text, false)) {
        return std::move(*bad);
    }
    auto markup = check_markup(c);
    if (auto* bad = std::get_if<net::server_response>(&markup)) {
        return std::move(*bad);
    }
    const auto& markup_text = std::get<std::string>(markup);
    if (text == it->second.text && markup_text == it->second.markup) {
        return api_error(
            400,
            "Bad Request: message is not modified: specified new message content and reply markup "
            "are exactly the same as a current content and reply markup of the message");
    }
    if (auto limited = check_rate(*chat_id)) {
        return std::move(*limited);
    }
    it->second.text = text;
    it->second.markup = markup_text; // an edit without reply_markup removes the inline keyboard
    json::object msg{{"message_id", message_id},
                     {"from", bot_json()},
                     {"chat", chat_json(*chat_id)},
                     {"date", unix_now()},
                     {"edit_date", unix_now()},
                     {"text", text}};
    if (!markup_text.empty()) {
        msg["reply_markup"] = json::parse(markup_text);
    }
    record({.what = sent_item::kind::edit,
            .chat_id = *chat_id,
            .message_id = message_id,
            .text = text,
            .reply_markup = markup_text});
    return api_ok(msg);
}

net::server_response telegram_simulator::send_media(call& c, bool video) {
    const std::string field = video ? "video" : "photo";
    const auto chat_id = c.integer("chat_id");
    if (!chat_id) {
        return api_error(400, "Bad Request: chat_id is empty");
    }
    auto* chat = find_chat(*chat_id);
    if (chat == nullptr) {
        return chat_not_found();
    }
    if (chat->blocked) {
        return blocked_error();
    }
    const auto caption = c.str("caption").value_or("");
    if (auto bad = check_text(caption, true)) {
        return std::move(*bad);
    }
    auto markup = check_markup(c);
    if (auto* bad = std::get_if<net::server_response>(&markup)) {
        return std::move(*bad);
    }

    // The file: an uploaded part (named after the field or referenced as attach://<part>), or an
    // earlier file_id.
    const net::multipart_part* upload = nullptr;
    std::shared_ptr<stored_file> existing;
    if (auto it = c.files.find(field); it != c.files.end()) {
        upload = &it->second;
    } else if (auto ref = c.str(field)) {
        if (ref->starts_with("attach://")) {
            auto part = c.files.find(ref->substr(9));
            if (part == c.files.end()) {
                return api_error(400, "Bad Request: wrong file identifier/HTTP URL specified");
            }
            upload = &part->second;
        } else {
            auto known = files_.find(*ref);
            if (known == files_.end() || known->second->video != video) {
                return api_error(400, "Bad Request: wrong file identifier/HTTP URL specified");
            }
            existing = known->second;
        }
    } else {
        return api_error(400, "Bad Request: there is no " + field + " in the request");
    }

    std::vector<std::shared_ptr<stored_file>> sizes; // photo ladder (largest last) or the video
    if (upload != nullptr) {
        const auto limit = video ? cfg_.max_upload_bytes : cfg_.max_photo_bytes;
        if (upload->data.size() > limit) {
            return api_error(413, "Request Entity Too Large");
        }
        auto bytes = std::make_shared<const std::string>(upload->data);
        if (video) {
            auto f = std::make_shared<stored_file>();
            f->video = true;
            f->bytes = bytes;
            f->width = c.integer("width").value_or(0);
            f->height = c.integer("height").value_or(0);
            f->duration = c.integer("duration").value_or(0);
            if (auto info = media::read_mp4_info(*bytes)) {
                f->width = f->width != 0 ? f->width : info->width;
                f->height = f->height != 0 ? f->height : info->height;
                f->duration = f->duration != 0
                                  ? f->duration
                                  : static_cast<std::int64_t>(std::lround(info->duration.count()));
            }
            f->mime_type = upload->content_type.empty() ? "video/mp4" : upload->content_type;
            f->file_name = upload->filename;
            sizes.push_back(f);
        } else {
            const auto dims = media::read_image_size(*bytes);
            if (!dims) {
                return api_error(400, "Bad Request: IMAGE_PROCESS_FAILED");
            }
            if (dims->width + dims->height > 10000) {
                return api_error(400, "Bad Request: PHOTO_INVALID_DIMENSIONS");
            }
            // Telegram makes a ladder of sizes; the simulator keeps the bytes once and reports
            // scaled dimensions for the smaller rungs.
            const std::int64_t w = dims->width;
            const std::int64_t h = dims->height;
            const std::int64_t longest = std::max(w, h);
            std::vector<std::pair<std::int64_t, std::int64_t>> rungs;
            for (std::int64_t side : {90, 320, 800}) {
                if (side < longest) {
                    rungs.emplace_back(w * side / longest, h * side / longest);
                }
            }
            rungs.emplace_back(w, h);
            for (const auto& [rw, rh] : rungs) {
                auto f = std::make_shared<stored_file>();
                f->bytes = bytes;
                f->width = rw;
                f->height = rh;
                f->mime_type = "image/jpeg";
                sizes.push_back(f);
            }
        }
        const auto group = next_file_;
        for (auto& f : sizes) {
            const auto n = next_file_++;
            f->file_id =
                (video ? "BAACAgIAAxkDAAM" : "AgACAgIAAxkBAAM") + std::to_string(n) + random_suffix(rng_, 24);
            f->file_unique_id = "AQAD" + std::to_string(n) + random_suffix(rng_, 6);
            f->file_path =
                (video ? "videos/file_" : "photos/file_") + std::to_string(n) + (video ? ".mp4" : ".jpg");
            f->group = group;
            files_[f->file_id] = f;
            files_by_path_[f->file_path] = f;
            if (!video) {
                photo_groups_[group].push_back(f->file_id);
            }
        }
    } else if (video) {
        sizes.push_back(existing);
    } else {
        for (const auto& id : photo_groups_[existing->group]) {
            sizes.push_back(files_.at(id));
            if (id == existing->file_id) {
                break; // a resend by a smaller size's id gets that size as the largest
            }
        }
    }

    if (auto limited = check_rate(*chat_id)) {
        return std::move(*limited);
    }
    const auto message_id = chat->next_message_id++;
    const auto& markup_text = std::get<std::string>(markup);
    chat->bot_messages[message_id] = {video ? sent_item::kind::video : sent_item::kind::photo,
                                      caption,
                                      markup_text};
    json::object msg{{"message_id", message_id},
                     {"from", bot_json()},
                     {"chat", chat_json(*chat_id)},
                     {"date", unix_now()}};
    if (video) {
        msg["video"] = file_json(*sizes.back());
    } else {
        json::array photo;
        for (const auto& f : sizes) {
            photo.push_back(file_json(*f));
        }
        msg["photo"] = std::move(photo);
    }
    if (!caption.empty()) {
        msg["caption"] = caption;
    }
    if (!markup_text.empty()) {
        auto parsed = json::parse(markup_text);
        if (parsed.as_object().contains("inline_keyboard")) {
            msg["reply_markup"] = std::move(parsed);
        }
    }
    record({.what = video ? sent_item::kind::video : sent_item::kind::photo,
            .chat_id = *chat_id,
            .message_id = message_id,
            .text = caption,
            .reply_markup = markup_text,
            .file_id = sizes.back()->file_id});
    return api_ok(msg);
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
    const auto chat_id = c.integer("chat_id");
    if (!chat_id) {
        return api_error(400, "Bad Request: chat_id is empty");
    }
    auto* chat = find_chat(*chat_id);
    if (chat == nullptr) {
        return chat_not_found();
    }
    if (chat->blocked) {
        return blocked_error();
    }
    const auto action = c.str("action").value_or("");
    if (std::find(actions.begin(), actions.end(), action) == actions.end()) {
        return api_error(400, "Bad Request: wrong parameter action in request");
    }
    record({.what = sent_item::kind::action, .chat_id = *chat_id, .text = action});
    return api_ok(true);
}

net::server_response telegram_simulator::answer_callback_query(call& c) {
    const auto id = c.str("callback_query_id").value_or("");
    auto it = callbacks_.find(id);
    if (it == callbacks_.end()) {
        return api_error(400, query_too_old);
    }
    const auto text = c.str("text").value_or("");
    if (utf16_length(text) > 200) {
        return api_error(400, "Bad Request: MESSAGE_TOO_LONG");
    }
    const auto chat_id = it->second;
    callbacks_.erase(it); // a second answer is "too old"
    record({.what = sent_item::kind::callback_answer,
            .chat_id = chat_id,
            .text = text,
            .callback_query_id = id,
            .show_alert = c.flag("show_alert")});
    return api_ok(true);
}

net::server_response telegram_simulator::set_my_commands(call& c) {
    auto list_value = c.structured("commands");
    if (!list_value || !list_value->is_array()) {
        return api_error(400, "Bad Request: can't parse commands JSON object");
    }
    const auto& list = list_value->get_array();
    if (list.size() > 100) {
        return api_error(400, "Bad Request: BOT_COMMANDS_TOO_MUCH");
    }
    for (const auto& item : list) {
        const auto* o = item.if_object();
        const auto* command = o != nullptr ? o->if_contains("command") : nullptr;
        const auto* description = o != nullptr ? o->if_contains("description") : nullptr;
        if (command == nullptr || !command->is_string()) {
            return api_error(400, "Bad Request: BOT_COMMAND_INVALID");
        }
        const auto& name = command->get_string();
        const bool name_ok =
            !name.empty() && name.size() <= 32 && std::all_of(name.begin(), name.end(), [](char ch) {
                return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_';
            });
        if (!name_ok) {
            return api_error(400, "Bad Request: BOT_COMMAND_INVALID");
        }
        if (description == nullptr || !description->is_string()) {
            return api_error(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID");
        }
        const auto n = utf16_length(description->get_string());
        if (n < 1 || n > 256) {
            return api_error(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID");
        }
    }
    commands_[c.str("language_code").value_or("")] = json::serialize(*list_value);
    return api_ok(true);
}

net::server_response telegram_simulator::get_file(call& c) {
    auto it = files_.find(c.str("file_id").value_or(""));
    if (it == files_.end()) {
        return api_error(400, "Bad Request: invalid file_id");
    }
    const auto& f = *it->second;
    if (f.bytes->size() > 20 * 1024 * 1024) {
        return api_error(400, "Bad Request: file is too big");
    }
    return api_ok(json::object{{"file_id", f.file_id},
                               {"file_unique_id", f.file_unique_id},
                               {"file_size", static_cast<std::int64_t>(f.bytes->size())},
                               {"file_path", f.file_path}});
}

net::server_response telegram_simulator::set_webhook(call& c, bool remove) {
    if (c.flag("drop_pending_updates")) {
        pending_.clear();
    }
    if (remove) {
        webhook_url_.clear();
        return api_ok(true);
    }
    const auto url = c.str("url").value_or("");
    if (url.empty()) {
        webhook_url_.clear();
        return api_ok(true);
    }
    if (!url.starts_with("https://")) {
        return api_error(400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook");
    }
    if (auto secret = c.str("secret_token")) {
        const bool ok =
            !secret->empty() && secret->size() <= 256 &&
            std::all_of(secret->begin(), secret->end(), [](char ch) {
                return std::isalnum(static_cast<unsigned char>(ch)) != 0 || ch == '_' || ch == '-';
            });
        if (!ok) {
            return api_error(400, "Bad Request: secret token contains unallowed characters");
        }
    }
    webhook_url_ = url;
    return api_ok(true);
}

engine::awaitable<net::server_response> telegram_simulator::handle_file(net::server_request& req) {
    // "/file/bot<token>/<file_path>"
    const std::string_view rest = req.path().substr(9);
    const auto slash = rest.find('/');
    if (slash == std::string_view::npos || !token_ok(rest.substr(0, slash))) {
        co_return api_error(401, "Unauthorized");
    }
    auto it = files_by_path_.find(std::string(rest.substr(slash + 1)));
    if (it == files_by_path_.end()) {
        co_return api_error(404, "Not Found");
    }
    co_return net::text_response(200, *it->second->bytes, it->second->video ? "video/mp4" : "image/jpeg");
}

// --- the control endpoints (/_sim/...) ----------------------------------------------------------

engine::awaitable<net::server_response> telegram_simulator::handle_control(net::server_request& req) {
    const std::string_view path = req.path();
    json::object body;
    if (!req.msg.body().empty()) {
        boost::system::error_code ec;
        auto v = json::parse(req.msg.body(), ec);
        if (ec || !v.is_object()) {
            co_return net::json_response(400, R"({"ok":false,"error":"body must be a JSON object"})");
        }
        body = std::move(v.as_object());
    }
    if (auto q = net::parse_form(req.query())) {
        for (auto& [k, v] : *q) {
            body[k] = v;
        }
    }
    call args; // reuses the lenient parameter accessors
    args.params = std::move(body);
    const auto user_id = args.integer("user_id").value_or(0);
    const bool known_user = find_chat(user_id) != nullptr;
    const auto unknown_user = [] {
        return net::json_response(404, R"({"ok":false,"error":"unknown user"})");
    };

    if (path == "/_sim/users") {
        telegram_sim_user u;
        u.id = args.integer("id").value_or(0);
        u.first_name = args.str("first_name").value_or("User");
        u.language_code = args.str("language_code").value_or("en");
        u.username = args.str("username").value_or("");
        const auto id = add_user(std::move(u));
        co_return net::json_response(200, json::serialize(json::object{{"ok", true}, {"id", id}}));
    }
    if (path == "/_sim/text") {
        if (!known_user) {
            co_return unknown_user();
        }
        const auto id = user_sends_text(user_id, args.str("text").value_or(""));
        co_return net::json_response(200, json::serialize(json::object{{"ok", true}, {"update_id", id}}));
    }
    if (path == "/_sim/press") {
        if (!known_user) {
            co_return unknown_user();
        }
        const auto id = user_presses_button(user_id,
                                            args.integer("message_id").value_or(0),
                                            args.str("data").value_or(""));
        co_return net::json_response(200,
                                     json::serialize(json::object{{"ok", true}, {"callback_query_id", id}}));
    }
    if (path == "/_sim/block") {
        if (!known_user) {
            co_return unknown_user();
        }
        user_blocks_bot(user_id, !args.has("blocked") || args.flag("blocked"));
        co_return net::json_response(200, R"({"ok":true})");
    }
    if (path == "/_sim/raw_update") {
        const auto id = inject_raw_update(args.str("text").value_or("{\"update_id\":$ID}"));
        co_return net::json_response(200, json::serialize(json::object{{"ok", true}, {"update_id", id}}));
    }
    if (path == "/_sim/sent") {
        const auto chat_id = args.integer("chat_id").value_or(0);
        const auto from =
            static_cast<std::size_t>(std::max<std::int64_t>(0, args.integer("from").value_or(0)));
        const auto wait_ms = std::clamp<std::int64_t>(args.integer("wait_ms").value_or(0), 0, 60000);
        if (wait_ms > 0) {
            auto any = [](const sent_item&) { return true; };
            auto waited = co_await wait_for(chat_id, any, std::chrono::milliseconds(wait_ms), from);
            (void)waited;
        }
        json::array items;
        const auto all = sent_to(chat_id);
        for (std::size_t i = from; i < all.size(); ++i) {
            items.push_back(sent_item_json(all[i]));
        }
        co_return net::json_response(
            200,
            json::serialize(json::object{{"ok", true}, {"items", std::move(items)}}));
    }
    if (path == "/_sim/counters") {
        json::object per_chat;
        for (const auto& [chat, n] : counters_.sends_per_chat) {
            per_chat[std::to_string(chat)] = n;
        }
        co_return net::json_response(200,
                                     json::serialize(json::object{
                                         {"ok", true},
                                         {"requests", counters_.requests},
                                         {"get_updates_calls", counters_.get_updates_calls},
                                         {"rate_limited", counters_.rate_limited},
                                         {"conflicts", counters_.conflicts},
                                         {"current_pollers", counters_.current_pollers},
                                         {"max_concurrent_pollers", counters_.max_concurrent_pollers},
                                         {"pending_updates", pending_.size()},
                                         {"sends_per_chat", std::move(per_chat)},
                                     }));
    }
    co_return net::json_response(404, R"({"ok":false,"error":"unknown simulator endpoint"})");
}

} // namespace companion::sim
