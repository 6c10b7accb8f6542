// The OpenAI simulator's error answers (sans-I/O): OpenAI's `{"error":{message,type,param,code}}`
// body, and the fault knobs (rate_limited, server_error, custom details) rendered in the shapes of
// OpenAI, OpenRouter and vLLM. Shared by the chat, audio and models handlers.
#pragma once

#include "net/http_server.hpp"
#include "sim/fault.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace companion::sim::openai {

/// `{"error":{"message","type","param","code"}}` (absent code and param are null).
std::string openai_error(std::string_view message,
                         std::string_view type,
                         std::optional<std::string_view> code,
                         std::optional<std::string_view> param = std::nullopt);

/// Fills the status and body of `r` but keeps its wire fault (slow_body sends this answer slowly).
void set_json(net::server_response& r, unsigned status, std::string body);

/// A planned fault as OpenAI (or OpenRouter, vLLM) answers it: rate_limited is a 429 with
/// retry-after, retry-after-ms and the x-ratelimit-* headers (`delay` is the wait); server_error
/// the fault's status (default 500; 503 is "overloaded"); custom details "insufficient_quota",
/// "context_length", "model_not_found", "openrouter", "openrouter_in_200", "vllm", anything else
/// a server_error with the detail in its message.
void render_chat_fault(const fault& f, net::server_response& r);

} // namespace companion::sim::openai
