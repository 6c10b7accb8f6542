// The OpenAI audio client against the simulator over loopback: a voice note transcribed (the text
// back, the model and language seen), unreadable audio refused, speech that is a real Ogg Opus
// file of the input, local refusals that send nothing, faults mapped to kinds, the key kept out of
// every error; the simulator's own refusals over raw HTTP; and the parser on sample bodies.
//
// Request structs are built into named locals before each co_await (g++ 12 and braced temporaries
// in a co_await operand).
#include "engine/log.hpp"
#include "net/http_client.hpp"
#include "net/multipart.hpp"
#include "net/openai/audio.hpp"
#include "sim/media/ogg_opus.hpp"
#include "sim/openai/simulator.hpp"
#include "tests/net/providers/support.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <optional>
#include <string>
#include <vector>

namespace companion {
namespace {

using namespace std::chrono_literals;
using error_kind = net::api_error_kind;

const std::string audio_key = "sk-test-audio-key-777777";

sim::openai_sim_config keyed_sim() {
    sim::openai_sim_config c;
    c.api_key = audio_key;
    return c;
}

struct audio_fixture : test::sim_fixture<sim::openai_simulator> {
    std::optional<net::openai::audio_client> client;

    audio_fixture() : sim_fixture(keyed_sim()) { client.emplace(http, config(audio_key)); }

    net::openai::audio_config config(std::string key) const {
        net::openai::audio_config c;
        c.base_url = sim.base_url() + "/"; // a trailing slash is tolerated
        c.api_key = std::move(key);
        c.response_timeout = 5s;
        return c;
    }

    engine::awaitable<net::openai::result<net::openai::transcription>> transcribe(std::string audio,
                                                                                  std::string language = "") {
        net::openai::transcription_request req;
        req.audio = std::move(audio);
        req.language = std::move(language);
        auto r = co_await client->transcribe(std::move(req));
        co_return r;
    }

    engine::awaitable<net::openai::result<net::openai::speech>> speak(std::string input) {
        net::openai::speech_request req;
        req.input = std::move(input);
        req.voice = "nova";
        auto r = co_await client->speak(std::move(req));
        co_return r;
    }

    /// A raw multipart POST to /audio/transcriptions with the key (for what the client never sends).
    engine::awaitable<net::response> raw_transcription(net::multipart_form form) {
        net::request req;
        req.method = net::http::verb::post;
        req.url = sim.base_url() + "/audio/transcriptions";
        req.headers.set(net::http::field::authorization, "Bearer " + audio_key);
        req.headers.set(net::http::field::content_type, form.content_type());
        req.body = form.take_body();
        auto r = co_await http.send(std::move(req));
        BOOST_TEST_REQUIRE(r.has_value());
        co_return std::move(*r);
    }

