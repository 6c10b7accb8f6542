// Chat completions: request building, response and error parsing, and the HTTP exchange.
#include "net/openai/chat.hpp"

#include "engine/log.hpp"
#include "net/detail/client_support.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <ostream>

namespace companion::net::openai {
namespace {

std::string_view role_name(role r) {
    switch (r) {
    case role::system:
        return "system";
    case role::user:
        return "user";
    case role::assistant:
        return "assistant";
    }
    return "user";
}

// Some compatible servers answer `content` as an array of parts; their text is the content.
std::optional<std::string> content_text(const boost::json::value* v) {
    if (v == nullptr || v->is_null()) {
        return std::nullopt;
    }
    if (v->is_string()) {
        return std::string(v->as_string());
    }
    if (v->is_array()) {
        std::string out;
        for (const auto& part : v->as_array()) {
            if (const auto* o = part.if_object()) {
                if (const auto* t = o->if_contains("text"); t && t->is_string()) {
                    out += t->as_string();
                }
            }
        }
        return out;
    }
    return std::nullopt;
}

} // namespace

finish_reason parse_finish_reason(std::string_view text) noexcept {
    if (text == "function_call") { // the pre-tools spelling
        return finish_reason::tool_calls;
    }
    // eos, abort, null and whatever compatible servers invent
    return engine::enum_from_name<finish_reason>(text).value_or(finish_reason::other);
}

std::string build_chat_body(const chat_config& cfg, const chat_request& req) {
    boost::json::object body;
    body["model"] = req.model.empty() ? cfg.model : req.model;
    boost::json::array messages;
    for (const auto& m : req.messages) {
        messages.push_back(boost::json::object{{"role", role_name(m.who)}, {"content", m.content}});
    }
    body["messages"] = std::move(messages);
    const auto cap = req.max_output_tokens ? req.max_output_tokens : cfg.max_output_tokens;
    if (cap) {
        body[cfg.limit_field == token_limit_field::max_tokens ? "max_tokens" : "max_completion_tokens"] =
            *cap;
    }
    const auto temperature = req.temperature ? req.temperature : cfg.temperature;
    if (temperature) {
        body["temperature"] = *temperature;
    }
    if (req.format) {
        body["response_format"] = boost::json::object{
            {"type", "json_schema"},
            {"json_schema",
             boost::json::object{{"name", req.format->name},
                                 {"strict", req.format->strict},
                                 {"schema", req.format->schema}}},
        };
    }
    return boost::json::serialize(body);
}

result<chat_completion>
parse_chat_response(unsigned status, std::string_view body, const boost::beast::http::fields& headers) {
    if (status < 200 || status >= 300) {
        return parse_error(status, body, headers);
    }
    boost::system::error_code ec;
    const auto v = boost::json::parse(body, ec);
    if (ec || !v.is_object()) {
        return malformed(status, "chat completion body is not a JSON object", headers);
    }
    const auto& o = v.as_object();
    if (o.contains("error") || (o.contains("object") && o.at("object") == "error")) {
        return parse_error(status, body, headers); // OpenRouter: failures after the 200 was sent
    }
    const auto* choices = o.if_contains("choices");
    if (choices == nullptr || !choices->is_array() || choices->as_array().empty() ||
        !choices->as_array().front().is_object()) {
        return malformed(status, "chat completion without choices", headers);
    }
    const auto& choice = choices->as_array().front().as_object();
    chat_completion out;
    out.request_id = detail::header_value(headers, "x-request-id");
    if (const auto* id = o.if_contains("id"); id && id->is_string()) {
        out.id = std::string(id->as_string());
    }
    if (const auto* m = o.if_contains("model"); m && m->is_string()) {
        out.model = std::string(m->as_string());
    }
    if (const auto* msg = choice.if_contains("message"); msg && msg->is_object()) {
        const auto& mo = msg->as_object();
        out.content = content_text(mo.if_contains("content"));
        if (const auto* r = mo.if_contains("refusal"); r && r->is_string()) {
            out.refusal = std::string(r->as_string());
        }
    } else {
        return malformed(status, "chat completion choice without message", headers);
    }
    if (const auto* f = choice.if_contains("finish_reason"); f && f->is_string()) {
        out.raw_finish_reason = std::string(f->as_string());
    }
    out.finish = parse_finish_reason(out.raw_finish_reason);
    if (const auto* u = o.if_contains("usage"); u && u->is_object()) {
        const auto& uo = u->as_object();
        token_usage t;
        t.prompt_tokens = detail::json_int(uo.if_contains("prompt_tokens")).value_or(0);
        t.completion_tokens = detail::json_int(uo.if_contains("completion_tokens")).value_or(0);
        t.total_tokens =
            detail::json_int(uo.if_contains("total_tokens")).value_or(t.prompt_tokens + t.completion_tokens);
        out.usage = t;
    }
    return out;
}

chat_client::chat_client(net::http_client& http, chat_config cfg) : http_(http), cfg_(std::move(cfg)) {
    cfg_.base_url = detail::client_base_url(std::move(cfg_.base_url), cfg_.api_key);
}

engine::awaitable<result<chat_completion>> chat_client::complete(chat_request req) {
    auto r = detail::api_request(http::verb::post, cfg_.base_url + "/chat/completions", cfg_);
    r.headers.set(http::field::content_type, "application/json");
    r.headers.set(http::field::accept, "application/json");
    if (!cfg_.api_key.empty()) {
        r.headers.set(http::field::authorization, "Bearer " + cfg_.api_key);
    }
    for (const auto& [name, value] : cfg_.extra_headers) {
        r.headers.set(name, value);
    }
    r.body = build_chat_body(cfg_, req);
    auto sent = co_await http_.send(std::move(r));
    if (!sent) {
        co_return from_failure(sent.error());
    }
    co_return parse_chat_response(sent->status, sent->body, sent->headers);
}

engine::awaitable<result<void>> chat_client::check_model() {
    auto r = detail::api_request(http::verb::get, cfg_.base_url + "/models", cfg_);
    r.headers.set(http::field::accept, "application/json");
    if (!cfg_.api_key.empty()) {
        r.headers.set(http::field::authorization, "Bearer " + cfg_.api_key);
    }
    for (const auto& [name, value] : cfg_.extra_headers) {
        r.headers.set(name, value);
    }
    auto sent = co_await http_.send(std::move(r));
    if (!sent) {
        co_return from_failure(sent.error());
    }
    if (sent->status < 200 || sent->status >= 300) {
        auto parsed = parse_chat_response(sent->status, sent->body, sent->headers);
        if (!parsed) {
            co_return parsed.error();
        }
        co_return api_error{.kind = api_error_kind::malformed_response,
                            .api = "openai",
                            .status = sent->status};
    }
    boost::system::error_code ec;
    const auto doc = boost::json::parse(sent->body, ec);
    const auto* data = !ec && doc.is_object() ? doc.as_object().if_contains("data") : nullptr;
    if (data == nullptr || !data->is_array()) {
        co_return api_error{.kind = api_error_kind::malformed_response,
                            .api = "openai",
                            .status = sent->status,
                            .detail = "the model list has no data array"};
    }
    const auto& models = data->as_array();
    const bool listed = models.empty() || std::any_of(models.begin(), models.end(), [&](const auto& m) {
                            const auto* id = m.is_object() ? m.as_object().if_contains("id") : nullptr;
                            return id != nullptr && id->is_string() && id->as_string() == cfg_.model;
                        });
    if (!listed) {
        co_return api_error{.kind = api_error_kind::not_found,
                            .api = "openai",
                            .status = sent->status,
                            .detail = "the server lists no model \"" + cfg_.model + "\""};
    }
    co_return result<void>{};
}

} // namespace companion::net::openai
