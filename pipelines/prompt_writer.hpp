// The prompts an LLM writes for the image and video models, as structured output with a
// deterministic template behind it: an LLM outage or a bad answer never stops a selfie or a video
// (design.md §1).
#pragma once

#include "engine/asio.hpp"
#include "pipelines/persona.hpp"
#include "pipelines/ports.hpp"

#include <chrono>
#include <string>

namespace companion::pipelines {

/// The photo prompt for a selfie of `p` at `moment` ("morning", ...): the LLM's when it answers
/// `{"prompt": "..."}` with a usable text, else the template.
engine::awaitable<std::string> write_selfie_prompt(chat_model& llm, const persona& p, std::string moment);

/// The five-section video prompt from a selfie's photo prompt: the LLM's when it is valid, else
/// the template (flirty or not as asked).
engine::awaitable<std::string> write_video_prompt(chat_model& llm,
                                                  const persona& p,
                                                  std::string selfie_prompt,
                                                  bool flirty,
                                                  std::chrono::seconds clip);

} // namespace companion::pipelines
