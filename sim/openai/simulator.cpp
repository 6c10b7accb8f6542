// The OpenAI simulator's server, key check and chat completions (videos are in videos.cpp).
#include "sim/openai/simulator.hpp"

#include "engine/time.hpp"
#include "sim/openai/replies.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <chrono>

namespace companion::sim {
namespace {

std::string openai_error(std::string_view message,
                         std::string_view type,
                         std::optional<std::string_view> code,
                         std::optional<std::string_view> param = std::nullopt) {
    boost::json::object e{{"message", message}, {"type", type}, {"param", nullptr}, {"code", nullptr}};
    if (code) {
        e["code"] = *code;
    }
    if (param) {
        e["param"] = *param;
    }
    return boost::json::serialize(boost::json::object{{"error", std::move(e)}});
}

// Fills the status and body of `r` but keeps its wire fault (slow_body sends this answer slowly).
void set_json(net::server_response& r, unsigned status, std::string body) {
    r.msg.result(status);
    r.msg.set(net::http::field::content_type, "application/json");
    r.msg.body() = std::move(body);
}

std::int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// The chat fault knobs rendered in the shapes each server family uses.
void render_chat_fault(const fault& f, net::server_response& r) {
    switch (f.kind) {
    case fault_kind::rate_limited: {
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(f.delay).count();
        const auto seconds = (ms + 999) / 1000;
        set_json(
            r,
            429,
            openai_error("Rate limit reached for requests. Please try again in " + std::to_string(ms) + "ms.",
                         "requests",
                         "rate_limit_exceeded"));
        r.msg.set("retry-after", std::to_string(seconds));
        r.msg.set("retry-after-ms", std::to_string(ms));
        r.msg.set("x-ratelimit-limit-requests", "5000");
        r.msg.set("x-ratelimit-remaining-requests", "0");
        r.msg.set("x-ratelimit-reset-requests", std::to_string(ms) + "ms");
        r.msg.set("x-ratelimit-limit-tokens", "160000");
        r.msg.set("x-ratelimit-remaining-tokens", "159000");
        r.msg.set("x-ratelimit-reset-tokens", "6m0s");
        return;
    }
    case fault_kind::server_error: {
        const unsigned status = f.status != 0 ? f.status : 500;
        set_json(r,
                 status,
                 openai_error(status == 503 ? "The server is overloaded. Please try again later."
                                            : "The server had an error while processing your request.",
                              status == 503 ? "service_unavailable_error" : "server_error",
                              status == 503 ? std::optional<std::string_view>("server_is_overloaded")
                                            : std::nullopt));
        return;
    }
    default:
        break;
    }
    const std::string& d = f.detail;
    if (d == "insufficient_quota") {
        set_json(r,
                 429,
                 openai_error("You exceeded your current quota, please check your plan and billing details.",
                              "insufficient_quota",
                              "insufficient_quota"));
    } else if (d == "context_length") {
        set_json(r,
                 400,
                 openai_error("This model's maximum context length is 128000 tokens. However, your messages "
                              "resulted in 130512 tokens. Please reduce the length of the messages.",
                              "invalid_request_error",
                              "context_length_exceeded",
                              "messages"));
    } else if (d == "model_not_found") {
        set_json(r,
                 404,
                 openai_error("The model does not exist or you do not have access to it.",
                              "invalid_request_error",
                              "model_not_found"));
    } else if (d == "openrouter") {
        const unsigned status = f.status != 0 ? f.status : 402;
        set_json(r,
                 status,
                 boost::json::serialize(boost::json::object{
                     {"error",
                      {{"code", status},
                       {"message", "Insufficient credits. Add more using https://openrouter.ai/credits"},
                       {"metadata", boost::json::object{}}}}}));
    } else if (d == "openrouter_in_200") {
        set_json(r,
                 200,
                 boost::json::serialize(boost::json::object{{"id", "gen-sim"},
                                                            {"error",
                                                             {{"code", 502},
                                                              {"message", "Provider returned error"},
                                                              {"metadata", {{"provider_name", "sim"}}}}}}));
    } else if (d == "vllm") {
        const unsigned status = f.status != 0 ? f.status : 400;
        set_json(
            r,
            status,
            boost::json::serialize(boost::json::object{{"object", "error"},
                                                       {"message", "max_tokens must be at least 1, got 0."},
                                                       {"type", "BadRequestError"},
                                                       {"param", nullptr},
                                                       {"code", status}}));
    } else {
        set_json(r,
                 f.status != 0 ? f.status : 500,
                 openai_error("simulated failure: " + d, "server_error", std::nullopt));
    }
}

} // namespace

openai_simulator::openai_simulator(engine::executor ex, openai_sim_config cfg)
    : ex_(ex), cfg_(std::move(cfg)), server_(ex, cfg_.server) {
    faults.expose(server_);
    server_.route(net::http::verb::post, "/v1/chat/completions", [this](net::server_request& req) {
        return handle_chat(req);
    });
    server_.route_prefix("/v1/videos", [this](net::server_request& req) { return handle_videos(req); });
    server_.route_prefix("/_cdn/", [this](net::server_request& req) { return handle_cdn(req); });
}

net::result<std::uint16_t> openai_simulator::start() {
    return server_.start();
}

engine::awaitable<void> openai_simulator::stop() {
    co_await server_.stop(200ms);
}

std::string openai_simulator::base_url() const {
    return server_.base_url() + "/v1";
}

std::size_t openai_simulator::creates_with(std::string_view marker) const {
    return static_cast<std::size_t>(
        std::count_if(creates_.begin(), creates_.end(), [&](const video_create& c) {
            return c.prompt.find(marker) != std::string::npos;
        }));
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
    std::optional<fault> f = faults.take("chat.completions");
    if (f) {
        const bool done = co_await apply_wire_fault(*f, r);
        if (done) {
            co_return r;
        }
    }
    if (cfg_.latency.count() > 0) {
        co_await engine::sleep(cfg_.latency);
    }
    if (auto denied = check_key(req)) {
        co_return std::move(*denied);
    }
    ++chat_requests_;
    last_chat_body_ = req.msg.body();
    if (f && (f->kind == fault_kind::rate_limited || f->kind == fault_kind::server_error ||
              (f->kind == fault_kind::custom && f->detail != "malformed_content" &&
               f->detail != "length_empty" && f->detail != "content_filter"))) {
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
        text = boost::json::serialize(openai::structured_reply(*schema, last_user));
        if (f && f->detail == "malformed_content") {
            text.resize(text.size() / 2); // a JSON document cut off mid-way
        }
        content = text;
    } else {
        text = openai::persona_reply(system_prompt, last_user);
        if (f && f->detail == "malformed_content") {
            text = "{\"not\": valid json";
        }
        content = text;
    }
    const auto prompt_tokens = openai::count_tokens(req.msg.body());
    const auto completion_tokens = openai::count_tokens(text);
    prompt_tokens_ += prompt_tokens;
    completion_tokens_ += completion_tokens;
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
        {"usage",
         {{"prompt_tokens", prompt_tokens},
          {"completion_tokens", completion_tokens},
          {"total_tokens", prompt_tokens + completion_tokens}}},
        {"system_fingerprint", "fp_sim"},
    };
    set_json(r, 200, boost::json::serialize(reply));
    r.msg.set("x-request-id", "req_sim" + std::to_string(chat_requests_));
    co_return r;
}

} // namespace companion::sim
