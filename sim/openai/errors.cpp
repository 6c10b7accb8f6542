// The OpenAI error shapes the simulator answers with, and its fault knobs rendered in them.
#include "sim/openai/detail/errors.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <chrono>
#include <string>

namespace companion::sim::openai {

std::string openai_error(std::string_view message,
                         std::string_view type,
                         std::optional<std::string_view> code,
                         std::optional<std::string_view> param) {
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

} // namespace companion::sim::openai
