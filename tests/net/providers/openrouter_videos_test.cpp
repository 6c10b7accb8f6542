// OpenRouter's videos readers on the contract's shapes (table-driven, sans-I/O), and the client
// against the OpenRouter simulator over loopback: a whole job with its cost, the redirect that
// drops the key, the model list, and every fault the simulator plans, typed.
#include "net/http_client.hpp"
#include "net/openai/openrouter_videos.hpp"
#include "sim/media/mp4.hpp"
#include "sim/media/png.hpp"
#include "sim/openrouter/simulator.hpp"
#include "tests/common/files.hpp"
#include "tests/net/providers/support.hpp"

#include <boost/beast/core/detail/base64.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

namespace companion {
namespace {

using namespace std::chrono_literals;
using error_kind = net::api_error_kind;
namespace oa = net::openai;
using video_status = oa::openrouter_video_status;

const boost::beast::http::fields no_headers;

BOOST_AUTO_TEST_SUITE(openrouter_videos_readers)

BOOST_AUTO_TEST_CASE(each_status_word_maps_and_an_unknown_one_is_malformed) {
    struct row {
        std::string word;
        std::optional<video_status> status;
    };
    const std::vector<row> rows{
        {"pending", video_status::pending},
        {"in_progress", video_status::in_progress},
        {"completed", video_status::completed},
        {"failed", video_status::failed},
        {"cancelled", video_status::cancelled},
        {"expired", video_status::expired},
        {"processing", std::nullopt}, // another gateway's word: never guessed at
        {"COMPLETED", std::nullopt},
    };
    for (const auto& r : rows) {
        const std::string body = R"({"id":"gen-vid-1764600000-abcdefghijABCDEFGHIJ","polling_url":)"
                                 R"("https://openrouter.ai/api/v1/videos/gen-vid-1","status":")" +
                                 r.word + R"("})";
        auto v = oa::parse_video(200, body, no_headers);
        if (!r.status) {
            BOOST_REQUIRE_MESSAGE(v.has_error(), r.word);
            BOOST_TEST(v.error().kind == error_kind::malformed_response, r.word);
            BOOST_TEST(v.error().api == "openrouter");
            continue;
        }
        BOOST_REQUIRE_MESSAGE(v.has_value(), r.word);
        BOOST_TEST(v->status == *r.status, r.word);
        BOOST_TEST(v->raw_status == r.word);
        BOOST_TEST(v->id == "gen-vid-1764600000-abcdefghijABCDEFGHIJ");
        BOOST_TEST(v->polling_url == "https://openrouter.ai/api/v1/videos/gen-vid-1");
        BOOST_TEST(!v->cost_usd.has_value());
    }
}

BOOST_AUTO_TEST_CASE(a_completed_job_carries_its_urls_expiry_and_cost) {
    struct row {
        std::string usage;
        std::optional<double> cost;
    };
    const std::vector<row> rows{
        {R"({"cost":0.4,"is_byok":false})", 0.4},
        {R"({"cost":2})", 2.0},
        {R"({"cost":"0.25"})", 0.25},
        {R"({"cost":null})", std::nullopt},
        {R"({"cost":-1})", std::nullopt},
        {R"({"is_byok":true})", std::nullopt},
        {R"("0.4")", std::nullopt},
    };
    for (const auto& r : rows) {
        const std::string body =
            R"({"id":"gen-vid-1","polling_url":"p","status":"completed","generation_id":"gen-vid-1",)"
            R"("unsigned_urls":["https://openrouter.ai/api/v1/videos/gen-vid-1/content?index=0",7],)"
            R"("expires_at":1764603600,"usage":)" +
            r.usage + "}";
        auto v = oa::parse_video(200, body, no_headers);
        BOOST_REQUIRE_MESSAGE(v.has_value(), r.usage);
        BOOST_TEST(v->status == video_status::completed);
        BOOST_TEST(v->unsigned_urls ==
                   std::vector<std::string>{"https://openrouter.ai/api/v1/videos/gen-vid-1/content?index=0"});
        BOOST_TEST(v->expires_at.value_or(0) == 1764603600);
        BOOST_TEST(v->cost_usd.has_value() == r.cost.has_value(), r.usage);
        if (r.cost) {
            BOOST_TEST(v->cost_usd.value_or(-1) == *r.cost, boost::test_tools::tolerance(1e-9));
        }
    }
}

