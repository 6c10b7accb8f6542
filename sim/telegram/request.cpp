// Request decoding: "/bot<token>/<method>" with query, form, JSON and multipart parameters turned
// into one `call`, the envelope helpers, the fault knobs, the retry_after oracle's check, and the
// dispatch to the methods.
#include "engine/log.hpp"
#include "net/multipart.hpp"
#include "sim/telegram/detail/state.hpp"

#include <boost/algorithm/string/case_conv.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <functional>

namespace companion::sim {

using namespace telegram_detail;

// --- call -------------------------------------------------------------------------------------

std::optional<std::string> telegram_simulator::call::str(std::string_view key) const {
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

std::optional<std::int64_t> telegram_simulator::call::integer(std::string_view key) const {
    const auto* v = params.if_contains(key);
    if (v == nullptr) {
        return std::nullopt;
    }
    if (v->is_int64()) {
        return v->get_int64();
    }
    if (v->is_uint64()) {
        return static_cast<std::int64_t>(v->get_uint64());
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

bool telegram_simulator::call::flag(std::string_view key) const {
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

std::optional<json::value> telegram_simulator::call::structured(std::string_view key) const {
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

std::size_t telegram_simulator::call::fingerprint() const {
    // Values are compared as text, so "7" in a form and 7 in JSON are the same parameter.
    std::map<std::string, std::string> normal;
    for (const auto& kv : params) {
        const auto* s = kv.value().if_string();
        normal[std::string(kv.key())] = s != nullptr ? std::string(*s) : json::serialize(kv.value());
    }
    std::string all = method;
    for (const auto& [k, v] : normal) {
        all += '\n' + k + '=' + v;
    }
    for (const auto& [k, part] : files) {
        all += '\n' + k + ':' + std::to_string(std::hash<std::string>{}(part.data));
    }
    return std::hash<std::string>{}(all);
}

// --- the envelope -----------------------------------------------------------------------------

namespace telegram_detail {

response api_ok(const json::value& result) {
    json::object o;
    o["ok"] = true;
    o["result"] = result;
    return net::json_response(200, json::serialize(o));
}

response api_error(unsigned code, std::string_view description, json::object parameters) {
    json::object o;
    o["ok"] = false;
    o["error_code"] = code;
    o["description"] = description;
    if (!parameters.empty()) {
        o["parameters"] = std::move(parameters);
    }
    return net::json_response(code, json::serialize(o));
}

response flood(std::chrono::seconds retry_after) {
    const auto n = std::max<std::int64_t>(1, retry_after.count());
    return api_error(429,
                     "Too Many Requests: retry after " + std::to_string(n),
                     json::object{{"retry_after", n}});
}

response blocked_error() {
    return api_error(403, "Forbidden: bot was blocked by the user");
}

response chat_not_found() {
    return api_error(400, "Bad Request: chat not found");
}

response bad_request(std::string_view what) {
    return api_error(400, "Bad Request: " + std::string(what));
}

std::int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
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

} // namespace telegram_detail

// --- the methods ------------------------------------------------------------------------------

namespace {

constexpr std::array<std::string_view, 37> method_list{
    "answerCallbackQuery",
    "answerInlineQuery",
    "answerPreCheckoutQuery",
    "copyMessage",
    "createInvoiceLink",
    "deleteMessage",
    "deleteMessages",
    "deleteMyCommands",
    "deleteWebhook",
    "editMessageCaption",
    "editMessageMedia",
    "editMessageReplyMarkup",
    "editMessageText",
    "forwardMessage",
    "getChat",
    "getChatMember",
    "getFile",
    "getMe",
    "getMyCommands",
    "getStarTransactions",
    "getUpdates",
    "getWebhookInfo",
    "refundStarPayment",
    "sendAnimation",
    "sendAudio",
    "sendChatAction",
    "sendDocument",
    "sendInvoice",
    "sendMediaGroup",
    "sendMessage",
    "sendMessageDraft",
    "sendPhoto",
    "sendVideo",
    "sendVoice",
    "setMessageReaction",
    "setMyCommands",
    "setWebhook",
};

// Method names are case-insensitive on Telegram.
const std::map<std::string, std::string_view>& method_names() {
    static const std::map<std::string, std::string_view> names = [] {
        std::map<std::string, std::string_view> m;
        for (auto n : method_list) {
            m.emplace(boost::algorithm::to_lower_copy(std::string(n)), n);
        }
        return m;
    }();
    return names;
}

const std::string nginx_502 =
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad "
    "Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";

} // namespace

std::span<const std::string_view> telegram_simulator::implemented_methods() noexcept {
    return method_list;
}

engine::awaitable<net::server_response> telegram_simulator::handle_api(net::server_request& req) {
    ++counters_.requests;
    // "/bot<token>/<method>", possibly percent-encoded
    std::string decoded;
    if (!net::url_decode(req.path().substr(4), decoded, false)) {
        co_return api_error(404, "Not Found");
    }
    const std::string_view rest = decoded;
    const auto slash = rest.find('/');
    if (slash == std::string_view::npos) {
        co_return api_error(404, "Not Found");
    }
    const auto token = rest.substr(0, slash);
    if (!token_ok(token)) {
        co_return api_error(401, "Unauthorized");
    }
    const auto names =
        method_names().find(boost::algorithm::to_lower_copy(std::string(rest.substr(slash + 1))));
    if (names == method_names().end()) {
        co_return api_error(404, "Not Found");
    }
    std::int64_t token_id = 0;
    std::from_chars(token.data(), token.data() + token.find(':'), token_id);
    token_bot_id_ = token_id;

    call c;
    c.method = std::string(names->second);
    c.connection = req.remote.address().to_string() + ":" + std::to_string(req.remote.port());
    c.arrived = time().now();
    if (auto q = net::parse_form(req.query())) {
        for (auto& [k, v] : *q) {
            c.params[k] = v;
        }
    }
    const std::string content_type = boost::algorithm::to_lower_copy(std::string(req.header("Content-Type")));
    const std::string& body = req.msg.body();
    if (content_type.starts_with("application/json") && !body.empty()) {
        boost::system::error_code ec;
        auto v = json::parse(body, ec);
        if (ec || !v.is_object()) {
            co_return bad_request("can't parse JSON object");
        }
        for (auto& kv : v.as_object()) {
            c.params[kv.key()] = kv.value();
        }
    } else if (content_type.starts_with("application/x-www-form-urlencoded")) {
        auto form = net::parse_form(body);
        if (!form) {
            co_return bad_request("can't parse form data");
        }
        for (auto& [k, v] : *form) {
            c.params[k] = v;
        }
    } else if (content_type.starts_with("multipart/form-data")) {
        auto boundary = net::multipart_boundary(req.header("Content-Type"));
        if (!boundary) {
            co_return bad_request("multipart boundary is missing");
        }
        auto parts = net::parse_multipart(body, *boundary);
        if (!parts) {
            co_return bad_request("can't parse multipart data");
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
    check_flood_respected(c, chat_param);
    if (auto f = faults.take(c.method)) {
        switch (f->kind) {
        case fault_kind::rate_limited:
            ++counters_.rate_limited;
            co_return flood_for(c, chat_param, std::chrono::ceil<std::chrono::seconds>(f->delay));
        case fault_kind::server_error:
            if (f->detail == "html") {
                co_return net::text_response(f->status != 0 ? f->status : 502, nginx_502, "text/html");
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
            const bool done = co_await apply_wire_fault(*f, planned, time());
            if (done) {
                co_return planned;
            }
            break;
        }
        }
    }
    c.answer_lost = cut_mid_body || reset_after_effect;
    auto answer = co_await dispatch(c);
    if (planned.fault.what != net::response_fault::kind::none) {
        answer.fault = planned.fault;
    }
    if (cut_mid_body) {
        answer.fault.what = net::response_fault::kind::reset_mid_body;
    }
    if (reset_after_effect) {
        answer.fault.what = net::response_fault::kind::reset;
    }
    co_return answer;
}

engine::awaitable<net::server_response> telegram_simulator::dispatch(call& c) {
    const std::string& m = c.method;
    if (m == "getUpdates") {
        auto r = co_await get_updates(c);
        co_return r;
    }
    using handler = response (telegram_simulator::*)(call&);
    static const std::map<std::string_view, handler> plain{
        {"getMe", &telegram_simulator::get_me},
        {"getWebhookInfo", &telegram_simulator::get_webhook_info},
        {"setMyCommands", &telegram_simulator::set_my_commands},
        {"getMyCommands", &telegram_simulator::get_my_commands},
        {"deleteMyCommands", &telegram_simulator::delete_my_commands},
        {"getChat", &telegram_simulator::get_chat},
        {"getChatMember", &telegram_simulator::get_chat_member},
        {"answerCallbackQuery", &telegram_simulator::answer_callback_query},
        {"answerInlineQuery", &telegram_simulator::answer_inline_query},
        {"sendChatAction", &telegram_simulator::send_chat_action},
        {"sendInvoice", &telegram_simulator::send_invoice},
        {"createInvoiceLink", &telegram_simulator::create_invoice_link},
        {"answerPreCheckoutQuery", &telegram_simulator::answer_pre_checkout_query},
        {"refundStarPayment", &telegram_simulator::refund_star_payment},
        {"getStarTransactions", &telegram_simulator::get_star_transactions},
        {"sendMessage", &telegram_simulator::send_message},
        {"sendMessageDraft", &telegram_simulator::send_message_draft},
        {"editMessageReplyMarkup", &telegram_simulator::edit_message_reply_markup},
        {"deleteMessage", &telegram_simulator::delete_message},
        {"deleteMessages", &telegram_simulator::delete_messages},
        {"setMessageReaction", &telegram_simulator::set_message_reaction},
        {"sendMediaGroup", &telegram_simulator::send_media_group},
        {"editMessageMedia", &telegram_simulator::edit_message_media},
        {"getFile", &telegram_simulator::get_file},
    };
    if (auto it = plain.find(m); it != plain.end()) {
        co_return (this->*(it->second))(c);
    }
    if (m == "setWebhook" || m == "deleteWebhook") {
        co_return set_webhook(c, m == "deleteWebhook");
    }
    if (m == "editMessageText" || m == "editMessageCaption") {
        co_return edit_text(c, m == "editMessageCaption");
    }
    if (m == "forwardMessage" || m == "copyMessage") {
        co_return forward_or_copy(c, m == "copyMessage");
    }
    static const std::map<std::string_view, std::string_view> media{{"sendPhoto", "photo"},
                                                                    {"sendVideo", "video"},
                                                                    {"sendDocument", "document"},
                                                                    {"sendAudio", "audio"},
                                                                    {"sendVoice", "voice"},
                                                                    {"sendAnimation", "animation"}};
    if (auto it = media.find(m); it != media.end()) {
        co_return send_media(c, it->second);
    }
    co_return api_error(404, "Not Found");
}

// --- the retry_after oracle -----------------------------------------------------------------------

net::server_response telegram_simulator::flood_for(const call& c,
                                                   std::optional<std::int64_t> chat_id,
                                                   std::chrono::seconds retry_after) {
    const auto n = std::max<std::int64_t>(1, retry_after.count());
    if (c.answer_lost) {
        return flood(std::chrono::seconds(n)); // never read: the request sent again is no violation
    }
    auto& list = refusals_[{c.method, chat_id.value_or(0)}];
    const auto now = time().now();
    std::erase_if(list, [&](const refusal& r) { return r.until <= now; });
    list.push_back({now + std::chrono::seconds(n), c.connection, c.fingerprint()});
    return flood(std::chrono::seconds(n));
}

void telegram_simulator::check_flood_respected(const call& c, std::optional<std::int64_t> chat_id) {
    auto it = refusals_.find({c.method, chat_id.value_or(0)});
    if (it == refusals_.end()) {
        return;
    }
    auto& list = it->second;
    std::erase_if(list, [&](const refusal& r) { return r.until <= c.arrived; });
    if (list.empty()) {
        refusals_.erase(it);
        return;
    }
    // A repeat: the refused request itself sent again (its parameters), or any request of that
    // method and chat on the connection that carried the refusal (the client had read the 429
    // before sending it). A request on another connection with other parameters may have been in
    // flight when the 429 went out, so it does not count.
    const auto fingerprint = c.fingerprint();
    for (const auto& r : list) {
        if (r.fingerprint == fingerprint || r.connection == c.connection) {
            ++counters_.retry_after_violations; // Telegram would answer 429 again, or ban the bot
            engine::log().warn(
                "telegram_sim.retry_after_ignored",
                {{"chat", chat_id.value_or(0)},
                 {"method", c.method},
                 {"early_ms",
                  std::chrono::duration_cast<std::chrono::milliseconds>(r.until - c.arrived).count()}});
            return;
        }
    }
}

} // namespace companion::sim
