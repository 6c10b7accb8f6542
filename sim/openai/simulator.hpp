// The OpenAI simulator: chat completions (persona replies, Structured Outputs, the error shapes of
// OpenAI, OpenRouter and vLLM), the videos protocol (job life cycle with a progress ramp, the
// exact-size check of input_reference, failed jobs, content with an optional redirect, expiry) and
// audio (speech and transcriptions) on a loopback HTTP server, faithful enough for the bot's
// clients and for the `openai` SDK.
//
// Chat completions stream when asked (`"stream": true`): server-sent events of
// chat.completion.chunk objects in a chunked body, one event per chunk `stream_chunk_delay` apart
// (the role, the content a few words at a time, the finish_reason), a usage chunk with
// `stream_options.include_usage`, then "data: [DONE]". `GET /v1/models` and `GET /v1/models/{id}`
// list the configured models.
//
// Audio: `POST /v1/audio/speech` (JSON {model, input, voice, response_format, instructions})
// answers a real Ogg Opus file (sim/media/ogg_opus) of about words / 2.5 seconds (0.5..120) whose
// TRANSCRIPT comment is the input, so a transcription of it gives the input back. Only
// response_format "opus" is served; "mp3", "aac", "flac", "wav" and "pcm" are valid on OpenAI but
// refused here with a 400 (the simulator makes no MP3s), like an unknown format, an unknown model
// (speech_models), a missing or empty input or voice, and an input over 4096 characters.
// `POST /v1/audio/transcriptions` (multipart: file, model, optional language and response_format
// "json" or "text") answers {"text": the file's TRANSCRIPT comment, "" when it has none}; 400 for a
// missing file or model, an unknown model (transcription_models), a language that is no ISO-639-1
// code, a file over max_transcription_bytes (OpenAI's 25 MB; the text of its 413) and a file that
// is not readable Ogg Opus ("Audio file might be corrupted or unsupported", param "file", code
// "invalid_value"). Accepted requests are recorded (speech_requests(), transcription_requests()).
//
// Fault methods for `faults` (match strings): "chat.completions", "videos.create",
// "videos.retrieve", "videos.content", "models", "audio.speech", "audio.transcriptions". Custom details on
// chat: "malformed_content", the stream breaks (a request that does not stream answers normally):
// "stream_error" (a streamed answer stops after its first piece with an error event, and the body ends
// without [DONE]), "stream_stall" (nothing more after the first piece; the connection stays open until the
// client gives up), "stream_cut" (the connection closes after the first piece, mid-body), "stream_malformed"
// (a chunk that is not JSON after the first piece, then the rest and [DONE]), "length_empty",
// "content_filter", "insufficient_quota", "context_length", "model_not_found", "openrouter" (numeric code,
// status from the fault, default 402), "openrouter_in_200", "vllm" (unwrapped error body, default status
// 400). On videos.create: "moderation_blocked" (the job fails later), "quota". Refusal on chat: content null
// plus a refusal text; on videos.create: the job ends failed with moderation_blocked. On the audio methods:
// rate_limited, server_error and the custom details as on chat ("insufficient_quota", ...); a refusal is a
// 400 with code "moderation_blocked" (the input, or what the file says, was flagged).
#pragma once

#include "engine/asio.hpp"
#include "engine/clock.hpp"
#include "engine/time_source.hpp"
#include "net/http_server.hpp"
#include "sim/provider_service.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace companion::sim {

struct openai_sim_config {
    std::string api_key{}; ///< empty: any key is accepted; else 401 for others
    engine::duration latency = std::chrono::milliseconds{0}; ///< added before every chat answer
    std::vector<std::string> chat_models{};    ///< empty: any model; else others get 404 model_not_found
    std::size_t context_limit_chars = 400'000; ///< longer conversations get context_length_exceeded
    /// Between two events of a streamed answer (slept on `time`), so clients see the text grow.
    engine::duration stream_chunk_delay = std::chrono::milliseconds{0};