BOOST_AUTO_TEST_CASE(a_failed_job_carries_its_reason_as_a_string_or_an_object) {
    auto text = oa::parse_video(
        200,
        R"({"id":"gen-vid-2","polling_url":"p","status":"failed","error":"Content moderation: flagged"})",
        no_headers);
    BOOST_REQUIRE(text.has_value());
    BOOST_TEST(text->status == video_status::failed);
    BOOST_TEST(text->error == "Content moderation: flagged");
    auto object = oa::parse_video(
        200,
        R"({"id":"gen-vid-2","status":"failed","error":{"code":"provider_error","message":"upstream died"}})",
        no_headers);
    BOOST_REQUIRE(object.has_value());
    BOOST_TEST(object->error == "provider_error: upstream died");
}

BOOST_AUTO_TEST_CASE(malformed_bodies_are_typed_never_a_crash) {
    for (const std::string& body : {std::string(""),
                                    std::string("{"),
                                    std::string("[]"),
                                    std::string("null"),
                                    std::string(R"({"status":"pending"})"),
                                    std::string(R"({"id":"gen-vid-3"})"),
                                    std::string(R"({"id":7,"status":["pending"]})"),
                                    std::string(R"({"id":"","status":"pending"})")}) {
        auto v = oa::parse_video(200, body, no_headers);
        BOOST_REQUIRE_MESSAGE(v.has_error(), body);
        BOOST_TEST(v.error().kind == error_kind::malformed_response, body);
    }
}

BOOST_AUTO_TEST_CASE(errors_in_openrouters_shape_are_classified) {
    struct row {
        unsigned status;
        std::string body;
        error_kind kind;
        unsigned typed_status;
    };
    const std::vector<row> rows{
        {400,
         R"({"error":{"code":400,"message":"duration 5 is not supported"}})",
         error_kind::bad_request,
         400},
        {401,
         R"({"error":{"code":401,"message":"No auth credentials found"}})",
         error_kind::unauthorized,
         401},
        {402,
         R"({"error":{"code":402,"message":"Insufficient credits. Add more using https://openrouter.ai/settings/credits"}})",
         error_kind::quota_exhausted,
         402},
        {403,
         R"({"error":{"code":403,"message":"Your chosen model requires moderation and your input was flagged",)"
         R"("metadata":{"reasons":["sexual"],"flagged_input":"..."}}})",
         error_kind::bad_request,
         403},
        {403, R"({"error":{"code":403,"message":"Key disabled"}})", error_kind::unauthorized, 403},
        {404, R"({"error":{"code":404,"message":"Model not found"}})", error_kind::not_found, 404},
        {410, R"({"error":{"code":410,"message":"The video has expired"}})", error_kind::bad_request, 410},
        {429, R"({"error":{"code":429,"message":"Rate limit exceeded"}})", error_kind::rate_limited, 429},
        {502, "<html>Bad Gateway</html>", error_kind::server, 502},
        // An error reported inside a 200, with the real status as the numeric code.
        {200, R"({"error":{"code":402,"message":"Insufficient credits"}})", error_kind::quota_exhausted, 402},
    };
    for (const auto& r : rows) {
        auto v = oa::parse_video(r.status, r.body, no_headers);
        BOOST_REQUIRE_MESSAGE(v.has_error(), r.body);
        BOOST_TEST(v.error().api == "openrouter");
        BOOST_TEST(v.error().kind == r.kind, r.status << " " << r.body);
        BOOST_TEST(v.error().status == r.typed_status, r.body);
    }
    const auto moderation = oa::parse_openrouter_error(
        403,
        R"({"error":{"code":403,"message":"Your chosen model requires moderation and your input was flagged"}})",
        no_headers);
    BOOST_TEST(moderation.code == "moderation");
}

BOOST_AUTO_TEST_CASE(a_rate_limit_carries_the_retry_after_header) {
    boost::beast::http::fields h;
    h.set("retry-after", "7");
    auto v = oa::parse_video(429, R"({"error":{"code":429,"message":"slow down"}})", h);
    BOOST_REQUIRE(v.has_error());
    BOOST_TEST(v.error().kind == error_kind::rate_limited);
    BOOST_TEST(v.error().retry_after.value_or(0ms) == 7000ms);
}

