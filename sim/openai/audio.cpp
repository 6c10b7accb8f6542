// The OpenAI simulator's audio endpoints: speech (JSON in, a real Ogg Opus file out that carries the
// input as its transcript) and transcriptions (a multipart upload whose Ogg Opus file is "heard" by
// reading its TRANSCRIPT comment). Error texts follow OpenAI's answers.
#include "net/multipart.hpp"
#include "sim/media/ogg_opus.hpp"
#include "sim/openai/detail/errors.hpp"
#include "sim/openai/simulator.hpp"

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <optional>
#include <string>
#include <string_view>

namespace companion::sim {
namespace {

using openai::openai_error;
using openai::set_json;

constexpr std::size_t max_speech_input = 4096;
constexpr std::array<std::string_view, 6> speech_formats{"mp3", "opus", "aac", "flac", "wav", "pcm"};

net::server_response invalid(std::string_view message,
                             std::optional<std::string_view> code = std::nullopt,
                             std::optional<std::string_view> param = std::nullopt) {
    return net::json_response(400, openai_error(message, "invalid_request_error", code, param));
}

bool listed(const std::vector<std::string>& models, const std::string& model) {
    return models.empty() || std::find(models.begin(), models.end(), model) != models.end();
}

std::string quoted_list(const std::vector<std::string>& values) {
    std::string out;
    for (std::size_t i = 0; i < values.size(); ++i) {
        out += i == 0 ? "" : (i + 1 == values.size() ? " and " : ", ");
        out += "'" + values[i] + "'";
    }
    return out;
}

std::size_t characters(std::string_view text) {
    return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
        return (static_cast<unsigned char>(c) & 0xC0U) != 0x80U;
    }));
}

std::size_t words(std::string_view text) {
    std::size_t n = 0;
    bool in_word = false;
    for (const char c : text) {
        const bool space = std::isspace(static_cast<unsigned char>(c)) != 0;
        if (!space && !in_word) {
            ++n;
        }
        in_word = !space;
    }
    return n;
}

// A string field of a JSON request: nullopt when absent, the error when not a string.
struct text_field {
    std::optional<std::string> value{};
    bool wrong_type = false;
};

text_field string_field(const boost::json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    if (v == nullptr || v->is_null()) {
        return {};
    }
    if (!v->is_string()) {
        return {.value = std::nullopt, .wrong_type = true};
    }
    return {.value = std::string(v->as_string()), .wrong_type = false};
}

// The audio faults that are the service's to render (the wire ones are applied by begin()).
bool render_audio_fault(const fault& f, net::server_response& r) {
    switch (f.kind) {
    case fault_kind::rate_limited:
    case fault_kind::server_error:
        openai::render_chat_fault(f, r);
        return true;
    case fault_kind::refusal:
        set_json(r,
                 400,
                 openai_error("Your request was rejected as a result of our safety system.",
                              "invalid_request_error",
                              "moderation_blocked"));
        return true;
    case fault_kind::custom:
        openai::render_chat_fault(f, r);
        return true;
    default:
        return false;
    }
}

bool iso_639_1(std::string_view code) {
    return code.size() == 2 && std::islower(static_cast<unsigned char>(code[0])) != 0 &&
           std::islower(static_cast<unsigned char>(code[1])) != 0;
}

} // namespace

engine::awaitable<net::server_response> openai_simulator::handle_speech(net::server_request& req) {
    net::server_response r;
    std::optional<fault> f;
    const auto denied = check_key(req);
    auto early = co_await begin("audio.speech", f, r, denied);
    if (early) {
        co_return std::move(*early);
    }
    if (f && render_audio_fault(*f, r)) {
        co_return r;
    }
    auto out = speak(req);
    out.fault = r.fault; // slow_body sends the audio slowly
    co_return out;
}

