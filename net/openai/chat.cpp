// Chat completions: request building, response and error parsing, the streamed chunk reader, and
// the HTTP exchanges.
#include "net/openai/chat.hpp"

#include "engine/log.hpp"
#include "net/detail/client_support.hpp"
#include "net/detail/json_writer.hpp"

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <array>
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
    // Written straight into the body: the conversation is not copied into a DOM first.
    std::string body;
    std::size_t text = 0;
    for (const auto& m : req.messages) {
        text += m.content.size();
    }
    body.reserve(text + 64 * req.messages.size() + 256);
    detail::json_writer w(body);
    w.begin_object().field("model", req.model.empty() ? cfg.model : req.model);
    w.key("messages").begin_array();
    for (const auto& m : req.messages) {
        w.begin_object().field("role", role_name(m.who)).field("content", m.content).end_object();
    }
    w.end_array();
    const auto cap = req.max_output_tokens ? req.max_output_tokens : cfg.max_output_tokens;
    if (cap) {
        w.field(cfg.limit_field == token_limit_field::max_tokens ? "max_tokens" : "max_completion_tokens",
                *cap);
    }
    const auto temperature = req.temperature ? req.temperature : cfg.temperature;
    if (temperature) {
        w.key("temperature").number(*temperature);
    }
    if (req.format) {
        w.key("response_format").begin_object().field("type", "json_schema");
        w.key("json_schema").begin_object().field("name", req.format->name);
        w.key("strict").boolean(req.format->strict);
        w.key("schema").value(req.format->schema);
        w.end_object().end_object();
    }
    w.end_object();
    return body;
}

