// What the simulated LLM says (sans-I/O): short persona replies in the language the system prompt
// asks for, and JSON objects that satisfy a Structured Outputs schema (video and photo prompts),
// all derived deterministically from the conversation so tests can predict them.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace companion::sim::openai {

enum class reply_language { en, tr, ru };

/// From the system prompt ("Reply in Turkish", "language: ru", ...), else from the user's script.
reply_language detect_language(std::string_view system_prompt, std::string_view last_user);

/// A one-to-two sentence, in-character reply; the same inputs give the same reply. A
/// "[[tag:...]]" in the user's message is echoed at the end (drivers match replies to messages).
std::string persona_reply(std::string_view system_prompt, std::string_view last_user);

/// An object with every required property of `schema` (strings get plausible prompt text for
/// their key: style, scene, cinematography, actions, background_sound, prompt, ...).
boost::json::value structured_reply(const boost::json::object& schema, std::string_view context);

/// A rough token count (four characters a token), for `usage`.
std::int64_t count_tokens(std::string_view text) noexcept;

} // namespace companion::sim::openai
