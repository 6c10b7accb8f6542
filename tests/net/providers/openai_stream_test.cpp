// Streamed chat completions: the sans-I/O chunk reader on the shapes OpenAI, OpenRouter, vLLM and
// Ollama send (a table, every split point, the ways a stream breaks), and chat_client::stream
// against the OpenAI simulator over loopback (deltas as they come, usage, every stream fault, HTTP
// errors, a stall, a cut, cancellation by a racing timer).
#include "engine/time.hpp"
#include "net/http_client.hpp"
#include "net/openai/chat.hpp"
#include "sim/openai/simulator.hpp"
#include "tests/net/providers/support.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/json/parse.hpp>
#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace companion {
namespace {

using namespace std::chrono_literals;
using error_kind = net::api_error_kind;
using net::openai::chat_completion;
using net::openai::chat_stream_reader;
using net::openai::finish_reason;

// One chat.completion.chunk event with `delta` and `finish` (JSON text).
std::string chunk(std::string_view delta, std::string_view finish = "null") {
    return R"(data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-test",)"
           R"("choices":[{"index":0,"delta":)" +
           std::string(delta) + R"(,"logprobs":null,"finish_reason":)" + std::string(finish) + "}]}\n\n";
}

// An event whose dispatching blank line never came (the server closed right after it).
std::string without_blank_line(std::string event) {
    event.resize(event.size() - 2);
    return event;
}

const std::string role = chunk(R"({"role":"assistant","content":"","refusal":null})");
const std::string done = "data: [DONE]\n\n";
const std::string usage_chunk =
    R"(data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-test","choices":[],)"
    R"("usage":{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12}})"
    "\n\n";

// What reading a whole body gives.
struct read_outcome {
    net::openai::result<chat_completion> r;
    std::vector<std::string> deltas;
};

read_outcome read_all(const std::vector<std::string_view>& pieces,
                      std::optional<net::api_error> transport = std::nullopt) {
    chat_stream_reader reader;
    std::vector<std::string> deltas;
    const net::openai::delta_handler on_delta = [&](std::string_view d) { deltas.emplace_back(d); };
    for (auto p : pieces) {
        if (!reader.feed(p, on_delta)) {
            break; // as chat_client::stream stops reading
        }
    }
    auto r = reader.finish(std::move(transport), on_delta);
    return {std::move(r), std::move(deltas)};
}

std::string joined(const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) {
        out += s;
    }
    return out;
}

net::api_error cut_error() {
    return net::transport_error("openai",
                                {},
                                net::make_failure(net::errc::connection_reset, "in the body", true));
}

struct reader_case {
    std::string_view name;
    std::string body;
    // Expected: an error kind, or a completion (content, refusal, finish, usage total, interrupted).
    std::optional<error_kind> error{};
    std::optional<std::string> content{};
    std::optional<std::string> refusal{};
    finish_reason finish = finish_reason::other;
    std::int64_t usage_total = -1; ///< -1: no usage
    std::optional<error_kind> interrupted{};
    std::string detail{}; ///< a fragment of the error's (or interruption's) detail, when set
};

std::ostream& operator<<(std::ostream& os, const reader_case& c) {
    return os << c.name;
}