    engine::awaitable<net::response> raw_speech(std::string body) {
        net::request req;
        req.method = net::http::verb::post;
        req.url = sim.base_url() + "/audio/speech";
        req.headers.set(net::http::field::authorization, "Bearer " + audio_key);
        req.headers.set(net::http::field::content_type, "application/json");
        req.body = std::move(body);
        auto r = co_await http.send(std::move(req));
        BOOST_TEST_REQUIRE(r.has_value());
        co_return std::move(*r);
    }
};

// The error object of an OpenAI error body.
boost::json::object error_of(const net::response& r) {
    return boost::json::parse(r.body).as_object().at("error").as_object();
}

BOOST_AUTO_TEST_SUITE(openai_audio)

BOOST_FIXTURE_TEST_CASE(a_voice_note_is_transcribed_and_the_server_sees_model_and_language, audio_fixture) {
    const std::string note = sim::media::make_ogg_opus({.seconds = 2.0, .transcript = "Merhaba, nasılsın?"});
    run([&]() -> engine::awaitable<void> {
        auto heard = co_await transcribe(note, "tr");
        BOOST_TEST_REQUIRE(heard.has_value());
        BOOST_TEST(heard->text == "Merhaba, nasılsın?");
        auto quiet = sim::media::make_ogg_opus({.seconds = 0.5});
        auto silent = co_await transcribe(std::move(quiet));
        BOOST_TEST_REQUIRE(silent.has_value());
        BOOST_TEST(silent->text.empty());

        const auto& seen = sim.transcription_requests();
        BOOST_TEST_REQUIRE(seen.size() == 2U);
        BOOST_TEST(seen[0].model == "whisper-1");
        BOOST_TEST(seen[0].language == "tr");
        BOOST_TEST(seen[0].seconds == 2.0, boost::test_tools::tolerance(0.001));
        BOOST_TEST(seen[0].text == "Merhaba, nasılsın?");
        BOOST_TEST(seen[1].language.empty()); // not sent when empty
    });
}

BOOST_FIXTURE_TEST_CASE(unreadable_audio_is_a_bad_request_and_empty_audio_is_refused_locally, audio_fixture) {
    const std::string note = sim::media::make_ogg_opus({.seconds = 1.0, .transcript = "cut"});
    run([&]() -> engine::awaitable<void> {
        const std::vector<std::string> unreadable{"RIFF....WAVEfmt not a voice note",
                                                  note.substr(0, note.size() - 9)};
        for (const auto& bytes : unreadable) {
            auto r = co_await transcribe(bytes);
            BOOST_TEST_REQUIRE(r.has_error());
            BOOST_TEST(r.error().kind == error_kind::bad_request);
            BOOST_TEST(r.error().status == 400U);
            BOOST_TEST(r.error().code == "invalid_value");
            BOOST_TEST(r.error().type == "invalid_request_error");
            BOOST_TEST(r.error().detail == "Audio file might be corrupted or unsupported");
            BOOST_TEST(r.error().method == "audio.transcriptions");
        }
        auto empty = co_await transcribe("");
        BOOST_TEST_REQUIRE(empty.has_error());
        BOOST_TEST(empty.error().kind == error_kind::bad_request);
        BOOST_TEST(empty.error().status == 0U); // nothing sent
        BOOST_TEST(sim.transcription_requests().empty());
    });
}

BOOST_FIXTURE_TEST_CASE(speech_is_an_ogg_opus_file_of_the_input, audio_fixture) {
    const std::string input = "Bugün çok güzel bir gün, seninle konuşmak istedim. Nasılsın?";
    run([&]() -> engine::awaitable<void> {
        net::openai::speech_request req;
        req.input = input;
        req.voice = "nova";
        req.instructions = "Speak warmly.";
        auto spoken = co_await client->speak(std::move(req));
        BOOST_TEST_REQUIRE(spoken.has_value());
        BOOST_TEST(spoken->mime_type == "audio/ogg");
        const auto info = sim::media::read_ogg_opus(spoken->bytes);
        BOOST_TEST_REQUIRE(info.has_value());
        BOOST_TEST(info->transcript.value_or("") == input);
        BOOST_TEST(info->seconds == 9 / 2.5, boost::test_tools::tolerance(0.001)); // nine words

        BOOST_TEST_REQUIRE(sim.speech_requests().size() == 1U);
        const auto& seen = sim.speech_requests()[0];
        BOOST_TEST(seen.model == "gpt-4o-mini-tts");
        BOOST_TEST(seen.input == input);
        BOOST_TEST(seen.voice == "nova");
        BOOST_TEST(seen.format == "opus");
        BOOST_TEST(seen.instructions == "Speak warmly.");

        // The round trip the bot relies on in simulation: what it speaks, a transcription hears.
        auto heard = co_await transcribe(spoken->bytes);
        BOOST_TEST_REQUIRE(heard.has_value());
        BOOST_TEST(heard->text == input);
    });
}

BOOST_FIXTURE_TEST_CASE(an_over_long_input_is_refused_before_any_call, audio_fixture) {
    run([&]() -> engine::awaitable<void> {
        std::string longest;
        for (int i = 0; i < 4096; ++i) {
            longest += "ж"; // 4096 characters, 8192 bytes: allowed
        }
        auto at_limit = co_await speak(longest);
        BOOST_TEST(at_limit.has_value());
        auto over = co_await speak(longest + "!");
        BOOST_TEST_REQUIRE(over.has_error());
        BOOST_TEST(over.error().kind == error_kind::bad_request);
        BOOST_TEST(over.error().status == 0U);
        BOOST_TEST(over.error().detail.find("4097") != std::string::npos);
        BOOST_TEST(sim.speech_requests().size() == 1U); // only the one at the limit
    });
}

BOOST_FIXTURE_TEST_CASE(faults_map_to_kinds, audio_fixture) {
    const std::string note = sim::media::make_ogg_opus({.seconds = 1.0, .transcript = "x"});
    run([&]() -> engine::awaitable<void> {
        sim.faults.add(test::fault_of(sim::fault_kind::server_error, "audio.speech", "", 0ms, 503));
        auto overloaded = co_await speak("hello");
        BOOST_TEST_REQUIRE(overloaded.has_error());
        BOOST_TEST(overloaded.error().kind == error_kind::server);
        BOOST_TEST(overloaded.error().status == 503U);
        BOOST_TEST(overloaded.error().retryable());

        sim.faults.add(test::fault_of(sim::fault_kind::rate_limited, "audio.transcriptions", "", 2500ms));
        auto limited = co_await transcribe(note);
        BOOST_TEST_REQUIRE(limited.has_error());
        BOOST_TEST(limited.error().kind == error_kind::rate_limited);
        BOOST_TEST_REQUIRE(limited.error().retry_after.has_value());
        BOOST_TEST(limited.error().retry_after->count() == 2500);

        sim.faults.add(test::fault_of(sim::fault_kind::rate_limited, "audio.speech", "", 4s));
        auto speech_limited = co_await speak("hello");
        BOOST_TEST(speech_limited.error().kind == error_kind::rate_limited);
        BOOST_TEST(speech_limited.error().retry_after.value_or(0ms).count() == 4000);

        sim.faults.add(test::fault_of(sim::fault_kind::custom, "audio.speech", "insufficient_quota"));
        auto quota = co_await speak("hello");
        BOOST_TEST(quota.error().kind == error_kind::quota_exhausted);

        sim.faults.add(test::fault_of(sim::fault_kind::refusal, "audio.speech"));
        auto refused = co_await speak("hello");
        BOOST_TEST(refused.error().kind == error_kind::bad_request);
        BOOST_TEST(refused.error().code == "moderation_blocked");

        sim.faults.add(test::fault_of(sim::fault_kind::malformed_json, "audio.transcriptions"));
        auto garbled = co_await transcribe(note);
        BOOST_TEST(garbled.error().kind == error_kind::malformed_response);

        sim.faults.add(test::fault_of(sim::fault_kind::reset, "audio.speech"));
        auto reset = co_await speak("hello");
        BOOST_TEST_REQUIRE(reset.has_error());
        BOOST_TEST(reset.error().kind == error_kind::transport);

        sim.faults.add(test::fault_of(sim::fault_kind::latency, "audio.transcriptions", "", 10ms));
        sim.faults.add(test::fault_of(sim::fault_kind::slow_body, "audio.speech", "", 1ms));
        BOOST_TEST((co_await transcribe(note)).has_value());
        auto slow = co_await speak("one two three");
        BOOST_TEST_REQUIRE(slow.has_value());
        BOOST_TEST(sim::media::read_ogg_opus(slow->bytes).has_value());
        BOOST_TEST(sim.speech_requests().size() == 1U); // the faulted calls were never accepted
    });
}

BOOST_FIXTURE_TEST_CASE(an_oversized_speech_body_is_malformed_and_not_kept, audio_fixture) {
    run([&]() -> engine::awaitable<void> {
        auto small_cfg = config(audio_key);
        small_cfg.max_speech_bytes = 256; // a second of speech is larger
        net::openai::audio_client small(http, std::move(small_cfg));
        net::openai::speech_request req;
        req.input = "this answer will not fit";
        req.voice = "nova";
        auto too_big = co_await small.speak(std::move(req));
        BOOST_TEST_REQUIRE(too_big.has_error());
        BOOST_TEST(too_big.error().kind == error_kind::malformed_response);
        BOOST_TEST(too_big.error().detail.find("max_speech_bytes") != std::string::npos);
    });
}

BOOST_FIXTURE_TEST_CASE(the_api_key_never_appears_in_an_error, audio_fixture) {
    const std::string wrong_key = "sk-wrong-audio-key-31337-abcdef";
    run([&]() -> engine::awaitable<void> {
        net::openai::audio_client wrong(http, config(wrong_key));
        net::openai::speech_request req;
        req.input = "hello";
        req.voice = "nova";
        auto denied = co_await wrong.speak(std::move(req));
        BOOST_TEST_REQUIRE(denied.has_error());
        BOOST_TEST(denied.error().kind == error_kind::unauthorized);
        net::openai::transcription_request treq;
        treq.audio = sim::media::make_ogg_opus({.seconds = 0.5});
        auto denied_too = co_await wrong.transcribe(std::move(treq));
        BOOST_TEST(denied_too.error().kind == error_kind::unauthorized);

        sim.faults.add(test::fault_of(sim::fault_kind::server_error, "audio.speech", "", 0ms, 500));
        auto failed = co_await speak("hello");
        sim.faults.add(test::fault_of(sim::fault_kind::reset, "audio.transcriptions"));
        auto reset = co_await transcribe("OggS");
        std::vector<net::api_error> errors{denied.error(), denied_too.error(), failed.error(), reset.error()};
        for (const auto& e : errors) {
            const auto text = e.message();
            BOOST_TEST(text.find(wrong_key) == std::string::npos, text);
            BOOST_TEST(text.find(audio_key) == std::string::npos, text);
            BOOST_TEST(e.detail.find(audio_key) == std::string::npos);
        }
        // The redactor knows both keys: a text that names one is cleaned.
        BOOST_TEST(engine::secrets().redact("key " + audio_key).find(audio_key) == std::string::npos);
        BOOST_TEST(engine::secrets().redact("key " + wrong_key).find(wrong_key) == std::string::npos);
    });
}

BOOST_FIXTURE_TEST_CASE(the_simulator_refuses_what_openai_refuses, audio_fixture) {
    const std::string note = sim::media::make_ogg_opus({.seconds = 1.0, .transcript = "x"});
    run([&]() -> engine::awaitable<void> {
        struct speech_case {
            std::string body;
            std::string param;
        };
        const std::vector<speech_case> speech_cases{
            {R"({"model":"gpt-4o-mini-tts","voice":"nova","response_format":"opus"})", "input"},
            {R"({"model":"gpt-4o-mini-tts","input":"","voice":"nova","response_format":"opus"})", "input"},
            {R"({"model":"gpt-4o-mini-tts","input":"hi","response_format":"opus"})", "voice"},
            {R"({"model":"gpt-4o-mini-tts","input":"hi","voice":"","response_format":"opus"})", "voice"},
            {R"({"model":"tts-9","input":"hi","voice":"nova","response_format":"opus"})", "model"},
            {R"({"model":"tts-1","input":"hi","voice":"nova","response_format":"mp3"})", "response_format"},
            {R"({"model":"tts-1","input":"hi","voice":"nova"})", "response_format"}, // OpenAI's default: mp3
            {R"({"model":"tts-1","input":"hi","voice":"nova","response_format":"ogg"})", "response_format"},
            {R"({"model":"tts-1","input":")" + std::string(4097, 'a') +
                 R"(","voice":"nova","response_format":"opus"})",
             "input"},
        };
        for (const auto& c : speech_cases) {
            auto r = co_await raw_speech(c.body);
            BOOST_TEST(r.status == 400U, c.body.substr(0, 80));
            BOOST_TEST(std::string(error_of(r).at("type").as_string()) == "invalid_request_error");
            BOOST_TEST(std::string(error_of(r).at("param").as_string()) == c.param, c.body.substr(0, 80));
        }
        BOOST_TEST(sim.speech_requests().empty());