BOOST_AUTO_TEST_CASE(the_create_body_has_a_numeric_duration_and_the_first_frame) {
    oa::openrouter_video_request req;
    req.model = "google/veo-3.1";
    req.prompt = "she waves";
    req.duration = 4s;
    req.first_frame_url = "data:image/png;base64,AA==";
    req.generate_audio = false;
    auto body = oa::create_body(req);
    BOOST_REQUIRE(body.has_value());
    const auto o = boost::json::parse(*body).as_object();
    BOOST_TEST(o.at("model").as_string() == "google/veo-3.1");
    BOOST_TEST(o.at("prompt").as_string() == "she waves");
    BOOST_TEST(boost::json::serialize(o.at("duration")) == "4"); // a number, never "4"
    BOOST_TEST(o.at("resolution").as_string() == "720p");
    BOOST_TEST(o.at("aspect_ratio").as_string() == "9:16");
    BOOST_TEST(o.at("generate_audio").as_bool() == false);
    const auto& frames = o.at("frame_images").as_array();
    BOOST_REQUIRE(frames.size() == 1U);
    const auto& frame = frames.at(0).as_object();
    BOOST_TEST(frame.at("type").as_string() == "image_url");
    BOOST_TEST(frame.at("image_url").as_object().at("url").as_string() == "data:image/png;base64,AA==");
    BOOST_TEST(frame.at("frame_type").as_string() == "first_frame");

    oa::openrouter_video_request text_only;
    text_only.model = "alibaba/wan-2.6";
    text_only.prompt = "p";
    auto plain = oa::create_body(text_only);
    BOOST_REQUIRE(plain.has_value());
    const auto p = boost::json::parse(*plain).as_object();
    BOOST_TEST(!p.contains("frame_images"));
    BOOST_TEST(!p.contains("generate_audio")); // unset: the model's default

    struct bad_row {
        std::string model;
        std::string prompt;
        std::chrono::seconds duration;
    };
    for (const auto& r : std::vector<bad_row>{{"", "p", 5s}, {"m", "", 5s}, {"m", "p", 0s}}) {
        oa::openrouter_video_request b;
        b.model = r.model;
        b.prompt = r.prompt;
        b.duration = r.duration;
        auto refused = oa::create_body(b);
        BOOST_REQUIRE(refused.has_error());
        BOOST_TEST(refused.error().kind == error_kind::bad_request);
        BOOST_TEST(refused.error().status == 0U);
    }
}

BOOST_AUTO_TEST_CASE(only_plain_ids_may_go_into_a_url_path) {
    struct row {
        std::string id;
        bool valid;
    };
    const std::vector<row> rows{
        {"gen-vid-1764600000-abcdefghijABCDEFGHIJ", true},
        {"video_123", true},
        {"a.b", true},
        {"", false},
        {".", false},
        {"..", false},
        {"../models", false},
        {"gen-vid-1/content", false},
        {"gen vid", false},
        {"gen-vid?index=1", false},
        {"gen%2Fvid", false},
        {std::string(201, 'a'), false},
        {R"({"request_id":"r"})", false}, // a fal ticket stored by another backend
    };
    for (const auto& r : rows) {
        BOOST_TEST(oa::valid_video_id(r.id) == r.valid, r.id);
    }
}

BOOST_AUTO_TEST_CASE(the_video_model_list_is_read_and_a_list_without_data_is_malformed) {
    auto models = oa::parse_video_models(
        200,
        R"({"data":[{"id":"google/veo-3.1","name":"Veo 3.1","generate_audio":true,"supported_durations":[4,6,8],)"
        R"("supported_resolutions":["720p","1080p"],"supported_aspect_ratios":["16:9","9:16"],)"
        R"("supported_frame_images":["first_frame","last_frame"],"supported_sizes":null},)"
        R"({"name":"no id"},7,{"id":"alibaba/wan-2.6","supported_durations":null,"generate_audio":null}]})",
        no_headers);
    BOOST_REQUIRE(models.has_value());
    BOOST_REQUIRE(models->size() == 2U);
    const auto& veo = models->at(0);
    BOOST_TEST(veo.id == "google/veo-3.1");
    BOOST_TEST(veo.supported_durations == (std::vector<int>{4, 6, 8}));
    BOOST_TEST(veo.supported_aspect_ratios == (std::vector<std::string>{"16:9", "9:16"}));
    BOOST_TEST(veo.generate_audio);
    BOOST_TEST(models->at(1).supported_durations.empty());
    BOOST_TEST(!models->at(1).generate_audio);
    for (const std::string body : {R"({"models":[]})", R"({"data":{}})", "[]", ""}) {
        auto bad = oa::parse_video_models(200, body, no_headers);
        BOOST_REQUIRE_MESSAGE(bad.has_error(), body);
        BOOST_TEST(bad.error().kind == error_kind::malformed_response, body);
    }
}

