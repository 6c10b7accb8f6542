// A typed client for OpenAI chat completions and the servers that copy its shape (OpenRouter,
// vLLM, llama.cpp, Ollama): messages in, the assistant's content, refusal and finish reason out,
// every failure a typed openai::error. No retries here: the pipelines own that policy.
//
// Completions also stream (`"stream": true`, server-sent events of chat.completion.chunk objects
// ending with `data: [DONE]`): stream() hands each piece of content to the caller as it arrives
// and returns the whole completion, marked `interrupted` when the stream broke after some content.
// The chunk reader under it is sans-I/O (chat_stream_reader) and fuzzed.
#pragma once

#include "engine/asio.hpp"
#include "engine/enum_text.hpp"
#include "net/http_client.hpp"
#include "net/openai/error.hpp"
#include "net/sse.hpp"

#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
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
    std::size_t body_limit = 4 * 1024 * 1024; ///< a streamed body's whole size included
    /// A streamed completion's longest silence between two pieces of its body. The whole stream
    /// has the budget of a completion that is not streamed: response_timeout + body_timeout.
    std::chrono::milliseconds stream_idle_timeout = std::chrono::seconds(20);
    /// Ask a stream for its last chunk with `usage` (`stream_options.include_usage`); off for a
    /// compatible server that rejects unknown fields.
    bool stream_include_usage = true;
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
    /// Set by stream() when the stream broke after some content arrived (cut by the network,
    /// stalled past the idle deadline, ended without [DONE], a malformed chunk, an error event
    /// mid-stream); `content` (or `refusal`) then holds what arrived, and `finish` is what the
    /// stream said before it broke (usually `other`).
    boxed<net::api_error> interrupted{}; ///< out of line: rare, and an error is about 300 bytes
};

/// Called by chat_client::stream() with each piece of content as it arrives (never an empty one).
using delta_handler = std::function<void(std::string_view content_piece)>;

/// The JSON body of a chat completion request (sans-I/O; exposed for tests).
std::string build_chat_body(const chat_config& cfg, const chat_request& req);

/// Reads a chat completion response. A 2xx with an error object (OpenRouter) or without
/// `choices` is an error; so is any non-2xx.
result<chat_completion>
parse_chat_response(unsigned status, std::string_view body, const boost::beast::http::fields& headers);

/// The JSON body of a streamed request: build_chat_body's plus `"stream": true` and, when
/// configured, `"stream_options": {"include_usage": true}` (sans-I/O; exposed for tests).
std::string build_chat_stream_body(const chat_config& cfg, const chat_request& req);

/// Sans-I/O: reads the body of a streamed chat completion as it arrives, split anywhere. Each
/// `data:` event is one chat.completion.chunk: choices[0].delta.content pieces go to the delta
/// handler and into the content, delta.refusal into the refusal, finish_reason, id, model and the
/// usage (of the last chunk that has one) are kept; `data: [DONE]` ends the stream. Tolerated, as
/// vLLM, OpenRouter, llama.cpp and Ollama send them: comment lines, empty `choices` (the usage
/// chunk), a delta with only `role`, null content, content as an array of text parts, reasoning
/// fields (ignored), bytes after [DONE] (ignored). An error object (`{"error":{...}}`, vLLM's
/// `{"object":"error",...}`, or an `event: error`) or a chunk that is not a JSON object breaks the
/// stream. A body that starts with `{` is no event stream but one JSON document (a server that
/// ignored `"stream": true`, or OpenRouter's error in a 200): it is read whole, as complete()
/// reads it.
class chat_stream_reader {
public:
    /// `headers` are the response's (x-request-id and retry hints for errors inside the stream).
    explicit chat_stream_reader(boost::beast::http::fields headers = {},
                                std::size_t max_event_bytes = 1 << 20);

    /// Feeds body bytes, calling `on_delta` (when set) for each content piece they complete.
    /// Returns false once the stream has broken: the caller should read no more. After [DONE] it
    /// returns true and ignores what follows (so the body can end and its connection be reused).
    /// An exception from `on_delta` propagates; the reader is then broken.
    [[nodiscard]] bool feed(std::string_view bytes, const delta_handler& on_delta);

    /// The outcome, once the body has ended or reading it stopped. `transport` is the error that
    /// ended the reading, if any (a cut, a deadline). After [DONE]: the completion (a transport
    /// error after it changes nothing). Else the reason the stream is incomplete (the error event,
    /// the malformed chunk, `transport`, or a body that ended without [DONE]) is the result's error
    /// when no content (nor refusal) had arrived, and the completion's `interrupted` when some had.
    /// A body that ended cleanly without [DONE] after a finish_reason is complete (some compatible
    /// servers never send [DONE]). `on_delta` (when set) sees what only the end completes: a last
    /// event without its blank line, and the content of a whole JSON body (parsed as complete()
    /// parses it; a transport error loses it) as one piece. Call once.
    [[nodiscard]] result<chat_completion> finish(std::optional<net::api_error> transport = std::nullopt,
                                                 const delta_handler& on_delta = {});

    bool done() const noexcept { return done_; }
    bool broken() const noexcept { return broken_.has_value(); }
    /// What has arrived so far.
    const chat_completion& so_far() const noexcept { return out_; }

private:
    void on_event(const sse_event& e, const delta_handler& on_delta);
    void on_chunk(const boost::json::object& chunk, const delta_handler& on_delta);

    enum class body_kind { unknown, events, whole_json };

    boost::beast::http::fields headers_;
    sse_parser sse_;
    body_kind kind_ = body_kind::unknown;
    std::string lead_{};  ///< leading blanks, held until the first other byte tells the body's kind
    std::string whole_{}; ///< a whole JSON body
    chat_completion out_{};
    bool done_ = false;
    bool finished_chunk_ = false; ///< a finish_reason arrived
    std::optional<net::api_error> broken_{};
};

class chat_client {
public:
    /// `http` must outlive the client and its calls.
    chat_client(net::http_client& http, chat_config cfg);

    /// One completion. Cancellation and the configured phase deadlines end it with a transport
    /// error; the request is never repeated here (not even on a reset: it may have been billed).
    engine::awaitable<result<chat_completion>> complete(chat_request req);

    /// The same completion streamed: `on_delta` (may be empty) sees each piece of content as it
    /// arrives, on the loop thread, before the call returns. The result is as complete()'s (an
    /// HTTP error status is parsed the same way), except that a stream that broke after some
    /// content arrived returns the completion with `interrupted` set (see chat_stream_reader).
    /// Deadlines: the header within response_timeout, then at most stream_idle_timeout between
    /// two pieces of the body and response_timeout + body_timeout for all of it. Cancellation
    /// closes the connection and returns the transport's cancelled error (the caller keeps what
    /// its handler received). Never repeated here, like complete().
    engine::awaitable<result<chat_completion>> stream(chat_request req, delta_handler on_delta);

    /// The start-up check: GET {base}/models with the key. A refused key is the server's error;
    /// a list that does not name the configured model is not_found (an empty list names all).
    engine::awaitable<result<void>> check_model();

    const chat_config& config() const noexcept { return cfg_; }

private:
    net::http_client& http_;
    chat_config cfg_;
};

} // namespace companion::net::openai