        struct transcription_case {
            std::string name;
            std::vector<std::pair<std::string, std::string>> fields;
            std::optional<std::string> file;
            std::string param;
        };
        const std::vector<transcription_case> transcription_cases{
            {"no file", {{"model", "whisper-1"}}, std::nullopt, "file"},
            {"no model", {}, note, "model"},
            {"unknown model", {{"model", "whisper-9"}}, note, "model"},
            {"bad language", {{"model", "whisper-1"}, {"language", "turkish"}}, note, "language"},
            {"over 25 MB", {{"model", "whisper-1"}}, note + std::string(25 * 1024 * 1024, '\0'), "file"},
            {"not audio", {{"model", "gpt-4o-transcribe"}}, std::string("hello"), "file"},
        };
        for (const auto& c : transcription_cases) {
            net::multipart_form form;
            if (c.file) {
                form.file("file", "voice.ogg", "audio/ogg", *c.file);
            }
            for (const auto& [name, value] : c.fields) {
                form.field(name, value);
            }
            auto r = co_await raw_transcription(std::move(form));
            BOOST_TEST(r.status == 400U, c.name);
            BOOST_TEST(std::string(error_of(r).at("param").as_string()) == c.param, c.name);
        }
        BOOST_TEST(sim.transcription_requests().empty());