BOOST_AUTO_TEST_SUITE_END()

// ---- the client against the simulator ----------------------------------------------------------

constexpr std::string_view or_key = "sk-or-v1-openrouter-client-secret-8675309";

sim::openrouter_sim_config fast_openrouter() {
    sim::openrouter_sim_config c;
    c.api_key = std::string(or_key);
    c.queue_time = 20ms;
    c.render_time = 60ms;
    c.video_fps = 4;
    c.cost_per_second_usd = 0.10;
    return c;
}

std::string data_uri_png() {
    const auto png = sim::media::make_png(720, 1280, {.seed = 5});
    std::string b64(boost::beast::detail::base64::encoded_size(png.size()), '\0');
    b64.resize(boost::beast::detail::base64::encode(b64.data(), png.data(), png.size()));
    return "data:image/png;base64," + b64;
}

struct openrouter_fixture : test::sim_fixture<sim::openrouter_simulator> {
    std::optional<oa::openrouter_videos_client> client;
    test::temp_dir dir;

    explicit openrouter_fixture(sim::openrouter_sim_config c = fast_openrouter())
        : sim_fixture(std::move(c)) {
        oa::openrouter_videos_config cc;
        cc.base_url = sim.base_url();
        cc.api_key = std::string(or_key);
        client.emplace(http, std::move(cc));
    }

    static oa::openrouter_video_request
    request(std::string prompt, std::string model = "google/veo-3.1", std::chrono::seconds duration = 4s) {
        oa::openrouter_video_request r;
        r.model = std::move(model);
        r.prompt = std::move(prompt);
        r.duration = duration;
        r.first_frame_url = data_uri_png();
        return r;
    }

    engine::awaitable<oa::result<oa::openrouter_video>> create(std::string prompt) {
        auto req = request(std::move(prompt));
        auto created = co_await client->create(std::move(req));
        co_return created;
    }

    /// Polls until the job leaves pending / in_progress (5 ms apart, at most 200 polls).
    engine::awaitable<oa::result<oa::openrouter_video>> settle(std::string id) {
        for (int i = 0; i < 200; ++i) {
            auto v = co_await client->retrieve(id);
            if (!v || (v->status != video_status::pending && v->status != video_status::in_progress)) {
                co_return v;
            }
            co_await engine::sleep(5ms);
        }
        co_return net::invalid_request("test", {}, "the job never settled");
    }
};

struct redirecting_fixture : openrouter_fixture {
    static sim::openrouter_sim_config config() {
        auto c = fast_openrouter();
        c.content_redirect = true;
        return c;
    }
    redirecting_fixture() : openrouter_fixture(config()) {}
};

BOOST_AUTO_TEST_SUITE(openrouter_videos_client)

BOOST_FIXTURE_TEST_CASE(a_whole_job_reports_its_cost_and_downloads_the_video, openrouter_fixture) {
    run([this]() -> engine::awaitable<void> {
        auto created = co_await create("she waves at the camera");
        BOOST_REQUIRE(created.has_value());
        BOOST_TEST(created->status == video_status::pending);
        BOOST_TEST(created->id.starts_with("gen-vid-"));
        BOOST_TEST(created->polling_url == sim.base_url() + "/videos/" + created->id);
        BOOST_REQUIRE(sim.video_creates().size() == 1U);
        const auto& sent = sim.video_creates().front();
        BOOST_TEST(sent.duration == "4"); // a number on the wire
        BOOST_TEST(sent.resolution == "720p");
        BOOST_TEST(sent.aspect_ratio == "9:16");
        BOOST_TEST(sent.frame_mime == "image/png");

        auto done = co_await settle(created->id);
        BOOST_REQUIRE(done.has_value());
        BOOST_TEST(done->status == video_status::completed);
        BOOST_TEST(done->cost_usd.value_or(0) == 0.4, boost::test_tools::tolerance(1e-9));
        BOOST_REQUIRE(done->unsigned_urls.size() == 1U);
        BOOST_TEST(done->unsigned_urls.front().ends_with("/videos/" + created->id + "/content?index=0"));
        BOOST_TEST(done->expires_at.has_value());

        auto file = co_await client->download(created->id, dir.path / "v.mp4");
        BOOST_REQUIRE(file.has_value());
        BOOST_TEST(file->redirects == 0);
        const auto info = sim::media::read_mp4_info(test::read_file(dir.path / "v.mp4"));
        BOOST_REQUIRE(info.has_value());
        BOOST_TEST(info->width == 720U);
        BOOST_TEST(info->height == 1280U);
        BOOST_TEST(info->duration.count() == 4.0, boost::test_tools::tolerance(0.01));
        BOOST_TEST(sim.content_requests() == 1U);
    });
}

