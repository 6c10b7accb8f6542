// The chat pipeline (design.md §1, Memory): the user's turn is stored first (an LLM failure must
// not lose it), the LLM answers in the persona's voice from her system prompt, the rolling summary
// and the last turns, the reply is sent and stored, and every few turns the summary is refreshed.
#pragma once

#include "engine/asio.hpp"
#include "pipelines/sender.hpp"
#include "pipelines/services.hpp"
#include "storage/conversation.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

namespace companion::pipelines {

struct chat_config {
    std::size_t history_turns = 12; ///< turns the LLM sees besides the summary
    int summary_every = 8;          ///< refresh the summary after this many turns
};

class chat_pipeline {
public:
    /// `svc` and `out` must outlive the pipeline.
    chat_pipeline(bot_services& svc, sender& out, chat_config cfg);

    /// One turn with the user's persona (`c.p` must be set). An LLM that fails or answers nothing
    /// gets the persona's localized apology; the user's turn stays stored either way.
    engine::awaitable<void> turn(const user_context& c, std::string text);

    std::uint64_t turns() const noexcept { return turns_count_; }

private:
    engine::awaitable<void> refresh_summary(const user_context& c, const persona& p);

    bot_services& svc_;
    sender& out_;
    chat_config cfg_;
    storage::conversation_repository turns_;
    std::uint64_t turns_count_ = 0;
};

} // namespace companion::pipelines
