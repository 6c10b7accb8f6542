// Her voice (issue 22): a user's voice note is downloaded from Telegram and transcribed by an
// OpenAI-compatible /v1/audio/transcriptions, then answered as a text turn; a reply is spoken by
// /v1/audio/speech in Opus and sent with sendVoice, in the persona's configured voice.
//
// The decisions are plain functions (which form a reply takes, whether a note can be heard);
// `voice_pipeline` carries them out and tells the user, in their language, why a note could not be
// heard. A speech failure never leaves the user without an answer: the caller sends the text.
#pragma once

#include "engine/asio.hpp"
#include "pipelines/router.hpp"
#include "pipelines/sender.hpp"
#include "pipelines/services.hpp"
#include "storage/users.hpp"
#include "storage/voice_notes.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace companion::pipelines {

struct voice_config {
    /// A note longer than this is not transcribed (the cost grows with it; Telegram's own limit
    /// is the 20 MB download).
    int max_seconds = 300;
    std::int64_t max_bytes = 20 * 1024 * 1024; ///< Telegram's getFile download limit
    std::string default_voice = "nova";        ///< for a persona without a "voice"
    /// Replies longer than this are not spoken (the speech API takes 4096 characters; a long
    /// voice note is a poor way to read a long answer): they go as text.
    std::size_t max_spoken_chars = 1500;
};

/// How a reply goes out.
enum class reply_form { text, voice, both };
BOOST_DESCRIBE_ENUM(reply_form, text, voice, both)

/// The form of a reply: the user's setting, whether the turn was a voice note (`mirror` answers
/// voice with voice), and whether speech is configured and the text short enough to speak.
reply_form choose_reply_form(storage::voice_replies how, bool user_spoke, bool can_speak) noexcept;

/// Whether a voice note can be heard, before anything is downloaded.
enum class note_verdict { ok, too_long, too_big, wrong_type };
BOOST_DESCRIBE_ENUM(note_verdict, ok, too_long, too_big, wrong_type)
note_verdict check_voice_note(const intent::voice_note& note, const voice_config& cfg) noexcept;

/// The voice a persona speaks in: her own, else the configured default.
const std::string& voice_of(const persona& p, const voice_config& cfg) noexcept;

/// How speaking a reply ended.
enum class spoken { sent, failed, blocked };

class voice_pipeline {
public:
    /// `svc` and `out` must outlive the pipeline; `svc.voice` nullptr means voice is off.
    voice_pipeline(bot_services& svc, sender& out, voice_config cfg);

    bool enabled() const noexcept { return svc_.voice != nullptr; }
    const voice_config& config() const noexcept { return cfg_; }

    /// The words of the user's note, "typing…" shown while it is heard; nullopt after telling
    /// the user why not (too long, too big, not audio, unreadable, the service is down, no words).
    /// Nothing is stored here: the caller stores the words as the user's turn.
    engine::awaitable<std::optional<std::string>> listen(const user_context& c, intent::voice_note note);

    /// Speaks `text` in her voice and sends it as a voice note ("sending a voice message…" shown
    /// while it is made), remembering it with its file_id. `failed`: nothing was sent, and the
    /// caller sends the text instead.
    engine::awaitable<spoken> speak(const user_context& c, const std::string& text);

    std::uint64_t heard() const noexcept { return heard_; }
    std::uint64_t spoken_notes() const noexcept { return spoken_; }

private:
    /// Tells the user, in their language, the catalog line `key` (why a note was not heard).
    engine::awaitable<void> explain(const user_context& c, std::string_view key);
    /// The note's bytes from Telegram, or the locale key that explains why not.
    struct download;
    engine::awaitable<download> fetch(const user_context& c, const intent::voice_note& note);

    bot_services& svc_;
    sender& out_;
    voice_config cfg_;
    storage::voice_note_repository notes_;
    std::uint64_t heard_ = 0;
    std::uint64_t spoken_ = 0;
    std::uint64_t downloads_ = 0;
};

} // namespace companion::pipelines
