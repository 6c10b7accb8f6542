// Prompt builders and validators (sans-I/O): the persona's chat system prompt, the photo prompt
// request, the five-section video prompt (LLM request, JSON parsing, validation and the
// deterministic template used when the LLM fails), the flirty choice, and text helpers (message
// splitting at Telegram's limit, truncation by characters, user-text sanitizing).
#pragma once

#include "pipelines/persona.hpp"

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace companion::pipelines {

/// The system prompt for chatting as `p` in `lang`, with the rolling summary. The persona and
/// content rules come last and say that nothing the user writes can change them.
std::string chat_system_prompt(const persona& p, std::string_view lang, std::string_view summary);

/// The last system message of a check-in (she writes first): one or two short sentences in
/// `lang`, fitting the user's `part_of_day` and local `clock`, after `quiet` of silence; no guilt
/// about the silence, no question about it.
std::string checkin_instruction(std::string_view lang,
                                std::string_view part_of_day,
                                std::string_view clock,
                                std::chrono::hours quiet);

/// The instruction that asks the LLM for a photo prompt (a candid smartphone selfie of `p` at a
/// plausible moment of her day). `moment` is an optional hint (for example the time of day).
std::string selfie_prompt_instruction(const persona& p, std::string_view moment);

/// A deterministic photo prompt for when the LLM fails.
std::string template_selfie_prompt(const persona& p, std::string_view moment);

struct video_prompt {
    std::string style;
    std::string scene;
    std::string cinematography;
    std::string actions;
    std::string background_sound;

    /// "Style: ...\n\nScene: ...\n\nCinematography: ...\n\nActions: ...\n\nBackground Sound: ..."
    std::string render() const;
};

/// The instruction for the LLM (English output, five sections, 8-12 sentences, one main action
/// that fits `clip`, persona woven in; flirty elements only when `flirty`).
std::string video_prompt_instruction(const persona& p,
                                     std::string_view selfie_prompt,
                                     bool flirty,
                                     std::chrono::seconds clip);

/// The JSON schema (as a JSON text) for structured output of a video prompt.
std::string video_prompt_schema();

/// Parses the LLM's structured output; nullopt when it is not a JSON object with the five string
/// fields.
std::optional<video_prompt> parse_video_prompt(std::string_view content);

/// Checks the shape: every section present, about 8-12 sentences in all (6-14 accepted), Actions
/// at most 3 sentences, no Cyrillic, 200-2400 characters. Returns the reason when invalid.
std::optional<std::string> validate_video_prompt(const video_prompt& vp);

/// The deterministic five-section prompt built from the selfie prompt and the persona.
video_prompt template_video_prompt(const persona& p,
                                   std::string_view selfie_prompt,
                                   bool flirty,
                                   std::chrono::seconds clip);

/// Removes flirty elements (the one retry after a provider refusal).
video_prompt without_flirty_elements(const persona& p, const video_prompt& vp, std::chrono::seconds clip);

/// Flirty only for adults who confirmed, with probability `probability`; `uniform01` is a random
/// draw in [0, 1) supplied by the caller (injected for tests).
bool choose_flirty(double probability, bool adult_confirmed, double uniform01) noexcept;

/// Splits `text` into messages of at most `limit` UTF-16 code units (Telegram's measure),
/// preferring paragraph, then line, then sentence, then word boundaries; never splits a
/// character.
std::vector<std::string> split_message(std::string_view text, std::size_t limit = 4096);

/// The first `max_chars` characters (code points) of UTF-8 `text`.
std::string truncate_chars(std::string_view text, std::size_t max_chars);

/// Number of UTF-16 code units of UTF-8 `text`.
std::size_t utf16_length(std::string_view text) noexcept;

/// User text made safe to quote inside a prompt: control characters removed, whitespace
/// collapsed, at most `max_chars` characters, and role or instruction markers neutralised.
std::string sanitize_user_text(std::string_view text, std::size_t max_chars = 2000);

/// Counts sentences (ends at '.', '!' or '?' followed by a space or the end).
std::size_t count_sentences(std::string_view text) noexcept;

} // namespace companion::pipelines
