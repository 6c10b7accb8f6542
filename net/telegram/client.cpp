// Telegram method calls: request building (JSON or multipart), deadlines per call kind, and the
// envelope mapped to a typed result or a classified, token-free error.
#include "net/telegram/client.hpp"

#include "engine/log.hpp"
#include "net/detail/json_writer.hpp"
#include "net/multipart.hpp"
#include "net/telegram/update_scan.hpp"

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <utility>

namespace companion::net::telegram {

namespace json = boost::json;

namespace {

std::string_view to_wire(parse_mode m) noexcept {
    switch (m) {
    case parse_mode::html:
        return "HTML";
    case parse_mode::markdown_v2:
        return "MarkdownV2";
    case parse_mode::none:
        break;
    }
    return {};
}

// add_common for a body written in place: the same fields, in the same order.
void write_common(net::detail::json_writer& w,
                  const std::optional<json::value>& reply_markup,
                  parse_mode mode,
                  notification notify) {
    if (reply_markup) {
        w.key("reply_markup").value(*reply_markup);
    }
    if (mode != parse_mode::none) {
        w.field("parse_mode", to_wire(mode));
    }
    if (notify == notification::silent) {
        w.key("disable_notification").boolean(true);
    }
}

void add_common(json::object& o,
                const std::optional<json::value>& reply_markup,
                parse_mode mode,
                notification notify) {
    if (reply_markup) {
        o["reply_markup"] = *reply_markup;
    }
    if (mode != parse_mode::none) {
        o["parse_mode"] = to_wire(mode);
    }
    if (notify == notification::silent) {
        o["disable_notification"] = true;
    }
}

// A multipart field's text: strings as they are, everything else JSON-serialized (contract §1:
// objects and arrays as JSON strings, booleans as true/false).
std::string form_value(const json::value& v) {
    if (const auto* s = v.if_string()) {
        return std::string(*s);
    }
    return json::serialize(v);
}

error transport_error(std::string_view method, net::failure f, std::string_view token) {
    // net redacts its details already; scrub our own token explicitly as well, since a Beast
    // message could echo the request target.
    if (!token.empty()) {
        for (auto pos = f.detail.find(token); pos != std::string::npos; pos = f.detail.find(token, pos)) {
            f.detail.replace(pos, token.size(), engine::redactor::mask);
        }
    }
    return net::transport_error("telegram", method, std::move(f));
}

error malformed(std::string_view method, unsigned status, std::string_view what) {
    return net::malformed_response("telegram", method, status, what);
}

// A call's `result` read by one of types.hpp's parsers; one that does not parse is a malformed
// answer of `method`.
template <class T>
result<T>
read_result(std::string_view method, result<json::value> r, checked<T> (*parse)(const json::value&)) {
    if (!r) {
        return r.error();
    }
    auto parsed = parse(*r);
    if (!parsed) {
        return malformed(method, 200, parsed.error().what);
    }
    return std::move(*parsed);
}

// An invoice's prices as Telegram takes them: [{"label", "amount"}].
json::array prices_json(const std::vector<labeled_price>& prices) {
    json::array out;
    for (const auto& p : prices) {
        out.push_back(json::object{{"label", p.label}, {"amount", p.amount}});
    }
    return out;
}

// A call whose `result` (true) tells nothing more than success.
result<void> done(const result<json::value>& r) {
    if (!r) {
        return r.error();
    }
    return {};
}

} // namespace

input_file input_file::by_id(std::string id) {
    input_file f;
    f.from = source::file_id;
    f.file_id = std::move(id);
    return f;
}

input_file input_file::from_memory(std::string filename, std::string content_type, std::string bytes) {
    input_file f;
    f.from = source::memory;
    f.filename = std::move(filename);
    f.content_type = std::move(content_type);
    f.bytes = std::move(bytes);
    return f;
}

input_file input_file::from_disk(std::filesystem::path path, std::string content_type) {
    input_file f;
    f.from = source::disk;
    f.filename = path.filename().string();
    f.content_type = std::move(content_type);
    f.path = std::move(path);
    return f;
}

client::client(net::http_client& http, client_config cfg) : http_(http), cfg_(std::move(cfg)) {
    engine::secrets().add_secret(cfg_.token);
    if (cfg_.file_base_url.empty()) {
        cfg_.file_base_url = cfg_.base_url + "/file";
    }
    while (!cfg_.base_url.empty() && cfg_.base_url.back() == '/') {
        cfg_.base_url.pop_back();
    }
    method_prefix_ = cfg_.base_url + "/bot" + cfg_.token + '/';
}

std::string client::method_url(std::string_view method) const {
    // One allocation per call: the URL is built in place at its final size.
    std::string url;
    url.reserve(method_prefix_.size() + method.size());
    url += method_prefix_;
    url += method;
    return url;
}

void client::prepare(net::request& req, call_kind kind) const {
    switch (kind) {
    case call_kind::ordinary:
        req.timeouts = cfg_.request_timeouts;
        break;
    case call_kind::upload:
        req.timeouts = cfg_.upload_timeouts;
        break;
    }
    req.body_limit = cfg_.response_body_limit;
}

error client::not_sent(std::string_view method, net::failure f) const {
    auto e = transport_error(method, std::move(f), cfg_.token);
    engine::log().debug("telegram.call_failed",
                        {{"method", method}, {"kind", to_string(e.kind)}, {"error", e.message()}});
    return e;
}

engine::awaitable<result<json::value>>
client::exchange(std::string method, net::request req, call_kind kind) {
    prepare(req, kind);
    auto sent = co_await http_.send(std::move(req));
    if (!sent) {
        co_return not_sent(method, sent.error());
    }
    co_return read_envelope(method, *sent, nullptr);
}

result<json::value>
client::read_envelope(std::string_view method, net::response& resp, std::string* unparsed) const {
    if (resp.ok()) {
        // The DOM is read once and dropped (a batch of updates, a sent message): its nodes come
        // from one arena sized by the body, not one allocation each. The result keeps the arena
        // alive for as long as the caller holds it.
        boost::system::error_code ec;
        auto v =
            json::parse(resp.body,
                        ec,
                        json::make_shared_resource<json::monotonic_resource>(2 * resp.body.size() + 512));
        json::object* envelope = ec ? nullptr : v.if_object();
        if (envelope != nullptr) {
            const auto* ok = envelope->if_contains("ok");
            auto* res = envelope->if_contains("result");
            if (ok != nullptr && ok->is_bool() && ok->get_bool() && res != nullptr) {
                return std::move(*res); // moved out of the envelope, not copied
            }
        }
        if (envelope == nullptr || envelope->if_contains("ok") == nullptr) {
            auto e =
                malformed(method, resp.status, ec ? "response is not JSON" : "response is not an envelope");
            engine::log().debug("telegram.call_failed",
                                {{"method", method}, {"kind", to_string(e.kind)}, {"error", e.message()}});
            if (ec && unparsed != nullptr) {
                *unparsed = std::move(resp.body);
            }
            return e;
        }
        // ok:false inside a 2xx: classified below like any failure.
    }
    auto e = classify_failure(method, resp.status, resp.body, cfg_.token);
    engine::log().debug(
        "telegram.call_failed",
        {{"method", method}, {"kind", to_string(e.kind)}, {"status", e.status}, {"error", e.message()}});
    return e;
}

engine::awaitable<result<json::value>> client::call(std::string method, json::object params) {
    return call_json(std::move(method), json::serialize(params));
}

net::request client::json_request(std::string_view method, std::string body) const {
    net::request req;
    req.method = http::verb::post;
    req.url = method_url(method);
    req.content_type = "application/json";
    req.body = std::move(body);
    // Only reads and settings are safe to repeat after an unknown outcome; sends are not.
    // A draft repeats as nothing new: the same draft_id shows the same text again.
    const bool safe = method == "getMe" || method == "getUpdates" || method == "getFile" ||
                      method == "deleteWebhook" || method == "setWebhook" || method == "setMyCommands" ||
                      method == "sendMessageDraft";
    req.replayable = safe ? net::replay::safe : net::replay::unsafe;
    return req;
}

engine::awaitable<result<json::value>> client::call_json(std::string method, std::string body) {
    auto req = json_request(method, std::move(body));
    // Not a coroutine: exchange() owns what it is given, so the call costs no frame of its own.
    return exchange(std::move(method), std::move(req), call_kind::ordinary);
}

engine::awaitable<result<user>> client::get_me() {
    json::object no_params; // bound first: g++ 12 mishandles braced temporaries in co_await operands
    auto r = co_await call("getMe", std::move(no_params));
    co_return read_result("getMe", std::move(r), parse_user);
}

engine::awaitable<result<update_batch>> client::get_updates(get_updates_params params) {
    const auto timeout = params.timeout.value_or(cfg_.poll_timeout);
    json::object o;
    if (params.offset) {
        o["offset"] = *params.offset;
    }
    o["limit"] = std::clamp(params.limit, 1, 100);
    o["timeout"] = timeout.count();
    if (params.allowed_updates) {
        json::array a;
        for (const auto& s : *params.allowed_updates) {
            a.emplace_back(s);
        }
        o["allowed_updates"] = std::move(a);
    }
    net::request req;
    req.method = http::verb::post;
    req.url = method_url("getUpdates");
    req.content_type = "application/json";
    req.body = json::serialize(o);
    req.replayable = net::replay::safe; // the same offset returns the same batch
    auto t = cfg_.request_timeouts;
    t.response_header = timeout + cfg_.poll_margin;
    req.timeouts = t;
    req.body_limit = cfg_.response_body_limit;
    auto resp = co_await http_.send(std::move(req));
    if (!resp) {
        co_return not_sent("getUpdates", resp.error());
    }
    std::string unparsed;
    auto r = read_envelope("getUpdates", *resp, &unparsed);
    if (!r && !unparsed.empty()) {
        // One bad update (invalid UTF-8, a lone surrogate) must not hold back every other one:
        // the body is read item by item, and an item that still fails is reported malformed.
        if (auto scanned = scan_updates(unparsed)) {
            engine::log().warn("telegram.updates_scanned",
                               {{"updates", scanned->updates.size()},
                                {"repaired", scanned->repaired.size()},
                                {"malformed", scanned->malformed.size()}});
            co_return std::move(*scanned);
        }
    }
    if (!r) {
        co_return r.error();
    }
    if (!r->is_array()) {
        co_return malformed("getUpdates", 200, "result is not an array");
    }
    // The body parsed whole: each update keeps its own text as received (the inbox stores it),
    // cut from the body rather than written out again from the DOM.
    const auto texts = result_items(resp->body);
    co_return parse_updates(*r,
                            texts ? std::span<const std::string_view>(*texts)
                                  : std::span<const std::string_view>{});
}

engine::awaitable<result<void>> client::delete_webhook(drop_pending drop) {
    json::object o;
    o["drop_pending_updates"] = drop == drop_pending::yes;
    auto r = co_await call("deleteWebhook", std::move(o));
    co_return done(r);
}

engine::awaitable<result<void>> client::set_webhook(set_webhook_params params) {
    json::object o;
    o["url"] = params.url;
    if (!params.secret_token.empty()) {
        o["secret_token"] = params.secret_token;
    }
    if (params.allowed_updates) {
        json::array allowed;
        for (const auto& a : *params.allowed_updates) {
            allowed.emplace_back(a);
        }
        o["allowed_updates"] = std::move(allowed);
    }
    if (params.max_connections) {
        o["max_connections"] = *params.max_connections;
    }
    if (params.drop_pending_updates) {
        o["drop_pending_updates"] = true;
    }
    auto r = co_await call("setWebhook", std::move(o));
    co_return done(r);
}

engine::awaitable<result<message>> client::send_message(send_message_params params) {
    // Every reply passes here: its body is written in one string, the text escaped once.
    std::string body;
    body.reserve(params.text.size() + 64);
    net::detail::json_writer w(body);
    w.begin_object().field("chat_id", params.chat_id).field("text", params.text);
    write_common(w, params.reply_markup, params.mode, params.notify);
    if (params.reply_to) {
        w.key("reply_parameters").begin_object().field("message_id", *params.reply_to).end_object();
    }
    w.end_object();
    auto req = json_request("sendMessage", std::move(body));
    prepare(req, call_kind::ordinary);
    auto resp = co_await http_.send(std::move(req));
    co_return read_sent(resp, params.chat_id);
}

result<message> client::read_sent(net::result<net::response>& resp, std::int64_t chat_id) const {
    // Every reply's answer: read by the field reader (message_id, date, text), no DOM, into the
    // result returned (one name, so the message is not moved on its way out). Anything but a
    // plain success goes the general way, which classifies it or reports it malformed.
    result<message> sent{boost::system::in_place_value};
    if (!resp) {
        sent = not_sent("sendMessage", resp.error());
    } else if (!resp->ok() || !read_sent_message(resp->body, chat_id, *sent)) {
        sent = read_result("sendMessage", read_envelope("sendMessage", *resp, nullptr), parse_message);
    }
    return sent;
}

engine::awaitable<result<edit_outcome>> client::edit_message_text(edit_message_text_params params) {
    json::object o;
    o["chat_id"] = params.chat_id;
    o["message_id"] = params.message_id;
    o[params.caption ? "caption" : "text"] = params.text;
    add_common(o, params.reply_markup, params.mode, notification::normal);
    const char* method = params.caption ? "editMessageCaption" : "editMessageText";
    auto r = co_await call(method, std::move(o));
    if (!r) {
        if (r.error().kind == error_kind::not_modified) {
            co_return edit_outcome{.modified = false};
        }
        co_return r.error();
    }
    if (r->is_bool()) { // inline messages answer `true`
        co_return edit_outcome{};
    }
    auto m = parse_message(*r);
    if (!m) {
        co_return malformed(method, 200, m.error().what);
    }
    co_return edit_outcome{.modified = true, .message = std::move(*m)};
}

engine::awaitable<result<message>> client::send_media(std::string method,
                                                      std::string field,
                                                      std::int64_t chat_id,
                                                      input_file file,
                                                      json::object fields) {
    fields["chat_id"] = chat_id;
    if (file.from == input_file::source::file_id) {
        fields[field] = file.file_id;
        auto r = co_await call(method, std::move(fields));
        co_return read_result(method, std::move(r), parse_message);
    }

    net::multipart_form form;
    for (const auto& [key, value] : fields) {
        form.field(key, form_value(value));
    }
    if (file.from == input_file::source::memory) {
        form.file(field, file.filename, file.content_type, std::move(file.bytes));
    } else {
        auto loaded = form.file_from_disk(field, file.path, file.content_type);
        if (!loaded) {
            co_return transport_error(method, loaded.error(), cfg_.token);
        }
    }
    net::request req;
    req.method = http::verb::post;
    req.url = method_url(method);
    req.headers.set(http::field::content_type, form.content_type());
    req.body = form.take_body();
    req.replayable = net::replay::unsafe;
    auto r = co_await exchange(method, std::move(req), call_kind::upload);
    co_return read_result(method, std::move(r), parse_message);
}

engine::awaitable<result<message>> client::send_photo(send_photo_params params) {
    json::object o;
    if (!params.caption.empty()) {
        o["caption"] = params.caption;
    }
    add_common(o, params.reply_markup, params.mode, params.notify);
    auto r = co_await send_media("sendPhoto", "photo", params.chat_id, std::move(params.photo), std::move(o));
    co_return r;
}

engine::awaitable<result<message>> client::send_video(send_video_params params) {
    json::object o;
    if (!params.caption.empty()) {
        o["caption"] = params.caption;
    }
    if (params.width > 0) {
        o["width"] = params.width;
    }
    if (params.height > 0) {
        o["height"] = params.height;
    }
    if (params.duration.count() > 0) {
        o["duration"] = params.duration.count();
    }
    o["supports_streaming"] = params.supports_streaming;
    add_common(o, params.reply_markup, params.mode, params.notify);
    auto r = co_await send_media("sendVideo", "video", params.chat_id, std::move(params.video), std::move(o));
    co_return r;
}

engine::awaitable<result<message>> client::send_voice(send_voice_params params) {
    json::object o;
    if (!params.caption.empty()) {
        o["caption"] = params.caption;
    }
    if (params.duration) {
        o["duration"] = *params.duration;
    }
    add_common(o, params.reply_markup, params.mode, params.notify);
    auto r = co_await send_media("sendVoice", "voice", params.chat_id, std::move(params.voice), std::move(o));
    co_return r;
}

engine::awaitable<result<void>> client::send_chat_action(std::int64_t chat_id, chat_action action) {
    std::string body;
    net::detail::json_writer w(body);
    w.begin_object().field("chat_id", chat_id).field("action", to_string(action)).end_object();
    auto r = co_await call_json("sendChatAction", std::move(body));
    co_return done(r);
}

engine::awaitable<result<void>> client::send_message_draft(send_message_draft_params params) {
    json::object o;
    o["chat_id"] = params.chat_id;
    o["draft_id"] = params.draft_id;
    o["text"] = params.text; // sent when empty too: the "Thinking..." placeholder
    if (params.message_thread_id) {
        o["message_thread_id"] = *params.message_thread_id;
    }
    if (params.can_stop) {
        o["can_stop"] = true;
    }
    if (params.keep_on_stop) {
        o["keep_on_stop"] = true;
    }
    if (params.parse_mode && !params.parse_mode->empty()) {
        o["parse_mode"] = *params.parse_mode;
    }
    auto r = co_await call("sendMessageDraft", std::move(o));
    co_return done(r);
}

engine::awaitable<result<message>> client::send_invoice(send_invoice_params params) {
    json::object o;
    o["chat_id"] = params.chat_id;
    o["title"] = params.title;
    o["description"] = params.description;
    o["payload"] = params.payload;
    o["currency"] = params.currency;
    o["prices"] = prices_json(params.prices);
    if (params.reply_markup) {
        o["reply_markup"] = *params.reply_markup;
    }
    auto r = co_await call("sendInvoice", std::move(o));
    co_return read_result("sendInvoice", std::move(r), parse_message);
}

engine::awaitable<result<std::string>> client::create_invoice_link(create_invoice_link_params params) {
    json::object o;
    o["title"] = params.title;
    o["description"] = params.description;
    o["payload"] = params.payload;
    o["currency"] = params.currency;
    o["prices"] = prices_json(params.prices);
    if (params.subscription_period) {
        o["subscription_period"] = *params.subscription_period;
    }
    auto r = co_await call("createInvoiceLink", std::move(o));
    if (!r) {
        co_return r.error();
    }
    if (!r->is_string() || r->get_string().empty()) {
        co_return malformed("createInvoiceLink", 200, "result is not a link");
    }
    co_return std::string(r->get_string());
}

engine::awaitable<result<void>>
client::answer_pre_checkout_query(std::string pre_checkout_query_id, bool ok, std::string error_message) {
    json::object o;
    o["pre_checkout_query_id"] = pre_checkout_query_id; // json::value copies a std::string
    o["ok"] = ok;
    if (!ok) {
        o["error_message"] = error_message;
    }
    auto r = co_await call("answerPreCheckoutQuery", std::move(o));
    co_return done(r);
}

engine::awaitable<result<void>> client::refund_star_payment(std::int64_t user_id, std::string charge_id) {
    json::object o;
    o["user_id"] = user_id;
    o["telegram_payment_charge_id"] = charge_id;
    auto r = co_await call("refundStarPayment", std::move(o));
    co_return done(r);
}

engine::awaitable<result<void>> client::answer_callback_query(answer_callback_params params) {
    json::object o;
    o["callback_query_id"] = params.callback_query_id;
    if (!params.text.empty()) {
        o["text"] = params.text;
    }
    if (params.show_alert) {
        o["show_alert"] = true;
    }
    auto r = co_await call("answerCallbackQuery", std::move(o));
    co_return done(r);
}

engine::awaitable<result<void>> client::set_my_commands(std::vector<command_description> commands,
                                                        std::string language_code) {
    json::array list;
    for (auto& c : commands) {
        list.push_back(json::object{{"command", c.command}, {"description", c.description}});
    }
    json::object o;
    o["commands"] = std::move(list);
    if (!language_code.empty()) {
        o["language_code"] = language_code;
    }
    auto r = co_await call("setMyCommands", std::move(o));
    co_return done(r);
}

engine::awaitable<result<file_info>> client::get_file(std::string file_id) {
    json::object o;
    o["file_id"] = file_id;
    auto r = co_await call("getFile", std::move(o));
    co_return read_result("getFile", std::move(r), parse_file);
}

engine::awaitable<result<net::download_result>>
client::download_file(std::string file_path, std::filesystem::path destination, std::size_t max_bytes) {
    net::download_request req;
    req.url = cfg_.file_base_url + "/bot" + cfg_.token + "/" + file_path;
    req.path = std::move(destination);
    req.max_bytes = max_bytes;
    req.max_redirects = 0;
    req.timeouts = cfg_.upload_timeouts;
    auto r = co_await http_.download(std::move(req));
    if (!r) {
        auto f = r.error();
        if (f.code == net::errc::http_status) {
            auto e = classify_failure("download", f.status, f.body, cfg_.token);
            co_return e;
        }
        co_return transport_error("download", std::move(f), cfg_.token);
    }
    co_return std::move(*r);
}

} // namespace companion::net::telegram
