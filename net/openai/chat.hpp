// A typed client for OpenAI chat completions and the servers that copy its shape (OpenRouter,
// vLLM, llama.cpp, Ollama): messages in, the assistant's content, refusal and finish reason out,
// every failure a typed openai::error. No retries here: the pipelines own that policy.
#pragma once

#include "engine/asio.hpp"
#include "engine/enum_text.hpp"
#include "net/http_client.hpp"
#include "net/openai/error.hpp"

#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace companion::net::openai {

/// Which request field caps the output: OpenAI's current one, or the deprecated one that Ollama
/// and older compatible servers still read (reasoning models reject it).
enum class token_limit_field { max_completion_tokens, max_tokens };

struct chat_config {
    std::string base_url = "https://api.openai.com/v1"; ///< OPENAI_BASE_URL; no trailing slash needed
    std::string api_key{}; ///< sent as `Authorization: Bearer`; registered for redaction
    std::string model = "gpt-5-mini";
    token_limit_field limit_field = token_limit_field::max_completion_tokens;
    std::optional<std::int64_t> max_output_tokens = 1000; ///< nullopt: send no cap
    std::optional<double> temperature{}; ///< omitted by default: reasoning models reject non-defaults
    std::chrono::milliseconds connect_timeout = std::chrono::seconds(10);
    /// Until the response header; LLMs think slowly
    std::chrono::milliseconds response_timeout = std::chrono::seconds(120);
    std::chrono::milliseconds body_timeout = std::chrono::seconds(30);
    std::size_t body_limit = 4 * 1024 * 1024;
    std::vector<std::pair<std::string, std::string>> extra_headers{}; ///< OpenRouter's HTTP-Referer, X-Title
};

enum class role { system, user, assistant };

struct chat_message {
    role who = role::user;
    std::string content{};
};

/// Structured Outputs: the reply must be a JSON document matching `schema`, delivered as a string.
struct json_schema_format {
    std::string name{};           ///< [A-Za-z0-9_-], at most 64 characters
    bool strict = true;           ///< every property required, additionalProperties false
    boost::json::object schema{}; ///< the JSON Schema of the reply object
};

struct chat_request {
    std::vector<chat_message> messages{};
    std::optional<json_schema_format> format{};
    std::string model{};                             ///< empty: the configured model
    std::optional<std::int64_t> max_output_tokens{}; ///< overrides the configured cap
    std::optional<double> temperature{};             ///< overrides the configured temperature
};

enum class finish_reason { stop, length, content_filter, tool_calls, other };
BOOST_DESCRIBE_ENUM(finish_reason, stop, length, content_filter, tool_calls, other)
using engine::operator<<; // to_string and printing of the described enums
using engine::to_string;
finish_reason parse_finish_reason(std::string_view text) noexcept;

struct token_usage {
    std::int64_t prompt_tokens = 0;
    std::int64_t completion_tokens = 0;
    std::int64_t total_tokens = 0;
};

struct chat_completion {
    std::optional<std::string> content{}; ///< absent on refusals and when reasoning ate every token
    std::optional<std::string> refusal{};
    finish_reason finish = finish_reason::other;
    std::string raw_finish_reason{};
    std::optional<token_usage> usage{};
    std::string id{};
    std::string model{}; ///< the resolved snapshot, not necessarily the requested alias
    std::string request_id{};
};

/// The JSON body of a chat completion request (sans-I/O; exposed for tests).
std::string build_chat_body(const chat_config& cfg, const chat_request& req);

/// Reads a chat completion response. A 2xx with an error object (OpenRouter) or without
/// `choices` is an error; so is any non-2xx.
result<chat_completion>
parse_chat_response(unsigned status, std::string_view body, const boost::beast::http::fields& headers);

class chat_client {
public:
    /// `http` must outlive the client and its calls.
    chat_client(net::http_client& http, chat_config cfg);

    /// One completion. Cancellation and the configured phase deadlines end it with a transport
    /// error; the request is never repeated here (not even on a reset: it may have been billed).
    engine::awaitable<result<chat_completion>> complete(chat_request req);

    /// The start-up check: GET {base}/models with the key. A refused key is the server's error;
    /// a list that does not name the configured model is not_found (an empty list names all).
    engine::awaitable<result<void>> check_model();

    const chat_config& config() const noexcept { return cfg_; }

private:
    net::http_client& http_;
    chat_config cfg_;
};

} // namespace companion::net::openai
