// The OpenAI simulator's server, key check and chat completions (videos are in videos.cpp).
#include "sim/openai/simulator.hpp"

#include "engine/time.hpp"
#include "sim/openai/detail/errors.hpp"
#include "sim/openai/detail/replies.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <chrono>
#include <optional>
#include <utility>
#include <vector>

using namespace std::chrono_literals;

namespace companion::sim {
namespace {

using openai::openai_error;
using openai::render_chat_fault;
using openai::set_json;

std::int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// The pieces a streamed answer is cut into: a few words each, cut only at spaces (so no UTF-8
// character is split), the spaces kept.
std::vector<std::string> stream_pieces(std::string_view text) {
    std::vector<std::string> pieces;
    std::string piece;
    int words = 0;
    for (char c : text) {
        piece.push_back(c);
        if (c == ' ' && ++words == 3) {
            pieces.push_back(std::move(piece));
            piece.clear();
            words = 0;
        }
    }
    if (!piece.empty()) {
        pieces.push_back(std::move(piece));
    }
    return pieces;
}

// How a streamed answer breaks after its first piece (the chat faults with a "stream_" detail).
enum class stream_break { none, error, stall, cut, malformed };

stream_break stream_break_of(const std::optional<fault>& f) {
    if (!f || f->kind != fault_kind::custom) {
        return stream_break::none;
    }
    if (f->detail == "stream_error") {
        return stream_break::error;
    }
    if (f->detail == "stream_stall") {
        return stream_break::stall;
    }
    if (f->detail == "stream_cut") {
        return stream_break::cut;
    }
    if (f->detail == "stream_malformed") {
        return stream_break::malformed;
    }
    return stream_break::none;
}

struct streamed_answer {
    std::string id;
    std::string model;
    std::int64_t created = 0;
    boost::json::value content; ///< string or null
    boost::json::value refusal; ///< string or null
    std::string finish;
    std::optional<boost::json::object> usage{}; ///< sent as a last chunk when asked for
    stream_break breaks = stream_break::none;
};

// The answer as OpenAI streams it (server-sent events of chat.completion.chunk objects), one event
// per piece: the role first, the content (or refusal) a few words at a time, the finish_reason,
// the usage chunk, "[DONE]". A break after the first piece ends it there: an error event (and
// the body ends), nothing more (the stream stalls or is cut: the caller picks the ending), or a
// chunk that is not JSON (and the rest follows, so a client that skips it would see [DONE]).
net::streamed_body render_stream(const streamed_answer& a) {
    net::streamed_body out;
    const auto event = [&](boost::json::object delta, boost::json::value finish) {
        boost::json::object chunk{
            {"id", a.id},
            {"object", "chat.completion.chunk"},
            {"created", a.created},
            {"model", a.model},
            {"system_fingerprint", "fp_sim"},
            {"choices",
             boost::json::array{boost::json::object{{"index", 0},
                                                    {"delta", std::move(delta)},
                                                    {"logprobs", nullptr},
                                                    {"finish_reason", std::move(finish)}}}}};
        out.pieces.push_back("data: " + boost::json::serialize(chunk) + "\n\n");
    };
    // Returns true when the stream ends here.
    const auto break_here = [&] {
        switch (a.breaks) {
        case stream_break::none:
            return false;
        case stream_break::error:
            out.pieces.push_back(
                "data: " +
                openai_error("The server had an error while processing your request.", "server_error", {}) +
                "\n\n");
            return true;
        case stream_break::stall:
            out.end = net::streamed_body::ending::hold;
            return true;
        case stream_break::cut:
            out.end = net::streamed_body::ending::cut;
            return true;
        case stream_break::malformed:
            out.pieces.push_back(R"(data: {"id":")" + a.id +
                                 R"(","object":"chat.completion.chunk","choices":[{"delta":{"content":)"
                                 "\n\n");
            return false;
        }
        return false;
    };
    event(boost::json::object{{"role", "assistant"}, {"content", ""}, {"refusal", nullptr}}, nullptr);
    const bool refused = a.refusal.is_string();
    const auto& text = refused ? a.refusal : a.content;
    bool first = true;
    if (text.is_string()) {
        for (auto& piece : stream_pieces(text.get_string())) {
            event(boost::json::object{{refused ? "refusal" : "content", piece}}, nullptr);
            if (std::exchange(first, false) && break_here()) {
                return out;
            }
        }
    }
    if (first && break_here()) { // nothing to say (a filtered answer): it breaks after the role
        return out;
    }
    event(boost::json::object{}, boost::json::value(a.finish));
    if (a.usage) {
        boost::json::object chunk{{"id", a.id},
                                  {"object", "chat.completion.chunk"},
                                  {"created", a.created},
                                  {"model", a.model},
                                  {"system_fingerprint", "fp_sim"},
                                  {"choices", boost::json::array{}},
                                  {"usage", *a.usage}};
        out.pieces.push_back("data: " + boost::json::serialize(chunk) + "\n\n");
    }
    out.pieces.push_back("data: [DONE]\n\n");
    return out;
}

} // namespace

openai_simulator::openai_simulator(engine::executor ex, openai_sim_config cfg)
    : provider_service(ex, cfg.server, cfg.time), cfg_(std::move(cfg)) {
    server_.route(net::http::verb::post, "/v1/chat/completions", [this](net::server_request& req) {
        return handle_chat(req);
    });
    server_.route_prefix("/v1/videos", [this](net::server_request& req) { return handle_videos(req); });
    server_.route(net::http::verb::get, "/v1/models", [this](net::server_request& req) {
        return handle_models(req);
    });
    server_.route_prefix("/v1/models/", [this](net::server_request& req) { return handle_models(req); });
    server_.route_prefix("/_cdn/", [this](net::server_request& req) { return handle_cdn(req); });
    server_.route(net::http::verb::post, "/v1/audio/speech", [this](net::server_request& req) {
        return handle_speech(req);
    });
    server_.route(net::http::verb::post, "/v1/audio/transcriptions", [this](net::server_request& req) {
        return handle_transcription(req);
    });
}

std::string openai_simulator::base_url() const {
    return server_.base_url() + "/v1";
}

std::optional<net::server_response> openai_simulator::check_key(const net::server_request& req) const {
    if (cfg_.api_key.empty()) {
        return std::nullopt;
    }
    if (req.header("authorization") == "Bearer " + cfg_.api_key) {
        return std::nullopt;
    }
    // The key is never echoed back, unlike OpenAI's own "Incorrect API key provided: sk-...".
    return net::json_response(401,
                              openai_error("Incorrect API key provided. You can find your API key at "
                                           "https://platform.openai.com/account/api-keys.",
                                           "invalid_request_error",
                                           "invalid_api_key"));
}

engine::awaitable<net::server_response> openai_simulator::handle_chat(net::server_request& req) {
    net::server_response r;
    std::optional<fault> f;
    const auto denied = check_key(req);
    auto early = co_await begin("chat.completions", f, r, denied, cfg_.latency);
    if (early) {
        co_return std::move(*early);
    }
    ++chat_requests_;
    last_chat_body_ = req.msg.body();
    if (f &&
        (f->kind == fault_kind::rate_limited || f->kind == fault_kind::server_error ||
         (f->kind == fault_kind::custom && f->detail != "malformed_content" && f->detail != "length_empty" &&
          f->detail != "content_filter" && stream_break_of(f) == stream_break::none))) {
        render_chat_fault(*f, r);
        co_return r;
    }

    boost::system::error_code ec;
    const auto v = boost::json::parse(req.msg.body(), ec);
    if (ec || !v.is_object()) {
        set_json(
            r,
            400,
            openai_error("We could not parse the JSON body of your request.", "invalid_request_error", {}));
        co_return r;
    }
    const auto& body = v.as_object();
    const auto* model = body.if_contains("model");
    const auto* messages = body.if_contains("messages");
    if (model == nullptr || !model->is_string() || model->as_string().empty()) {
        set_json(r,
                 400,
                 openai_error("you must provide a model parameter", "invalid_request_error", {}, "model"));
        co_return r;
    }
    if (messages == nullptr || !messages->is_array() || messages->as_array().empty()) {
        set_json(r,
                 400,
                 openai_error("Invalid 'messages': empty array. Expected an array with minimum length 1.",
                              "invalid_request_error",
                              "empty_array",
                              "messages"));
        co_return r;
    }
    const std::string model_id(model->as_string());
    if (!cfg_.chat_models.empty() &&
        std::find(cfg_.chat_models.begin(), cfg_.chat_models.end(), model_id) == cfg_.chat_models.end()) {
        set_json(r,
                 404,
                 openai_error("The model `" + model_id + "` does not exist or you do not have access to it.",
                              "invalid_request_error",
                              "model_not_found"));
        co_return r;
    }
    std::string system_prompt;
    std::string last_user;
    std::vector<std::string> user_messages;
    std::size_t total_chars = 0;
    for (const auto& m : messages->as_array()) {
        const auto* mo = m.if_object();
        if (mo == nullptr || !mo->contains("role")) {
            set_json(r,
                     400,
                     openai_error("Invalid message: each message needs a role.",
                                  "invalid_request_error",
                                  {},
                                  "messages"));
            co_return r;
        }
        std::string content;
        if (const auto* c = mo->if_contains("content"); c && c->is_string()) {
            content = std::string(c->as_string());
        }
        total_chars += content.size();
        const auto& role = mo->at("role");
        if (role == "system" || role == "developer") {
            system_prompt += content;
        } else if (role == "user") {
            last_user = content;
            user_messages.push_back(content);
        }
    }
    if (total_chars > cfg_.context_limit_chars) {
        fault too_long;
        too_long.kind = fault_kind::custom;
        too_long.detail = "context_length";
        render_chat_fault(too_long, r);
        co_return r;
    }

    boost::json::value content = nullptr;
    boost::json::value refusal = nullptr;
    std::string finish = "stop";
    const boost::json::object* schema = nullptr;
    if (const auto* rf = body.if_contains("response_format"); rf && rf->is_object()) {
        if (const auto* js = rf->as_object().if_contains("json_schema"); js && js->is_object()) {
            if (const auto* s = js->as_object().if_contains("schema"); s && s->is_object()) {
                schema = &s->as_object();
            }
        }
    }
    std::string text;
    if (f && f->kind == fault_kind::refusal) {
        refusal = "I'm sorry, but I can't help with that request.";
    } else if (f && f->detail == "length_empty") {
        content = "";
        finish = "length";
    } else if (f && f->detail == "content_filter") {
        finish = "content_filter";
    } else if (schema != nullptr) {
        text = boost::json::serialize(openai::structured_reply(*schema, last_user, chat_requests_));
        if (f && f->detail == "malformed_content") {
            text.resize(text.size() / 2); // a JSON document cut off mid-way
        }
        content = text;
    } else {
        text =
            openai::chat_reply({.system_prompt = system_prompt, .user_messages = std::move(user_messages)});
        if (f && f->detail == "malformed_content") {
            text = "{\"not\": valid json";
        }
        content = text;
    }
    const auto prompt_tokens = openai::count_tokens(req.msg.body());
    const auto completion_tokens = openai::count_tokens(text);
    prompt_tokens_ += prompt_tokens;
    completion_tokens_ += completion_tokens;
    const boost::json::object usage{{"prompt_tokens", prompt_tokens},
                                    {"completion_tokens", completion_tokens},
                                    {"total_tokens", prompt_tokens + completion_tokens}};
    if (const auto* stream = body.if_contains("stream");
        stream != nullptr && stream->is_bool() && stream->get_bool()) {
        streamed_answer a{.id = "chatcmpl-sim" + std::to_string(chat_requests_),
                          .model = model_id,
                          .created = unix_now(),
                          .content = content,
                          .refusal = refusal,
                          .finish = finish,
                          .breaks = stream_break_of(f)};
        if (const auto* options = body.if_contains("stream_options");
            options != nullptr && options->is_object()) {
            if (const auto* include = options->as_object().if_contains("include_usage");
                include != nullptr && include->is_bool() && include->get_bool()) {
                a.usage = usage;
            }
        }
        r.msg.result(200);
        r.msg.set(net::http::field::content_type, "text/event-stream; charset=utf-8");
        r.msg.set(net::http::field::cache_control, "no-cache");
        r.msg.set("x-request-id", "req_sim" + std::to_string(chat_requests_));
        auto streamed = render_stream(a);
        if (r.fault.what != net::response_fault::kind::none) {
            // A wire fault (slow_body, reset_mid_body) sends the whole stream its own way.
            for (const auto& piece : streamed.pieces) {
                r.msg.body() += piece;
            }
            co_return r;
        }
        streamed.delay = cfg_.stream_chunk_delay;
        streamed.time = &time_;
        r.stream = std::move(streamed);
        co_return r;
    }
    boost::json::object reply{
        {"id", "chatcmpl-sim" + std::to_string(chat_requests_)},
        {"object", "chat.completion"},
        {"created", unix_now()},
        {"model", model_id},
        {"choices",
         boost::json::array{boost::json::object{{"index", 0},
                                                {"message",
                                                 {{"role", "assistant"},
                                                  {"content", content},
                                                  {"refusal", refusal},
                                                  {"annotations", boost::json::array{}}}},
                                                {"logprobs", nullptr},
                                                {"finish_reason", finish}}}},
        {"usage", usage},
        {"system_fingerprint", "fp_sim"},
    };
    set_json(r, 200, boost::json::serialize(reply));
    r.msg.set("x-request-id", "req_sim" + std::to_string(chat_requests_));
    co_return r;
}

engine::awaitable<net::server_response> openai_simulator::handle_models(net::server_request& req) {
    net::server_response r;
    std::optional<fault> f;
    const auto denied = check_key(req);
    auto early = co_await begin("models", f, r, denied);
    if (early) {
        co_return std::move(*early);
    }
    // Any chat model is accepted when none is configured: the list then shows the defaults a
    // client is likely to ask for.
    std::vector<std::string> ids = cfg_.chat_models.empty()
                                       ? std::vector<std::string>{"gpt-4o-mini", "gpt-4.1-mini", "gpt-5-mini"}
                                       : cfg_.chat_models;
    ids.insert(ids.end(), cfg_.video_models.begin(), cfg_.video_models.end());
    ids.insert(ids.end(), cfg_.speech_models.begin(), cfg_.speech_models.end());
    ids.insert(ids.end(), cfg_.transcription_models.begin(), cfg_.transcription_models.end());
    const auto model = [](const std::string& id) {
        return boost::json::object{{"id", id},
                                   {"object", "model"},
                                   {"created", 1686935002},
                                   {"owned_by", "system"}};
    };
    const std::string_view path = req.path();
    if (path == "/v1/models") {
        boost::json::array data;
        for (const auto& id : ids) {
            data.push_back(model(id));
        }
        set_json(r,
                 200,
                 boost::json::serialize(boost::json::object{{"object", "list"}, {"data", std::move(data)}}));
        co_return r;
    }
    const std::string id(path.substr(std::string_view("/v1/models/").size()));
    const bool known = std::find(ids.begin(), ids.end(), id) != ids.end() || cfg_.chat_models.empty();
    if (!known || id.empty()) {
        set_json(r,
                 404,
                 openai_error("The model `" + id + "` does not exist or you do not have access to it.",
                              "invalid_request_error",
                              "model_not_found"));
        co_return r;
    }
    set_json(r, 200, boost::json::serialize(model(id)));
    co_return r;
}

} // namespace companion::sim