const std::vector<reader_case> reader_cases{
    {.name = "openai: role, pieces, finish, done",
     .body = role + chunk(R"({"content":"Mer"})") + chunk(R"({"content":"haba!"})") +
             chunk("{}", R"("stop")") + done,
     .content = "Merhaba!",
     .finish = finish_reason::stop},
    {.name = "include_usage: a last chunk with empty choices",
     .body = role + chunk(R"({"content":"Hi"})") + chunk("{}", R"("length")") + usage_chunk + done,
     .content = "Hi",
     .finish = finish_reason::length,
     .usage_total = 12},
    {.name = "openrouter: comment lines and usage beside the finish",
     .body =
         ": OPENROUTER PROCESSING\n\n" + role + ": OPENROUTER PROCESSING\n\n" + chunk(R"({"content":"Hi"})") +
         R"(data: {"id":"gen-1","model":"openai/gpt-4o","choices":[{"index":0,"delta":{"content":""},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}})"
         "\n\n" +
         done,
     .content = "Hi",
     .finish = finish_reason::stop,
     .usage_total = 2},
    {.name = "vllm: reasoning_content and null content are no reply",
     .body = chunk(R"({"role":"assistant","content":null})") +
             chunk(R"({"reasoning_content":"thinking..."})") +
             chunk(R"({"reasoning":"more","content":null})") + chunk(R"({"content":"Answer"})") +
             chunk("{}", R"("eos")") + done,
     .content = "Answer",
     .finish = finish_reason::other},
    {.name = "content as an array of text parts",
     .body = chunk(R"({"content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]})") +
             chunk("{}", R"("stop")") + done,
     .content = "ab",
     .finish = finish_reason::stop},
    {.name = "a refusal accumulates apart from the content",
     .body = role + chunk(R"({"refusal":"I can't "})") + chunk(R"({"refusal":"help."})") +
             chunk("{}", R"("stop")") + done,
     .refusal = "I can't help.",
     .finish = finish_reason::stop},
    {.name = "CRLF line ends",
     .body = "data: {\"choices\":[{\"delta\":{\"content\":\"x\"}}]}\r\n\r\ndata: [DONE]\r\n\r\n",
     .content = "x"},
    {.name = "done without its blank line at the end of the body",
     .body = chunk(R"({"content":"x"})") + "data: [DONE]",
     .content = "x"},
    {.name = "a last content chunk without its blank line still reaches the handler",
     .body = role + without_blank_line(chunk(R"({"content":"x"})", R"("stop")")),
     .content = "x",
     .finish = finish_reason::stop},
    {.name = "what follows done is ignored",
     .body = chunk(R"({"content":"x"})") + done + chunk(R"({"content":"y"})") + "garbage",
     .content = "x"},
    {.name = "a finish without done, then a clean end (servers that never send done)",
     .body = chunk(R"({"content":"x"})") + chunk("{}", R"("stop")"),
     .content = "x",
     .finish = finish_reason::stop},
    {.name = "an error event before any content",
     .body =
         role +
         R"(data: {"error":{"message":"The server is overloaded.","type":"server_error","param":null,"code":null}})"
         "\n\n",
     .error = error_kind::server,
     .detail = "overloaded"},
    {.name = "openrouter: a numeric code inside the stream",
     .body = R"(data: {"error":{"code":429,"message":"Rate limit exceeded"}})"
             "\n\n",
     .error = error_kind::rate_limited},
    {.name = "vllm: an unwrapped error object",
     .body =
         R"(data: {"object":"error","message":"max_tokens must be at least 1","type":"BadRequestError","param":null,"code":400})"
         "\n\n",
     .error = error_kind::bad_request},
    {.name = "an event named error",
     .body = "event: error\ndata: {\"message\":\"upstream failed\",\"code\":502}\n\n",
     .error = error_kind::server,
     .detail = "upstream failed"},
    {.name = "an event named error with text",
     .body = chunk(R"({"content":"a"})") + "event: error\ndata: upstream failed\n\n",
     .content = "a",
     .interrupted = error_kind::server,
     .detail = "upstream failed"},
    {.name = "an error event mid-stream keeps what came",
     .body = role + chunk(R"({"content":"Hal"})") +
             R"(data: {"error":{"message":"boom","type":"server_error","param":null,"code":null}})"
             "\n\n" +
             done,
     .content = "Hal",
     .interrupted = error_kind::server,
     .detail = "boom"},
    {.name = "a malformed chunk before content",
     .body = role + "data: {\"choices\":[{\"delta\":\n\n",
     .error = error_kind::malformed_response},
    {.name = "a malformed chunk after content",
     .body = chunk(R"({"content":"Hal"})") + "data: not json\n\n" + chunk(R"({"content":"lo"})") + done,
     .content = "Hal",
     .interrupted = error_kind::malformed_response,
     .detail = "not a JSON object"},
    {.name = "choices that are not an array",
     .body = chunk(R"({"content":"a"})") + "data: {\"choices\":{}}\n\n" + done,
     .content = "a",
     .interrupted = error_kind::malformed_response},
    {.name = "an end without done or finish after content",
     .body = role + chunk(R"({"content":"Hal"})"),
     .content = "Hal",
     .interrupted = error_kind::malformed_response,
     .detail = "without [DONE]"},
    {.name = "an empty body",
     .body = "",
     .error = error_kind::malformed_response,
     .detail = "without [DONE]"},
    {.name = "a body of blanks", .body = "\n\n  \n", .error = error_kind::malformed_response},
    {.name = "a whole JSON completion (stream ignored)",
     .body =
         R"({"id":"c","object":"chat.completion","model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"Whole"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}})",
     .content = "Whole",
     .finish = finish_reason::stop,
     .usage_total = 2},
    {.name = "openrouter: a JSON error in a 200",
     .body = "\n"
             R"({"id":"gen-sim","error":{"code":502,"message":"Provider returned error"}})",
     .error = error_kind::server,
     .detail = "Provider returned error"},
};

