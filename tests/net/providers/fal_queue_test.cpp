// fal's queue readers on the contract's shapes (table-driven, sans-I/O), and the client against
// the fal simulator over loopback: the key only on the queue origin, cancel, and the CDN fetch.
#include "net/fal/queue.hpp"
#include "net/http_client.hpp"
#include "sim/fal/simulator.hpp"
#include "sim/media/mp4.hpp"
#include "sim/media/png.hpp"
#include "tests/common/files.hpp"
#include "tests/net/providers/support.hpp"

#include <boost/beast/core/detail/base64.hpp>
#include <boost/test/unit_test.hpp>

namespace companion {
namespace {

using namespace std::chrono_literals;
using error_kind = net::api_error_kind;
namespace fal = net::fal;

const boost::beast::http::fields no_headers;

BOOST_AUTO_TEST_SUITE(fal_queue_readers)

BOOST_AUTO_TEST_CASE(errors_are_classified_by_status_and_body) {
    struct row {
        unsigned status;
        std::string body;
        error_kind kind;
        std::string code;
        std::string detail_has;
    };
    const std::vector<row> rows{
        {401, R"({"detail":"No user found for Key ID and Secret"})", error_kind::unauthorized, "", "No user"},
        {403,
         R"({"detail":"User is locked. Reason: Exhausted balance. Top up your balance."})",
         error_kind::quota_exhausted,
         "",
         "Exhausted balance"},
        {404, R"({"detail":"Application 'fal-ai/gone' not found"})", error_kind::not_found, "", "not found"},
        {429, R"({"detail":"Too many requests"})", error_kind::rate_limited, "", "Too many"},
        {500, R"({"detail":"Internal error during inference"})", error_kind::server, "", "inference"},
        {503, "<html>Service Unavailable</html>", error_kind::server, "", "Service Unavailable"},
        {422,
         R"({"detail":[{"loc":["body","duration"],"msg":"unexpected value; permitted: '5', '10'","type":"value_error.const"}]})",
         error_kind::bad_request,
         "value_error.const",
         "permitted"},
        {422,
         R"({"detail":[{"loc":["body","prompt"],"msg":"flagged by a content checker","type":"content_policy_violation"},)"
         R"({"loc":["body","image_url"],"msg":"The content could not be processed because it contained material flagged by a content checker.","type":"content_policy_violation"}]})",
         error_kind::bad_request,
         "content_policy_violation",
         "flagged by a content checker: prompt, image_url"},
        {422,
         R"({"detail":[{"loc":["body"],"msg":"flagged by a content checker","type":"content_policy_violation"}]})",
         error_kind::bad_request,
         "content_policy_violation",
         "flagged by a content checker: output"},
    };
    for (const auto& r : rows) {
        const auto e = fal::parse_error(r.status, r.body, no_headers);
        BOOST_TEST(e.api == "fal");
        BOOST_TEST(e.kind == r.kind, r.status << " " << r.body);
        BOOST_TEST(e.code == r.code, r.body);
        BOOST_TEST(e.detail.find(r.detail_has) != std::string::npos, e.detail);
    }
}

BOOST_AUTO_TEST_CASE(a_rate_limit_carries_the_retry_after_header) {
    boost::beast::http::fields h;
    h.set("retry-after", "7");
    const auto e = fal::parse_error(429, R"({"detail":"slow down"})", h);
    BOOST_TEST(e.kind == error_kind::rate_limited);
    BOOST_REQUIRE(e.retry_after.has_value());
    BOOST_TEST(e.retry_after->count() == 7000);
}

BOOST_AUTO_TEST_CASE(flagged_fields_name_each_flagged_input_once) {
    const auto fields = fal::flagged_fields(
        R"({"detail":[{"loc":["body","image_url"],"msg":"m","type":"content_policy_violation"},)"
        R"({"loc":["body","image_url"],"msg":"m","type":"content_policy_violation"},)"
        R"({"loc":["body","duration"],"msg":"bad","type":"value_error"}]})");
    BOOST_TEST(fields == std::vector<std::string>{"image_url"});
    BOOST_TEST(fal::flagged_fields("not json").empty());
    BOOST_TEST(fal::flagged_fields(R"({"detail":"text"})").empty());
}

BOOST_AUTO_TEST_CASE(a_submit_answer_must_keep_every_url_on_the_queue_origin) {
    const std::string base = "https://queue.fal.run";
    const std::string good =
        R"({"request_id":"r1","response_url":"https://queue.fal.run/fal-ai/kling-video/requests/r1",)"
        R"("status_url":"https://queue.fal.run/fal-ai/kling-video/requests/r1/status",)"
        R"("cancel_url":"https://queue.fal.run/fal-ai/kling-video/requests/r1/cancel","queue_position":0})";
    auto t = fal::parse_submit(200, good, no_headers, base);
    BOOST_REQUIRE(t.has_value());
    BOOST_TEST(t->request_id == "r1");
    BOOST_TEST(t->status_url.ends_with("/fal-ai/kling-video/requests/r1/status"));

    struct row {
        std::string body;
        std::string why;
    };
    const std::vector<row> bad{
        {R"({"request_id":"r1","response_url":"https://evil.example/r1","status_url":"https://queue.fal.run/x/status"})",
         "another host"},
        {R"({"request_id":"r1","response_url":"http://queue.fal.run/r1","status_url":"https://queue.fal.run/x/status"})",
         "plain http"},
        {R"({"request_id":"r1","response_url":"https://queue.fal.run:8443/r1","status_url":"https://queue.fal.run/s"})",
         "another port"},
        {R"({"request_id":"r1","status_url":"https://queue.fal.run/s"})", "no response_url"},
        {R"({"response_url":"https://queue.fal.run/r","status_url":"https://queue.fal.run/s"})",
         "no request_id"},
        {R"(["r1"])", "not an object"},
        {"", "empty"},
    };
    for (const auto& r : bad) {
        auto got = fal::parse_submit(200, r.body, no_headers, base);
        BOOST_REQUIRE_MESSAGE(got.has_error(), r.why);
        BOOST_TEST(got.error().kind == error_kind::malformed_response, r.why);
    }
    auto refused = fal::parse_submit(404, R"({"detail":"Application 'x' not found"})", no_headers, base);
    BOOST_REQUIRE(refused.has_error());
    BOOST_TEST(refused.error().kind == error_kind::not_found);
}

BOOST_AUTO_TEST_CASE(status_words_map_and_unknown_ones_are_malformed) {
    struct row {
        unsigned status;
        std::string body;
        std::optional<fal::queue_state> state;
        std::optional<int> position;
    };
    const std::vector<row> rows{
        {202, R"({"status":"IN_QUEUE","queue_position":3})", fal::queue_state::in_queue, 3},
        {202,
         R"({"status":"IN_PROGRESS","logs":[{"message":"x"}]})",
         fal::queue_state::in_progress,
         std::nullopt},
        {200, R"({"status":"COMPLETED","logs":null})", fal::queue_state::completed, std::nullopt},
        {200, R"({"status":"DONE"})", std::nullopt, std::nullopt},
        {200, R"({"queue_position":1})", std::nullopt, std::nullopt},
        {200, "{", std::nullopt, std::nullopt},
    };
    for (const auto& r : rows) {
        auto s = fal::parse_status(r.status, r.body, no_headers);
        if (!r.state) {
            BOOST_REQUIRE_MESSAGE(s.has_error(), r.body);
            BOOST_TEST(s.error().kind == error_kind::malformed_response);
            continue;
        }
        BOOST_REQUIRE_MESSAGE(s.has_value(), r.body);
        BOOST_TEST(s->state == *r.state);
        BOOST_TEST(s->queue_position.value_or(-1) == r.position.value_or(-1));
    }
}

BOOST_AUTO_TEST_CASE(a_result_is_a_video_or_a_typed_error) {
    auto ok = fal::parse_video_output(
        200,
        R"({"video":{"url":"https://v3.fal.media/files/x/out.mp4","content_type":"video/mp4","file_size":1234},"seed":7})",
        no_headers);
    BOOST_REQUIRE(ok.has_value());
    BOOST_TEST(ok->url == "https://v3.fal.media/files/x/out.mp4");
    BOOST_TEST(ok->file_size.value_or(0) == 1234);
    for (const std::string body :
         {R"({"seed":7})", R"({"video":{"url":"ftp://x/y"}})", R"({"video":"x"})", "[]"}) {
        auto bad = fal::parse_video_output(200, body, no_headers);
        BOOST_REQUIRE_MESSAGE(bad.has_error(), body);
        BOOST_TEST(bad.error().kind == error_kind::malformed_response, body);
    }
    auto in_200 = fal::parse_video_output(200, R"({"detail":"Internal error"})", no_headers);
    BOOST_REQUIRE(in_200.has_error());
    BOOST_TEST(in_200.error().kind == error_kind::server);
}

BOOST_AUTO_TEST_CASE(a_ticket_survives_its_text_form) {
    fal::queue_ticket t{.request_id = "r-1",
                        .status_url = "https://queue.fal.run/a/b/requests/r-1/status",
                        .response_url = "https://queue.fal.run/a/b/requests/r-1",
                        .cancel_url = "https://queue.fal.run/a/b/requests/r-1/cancel"};
    auto back = fal::ticket_from_text(fal::to_text(t));
    BOOST_REQUIRE(back.has_value());
    BOOST_TEST((*back == t));
    BOOST_TEST(fal::ticket_from_text("video_123").has_error()); // an OpenAI-style id is not a ticket
    BOOST_TEST(fal::ticket_from_text(R"({"request_id":"r"})").has_error());
}

BOOST_AUTO_TEST_SUITE_END()

// ---- the client against the simulator ----------------------------------------------------------

sim::fal_sim_config fast_fal() {
    sim::fal_sim_config c;
    c.api_key = "fal-key-id:fal-key-secret-4242";
    c.queue_time = 20ms;
    c.render_time = 60ms;
    c.video_fps = 4;
    return c;
}

std::string data_uri_png() {
    const auto png = sim::media::make_png(720, 1280, {.seed = 3});
    std::string b64(boost::beast::detail::base64::encoded_size(png.size()), '\0');
    b64.resize(boost::beast::detail::base64::encode(b64.data(), png.data(), png.size()));
    return "data:image/png;base64," + b64;
}

struct fal_fixture : test::sim_fixture<sim::fal_simulator> {
    std::optional<fal::queue_client> client;
    test::temp_dir dir;

    explicit fal_fixture(sim::fal_sim_config c = fast_fal()) : sim_fixture(std::move(c)) {
        fal::queue_config qc;
        qc.base_url = sim.base_url();
        qc.api_key = "fal-key-id:fal-key-secret-4242";
        client.emplace(http, std::move(qc));
    }

    std::string input(std::string prompt) const {
        return R"({"prompt":")" + prompt + R"(","image_url":")" + data_uri_png() + R"(","duration":"5"})";
    }
};

BOOST_AUTO_TEST_SUITE(fal_queue_client)

BOOST_FIXTURE_TEST_CASE(submit_status_result_and_the_cdn_without_the_key, fal_fixture) {
    run([this]() -> engine::awaitable<void> {
        auto t = co_await client->submit("fal-ai/kling-video/v3/standard/image-to-video", input("she waves"));
        BOOST_REQUIRE(t.has_value());
        // The status URL uses only owner/alias, never the endpoint's full path.
        BOOST_TEST(t->status_url.find("/fal-ai/kling-video/requests/") != std::string::npos);
        BOOST_TEST(t->status_url.find("v3/standard") == std::string::npos);
        std::optional<fal::queue_state> state;
        for (int i = 0; i < 200 && state != fal::queue_state::completed; ++i) {
            auto s = co_await client->status(*t);
            BOOST_REQUIRE(s.has_value());
            state = s->state;
            if (state != fal::queue_state::completed) {
                co_await engine::sleep(5ms);
            }
        }
        BOOST_REQUIRE(state == fal::queue_state::completed);
        auto out = co_await client->output(*t);
        BOOST_REQUIRE(out.has_value());
        BOOST_TEST(out->url.find("localhost") != std::string::npos); // another host than the queue
        auto file = co_await client->download(*out, dir.path / "v.mp4");
        BOOST_REQUIRE(file.has_value());
        const auto info = sim::media::read_mp4_info(test::read_file(dir.path / "v.mp4"));
        BOOST_REQUIRE(info.has_value());
        BOOST_TEST(info->width == 720U);
        BOOST_TEST(info->height == 1280U);
        BOOST_TEST(info->duration.count() == 5.0, boost::test_tools::tolerance(0.01));
        BOOST_TEST(sim.cdn_requests() == 1U);
        BOOST_TEST(sim.cdn_requests_with_authorization() == 0U);
        // Cancelling a finished job is "already completed", not an error.
        auto cancelled = co_await client->cancel(*t);
        BOOST_REQUIRE(cancelled.has_value());
        BOOST_TEST(!*cancelled);
    });
}

BOOST_FIXTURE_TEST_CASE(a_running_job_is_cancelled, fal_fixture) {
    run([this]() -> engine::awaitable<void> {
        auto t = co_await client->submit("wan/v2.6/image-to-video", input("cancel me"));
        BOOST_REQUIRE(t.has_value());
        auto cancelled = co_await client->cancel(*t);
        BOOST_REQUIRE(cancelled.has_value());
        BOOST_TEST(*cancelled);
        BOOST_TEST(sim.cancels() == 1U);
    });
}

BOOST_FIXTURE_TEST_CASE(a_ticket_off_the_queue_origin_is_never_sent_the_key, fal_fixture) {
    run([this]() -> engine::awaitable<void> {
        // The simulator itself, under another host name: another origin.
        std::string other = sim.base_url();
        other.replace(other.find("127.0.0.1"), 9, "localhost");
        fal::queue_ticket forged{.request_id = "r",
                                 .status_url = other + "/a/b/requests/r/status",
                                 .response_url = other + "/a/b/requests/r",
                                 .cancel_url = {}};
        auto s = co_await client->status(forged);
        BOOST_REQUIRE(s.has_error());
        BOOST_TEST(s.error().kind == error_kind::bad_request);
        auto o = co_await client->output(forged);
        BOOST_REQUIRE(o.has_error());
        BOOST_TEST(sim.status_requests() == 0U);
        BOOST_TEST(sim.result_requests() == 0U);
    });
}

BOOST_FIXTURE_TEST_CASE(a_wrong_key_is_unauthorized_and_never_echoed, fal_fixture) {
    run([this]() -> engine::awaitable<void> {
        fal::queue_config qc;
        qc.base_url = sim.base_url();
        qc.api_key = "fal-wrong-key:secret-999999";
        fal::queue_client wrong(http, qc);
        auto t = co_await wrong.submit("wan/v2.6/image-to-video", input("x"));
        BOOST_REQUIRE(t.has_error());
        BOOST_TEST(t.error().kind == error_kind::unauthorized);
        BOOST_TEST(t.error().message().find("secret-999999") == std::string::npos);
        BOOST_TEST(sim.video_creates().empty());
    });
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace
} // namespace companion
