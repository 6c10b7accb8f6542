// The chat pipeline (design.md §1, Memory): the user's turn is stored first (an LLM failure must
// not lose it), the LLM answers in the persona's voice from her system prompt, the rolling summary
// and the last turns, the reply is sent and stored, and every few turns the summary is refreshed.
#pragma once

#include "engine/asio.hpp"
#include "engine/sync.hpp"
#include "pipelines/draft_stream.hpp"
#include "pipelines/sender.hpp"
#include "pipelines/services.hpp"
#include "pipelines/voice.hpp"
#include "storage/conversation.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>

namespace companion::pipelines {

struct chat_config {
    std::size_t history_turns = 12; ///< turns the LLM sees besides the summary
    int summary_every = 8;          ///< refresh the summary after this many turns
    /// Stream replies in private chats as a growing draft (sendMessageDraft) with a stop
    /// button; off, or for a persona or user who turned it off, the typing action shows instead.
    bool stream = true;
    draft_config drafts{};
};

/// Whether a reply to `c` streams: private chats only (drafts exist nowhere else), and only when
/// the configuration, the persona and the user all allow it.
bool streams_reply(const chat_config& cfg, const user_context& c) noexcept;

class chat_pipeline {
public:
    /// `svc`, `out` and `voice` must outlive the pipeline; `voice` nullptr: replies are text only.
    chat_pipeline(bot_services& svc, sender& out, chat_config cfg, voice_pipeline* voice = nullptr);

    /// One turn with the user's persona (`c.p` must be set). An LLM that fails or answers nothing
    /// gets the persona's localized apology; the user's turn stays stored either way. `spoke`:
    /// the turn was a voice note (heard as `text`), which the user's setting may answer by voice.
    /// A reply that should be spoken but cannot be goes as text: never silence.
    engine::awaitable<void> turn(const user_context& c, std::string text, bool spoke = false);

    /// The user pressed stop on draft `draft_id` in `chat_id`: that generation ends at once and
    /// what it wrote so far becomes the reply. False (nothing done) when no generation of that
    /// chat streams under that draft id (it finished, or the id is another's).
    bool stop(std::int64_t chat_id, std::int64_t draft_id);

    std::uint64_t turns() const noexcept { return turns_count_; }
    std::uint64_t stops() const noexcept { return stops_; }
    /// Replies that should have been spoken and went as text (speech or sendVoice failed).
    std::uint64_t voice_fallbacks() const noexcept { return voice_fallbacks_; }

private:
    /// What the model answered: the text (empty: nothing usable) and whether the user stopped it.
    struct answer {
        std::string text{};
        bool stopped = false;
    };
    /// A streamed generation in flight, findable by its chat for a stop.
    struct generation {
        std::int64_t draft_id = 0;
        engine::event stopped;
    };
    engine::awaitable<answer> whole(const user_context& c, net::openai::chat_request req);
    engine::awaitable<answer> streamed(const user_context& c, net::openai::chat_request req);
    engine::awaitable<void> refresh_summary(const user_context& c, const persona& p);
    std::int64_t next_draft_id() noexcept;

    bot_services& svc_;
    sender& out_;
    chat_config cfg_;
    voice_pipeline* voice_;
    storage::conversation_repository turns_;
    std::uint64_t turns_count_ = 0;
    std::uint64_t stops_ = 0;
    std::uint64_t voice_fallbacks_ = 0;
    std::unordered_map<std::int64_t, generation*> live_{}; ///< by chat; one turn per chat at a time
};

} // namespace companion::pipelines