void check(const reader_case& c, const read_outcome& got) {
    if (c.error) {
        BOOST_TEST_REQUIRE(got.r.has_error());
        BOOST_TEST(got.r.error().kind == *c.error);
        BOOST_TEST(got.r.error().detail.find(c.detail) != std::string::npos, got.r.error().detail);
        BOOST_TEST(got.deltas.empty());
        return;
    }
    BOOST_TEST_REQUIRE(got.r.has_value(), (got.r.has_error() ? got.r.error().message() : ""));
    const chat_completion& r = *got.r;
    BOOST_TEST(r.content.value_or("<none>") == c.content.value_or("<none>"));
    BOOST_TEST(r.refusal.value_or("<none>") == c.refusal.value_or("<none>"));
    BOOST_TEST(r.finish == c.finish);
    BOOST_TEST(r.usage.has_value() == (c.usage_total >= 0));
    if (r.usage) {
        BOOST_TEST(r.usage->total_tokens == c.usage_total);
    }
    BOOST_TEST(r.interrupted.has_value() == c.interrupted.has_value());
    if (r.interrupted && c.interrupted) {
        BOOST_TEST(r.interrupted->kind == *c.interrupted);
        BOOST_TEST(r.interrupted->detail.find(c.detail) != std::string::npos, r.interrupted->detail);
    }
    // The handler saw exactly the content, in order.
    BOOST_TEST(joined(got.deltas) == c.content.value_or(""));
}

} // namespace

BOOST_AUTO_TEST_SUITE(openai_chat_stream_reader)

BOOST_DATA_TEST_CASE(each_stream_shape_reads_to_its_outcome, boost::unit_test::data::make(reader_cases), c) {
    check(c, read_all({c.body}));
}

BOOST_DATA_TEST_CASE(each_stream_shape_reads_the_same_fed_byte_by_byte,
                     boost::unit_test::data::make(reader_cases),
                     c) {
    std::vector<std::string_view> bytes;
    for (std::size_t i = 0; i < c.body.size(); ++i) {
        bytes.push_back(std::string_view(c.body).substr(i, 1));
    }
    check(c, read_all(bytes));
}

