// A typed client for OpenAI's audio endpoints and the servers that copy them (a local whisper or
// TTS server works by base URL): speech-to-text (`POST /audio/transcriptions`, multipart) for the
// users' voice notes and text-to-speech (`POST /audio/speech`, JSON in, audio bytes out) for the
// persona's voice. Every failure is a typed openai error (redacted); no retries here: the
// pipelines own that policy (a 429's retry_after is in the error).
#pragma once

#include "engine/asio.hpp"
#include "net/http_client.hpp"
#include "net/openai/error.hpp"

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

namespace companion::net::openai {

struct audio_config {
    std::string base_url = "https://api.openai.com/v1"; ///< a local whisper / TTS server works too
    std::string api_key{}; ///< sent as `Authorization: Bearer`; registered for redaction
    std::string transcription_model = "whisper-1";
    std::string speech_model = "gpt-4o-mini-tts";
    std::chrono::milliseconds connect_timeout = std::chrono::seconds(10);
    /// Until the response header: transcription and synthesis take seconds for a long note
    std::chrono::milliseconds response_timeout = std::chrono::seconds(60);
    std::chrono::milliseconds body_timeout = std::chrono::seconds(30);
    /// A longer speech body is refused (malformed_response) and not kept
    std::size_t max_speech_bytes = 20 * 1024 * 1024;
};

struct transcription_request {
    std::string audio{}; ///< the file's bytes; empty is refused before any call
    std::string filename = "voice.ogg";
    std::string mime_type = "audio/ogg";
    std::string language{}; ///< optional ISO-639-1 ("tr", "ru", "en"); empty: not sent
};

struct transcription {
    std::string text{};
};

struct speech_request {
    /// At most max_speech_input characters (Unicode code points); a longer input is refused with
    /// a bad_request error (status 0) and nothing is sent
    std::string input{};
    std::string voice{};         ///< e.g. "nova"
    std::string format = "opus"; ///< response_format: opus, mp3, aac, flac, wav, pcm
    std::string instructions{};  ///< optional; empty: not sent
};

struct speech {
    std::string bytes{};
    std::string mime_type{}; ///< audio/ogg for opus, audio/mpeg for mp3
};

/// OpenAI's limit on a speech input.
inline constexpr std::size_t max_speech_input = 4096;

/// The MIME type of a speech response_format ("opus" -> "audio/ogg", "mp3" -> "audio/mpeg", ...);
/// empty for a format it does not know.
std::string speech_mime_type(std::string_view format);

/// Reads a transcription response (sans-I/O; exposed for tests): a non-2xx is the server's error,
/// a 2xx without a string `text` is malformed_response.
result<transcription>
parse_transcription(unsigned status, std::string_view body, const boost::beast::http::fields& headers);

class audio_client {
public:
    /// `http` must outlive the client and its calls. Registers cfg.api_key for redaction.
    audio_client(net::http_client& http, audio_config cfg);

    /// POST {base}/audio/transcriptions, multipart: file, model, optional language,
    /// response_format "json"; the answer is {"text": ...}. Errors: bad_request for an empty file
    /// (nothing sent) and for audio the server cannot read (400), rate_limited with retry_after,
    /// server, unauthorized, transport, malformed_response.
    engine::awaitable<result<transcription>> transcribe(transcription_request req);
    /// POST {base}/audio/speech, JSON {model, input, voice, response_format[, instructions]}; the
    /// body is the audio. Errors as for transcribe(), plus bad_request for an over-long input
    /// (nothing sent) and malformed_response for an empty body or one over max_speech_bytes.
    engine::awaitable<result<speech>> speak(speech_request req);

    const audio_config& config() const noexcept { return cfg_; }

private:
    net::request make_request(std::string path) const;

    net::http_client& http_;
    audio_config cfg_;
};

} // namespace companion::net::openai