    std::vector<std::string> video_models{"sora-2", "sora-2-pro"}; ///< empty: any
    std::vector<std::string> allowed_seconds{"4", "8", "12"};      ///< compared as strings
    std::vector<std::string> allowed_sizes{"720x1280", "1280x720"};
    engine::duration queue_time = std::chrono::milliseconds{200}; ///< queued, progress 0
    engine::duration render_time = std::chrono::seconds{3};       ///< in_progress, progress ramps 1..99
    engine::duration expiry = std::chrono::seconds{3600}; ///< content is gone this long after completion
    bool content_redirect = false;                        ///< /content answers 302 to a second path (a "CDN")
    std::string redirect_host = "localhost";   ///< host of that path: differs from 127.0.0.1 on purpose
    std::uint32_t video_fps = 24;              ///< tests lower it to make files smaller
    std::string refusal_marker = "[[refuse]]"; ///< a prompt containing it ends failed (moderation)
    /// Audio: the models each endpoint knows (empty: any) and the largest file a transcription takes.
    std::vector<std::string> speech_models{"gpt-4o-mini-tts", "tts-1", "tts-1-hd"};
    std::vector<std::string> transcription_models{"whisper-1", "gpt-4o-transcribe", "gpt-4o-mini-transcribe"};
    std::size_t max_transcription_bytes = 25 * 1024 * 1024;
    net::server_config server{.name = "openai_sim"};
    /// The time video jobs progress on and latency is slept on; nullptr is the process's real
    /// time. A test passes its manual_time; it must outlive the simulator.
    engine::time_source* time = nullptr;
};

/// One accepted `POST /v1/videos`.
struct openai_video_create {
    std::string id{};
    std::string prompt{};
    std::string model{};
    std::string seconds{};
    std::string size{};
    std::string reference_mime{}; ///< empty without input_reference
};

/// One accepted `POST /v1/audio/speech`.
struct openai_speech_request {
    std::string model{};
    std::string input{};
    std::string voice{};
    std::string format{}; ///< response_format
    std::string instructions{};
};

/// One accepted `POST /v1/audio/transcriptions`.
struct openai_transcription_request {
    std::string model{};
    std::string language{}; ///< empty when not sent
    double seconds = 0;     ///< the file's length
    std::string text{};     ///< what the simulator answered
};

class openai_simulator final : public provider_service<openai_video_create> {
public:
    openai_simulator(engine::executor ex, openai_sim_config cfg);
    /// "http://127.0.0.1:port/v1": what OPENAI_BASE_URL / VIDEO_BASE_URL point at.
    std::string base_url() const;

    // What the clients did (tests assert on it).
    std::size_t chat_requests() const noexcept { return chat_requests_; }
    const std::string& last_chat_body() const noexcept { return last_chat_body_; }
    std::int64_t prompt_tokens_total() const noexcept { return prompt_tokens_; }
    std::int64_t completion_tokens_total() const noexcept { return completion_tokens_; }

    using video_create = openai_video_create;
    std::size_t cdn_requests() const noexcept { return cdn_requests_; }
    std::size_t cdn_requests_with_authorization() const noexcept { return cdn_with_auth_; }

    const std::vector<openai_speech_request>& speech_requests() const noexcept { return speech_requests_; }
    const std::vector<openai_transcription_request>& transcription_requests() const noexcept {
        return transcription_requests_;
    }

private:
    struct job {
        video_create create;
        engine::time_point started{};
        std::int64_t created_at = 0; ///< unix seconds
        bool refused = false;
        std::string content{}; ///< the MP4, made on first download
    };

    engine::awaitable<net::server_response> handle_chat(net::server_request& req);
    engine::awaitable<net::server_response> handle_models(net::server_request& req);
    engine::awaitable<net::server_response> handle_videos(net::server_request& req);
    engine::awaitable<net::server_response> handle_cdn(net::server_request& req);
    engine::awaitable<net::server_response> handle_speech(net::server_request& req);
    engine::awaitable<net::server_response> handle_transcription(net::server_request& req);
    net::server_response speak(const net::server_request& req);
    net::server_response transcribe(const net::server_request& req);
    net::server_response create_video(net::server_request& req);
    net::server_response retrieve_video(std::string_view id);
    net::server_response video_content(std::string_view id, net::server_request& req);
    std::optional<net::server_response> check_key(const net::server_request& req) const;
    std::string job_json(const job& j) const;

    openai_sim_config cfg_;
    std::size_t chat_requests_ = 0;
    std::string last_chat_body_{};
    std::int64_t prompt_tokens_ = 0;
    std::int64_t completion_tokens_ = 0;
    std::map<std::string, job, std::less<>> jobs_{};
    std::size_t next_id_ = 1;
    std::size_t cdn_requests_ = 0;
    std::size_t cdn_with_auth_ = 0;
    std::vector<openai_speech_request> speech_requests_{};
    std::vector<openai_transcription_request> transcription_requests_{};
};

} // namespace companion::sim
