// Her voice.
#include "pipelines/voice.hpp"

#include "engine/log.hpp"
#include "pipelines/prompts.hpp"

#include <algorithm>
#include <array>
#include <fstream>
#include <iterator>
#include <system_error>

namespace companion::pipelines {

namespace oa = net::openai;

reply_form choose_reply_form(storage::voice_replies how, bool user_spoke, bool can_speak) noexcept {
    if (!can_speak) {
        return reply_form::text;
    }
    switch (how) {
    case storage::voice_replies::mirror:
        return user_spoke ? reply_form::voice : reply_form::text;
    case storage::voice_replies::text:
        return reply_form::text;
    case storage::voice_replies::voice:
        return reply_form::voice;
    case storage::voice_replies::both:
        return reply_form::both;
    }
    return reply_form::text;
}

note_verdict check_voice_note(const intent::voice_note& note, const voice_config& cfg) noexcept {
    // What Telegram records (Ogg Opus) and what a transcription API takes besides.
    static constexpr std::array<std::string_view, 8> audio{"audio/ogg",
                                                           "audio/opus",
                                                           "audio/mpeg",
                                                           "audio/mp4",
                                                           "audio/x-m4a",
                                                           "audio/wav",
                                                           "audio/x-wav",
                                                           "audio/webm"};
    if (!note.mime_type.empty() &&
        std::find(audio.begin(), audio.end(), std::string_view(note.mime_type)) == audio.end()) {
        return note_verdict::wrong_type;
    }
    if (note.file_size && *note.file_size > cfg.max_bytes) {
        return note_verdict::too_big;
    }
    if (note.duration > cfg.max_seconds) {
        return note_verdict::too_long;
    }
    return note_verdict::ok;
}

const std::string& voice_of(const persona& p, const voice_config& cfg) noexcept {
    return p.voice.empty() ? cfg.default_voice : p.voice;
}

voice_pipeline::voice_pipeline(bot_services& svc, sender& out, voice_config cfg)
    : svc_(svc), out_(out), cfg_(std::move(cfg)), notes_(svc.db) {}

engine::awaitable<void> voice_pipeline::explain(const user_context& c, std::string_view key) {
    std::string line =
        svc_.locales.text(c.lang, key, {{"minutes", std::to_string((cfg_.max_seconds + 59) / 60)}});
    auto sent = co_await out_.text(c.chat_id, std::move(line));
    if (!sent) {
        // Nothing more to do: the sender logged why, and a user who blocked the bot is marked.
        engine::log().info("voice.notice_not_sent",
                           {{"chat", c.chat_id}, {"reason", to_string(sent.error().reason)}});
    }
}

struct voice_pipeline::download {
    std::optional<std::string> bytes{};
    std::string_view why{}; ///< the locale key when there are no bytes
};

namespace {

/// Reads the downloaded note and removes its file. Blocks on the disk: offload it.
std::optional<std::string> take_file(const std::filesystem::path& file) {
    std::optional<std::string> out;
    {
        std::ifstream in(file, std::ios::binary);
        if (in) {
            out.emplace((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        }
    }
    std::error_code ignored; // a leftover is a temporary under the media folder, swept by retention
    std::filesystem::remove(file, ignored);
    return out;
}

} // namespace

engine::awaitable<voice_pipeline::download> voice_pipeline::fetch(const user_context& c,
                                                                  const intent::voice_note& note) {
    auto info = co_await svc_.telegram.get_file(note.file_id);
    if (!info) {
        // Telegram refuses getFile over its 20 MB download limit with a 400.
        const bool too_big = info.error().kind == tg::error_kind::too_large ||
                             info.error().detail.find("too big") != std::string::npos;
        engine::log().warn("voice.get_file_failed", {{"user", c.user_id}, {"error", info.error().message()}});
        download failed;
        failed.why = too_big ? "voice.too_big" : "voice.failed";
        co_return failed;
    }
    if (info->file_size > cfg_.max_bytes) {
        download failed;
        failed.why = "voice.too_big";
        co_return failed;
    }
    const auto file = svc_.media.directory() / (".voice-in-" + std::to_string(c.user_id) + "-" +
                                                std::to_string(++downloads_) + ".ogg");
    auto got =
        co_await svc_.telegram.download_file(info->file_path, file, static_cast<std::size_t>(cfg_.max_bytes));
    if (!got) {
        engine::log().warn("voice.download_failed", {{"user", c.user_id}, {"error", got.error().message()}});
        download failed;
        failed.why = got.error().kind == tg::error_kind::too_large ? "voice.too_big" : "voice.failed";
        co_return failed;
    }
    auto take = [file] { return take_file(file); };
    auto bytes = co_await svc_.offload.run(std::move(take));
    download out;
    if (!bytes || bytes->empty()) {
        out.why = "voice.unreadable";
    } else {
        out.bytes = std::move(bytes);
    }
    co_return out;
}

engine::awaitable<std::optional<std::string>> voice_pipeline::listen(const user_context& c,
                                                                     intent::voice_note note) {
    const auto verdict = check_voice_note(note, cfg_);
    if (verdict != note_verdict::ok) {
        engine::log().info(
            "voice.declined",
            {{"user", c.user_id}, {"verdict", std::string(to_string(verdict))}, {"seconds", note.duration}});
        const std::string_view key = verdict == note_verdict::too_long  ? "voice.too_long"
                                     : verdict == note_verdict::too_big ? "voice.too_big"
                                                                        : "voice.unsupported";
        co_await explain(c, key);
        co_return std::nullopt;
    }
    auto heard = [this, &c, &note]() -> engine::awaitable<std::optional<std::string>> {
        auto got = co_await fetch(c, note);
        if (!got.bytes) {
            co_await explain(c, got.why);
            co_return std::nullopt;
        }
        oa::transcription_request req;
        req.audio = std::move(*got.bytes);
        req.mime_type = note.mime_type.empty() ? "audio/ogg" : note.mime_type;
        req.language = c.lang;
        auto r = co_await svc_.voice->transcribe(std::move(req));
        if (!r) {
            engine::log().warn("voice.transcription_failed",
                               {{"user", c.user_id}, {"error", r.error().message()}});
            // A 400 is this file (corrupt, a format it does not take); anything else is the service.
            const bool file_refused = r.error().kind == net::api_error_kind::bad_request ||
                                      r.error().kind == net::api_error_kind::too_large;
            const std::string_view key = file_refused ? "voice.unreadable" : "voice.failed";
            co_await explain(c, key);
            co_return std::nullopt;
        }
        std::string words = sanitize_user_text(r->text, 4000);
        if (words.empty()) {
            co_await explain(c, "voice.unclear");
            co_return std::nullopt;
        }
        co_return words;
    };
    auto words = co_await out_.acting(c.chat_id, tg::chat_action::typing, heard());
    if (words) {
        ++heard_;
    }
    co_return words;
}

engine::awaitable<spoken> voice_pipeline::speak(const user_context& c, const std::string& text) {
    oa::speech_request req;
    req.input = truncate_chars(text, 4096);
    req.voice = voice_of(*c.p, cfg_);
    req.format = "opus";
    auto made =
        co_await out_.acting(c.chat_id, tg::chat_action::upload_voice, svc_.voice->speak(std::move(req)));
    if (!made) {
        engine::log().warn("voice.speech_failed", {{"user", c.user_id}, {"error", made.error().message()}});
        co_return spoken::failed;
    }
    tg::send_voice_params params;
    params.chat_id = c.chat_id;
    params.voice = tg::input_file::from_memory("speech.ogg",
                                               made->mime_type.empty() ? "audio/ogg" : made->mime_type,
                                               std::move(made->bytes));
    auto sent = co_await out_.voice(std::move(params));
    if (!sent) {
        engine::log().warn("voice.not_sent",
                           {{"user", c.user_id}, {"reason", to_string(sent.error().reason)}});
        co_return sent.error().reason == send_failure_reason::blocked ? spoken::blocked : spoken::failed;
    }
    ++spoken_;
    if (sent->voice && !sent->voice->file_id.empty()) {
        storage::new_voice_note row;
        row.user_id = c.user_id;
        row.persona_id = c.p->id;
        row.text = text;
        row.seconds = sent->voice->duration;
        row.telegram_file_id = sent->voice->file_id;
        row.created = svc_.time.wall();
        try {
            notes_.insert(row);
        } catch (const std::exception& e) {
            // The note was heard; only its record is missing (a resend or /forget has less to do).
            engine::log().warn("voice.not_recorded", {{"user", c.user_id}, {"error", e.what()}});
        }
    }
    co_return spoken::sent;
}

} // namespace companion::pipelines