BOOST_FIXTURE_TEST_CASE(a_redirected_download_drops_the_key_on_the_other_host, redirecting_fixture) {
    run([this]() -> engine::awaitable<void> {
        auto created = co_await create("redirected");
        BOOST_REQUIRE(created.has_value());
        auto done = co_await settle(created->id);
        BOOST_REQUIRE(done.has_value());
        BOOST_REQUIRE(done->status == video_status::completed);
        auto file = co_await client->download(created->id, dir.path / "r.mp4");
        BOOST_REQUIRE(file.has_value());
        BOOST_TEST(file->redirects == 1);
        BOOST_TEST(sim.content_requests() == 1U);
        BOOST_TEST(sim.cdn_requests() == 1U);
        BOOST_TEST(sim.cdn_requests_with_authorization() == 0U);
        const auto info = sim::media::read_mp4_info(test::read_file(dir.path / "r.mp4"));
        BOOST_REQUIRE(info.has_value());
        BOOST_TEST(info->height == 1280U);
    });
}

BOOST_FIXTURE_TEST_CASE(the_video_models_are_listed, openrouter_fixture) {
    run([this]() -> engine::awaitable<void> {
        auto models = co_await client->list_video_models();
        BOOST_REQUIRE(models.has_value());
        std::vector<std::string> ids;
        for (const auto& m : *models) {
            ids.push_back(m.id);
        }
        BOOST_TEST(ids == (std::vector<std::string>{"google/veo-3.1",
                                                    "alibaba/wan-2.6",
                                                    "alibaba/wan-2.7",
                                                    "bytedance/seedance-2.0",
                                                    "bytedance/seedance-1.5-pro"}));
        BOOST_TEST(models->front().supported_durations == (std::vector<int>{4, 6, 8}));
        BOOST_TEST(models->front().supported_frame_images == (std::vector<std::string>{"first_frame"}));
    });
}