        // The other models and the text format are served.
        net::multipart_form text_form;
        text_form.file("file", "voice.ogg", "audio/ogg", note);
        text_form.field("model", "gpt-4o-mini-transcribe");
        text_form.field("response_format", "text");
        auto text = co_await raw_transcription(std::move(text_form));
        BOOST_TEST(text.status == 200U);
        BOOST_TEST(text.body == "x\n");
        auto hd = co_await raw_speech(
            R"({"model":"tts-1-hd","input":"hi","voice":"alloy","response_format":"opus"})");
        BOOST_TEST(hd.status == 200U);
        BOOST_TEST(hd.header("content-type") == "audio/ogg");
        const auto short_speech = sim::media::read_ogg_opus(hd.body);
        BOOST_TEST_REQUIRE(short_speech.has_value());
        BOOST_TEST(short_speech->seconds == 0.5, boost::test_tools::tolerance(0.001)); // clamped up
    });
}

// Sans-I/O: the transcription parser on sample bodies.

BOOST_AUTO_TEST_CASE(transcription_bodies_parse_or_are_typed_errors) {
    using net::openai::parse_transcription;
    auto ok = parse_transcription(200, R"({"text":"Привет","usage":{"type":"duration","seconds":3}})", {});
    BOOST_TEST_REQUIRE(ok.has_value());
    BOOST_TEST(ok->text == "Привет");
    BOOST_TEST(parse_transcription(200, R"({"text":""})", {})->text.empty());
    BOOST_TEST(parse_transcription(200, R"({"text":42})", {}).error().kind == error_kind::malformed_response);
    BOOST_TEST(parse_transcription(200, R"({})", {}).error().kind == error_kind::malformed_response);
    BOOST_TEST(parse_transcription(200, "Привет", {}).error().kind == error_kind::malformed_response);
    auto inside = parse_transcription(200, R"({"error":{"message":"upstream","type":"server_error"}})", {});
    BOOST_TEST(inside.error().kind == error_kind::server);
    auto bad = parse_transcription(
        400,
        R"({"error":{"message":"Invalid file format.","type":"invalid_request_error","param":"file","code":null}})",
        {});
    BOOST_TEST(bad.error().kind == error_kind::bad_request);
    BOOST_TEST(bad.error().detail == "Invalid file format.");
    BOOST_TEST(net::openai::speech_mime_type("opus") == "audio/ogg");
    BOOST_TEST(net::openai::speech_mime_type("mp3") == "audio/mpeg");
    BOOST_TEST(net::openai::speech_mime_type("ogg").empty());
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace
} // namespace companion