BOOST_AUTO_TEST_CASE(every_split_point_gives_the_same_completion_and_deltas) {
    const std::string body = ": OPENROUTER PROCESSING\r\n\r\n" + role +
                             chunk(R"({"content":"Bug\u00fcn "})") + chunk(R"({"content":"kafedeydim."})") +
                             chunk("{}", R"("stop")") + usage_chunk + done;
    const auto whole = read_all({body});
    BOOST_TEST_REQUIRE(whole.r.has_value());
    BOOST_TEST(whole.r->content.value_or("") == "Bug\xc3\xbcn kafedeydim.");
    for (std::size_t cut = 0; cut <= body.size(); ++cut) {
        const std::string_view b = body;
        const auto got = read_all({b.substr(0, cut), b.substr(cut)});
        BOOST_TEST_REQUIRE(got.r.has_value(), "split at " << cut);
        BOOST_TEST(got.r->content.value_or("<none>") == *whole.r->content, "split at " << cut);
        BOOST_TEST(joined(got.deltas) == *whole.r->content);
        BOOST_TEST_REQUIRE(got.r->usage.has_value());
        BOOST_TEST(got.r->usage->total_tokens == 12);
        BOOST_TEST(got.r->id == "chatcmpl-1");
        BOOST_TEST(got.r->model == "gpt-test");
    }
}

BOOST_AUTO_TEST_CASE(a_broken_stream_asks_for_no_more_and_stays_broken) {
    chat_stream_reader reader;
    std::vector<std::string> deltas;
    const net::openai::delta_handler on_delta = [&](std::string_view d) { deltas.emplace_back(d); };
    BOOST_TEST(reader.feed(chunk(R"({"content":"a"})"), on_delta));
    BOOST_TEST(!reader.feed("data: {broken\n\n" + chunk(R"({"content":"b"})"), on_delta));
    BOOST_TEST(reader.broken());
    BOOST_TEST(!reader.feed(chunk(R"({"content":"c"})"), on_delta));
    BOOST_TEST(deltas == std::vector<std::string>{"a"}, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_cut_after_content_interrupts_and_a_cut_before_content_is_the_error) {
    const auto after = read_all({role + chunk(R"({"content":"Hal"})")}, cut_error());
    BOOST_TEST_REQUIRE(after.r.has_value());
    BOOST_TEST(after.r->content.value_or("") == "Hal");
    BOOST_TEST_REQUIRE(after.r->interrupted.has_value());
    BOOST_TEST(after.r->interrupted->kind == error_kind::transport);
    BOOST_TEST(after.r->interrupted->outcome_unknown());

    const auto before = read_all({role}, cut_error());
    BOOST_TEST_REQUIRE(before.r.has_error());
    BOOST_TEST(before.r.error().kind == error_kind::transport);

    // After [DONE] a failure of the connection loses nothing.
    const auto finished = read_all({chunk(R"({"content":"x"})") + done}, cut_error());
    BOOST_TEST_REQUIRE(finished.r.has_value());
    BOOST_TEST(!finished.r->interrupted.has_value());

    // Half a whole JSON answer is the transport's error.
    const auto half = read_all({R"({"id":"c","choices":[)"}, cut_error());
    BOOST_TEST_REQUIRE(half.r.has_error());
    BOOST_TEST(half.r.error().kind == error_kind::transport);
}

BOOST_AUTO_TEST_CASE(an_event_over_the_limit_breaks_the_stream) {
    chat_stream_reader reader({}, 256);
    const net::openai::delta_handler none;
    BOOST_TEST(reader.feed(chunk(R"({"content":"a"})"), none));
    BOOST_TEST(!reader.feed("data: " + std::string(1000, 'x'), none));
    auto r = reader.finish();
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST_REQUIRE(r->interrupted.has_value());
    BOOST_TEST(r->interrupted->detail.find("256 bytes") != std::string::npos, r->interrupted->detail);
}

BOOST_AUTO_TEST_CASE(the_stream_body_adds_stream_fields_to_the_same_request) {
    net::openai::chat_request req;
    req.messages = {{net::openai::role::user, "hi"}};
    const auto plain = boost::json::parse(net::openai::build_chat_body({}, req)).as_object();
    auto streamed = boost::json::parse(net::openai::build_chat_stream_body({}, req)).as_object();
    BOOST_TEST(streamed.at("stream").as_bool());
    BOOST_TEST(streamed.at("stream_options").at("include_usage").as_bool());
    streamed.erase("stream");
    streamed.erase("stream_options");
    BOOST_TEST(streamed == plain);
    const auto no_usage =
        boost::json::parse(net::openai::build_chat_stream_body({.stream_include_usage = false}, req))
            .as_object();
    BOOST_TEST(no_usage.at("stream").as_bool());
    BOOST_TEST(!no_usage.contains("stream_options"));
}

BOOST_AUTO_TEST_SUITE_END()

namespace {

struct stream_fixture : test::sim_fixture<sim::openai_simulator> {
    std::optional<net::openai::chat_client> client;
    std::vector<std::string> deltas;

    explicit stream_fixture(sim::openai_sim_config sc = {}, net::openai::chat_config cc = {})
        : sim_fixture(std::move(sc)) {
        cc.base_url = sim.base_url();
        if (cc.api_key.empty()) {
            cc.api_key = "sk-test-stream-key-123456";
        }
        cc.response_timeout = 5s;
        client.emplace(http, std::move(cc));
    }

    static net::openai::chat_request request() {
        net::openai::chat_request req;
        req.messages = {{net::openai::role::system, "You are Emma. Reply in English."},
                        {net::openai::role::user, "How was your day?"}};
        return req;
    }

    engine::awaitable<net::openai::result<chat_completion>> stream() {
        auto r = co_await client->stream(request(), [this](std::string_view d) { deltas.emplace_back(d); });
        co_return r;
    }

    engine::awaitable<net::openai::result<chat_completion>> stream_with(std::string detail) {
        sim.faults.add(test::fault_of(sim::fault_kind::custom, "chat.completions", std::move(detail)));
        auto r = co_await stream();
        co_return r;
    }
};

// The first piece the simulator streams of the answer to request(): what a broken stream keeps.
engine::awaitable<std::string> first_piece(stream_fixture& f) {
    auto whole = co_await f.client->complete(stream_fixture::request());
    BOOST_REQUIRE(whole.has_value());
    const std::string text = whole->content.value_or("");
    // Three words and their spaces (sim/openai/simulator.cpp's stream_pieces).
    std::size_t spaces = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == ' ' && ++spaces == 3) {
            co_return text.substr(0, i + 1);
        }
    }
    co_return text;
}

} // namespace

