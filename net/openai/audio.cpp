// OpenAI audio: transcriptions (multipart upload, JSON answer) and speech (JSON request, audio
// answer), with the errors of the OpenAI-shaped protocols.
#include "net/openai/audio.hpp"

#include "net/detail/client_support.hpp"
#include "net/multipart.hpp"

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <utility>

namespace companion::net::openai {
namespace {

constexpr std::string_view transcriptions_method = "audio.transcriptions";
constexpr std::string_view speech_method = "audio.speech";

// Unicode code points of UTF-8 text (continuation bytes are not counted).
std::size_t characters(std::string_view text) noexcept {
    std::size_t n = 0;
    for (const char c : text) {
        if ((static_cast<unsigned char>(c) & 0xC0U) != 0x80U) {
            ++n;
        }
    }
    return n;
}

api_error named(api_error e, std::string_view method) {
    e.method = std::string(method);
    return e;
}

} // namespace

std::string speech_mime_type(std::string_view format) {
    if (format == "opus") {
        return "audio/ogg"; // Opus in an Ogg container, what Telegram's sendVoice takes as is
    }
    if (format == "mp3") {
        return "audio/mpeg";
    }
    if (format == "aac") {
        return "audio/aac";
    }
    if (format == "flac") {
        return "audio/flac";
    }
    if (format == "wav") {
        return "audio/wav";
    }
    if (format == "pcm") {
        return "audio/pcm"; // raw 24 kHz 16-bit little-endian samples
    }
    return {};
}

result<transcription>
parse_transcription(unsigned status, std::string_view body, const boost::beast::http::fields& headers) {
    if (status < 200 || status >= 300) {
        return parse_error(status, body, headers);
    }
    boost::system::error_code ec;
    const auto v = boost::json::parse(body, ec);
    if (ec || !v.is_object()) {
        return malformed(status, "transcription is not a JSON object", headers);
    }
    const auto& o = v.as_object();
    const auto* text = o.if_contains("text");
    if (text == nullptr || !text->is_string()) {
        if (const auto* e = o.if_contains("error"); e != nullptr && e->is_object()) {
            return parse_error(502, body, headers); // an error inside a 200 (some gateways)
        }
        return malformed(status, "transcription without a string \"text\"", headers);
    }
    return transcription{.text = std::string(text->as_string())};
}

audio_client::audio_client(net::http_client& http, audio_config cfg) : http_(http), cfg_(std::move(cfg)) {
    cfg_.base_url = detail::client_base_url(std::move(cfg_.base_url), cfg_.api_key);
}

net::request audio_client::make_request(std::string path) const {
    auto r = detail::api_request(http::verb::post, cfg_.base_url + path, cfg_);
    if (!cfg_.api_key.empty()) {
        r.headers.set(http::field::authorization, "Bearer " + cfg_.api_key);
    }
    return r;
}

engine::awaitable<result<transcription>> audio_client::transcribe(transcription_request req) {
    if (req.audio.empty()) {
        co_return net::invalid_request("openai", transcriptions_method, "the audio file is empty");
    }
    net::multipart_form form;
    form.file("file", req.filename, req.mime_type, std::move(req.audio));
    form.field("model", cfg_.transcription_model);
    if (!req.language.empty()) {
        form.field("language", req.language);
    }
    form.field("response_format", "json");
    auto r = make_request("/audio/transcriptions");
    r.headers.set(http::field::content_type, form.content_type());
    r.headers.set(http::field::accept, "application/json");
    r.body = form.take_body();
    auto sent = co_await http_.send(std::move(r));
    if (!sent) {
        co_return named(from_failure(sent.error()), transcriptions_method);
    }
    auto parsed = parse_transcription(sent->status, sent->body, sent->headers);
    if (!parsed) {
        co_return named(parsed.error(), transcriptions_method);
    }
    co_return parsed;
}

engine::awaitable<result<speech>> audio_client::speak(speech_request req) {
    const auto length = characters(req.input);
    if (length > max_speech_input) {
        co_return net::invalid_request("openai",
                                       speech_method,
                                       "the input has " + std::to_string(length) +
                                           " characters; at most 4096 are allowed");
    }
    boost::json::object body{{"model", cfg_.speech_model},
                             {"input", req.input},
                             {"voice", req.voice},
                             {"response_format", req.format}};
    if (!req.instructions.empty()) {
        body["instructions"] = req.instructions;
    }
    auto r = make_request("/audio/speech");
    r.headers.set(http::field::content_type, "application/json");
    const std::string mime = speech_mime_type(req.format);
    r.headers.set(http::field::accept, mime.empty() ? "*/*" : mime + ", application/json");
    r.body = boost::json::serialize(body);
    r.body_limit = cfg_.max_speech_bytes;
    auto sent = co_await http_.send(std::move(r));
    if (!sent) {
        if (sent.error().code == net::errc::body_too_large) {
            co_return named(malformed(200,
                                      "the speech is larger than max_speech_bytes (" +
                                          std::to_string(cfg_.max_speech_bytes) + ")",
                                      {}),
                            speech_method);
        }
        co_return named(from_failure(sent.error()), speech_method);
    }
    if (!sent->ok()) {
        co_return named(parse_error(sent->status, sent->body, sent->headers), speech_method);
    }
    if (sent->header("content-type").starts_with("application/json")) {
        // Audio is never JSON: an error inside a 2xx (some gateways), or a server that ignored the
        // request.
        co_return named(parse_error(502, sent->body, sent->headers), speech_method);
    }
    if (sent->body.empty()) {
        co_return named(malformed(sent->status, "the speech body is empty", sent->headers), speech_method);
    }
    if (sent->body.size() > cfg_.max_speech_bytes) {
        co_return named(malformed(sent->status, "the speech is larger than max_speech_bytes", sent->headers),
                        speech_method);
    }
    speech out;
    out.mime_type = mime.empty() ? sent->header("content-type") : mime;
    out.bytes = std::move(sent->body);
    co_return out;
}

} // namespace companion::net::openai