BOOST_FIXTURE_TEST_CASE(every_planned_fault_is_a_typed_error, openrouter_fixture) {
    run([this]() -> engine::awaitable<void> {
        struct row {
            sim::fault f;
            error_kind kind;
            unsigned status;
        };
        const std::vector<row> rows{
            {test::fault_of(sim::fault_kind::rate_limited, "videos.create", "", 2s),
             error_kind::rate_limited,
             429},
            {test::fault_of(sim::fault_kind::server_error, "videos.create", "", 0ms, 503),
             error_kind::server,
             503},
            {test::fault_of(sim::fault_kind::reset, "videos.create"), error_kind::transport, 0},
            {test::fault_of(sim::fault_kind::reset_mid_body, "videos.create"), error_kind::transport, 0},
            {test::fault_of(sim::fault_kind::malformed_json, "videos.create"),
             error_kind::malformed_response,
             200},
            {test::fault_of(sim::fault_kind::custom, "videos.create", "quota"),
             error_kind::quota_exhausted,
             402},
            {test::fault_of(sim::fault_kind::custom, "videos.create", "model_gone"),
             error_kind::not_found,
             404},
            {test::fault_of(sim::fault_kind::refusal, "videos.create", "at_submit"),
             error_kind::bad_request,
             403},
        };
        for (const auto& r : rows) {
            sim.faults.add(r.f);
            auto created = co_await create("fault " + std::string(to_string(r.f.kind)) + " " + r.f.detail);
            BOOST_REQUIRE_MESSAGE(created.has_error(), to_string(r.f.kind) << " " << r.f.detail);
            BOOST_TEST(created.error().kind == r.kind, to_string(r.f.kind) << " " << r.f.detail);
            BOOST_TEST(created.error().status == r.status, to_string(r.f.kind) << " " << r.f.detail);
            if (r.kind == error_kind::rate_limited) {
                BOOST_TEST(created.error().retry_after.value_or(0ms) == 2000ms);
            }
            if (r.kind == error_kind::transport) {
                BOOST_TEST(created.error().outcome_unknown()); // the create was written: never resent
            }
        }
        BOOST_TEST(sim.faults.pending() == 0U);
        // Only the answer cut mid-body came after the job was made: the create's outcome is unknown
        // to the client, and the job exists (what "never resubmit" protects).
        BOOST_REQUIRE(sim.video_creates().size() == 1U);
        BOOST_TEST(sim.video_creates().front().prompt == "fault reset_mid_body ");

        // Faults on the other calls.
        auto job = co_await create("for the other calls");
        BOOST_REQUIRE(job.has_value());
        sim.faults.add(test::fault_of(sim::fault_kind::server_error, "videos.retrieve"));
        auto polled = co_await client->retrieve(job->id);
        BOOST_REQUIRE(polled.has_error());
        BOOST_TEST(polled.error().kind == error_kind::server);
        sim.faults.add(test::fault_of(sim::fault_kind::malformed_json, "videos.retrieve"));
        auto garbled = co_await client->retrieve(job->id);
        BOOST_REQUIRE(garbled.has_error());
        BOOST_TEST(garbled.error().kind == error_kind::malformed_response);
        auto done = co_await settle(job->id);
        BOOST_REQUIRE(done.has_value());
        BOOST_REQUIRE(done->status == video_status::completed);
        sim.faults.add(test::fault_of(sim::fault_kind::rate_limited, "videos.content", "", 1s));
        auto limited = co_await client->download(job->id, dir.path / "limited.mp4");
        BOOST_REQUIRE(limited.has_error());
        BOOST_TEST(limited.error().kind == error_kind::rate_limited);
        sim.faults.add(test::fault_of(sim::fault_kind::reset_mid_body, "videos.content"));
        auto cut = co_await client->download(job->id, dir.path / "cut.mp4");
        BOOST_REQUIRE(cut.has_error());
        BOOST_TEST(cut.error().kind == error_kind::transport);
        BOOST_TEST(!std::filesystem::exists(dir.path / "cut.mp4"));
        sim.faults.add(test::fault_of(sim::fault_kind::custom, "models", "quota"));
        auto models = co_await client->list_video_models();
        BOOST_REQUIRE(models.has_error());
        BOOST_TEST(models.error().kind == error_kind::quota_exhausted);
    });
}

BOOST_FIXTURE_TEST_CASE(faults_that_end_the_job_show_in_its_status, openrouter_fixture) {
    run([this]() -> engine::awaitable<void> {
        struct row {
            sim::fault f;
            video_status status;
            std::string error_has;
            unsigned content_status;
        };
        const std::vector<row> rows{
            {test::fault_of(sim::fault_kind::refusal, "videos.create"),
             video_status::failed,
             "moderation",
             400},
            {test::fault_of(sim::fault_kind::custom, "videos.create", "failed"),
             video_status::failed,
             "Provider returned error",
             400},
            {test::fault_of(sim::fault_kind::custom, "videos.create", "expired"),
             video_status::expired,
             "",
             410},
            {test::fault_of(sim::fault_kind::custom, "videos.create", "cancelled"),
             video_status::cancelled,
             "",
             400},
        };
        for (const auto& r : rows) {
            sim.faults.add(r.f);
            auto created = co_await create("ends " + std::string(to_string(r.f.kind)) + " " + r.f.detail);
            BOOST_REQUIRE(created.has_value()); // accepted: the ending shows only later
            auto done = co_await settle(created->id);
            BOOST_REQUIRE(done.has_value());
            BOOST_TEST(done->status == r.status, r.f.detail);
            BOOST_TEST(done->error.find(r.error_has) != std::string::npos, done->error);
            BOOST_TEST(!done->cost_usd.has_value()); // nothing billed for a job without a video
            auto file = co_await client->download(created->id, dir.path / "none.mp4");
            BOOST_REQUIRE(file.has_error());
            BOOST_TEST(file.error().status == r.content_status, r.f.detail);
        }
        // The prompt marker refuses the job too.
        auto marked = co_await create("flirty [[refuse]]");
        BOOST_REQUIRE(marked.has_value());
        auto refused = co_await settle(marked->id);
        BOOST_REQUIRE(refused.has_value());
        BOOST_TEST(refused->status == video_status::failed);
        BOOST_TEST(refused->error.find("moderation") != std::string::npos);
    });
}

