// The OpenAI simulator's streamed chat completions (server-sent events as the official SDKs read
// them: role, content pieces, finish_reason, usage chunk, [DONE]; one event per chunk, paced; the
// stream faults: an error event, a stall, a cut, a malformed chunk) and its model list (chat, video
// and audio models).
#include "engine/time.hpp"
#include "engine/time_source.hpp"
#include "net/http_client.hpp"
#include "sim/openai/simulator.hpp"
#include "tests/common/sim_fixture.hpp"
#include "tests/net/net_test_support.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <optional>
#include <ostream>
#include <string>
#include <vector>

using namespace companion;
using namespace companion::test;
using namespace std::chrono_literals;
using engine::awaitable;
namespace json = boost::json;

namespace {

struct openai_world : sim_fixture<sim::openai_simulator> {
    explicit openai_world(sim::openai_sim_config cfg = {}) : sim_fixture(std::move(cfg), "openai_test") {}

    awaitable<net::response> send(net::http::verb method, std::string path, std::string body = {}) {
        net::request req;
        req.method = method;
        req.url = sim.base_url() + path;
        if (!body.empty()) {
            req.headers.set(net::http::field::content_type, "application/json");
        }
        req.body = std::move(body);
        auto r = co_await http.send(std::move(req));
        BOOST_TEST_REQUIRE(r.has_value());
        co_return std::move(*r);
    }
};

// The "data:" payloads of an event stream, in order.
std::vector<std::string> events(const std::string& body) {
    std::vector<std::string> out;
    std::size_t pos = 0;
    while ((pos = body.find("data: ", pos)) != std::string::npos) {
        const auto end = body.find("\n\n", pos);
        out.push_back(body.substr(pos + 6, end - pos - 6));
        pos = end == std::string::npos ? body.size() : end;
    }
    return out;
}

const std::string request_body =
    R"({"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are Emma. Reply in English."},{"role":"user","content":"How was your day?"}])";

struct stream_case {
    std::string_view name;
    std::string options; ///< extra fields of the request
    bool usage_chunk;
};

std::ostream& operator<<(std::ostream& os, const stream_case& c) {
    return os << c.name;
}

const std::vector<stream_case> stream_cases{
    {"plain stream", R"(,"stream":true})", false},
    {"stream with usage", R"(,"stream":true,"stream_options":{"include_usage":true}})", true},
};

} // namespace

BOOST_AUTO_TEST_SUITE(openai_simulator_streaming)

BOOST_DATA_TEST_CASE(a_streamed_answer_carries_the_same_text_in_chunks_then_done,
                     boost::unit_test::data::make(stream_cases),
                     c) {
    openai_world w;
    w.run([&]() -> awaitable<void> {
        auto whole = co_await w.send(net::http::verb::post, "/chat/completions", request_body + "}");
        BOOST_TEST_REQUIRE(whole.status == 200U);
        const std::string expected(
            json::parse(whole.body).at("choices").at(0).at("message").at("content").as_string());

        auto streamed = co_await w.send(net::http::verb::post, "/chat/completions", request_body + c.options);
        BOOST_TEST_REQUIRE(streamed.status == 200U);
        BOOST_TEST(streamed.header("Content-Type").starts_with("text/event-stream"));
        const auto list = events(streamed.body);
        BOOST_TEST_REQUIRE(list.size() >= 4U);
        BOOST_TEST(list.back() == "[DONE]");
        const auto first = json::parse(list.front());
        BOOST_TEST(first.at("object").as_string() == "chat.completion.chunk");
        BOOST_TEST(first.at("choices").at(0).at("delta").at("role").as_string() == "assistant");
        std::string text;
        std::string finish;
        bool saw_usage = false;
        int content_chunks = 0;
        for (std::size_t i = 1; i + 1 < list.size(); ++i) {
            const auto chunk = json::parse(list[i]).as_object();
            const auto& choices = chunk.at("choices").as_array();
            if (choices.empty()) {
                saw_usage = true;
                BOOST_TEST(chunk.at("usage").at("total_tokens").as_int64() > 0);
                continue;
            }
            const auto& choice = choices.front().as_object();
            if (const auto* content = choice.at("delta").as_object().if_contains("content")) {
                text += std::string(content->as_string());
                ++content_chunks;
            }
            if (choice.at("finish_reason").is_string()) {
                finish = std::string(choice.at("finish_reason").as_string());
            }
        }
        BOOST_TEST(text == expected);
        BOOST_TEST(content_chunks >= 2); // really in pieces
        BOOST_TEST(finish == "stop");
        BOOST_TEST(saw_usage == c.usage_chunk);
    });
}