net::server_response openai_simulator::speak(const net::server_request& req) {
    boost::system::error_code ec;
    const auto v = boost::json::parse(req.msg.body(), ec);
    if (ec || !v.is_object()) {
        return invalid("We could not parse the JSON body of your request.");
    }
    const auto& o = v.as_object();
    const auto model = string_field(o, "model");
    const auto input = string_field(o, "input");
    const auto voice = string_field(o, "voice");
    const auto format = string_field(o, "response_format");
    const auto instructions = string_field(o, "instructions");
    if (!model.value || model.value->empty()) {
        return invalid("you must provide a model parameter", std::nullopt, "model");
    }
    if (input.wrong_type || voice.wrong_type || format.wrong_type || instructions.wrong_type) {
        return invalid("Invalid type: expected a string.", "invalid_type");
    }
    if (!input.value) {
        return invalid("Missing required parameter: 'input'.", "missing_required_parameter", "input");
    }
    if (input.value->empty()) {
        return invalid("Invalid 'input': empty string. Expected a string with minimum length 1, but got an "
                       "empty string instead.",
                       "empty_string",
                       "input");
    }
    if (const auto n = characters(*input.value); n > max_speech_input) {
        return invalid(
            "Invalid 'input': string too long. Expected a string with maximum length 4096, but got a "
            "string with length " +
                std::to_string(n) + " instead.",
            "string_above_max_length",
            "input");
    }
    if (!voice.value) {
        return invalid("Missing required parameter: 'voice'.", "missing_required_parameter", "voice");
    }
    if (voice.value->empty()) {
        return invalid("Invalid 'voice': empty string. Expected a string with minimum length 1, but got an "
                       "empty string instead.",
                       "empty_string",
                       "voice");
    }
    if (!listed(cfg_.speech_models, *model.value)) {
        return invalid("Invalid value: '" + *model.value +
                           "'. Supported values are: " + quoted_list(cfg_.speech_models) + ".",
                       "invalid_value",
                       "model");
    }
    const std::string response_format = format.value.value_or("mp3"); // OpenAI's default
    if (std::find(speech_formats.begin(), speech_formats.end(), response_format) == speech_formats.end()) {
        return invalid("Invalid value: '" + response_format +
                           "'. Supported values are: 'mp3', 'opus', 'aac', 'flac', 'wav', and 'pcm'.",
                       "invalid_value",
                       "response_format");
    }
    if (response_format != "opus") {
        return invalid("The simulator serves response_format 'opus' only, not '" + response_format + "'.",
                       "unsupported_value",
                       "response_format");
    }
    // About 2.5 words a second, as a calm voice speaks.
    const double seconds = std::clamp(static_cast<double>(words(*input.value)) / 2.5, 0.5, 120.0);
    std::string audio = media::make_ogg_opus({.seconds = seconds, .transcript = *input.value});
    speech_requests_.push_back({.model = *model.value,
                                .input = *input.value,
                                .voice = *voice.value,
                                .format = response_format,
                                .instructions = instructions.value.value_or("")});
    auto out = net::text_response(200, std::move(audio), "audio/ogg");
    out.msg.set("x-request-id", "req_sim_speech" + std::to_string(speech_requests_.size()));
    return out;
}

engine::awaitable<net::server_response> openai_simulator::handle_transcription(net::server_request& req) {
    net::server_response r;
    std::optional<fault> f;
    const auto denied = check_key(req);
    auto early = co_await begin("audio.transcriptions", f, r, denied);
    if (early) {
        co_return std::move(*early);
    }
    if (f && render_audio_fault(*f, r)) {
        co_return r;
    }
    auto out = transcribe(req);
    out.fault = r.fault;
    co_return out;
}

net::server_response openai_simulator::transcribe(const net::server_request& req) {
    const auto boundary = net::multipart_boundary(req.header("content-type"));
    if (!boundary) {
        return invalid("Invalid Content-Type header (" + req.header("content-type") +
                       "), expected multipart/form-data.");
    }
    auto parts = net::parse_multipart(req.msg.body(), *boundary);
    if (!parts) {
        return invalid("Could not parse multipart form: " + parts.error().detail);
    }
    const net::multipart_part* file = nullptr;
    std::optional<std::string> model;
    std::string language;
    std::string response_format = "json";
    for (const auto& p : *parts) {
        if (p.name == "file") {
            file = &p;
        } else if (p.name == "model") {
            model = p.data;
        } else if (p.name == "language") {
            language = p.data;
        } else if (p.name == "response_format") {
            response_format = p.data;
        }
    }
    if (file == nullptr) {
        return invalid("Missing required parameter: 'file'.", "missing_required_parameter", "file");
    }
    if (!model || model->empty()) {
        return invalid("you must provide a model parameter", "missing_required_parameter", "model");
    }
    if (!listed(cfg_.transcription_models, *model)) {
        return invalid("Invalid value: '" + *model +
                           "'. Supported values are: " + quoted_list(cfg_.transcription_models) + ".",
                       "invalid_value",
                       "model");
    }
    if (!language.empty() && !iso_639_1(language)) {
        return invalid("Invalid language '" + language +
                           "'. Language parameter must be specified in ISO-639-1 format.",
                       "invalid_value",
                       "language");
    }
    if (response_format != "json" && response_format != "text") {
        return invalid("Invalid value: '" + response_format +
                           "'. The simulator serves response_format 'json' and 'text'.",
                       "invalid_value",
                       "response_format");
    }
    if (file->data.size() > cfg_.max_transcription_bytes) {
        // OpenAI answers 413 with this text; the simulator keeps it a 400 so every refusal of the
        // request's content has one status.
        return invalid("Maximum content size limit (" + std::to_string(cfg_.max_transcription_bytes) +
                           ") exceeded (" + std::to_string(file->data.size()) + " bytes read)",
                       std::nullopt,
                       "file");
    }
    const auto info = media::read_ogg_opus(file->data);
    if (!info) {
        return invalid("Audio file might be corrupted or unsupported", "invalid_value", "file");
    }
    std::string text = info->transcript.value_or("");
    transcription_requests_.push_back(
        {.model = *model, .language = language, .seconds = info->seconds, .text = text});
    const auto id = "req_sim_transcription" + std::to_string(transcription_requests_.size());
    if (response_format == "text") {
        auto out = net::text_response(200, text + "\n", "text/plain; charset=utf-8");
        out.msg.set("x-request-id", id);
        return out;
    }
    auto out = net::json_response(200, boost::json::serialize(boost::json::object{{"text", text}}));
    out.msg.set("x-request-id", id);
    return out;
}

} // namespace companion::sim