BOOST_FIXTURE_TEST_CASE(a_wrong_key_is_unauthorized_and_never_echoed, openrouter_fixture) {
    run([this]() -> engine::awaitable<void> {
        oa::openrouter_videos_config cc;
        cc.base_url = sim.base_url();
        cc.api_key = "sk-or-v1-wrong-key-secret-424242";
        oa::openrouter_videos_client wrong(http, cc);
        auto req = request("x");
        auto created = co_await wrong.create(std::move(req));
        BOOST_REQUIRE(created.has_error());
        BOOST_TEST(created.error().kind == error_kind::unauthorized);
        BOOST_TEST(created.error().message().find("secret-424242") == std::string::npos);
        BOOST_TEST(sim.video_creates().empty());
    });
}

BOOST_FIXTURE_TEST_CASE(an_id_that_could_leave_the_path_is_never_sent, openrouter_fixture) {
    run([this]() -> engine::awaitable<void> {
        for (const std::string id : {"../models", "gen-vid-1/content", "a?b", ""}) {
            auto polled = co_await client->retrieve(id);
            BOOST_REQUIRE(polled.has_error());
            BOOST_TEST(polled.error().kind == error_kind::bad_request, id);
            auto file = co_await client->download(id, dir.path / "x.mp4");
            BOOST_REQUIRE(file.has_error());
            BOOST_TEST(file.error().kind == error_kind::bad_request, id);
        }
        BOOST_TEST(sim.retrieve_requests() == 0U);
        BOOST_TEST(sim.content_requests() == 0U);
    });
}

BOOST_FIXTURE_TEST_CASE(the_simulator_checks_requests_as_openrouter_does, openrouter_fixture) {
    run([this]() -> engine::awaitable<void> {
        struct row {
            std::string body;
            unsigned status;
            std::string message_has;
        };
        const std::string frame = R"([{"type":"image_url","image_url":{"url":")" + data_uri_png() +
                                  R"("},"frame_type":"first_frame"}])";
        const std::vector<row> rows{
            {R"({"model":"google/veo-3.1","prompt":"p","duration":"4"})", 400, "Expected number"},
            {R"({"model":"google/veo-3.1","prompt":"p","duration":5})", 400, "4, 6, 8"},
            {R"({"model":"kwaivgi/kling-v3","prompt":"p","duration":5})", 404, "kwaivgi/kling-v3"},
            {R"({"model":"google/veo-3.1","duration":4})", 400, "prompt"},
            {R"({"model":"google/veo-3.1","prompt":"p","aspect_ratio":"1:1"})", 400, "aspect"},
            {R"({"model":"google/veo-3.1","prompt":"p","frame_images":[{"type":"image_url","image_url":)"
             R"({"url":"data:image/png;base64,AAAA"},"frame_type":"first_frame"}]})",
             400,
             "could not be decoded"},
            {R"({"model":"google/veo-3.1","prompt":"p","duration":8,"frame_images":)" + frame + "}",
             202,
             "pending"},
        };
        for (const auto& r : rows) {
            net::request req;
            req.method = net::http::verb::post;
            req.url = sim.base_url() + "/videos";
            req.headers.set(net::http::field::authorization, "Bearer " + std::string(or_key));
            req.headers.set(net::http::field::content_type, "application/json");
            req.body = r.body;
            auto sent = co_await http.send(std::move(req));
            BOOST_REQUIRE(sent.has_value());
            BOOST_TEST(sent->status == r.status, r.body.substr(0, 120));
            BOOST_TEST(sent->body.find(r.message_has) != std::string::npos, sent->body);
            if (r.status != 202) {
                // OpenRouter's shape: the status repeated as a numeric code.
                const auto v = boost::json::parse(sent->body);
                const auto& code = v.as_object().at("error").as_object().at("code");
                BOOST_TEST(code.is_int64());
                BOOST_TEST(code.to_number<std::int64_t>() == static_cast<std::int64_t>(r.status));
            }
        }
        BOOST_TEST(sim.video_creates().size() == 1U);
    });
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace
} // namespace companion