BOOST_AUTO_TEST_CASE(an_error_mid_stream_arrives_as_an_error_event_without_done) {
    openai_world w;
    w.run([&]() -> awaitable<void> {
        w.sim.faults.add(
            {.match = "chat.completions", .kind = sim::fault_kind::custom, .detail = "stream_error"});
        auto streamed =
            co_await w.send(net::http::verb::post, "/chat/completions", request_body + R"(,"stream":true})");
        BOOST_TEST_REQUIRE(streamed.status == 200U);
        const auto list = events(streamed.body);
        BOOST_TEST_REQUIRE(list.size() == 3U); // the role, one piece, the error
        BOOST_TEST(json::parse(list.back()).at("error").at("type").as_string() == "server_error");
    });
}

BOOST_AUTO_TEST_CASE(a_slow_stream_still_parses_whole) {
    openai_world w({.stream_chunk_delay = 1ms});
    w.run([&]() -> awaitable<void> {
        auto streamed =
            co_await w.send(net::http::verb::post, "/chat/completions", request_body + R"(,"stream":true})");
        BOOST_TEST_REQUIRE(streamed.status == 200U);
        BOOST_TEST(events(streamed.body).back() == "[DONE]");
    });
}

namespace {

struct virtual_clock {
    engine::manual_time time;
};

// The simulator on virtual time, a second between two events.
struct paced_world : virtual_clock, openai_world {
    paced_world() : openai_world({.stream_chunk_delay = 1s, .time = &time}) {}
};

net::request stream_request(const sim::openai_simulator& sim, std::string options) {
    net::request req;
    req.method = net::http::verb::post;
    req.url = sim.base_url() + "/chat/completions";
    req.headers.set(net::http::field::content_type, "application/json");
    req.body = request_body + options;
    req.timeouts = net::phase_timeouts{.response_header = 5s, .body = 10s};
    return req;
}

awaitable<void> stream_into(net::http_client& http,
                            net::request req,
                            std::function<bool(std::string_view)> on_body,
                            std::optional<net::result<net::response>>& out,
                            bool& finished) {
    auto r = co_await http.stream(std::move(req), std::move(on_body), 5s);
    out = std::move(r);
    finished = true;
}

} // namespace

BOOST_AUTO_TEST_CASE(a_paced_stream_sends_one_event_per_chunk_a_delay_apart) {
    using namespace boost::asio::experimental::awaitable_operators;
    paced_world w;
    w.run([&]() -> awaitable<void> {
        std::vector<std::string> pieces;
        std::vector<engine::time_point> seen_at;
        bool may_advance = false;
        bool finished = false;
        auto on_body = [&](std::string_view piece) {
            pieces.emplace_back(piece);
            seen_at.push_back(w.time.now());
            may_advance = true;
            return true;
        };
        std::optional<net::result<net::response>> out;
        auto streaming =
            stream_into(w.http, stream_request(w.sim, R"(,"stream":true})"), on_body, out, finished);
        auto pacing = pace(w.time, may_advance, finished);
        co_await (std::move(streaming) && std::move(pacing));
        BOOST_TEST_REQUIRE(out.has_value());
        BOOST_TEST_REQUIRE(out->has_value());
        BOOST_TEST((*out)->header("Transfer-Encoding") == "chunked");
        BOOST_TEST_REQUIRE(pieces.size() >= 4U); // the role, two pieces at least, [DONE]
        std::string text;
        for (std::size_t i = 0; i < pieces.size(); ++i) {
            // Each chunk the client read is exactly one event, seen a virtual second after the last.
            BOOST_TEST(events(pieces[i]).size() == 1U, pieces[i]);
            BOOST_TEST(pieces[i].ends_with("\n\n"));
            if (i > 0) {
                BOOST_TEST((seen_at[i] - seen_at[i - 1] == 1s));
            }
            if (i > 0 && i + 2 < pieces.size()) {
                const auto chunk = json::parse(events(pieces[i]).front());
                if (const auto* c =
                        chunk.at("choices").at(0).at("delta").as_object().if_contains("content")) {
                    text += std::string(c->as_string());
                }
            }
        }
        BOOST_TEST(events(pieces.back()).front() == "[DONE]");
        auto whole = co_await w.send(net::http::verb::post, "/chat/completions", request_body + "}");
        BOOST_TEST(
            text ==
            std::string(json::parse(whole.body).at("choices").at(0).at("message").at("content").as_string()));
    });
}

