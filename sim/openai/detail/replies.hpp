// What the simulated LLM says (sans-I/O): short persona replies in the language the system prompt
// asks for, a memory answer that quotes the user's earlier words and the summary it was given, a
// summary of the conversation it is asked to summarize, and JSON objects that satisfy a Structured
// Outputs schema (photo prompts of 2-4 sentences, video prompts in the five sections the bot asks
// for), all derived deterministically from the request so tests can predict them. The request's
// instruction text is read, never echoed.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace companion::sim::openai {

enum class reply_language { en, tr, ru };

/// From the system prompt ("Reply in Turkish", "language: ru", ...), else from the user's script.
reply_language detect_language(std::string_view system_prompt, std::string_view last_user);

/// What a chat request holds that the simulated model reads: the system text and the user
/// messages in order (the last is the one to answer).
struct chat_view {
    std::string system_prompt;
    std::vector<std::string> user_messages;
};

/// A one-to-two sentence, in-character reply; the same inputs give the same reply. A
/// "[[tag:...]]" in the user's message is echoed at the end (drivers match replies to messages).
std::string persona_reply(std::string_view system_prompt, std::string_view last_user);

/// The answer to a whole request: a summary when asked to keep a memory ("You keep a short
/// memory"), a memory answer quoting the user's earlier message and the summary in the system
/// prompt when the user asks whether she remembers, else persona_reply.
std::string chat_reply(const chat_view& chat);

/// An object with every required property of `schema`. A photo-prompt request (its instruction in
/// `context`) gets a 2-4 sentence photo prompt built from the persona it names; a video-prompt
/// request gets the five sections (style, scene, cinematography, actions, background_sound) built
/// from the photo prompt and persona it quotes, flirty when asked; the instruction itself is never
/// copied into the answer. `variant` varies the setting between requests (the request count).
boost::json::value
structured_reply(const boost::json::object& schema, std::string_view context, std::uint64_t variant = 0);

/// A rough token count (four characters a token), for `usage`.
std::int64_t count_tokens(std::string_view text) noexcept;

} // namespace companion::sim::openai