BOOST_AUTO_TEST_SUITE(openai_chat_stream)

BOOST_FIXTURE_TEST_CASE(a_streamed_reply_arrives_in_pieces_and_equals_the_whole_reply, stream_fixture) {
    run([this]() -> engine::awaitable<void> {
        auto whole = co_await client->complete(request());
        BOOST_REQUIRE(whole.has_value());
        auto r = co_await stream();
        BOOST_REQUIRE(r.has_value());
        BOOST_TEST(!r->interrupted.has_value());
        BOOST_TEST(r->content.value_or("<none>") == whole->content.value_or(""));
        BOOST_TEST(deltas.size() >= 2U);
        BOOST_TEST(joined(deltas) == r->content.value_or(""));
        BOOST_TEST(r->finish == finish_reason::stop);
        BOOST_REQUIRE(r->usage.has_value());
        BOOST_TEST(r->usage->total_tokens == r->usage->prompt_tokens + r->usage->completion_tokens);
        BOOST_TEST(r->request_id == "req_sim2");
        BOOST_TEST(r->id == "chatcmpl-sim2");
        BOOST_TEST(r->model == "gpt-5-mini");
        const auto sent = boost::json::parse(sim.last_chat_body()).as_object();
        BOOST_TEST(sent.at("stream").as_bool());
        BOOST_TEST(sent.at("stream_options").at("include_usage").as_bool());
        // The connection served both calls and is back in the pool.
        BOOST_TEST(http.open_connections() == 1U);
        BOOST_TEST(http.idle_connections() == 1U);
    });
}