namespace {

struct break_case {
    std::string_view detail;
    std::optional<net::errc> failure;    ///< how the client's read ends; nullopt: the body ends
    std::vector<std::string_view> shape; ///< per event: "role", "content", "error", "bad", "finish", "done"
};

std::ostream& operator<<(std::ostream& os, const break_case& c) {
    return os << c.detail;
}

const std::vector<break_case> break_cases{
    {"stream_error", std::nullopt, {"role", "content", "error"}},
    {"stream_stall", net::errc::body_timeout, {"role", "content"}},
    {"stream_cut", net::errc::connection_reset, {"role", "content"}},
    {"stream_malformed", std::nullopt, {"role", "content", "bad", "content", "*"}},
};

// What kind of event `data` is, in the words of break_case::shape.
std::string kind_of(const std::string& data) {
    if (data == "[DONE]") {
        return "done";
    }
    boost::system::error_code ec;
    const auto v = json::parse(data, ec);
    if (ec) {
        return "bad";
    }
    if (v.as_object().contains("error")) {
        return "error";
    }
    const auto& choices = v.at("choices").as_array();
    if (choices.empty()) {
        return "usage";
    }
    const auto& delta = choices.front().at("delta").as_object();
    if (delta.contains("role")) {
        return "role";
    }
    if (delta.contains("content")) {
        return "content";
    }
    return choices.front().at("finish_reason").is_string() ? "finish" : "other";
}

} // namespace

BOOST_DATA_TEST_CASE(a_stream_fault_breaks_the_stream_after_its_first_piece,
                     boost::unit_test::data::make(break_cases),
                     c) {
    openai_world w;
    w.run([&]() -> awaitable<void> {
        w.sim.faults.add(
            {.match = "chat.completions", .kind = sim::fault_kind::custom, .detail = std::string(c.detail)});
        std::string body;
        auto r = co_await w.http.stream(
            stream_request(w.sim, R"(,"stream":true})"),
            [&](std::string_view piece) {
                body += piece;
                return true;
            },
            150ms);
        if (c.failure) {
            BOOST_TEST_REQUIRE(r.has_error());
            BOOST_TEST(r.error().code == make_error_code(*c.failure));
        } else {
            BOOST_TEST_REQUIRE(r.has_value());
            BOOST_TEST(r->status == 200U);
        }
        const auto list = events(body);
        BOOST_TEST_REQUIRE(list.size() >= c.shape.size());
        for (std::size_t i = 0; i < c.shape.size(); ++i) {
            if (c.shape[i] != "*") {
                BOOST_TEST(kind_of(list[i]) == c.shape[i], "event " << i);
            }
        }
        // Only the malformed chunk is followed by the rest of the answer.
        BOOST_TEST((list.back() == "[DONE]") == (c.detail == "stream_malformed"));
        if (c.shape.back() != "*") {
            BOOST_TEST(list.size() == c.shape.size());
        }
    });
}

BOOST_AUTO_TEST_CASE(a_stream_fault_leaves_a_request_that_does_not_stream_alone) {
    openai_world w;
    w.run([&]() -> awaitable<void> {
        w.sim.faults.add(
            {.match = "chat.completions", .kind = sim::fault_kind::custom, .detail = "stream_cut"});
        auto whole = co_await w.send(net::http::verb::post, "/chat/completions", request_body + "}");
        BOOST_TEST(whole.status == 200U);
        BOOST_TEST(
            !json::parse(whole.body).at("choices").at(0).at("message").at("content").as_string().empty());
    });
}

BOOST_AUTO_TEST_CASE(models_list_the_configured_chat_video_and_audio_models_and_refuse_unknown_ones) {
    openai_world w({.chat_models = {"gpt-4o-mini"},
                    .video_models = {"sora-2"},
                    .speech_models = {"tts-1"},
                    .transcription_models = {"whisper-1"}});
    w.run([&]() -> awaitable<void> {
        auto list = co_await w.send(net::http::verb::get, "/models");
        BOOST_TEST_REQUIRE(list.status == 200U);
        const auto body = json::parse(list.body);
        BOOST_TEST(body.at("object").as_string() == "list");
        std::vector<std::string> ids;
        for (const auto& m : body.at("data").as_array()) {
            ids.emplace_back(m.at("id").as_string());
            BOOST_TEST(m.at("object").as_string() == "model");
        }
        BOOST_TEST(ids == (std::vector<std::string>{"gpt-4o-mini", "sora-2", "tts-1", "whisper-1"}),
                   boost::test_tools::per_element());
        auto one = co_await w.send(net::http::verb::get, "/models/gpt-4o-mini");
        BOOST_TEST(one.status == 200U);
        auto unknown = co_await w.send(net::http::verb::get, "/models/gpt-2");
        BOOST_TEST(unknown.status == 404U);
        BOOST_TEST(json::parse(unknown.body).at("error").at("code").as_string() == "model_not_found");
    });
}

BOOST_AUTO_TEST_SUITE_END()