result<chat_completion>
parse_chat_response(unsigned status, std::string_view body, const boost::beast::http::fields& headers) {
    if (status < 200 || status >= 300) {
        return parse_error(status, body, headers);
    }
    boost::system::error_code ec;
    // The document lives only for this read: its nodes go in a scratch buffer, not one
    // allocation each.
    std::array<unsigned char, 4096> scratch; // NOLINT(cppcoreguidelines-pro-type-member-init)
    boost::json::monotonic_resource nodes(scratch.data(), scratch.size());
    const auto v = boost::json::parse(body, ec, &nodes);
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

std::string build_chat_stream_body(const chat_config& cfg, const chat_request& req) {
    std::string body = build_chat_body(cfg, req);
    // The object is serialized already; the stream fields close it again rather than parsing it back.
    body.pop_back(); // '}'
    body += R"(,"stream":true)";
    if (cfg.stream_include_usage) {
        body += R"(,"stream_options":{"include_usage":true})";
    }
    body += '}';
    return body;
}

chat_stream_reader::chat_stream_reader(boost::beast::http::fields headers, std::size_t max_event_bytes)
    : headers_(std::move(headers)), sse_(max_event_bytes) {
    out_.request_id = detail::header_value(headers_, "x-request-id");
}

bool chat_stream_reader::feed(std::string_view bytes, const delta_handler& on_delta) {
    if (broken_) {
        return false;
    }
    if (done_) {
        return true; // whatever follows [DONE] is not part of the answer
    }
    if (kind_ == body_kind::unknown) {
        const auto first = bytes.find_first_not_of(" \t\r\n");
        if (first == std::string_view::npos) {
            lead_.append(bytes);
            if (lead_.size() > sse_.max_event_bytes()) {
                broken_ = malformed(200, "the stream holds nothing but blanks", headers_);
            }
            return !broken_;
        }
        kind_ = bytes[first] == '{' ? body_kind::whole_json : body_kind::events;
        if (!lead_.empty()) {
            // The blanks held back are part of the body: line ends for an event stream.
            std::string held = std::move(lead_);
            lead_.clear();
            held.append(bytes);
            return feed(held, on_delta);
        }
    }
    if (kind_ == body_kind::whole_json) {
        whole_.append(bytes);
        if (whole_.size() > sse_.max_event_bytes()) {
            broken_ = malformed(200, "a JSON answer to a stream request is too large", headers_);
        }
        return !broken_;
    }
    try {
        auto parsed = sse_.feed(bytes, [&](const sse_event& e) { on_event(e, on_delta); });
        if (!parsed && !broken_) {
            broken_ = malformed(200, parsed.error().detail, headers_);
        }
    } catch (...) {
        broken_ = malformed(200, "the delta handler failed", headers_);
        throw;
    }
    return !broken_;
}

void chat_stream_reader::on_event(const sse_event& e, const delta_handler& on_delta) {
    if (done_ || broken_) {
        return; // an event after the end, in the same feed
    }
    if (e.data == "[DONE]") {
        done_ = true;
        return;
    }
    if (e.event == "error") {
        broken_ = parse_error(200, e.data, headers_); // its data may be JSON or text
        return;
    }
    boost::system::error_code ec;
    // One chunk's document lives only for this event (see parse_chat_response).
    std::array<unsigned char, 2048> scratch; // NOLINT(cppcoreguidelines-pro-type-member-init)
    boost::json::monotonic_resource nodes(scratch.data(), scratch.size());
    const auto v = boost::json::parse(e.data, ec, &nodes);
    if (ec || !v.is_object()) {
        broken_ = malformed(200, "a stream chunk is not a JSON object", headers_);
        return;
    }
    const auto& o = v.as_object();
    if (o.contains("error") || (o.contains("object") && o.at("object") == "error")) {
        // OpenAI and OpenRouter report a failure after the 200 as an error object in the stream.
        broken_ = parse_error(200, e.data, headers_);
        return;
    }
    on_chunk(o, on_delta);
}

void chat_stream_reader::on_chunk(const boost::json::object& o, const delta_handler& on_delta) {
    if (const auto* id = o.if_contains("id"); id && id->is_string() && !id->as_string().empty()) {
        out_.id.assign(id->as_string()); // in place: every chunk repeats it
    }
    if (const auto* m = o.if_contains("model"); m && m->is_string() && !m->as_string().empty()) {
        out_.model.assign(m->as_string());
    }
    if (const auto* u = o.if_contains("usage"); u && u->is_object()) {
        const auto& uo = u->as_object();
        token_usage t;
        t.prompt_tokens = detail::json_int(uo.if_contains("prompt_tokens")).value_or(0);
        t.completion_tokens = detail::json_int(uo.if_contains("completion_tokens")).value_or(0);
        t.total_tokens =
            detail::json_int(uo.if_contains("total_tokens")).value_or(t.prompt_tokens + t.completion_tokens);
        out_.usage = t;
    }
    const auto* choices = o.if_contains("choices");
    if (choices == nullptr || choices->is_null()) {
        return; // a usage or keep-alive chunk of a server that leaves choices out
    }
    if (!choices->is_array()) {
        broken_ = malformed(200, "a stream chunk's choices is not an array", headers_);
        return;
    }
    if (choices->as_array().empty()) {
        return; // the usage chunk
    }
    const auto* choice = choices->as_array().front().if_object();
    if (choice == nullptr) {
        broken_ = malformed(200, "a stream chunk's choice is not an object", headers_);
        return;
    }
    if (const auto* delta = choice->if_contains("delta"); delta && delta->is_object()) {
        const auto& d = delta->as_object();
        // role-only deltas, null content, reasoning and tool calls carry nothing for the reply.
        if (auto piece = content_text(d.if_contains("content")); piece && !piece->empty()) {
            if (!out_.content) {
                out_.content.emplace();
            }
            out_.content->append(*piece);
            if (on_delta) {
                on_delta(*piece);
            }
        }
        if (const auto* r = d.if_contains("refusal"); r && r->is_string() && !r->as_string().empty()) {
            if (!out_.refusal) {
                out_.refusal.emplace();
            }
            out_.refusal->append(r->as_string());
        }
    }
    if (const auto* f = choice->if_contains("finish_reason"); f && f->is_string()) {
        out_.raw_finish_reason = std::string(f->as_string());
        out_.finish = parse_finish_reason(out_.raw_finish_reason);
        finished_chunk_ = true;
    }
}

result<chat_completion> chat_stream_reader::finish(std::optional<net::api_error> transport,
                                                   const delta_handler& on_delta) {
    if (kind_ == body_kind::whole_json && !broken_) {
        if (transport) {
            return std::move(*transport); // half a JSON document says nothing
        }
        auto whole = parse_chat_response(200, whole_, headers_);
        if (whole && whole->content && !whole->content->empty() && on_delta) {
            on_delta(*whole->content);
        }
        return whole;
    }
    if (!done_ && !broken_) {
        // WHATWG drops an event without its blank line; a server that closed right after its
        // last line still said what it said.
        if (auto last = sse_.finish()) {
            on_event(*last, on_delta);
        }
    }
    std::optional<net::api_error> why;
    if (done_) {
        why = std::nullopt; // a failure after [DONE] lost nothing
    } else if (broken_) {
        why = std::move(broken_);
    } else if (transport) {
        why = std::move(transport);
    } else if (!finished_chunk_) {
        why = malformed(200, "the stream ended without [DONE]", headers_);
    }
    if (!why) {
        return std::move(out_);
    }
    const bool some_content =
        (out_.content && !out_.content->empty()) || (out_.refusal && !out_.refusal->empty());
    if (!some_content) {
        return std::move(*why);
    }
    out_.interrupted = std::move(why);
    return std::move(out_);
}

chat_client::chat_client(net::http_client& http, chat_config cfg) : http_(http), cfg_(std::move(cfg)) {
    cfg_.base_url = detail::client_base_url(std::move(cfg_.base_url), cfg_.api_key);
}

namespace {

// A POST to /chat/completions with the key, the configured extra headers and `body`, accepting
// `accept` (JSON, or server-sent events for a stream).
net::request completions_request(const chat_config& cfg, std::string_view accept, std::string body) {
    auto r = detail::api_request(http::verb::post, cfg.base_url + "/chat/completions", cfg);
    r.headers.set(http::field::content_type, "application/json");
    r.headers.set(http::field::accept, accept);
    if (!cfg.api_key.empty()) {
        r.headers.set(http::field::authorization, "Bearer " + cfg.api_key);
    }
    for (const auto& [name, value] : cfg.extra_headers) {
        r.headers.set(name, value);
    }
    r.body = std::move(body);
    return r;
}

} // namespace

engine::awaitable<result<chat_completion>> chat_client::complete(chat_request req) {
    auto r = completions_request(cfg_, "application/json", build_chat_body(cfg_, req));
    // The body holds the messages now; the frame does not keep them a second time for the whole
    // round trip (a chat turn's history and system prompt are kilobytes, times every chat waiting).
    req = chat_request{};
    auto sent = co_await http_.send(std::move(r));
    if (!sent) {
        co_return from_failure(sent.error());
    }
    co_return parse_chat_response(sent->status, sent->body, sent->headers);
}

engine::awaitable<result<chat_completion>> chat_client::stream(chat_request req, delta_handler on_delta) {
    auto r = completions_request(cfg_, "text/event-stream", build_chat_stream_body(cfg_, req));
    req = chat_request{}; // as in complete(): the body holds the messages now
    // The whole stream gets the budget of a completion that is not streamed: the model thinks and
    // writes while the body arrives.
    r.timeouts = detail::call_timeouts(cfg_.connect_timeout,
                                       cfg_.response_timeout,
                                       cfg_.response_timeout + cfg_.body_timeout);
    chat_stream_reader reader({}, std::min<std::size_t>(cfg_.body_limit, std::size_t{1} << 20));
    auto on_body = [&](std::string_view piece) { return reader.feed(piece, on_delta); };
    auto sent = co_await http_.stream(std::move(r), on_body, cfg_.stream_idle_timeout);
    if (!sent) {
        if (sent.error().code == net::errc::cancelled) {
            co_return from_failure(sent.error()); // the caller stopped it: nothing to judge
        }
        co_return reader.finish(from_failure(sent.error()), on_delta);
    }
    if (!sent->ok()) {
        co_return parse_chat_response(sent->status, sent->body, sent->headers);
    }
    auto out = reader.finish(std::nullopt, on_delta);
    // The body handler ran before the headers were the caller's: the request id comes last.
    const auto request_id = detail::header_value(sent->headers, "x-request-id");
    if (!out) {
        out.error().request_id = request_id;
    } else {
        out->request_id = request_id;
        if (out->interrupted) {
            out->interrupted->request_id = request_id;
        }
    }
    co_return out;
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