struct no_usage_fixture : stream_fixture {
    no_usage_fixture() : stream_fixture({}, {.stream_include_usage = false}) {}
};

BOOST_FIXTURE_TEST_CASE(without_include_usage_there_is_no_usage_chunk, no_usage_fixture) {
    run([this]() -> engine::awaitable<void> {
        auto r = co_await stream();
        BOOST_REQUIRE(r.has_value());
        BOOST_TEST(!r->usage.has_value());
        BOOST_TEST(!boost::json::parse(sim.last_chat_body()).as_object().contains("stream_options"));
    });
}

BOOST_FIXTURE_TEST_CASE(a_refused_stream_has_a_refusal_and_no_deltas, stream_fixture) {
    run([this]() -> engine::awaitable<void> {
        sim.faults.add(test::fault_of(sim::fault_kind::refusal, "chat.completions"));
        auto r = co_await stream();
        BOOST_REQUIRE(r.has_value());
        BOOST_TEST(!r->content.has_value());
        BOOST_TEST(!r->refusal.value_or("").empty());
        BOOST_TEST(deltas.empty());
    });
}

BOOST_FIXTURE_TEST_CASE(an_error_event_mid_stream_keeps_the_first_piece, stream_fixture) {
    run([this]() -> engine::awaitable<void> {
        const auto first = co_await first_piece(*this);
        auto r = co_await stream_with("stream_error");
        BOOST_REQUIRE(r.has_value());
        BOOST_TEST(r->content.value_or("") == first);
        BOOST_TEST(joined(deltas) == first);
        BOOST_REQUIRE(r->interrupted.has_value());
        BOOST_TEST(r->interrupted->kind == error_kind::server);
        BOOST_TEST(r->interrupted->request_id == "req_sim2");
    });
}

BOOST_FIXTURE_TEST_CASE(a_stream_cut_by_the_network_keeps_the_first_piece, stream_fixture) {
    run([this]() -> engine::awaitable<void> {
        const auto first = co_await first_piece(*this);
        auto r = co_await stream_with("stream_cut");
        BOOST_REQUIRE(r.has_value());
        BOOST_TEST(r->content.value_or("") == first);
        BOOST_REQUIRE(r->interrupted.has_value());
        BOOST_TEST(r->interrupted->kind == error_kind::transport);
        BOOST_REQUIRE(r->interrupted->transport.has_value());
        BOOST_TEST(r->interrupted->transport->code == make_error_code(net::errc::connection_reset));
        BOOST_TEST(http.open_connections() == 0U);
    });
}

BOOST_FIXTURE_TEST_CASE(a_malformed_chunk_ends_the_stream_at_the_first_piece, stream_fixture) {
    run([this]() -> engine::awaitable<void> {
        const auto first = co_await first_piece(*this);
        auto r = co_await stream_with("stream_malformed");
        BOOST_REQUIRE(r.has_value());
        BOOST_TEST(r->content.value_or("") == first); // nothing after the bad chunk is taken
        BOOST_TEST(joined(deltas) == first);
        BOOST_REQUIRE(r->interrupted.has_value());
        BOOST_TEST(r->interrupted->kind == error_kind::malformed_response);
        BOOST_TEST(http.open_connections() == 0U); // the rest of the body was never read
    });
}

struct stall_fixture : stream_fixture {
    stall_fixture() : stream_fixture({}, {.stream_idle_timeout = 100ms}) {}
};

BOOST_FIXTURE_TEST_CASE(a_stalled_stream_ends_at_the_idle_deadline_with_the_first_piece, stall_fixture) {
    run([this]() -> engine::awaitable<void> {
        const auto first = co_await first_piece(*this);
        auto r = co_await stream_with("stream_stall");
        BOOST_REQUIRE(r.has_value());
        BOOST_TEST(r->content.value_or("") == first);
        BOOST_REQUIRE(r->interrupted.has_value());
        BOOST_REQUIRE(r->interrupted->transport.has_value());
        BOOST_TEST(r->interrupted->transport->code == make_error_code(net::errc::body_timeout));
        BOOST_TEST(r->interrupted->retryable());
    });
}

BOOST_FIXTURE_TEST_CASE(http_errors_are_parsed_as_complete_parses_them, stream_fixture) {
    run([this]() -> engine::awaitable<void> {
        sim.faults.add(test::fault_of(sim::fault_kind::rate_limited, "chat.completions", "", 1500ms));
        auto limited = co_await stream();
        BOOST_REQUIRE(limited.has_error());
        BOOST_TEST(limited.error().kind == error_kind::rate_limited);
        BOOST_REQUIRE(limited.error().retry_after.has_value());
        BOOST_TEST(limited.error().retry_after->count() == 1500);

        auto quota = co_await stream_with("insufficient_quota");
        BOOST_REQUIRE(quota.has_error());
        BOOST_TEST(quota.error().kind == error_kind::quota_exhausted);

        // OpenRouter's failure after its 200: a JSON error body, no event stream.
        auto in_200 = co_await stream_with("openrouter_in_200");
        BOOST_REQUIRE(in_200.has_error());
        BOOST_TEST(in_200.error().kind == error_kind::server);
        BOOST_TEST(deltas.empty());
    });
}

struct keyed_fixture : stream_fixture {
    keyed_fixture()
        : stream_fixture({.api_key = "sk-the-right-key-123456"}, {.api_key = "sk-a-wrong-key-654321"}) {}
};

BOOST_FIXTURE_TEST_CASE(a_refused_key_is_unauthorized_and_never_shown, keyed_fixture) {
    run([this]() -> engine::awaitable<void> {
        auto r = co_await stream();
        BOOST_REQUIRE(r.has_error());
        BOOST_TEST(r.error().kind == error_kind::unauthorized);
        BOOST_TEST(r.error().message().find("sk-a-wrong-key-654321") == std::string::npos);
        BOOST_TEST(deltas.empty());
    });
}

namespace {

engine::awaitable<void> stream_into(stream_fixture& f,
                                    std::optional<net::openai::result<chat_completion>>& out) {
    auto r = co_await f.stream();
    out = std::move(r);
}

engine::awaitable<void> wait_for(engine::duration d) {
    co_await engine::sleep(d);
}

} // namespace

BOOST_FIXTURE_TEST_CASE(a_stream_that_loses_a_race_is_cancelled_and_its_connection_closed, stream_fixture) {
    using namespace boost::asio::experimental::awaitable_operators;
    run([this]() -> engine::awaitable<void> {
        const auto first = co_await first_piece(*this);
        BOOST_TEST(http.idle_connections() == 1U);
        sim.faults.add(test::fault_of(sim::fault_kind::custom, "chat.completions", "stream_stall"));
        std::optional<net::openai::result<chat_completion>> out;
        // The idle deadline is 20 s: only the race can end this stream quickly.
        auto streaming = stream_into(*this, out);
        auto timer = wait_for(100ms);
        const auto winner = co_await (std::move(streaming) || std::move(timer));
        BOOST_TEST(winner.index() == 1U);
        BOOST_REQUIRE(out.has_value());
        BOOST_REQUIRE(out->has_error());
        BOOST_TEST(out->error().kind == error_kind::transport);
        BOOST_REQUIRE(out->error().transport.has_value());
        BOOST_TEST(out->error().transport->code == make_error_code(net::errc::cancelled));
        BOOST_TEST(joined(deltas) == first); // what the handler had is the caller's to keep
        BOOST_TEST(http.open_connections() == 0U);
    });
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace companion
