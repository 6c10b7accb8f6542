// Veo on Vertex against the Gemini simulator's Vertex paths, with an injected token and with the
// service-account flow; the JWT minted with a key made at test time and verified with its
// public half; the token exchange against a fake token endpoint run here.
#include "net/http_server.hpp"
#include "pipelines/providers/google_auth.hpp"
#include "pipelines/providers/vertex_veo.hpp"
#include "tests/pipelines/providers/support.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <boost/test/unit_test.hpp>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <fstream>

namespace companion {
namespace {

using namespace std::chrono_literals;
using namespace boost::asio::experimental::awaitable_operators;
using pipelines::video_error_kind;
using pipelines::video_poll;
namespace providers = pipelines::providers;

/// An RSA 2048 key made once per run, as PKCS#8 PEM, and its EVP form for verifying.
struct test_key {
    EVP_PKEY* key = nullptr;
    std::string pem;
    test_key() {
        key = EVP_RSA_gen(2048);
        BIO* bio = BIO_new(BIO_s_mem());
        PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
        char* data = nullptr;
        const long n = BIO_get_mem_data(bio, &data);
        pem.assign(data, static_cast<std::size_t>(n));
        BIO_free(bio);
    }
    ~test_key() { EVP_PKEY_free(key); }
    test_key(const test_key&) = delete;
    test_key& operator=(const test_key&) = delete;
};

const test_key& the_key() {
    static const test_key k;
    return k;
}

providers::service_account account(std::string token_uri = "https://oauth2.googleapis.com/token") {
    providers::service_account sa;
    sa.client_email = "companion-video@demo-project.iam.gserviceaccount.com";
    sa.private_key = the_key().pem;
    sa.private_key_id = "kid-0123456789abcdef";
    sa.token_uri = std::move(token_uri);
    sa.project_id = "demo-project";
    return sa;
}

bool verify(std::string_view signing_input, std::string_view signature) {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    const bool ok = EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, the_key().key) == 1 &&
                    EVP_DigestVerify(ctx,
                                     reinterpret_cast<const unsigned char*>(signature.data()),
                                     signature.size(),
                                     reinterpret_cast<const unsigned char*>(signing_input.data()),
                                     signing_input.size()) == 1;
    EVP_MD_CTX_free(ctx);
    return ok;
}

/// A fake OAuth token endpoint: checks the grant and the JWT's signature, answers `token`.
struct token_endpoint {
    net::http_server server;
    std::string token = "ya29.sim-vertex-token";
    std::int64_t expires_in = 3599;
    bool refuse = false;
    int requests = 0;
    std::string last_assertion;

    explicit token_endpoint(engine::executor ex) : server(ex, net::server_config{}) {
        server.route(net::http::verb::post, "/token", [this](net::server_request& req) {
            return handle(req);
        });
        BOOST_REQUIRE(server.start());
    }

    std::string uri() const { return server.base_url() + "/token"; }

    engine::awaitable<net::server_response> handle(net::server_request& req) {
        ++requests;
        const std::string prefix =
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=";
        const std::string body = req.msg.body();
        if (req.header("content-type") != "application/x-www-form-urlencoded" || !body.starts_with(prefix)) {
            co_return net::json_response(400, R"({"error":"unsupported_grant_type"})");
        }
        last_assertion = body.substr(prefix.size());
        const auto dot = last_assertion.rfind('.');
        auto signature = providers::decode_base64url(std::string_view(last_assertion).substr(dot + 1));
        if (refuse || !signature || !verify(std::string_view(last_assertion).substr(0, dot), *signature)) {
            co_return net::json_response(
                400,
                R"({"error":"invalid_grant","error_description":"Invalid JWT Signature."})");
        }
        co_return net::json_response(200,
                                     boost::json::serialize(boost::json::object{{"access_token", token},
                                                                                {"expires_in", expires_in},
                                                                                {"token_type", "Bearer"}}));
    }
};

struct vertex_fixture : test::suite_fixture {
    static pipelines::vertex_veo_settings settings(std::string base_url, std::string model) {
        pipelines::vertex_veo_settings s;
        s.project = "demo-project";
        s.base_url = std::move(base_url);
        s.model = std::move(model);
        return s;
    }

    std::unique_ptr<pipelines::video_provider> with_token(std::string bearer,
                                                          std::string model = "veo-3.1-fast-generate-001") {
        auto s = settings(sims.gemini().base_url(), std::move(model));
        auto fixed = [bearer =
                          std::move(bearer)]() -> engine::awaitable<pipelines::video_result<std::string>> {
            co_return bearer;
        };
        s.authorization = std::move(fixed);
        return pipelines::make_vertex_veo_provider(http, std::move(s));
    }

    static pipelines::video_submit request(std::string prompt, int seconds = 5) {
        pipelines::video_submit r;
        r.prompt = std::move(prompt);
        r.image = sim::media::make_png(72, 128, {.seed = 9});
        r.image_mime = "image/png";
        r.seconds = seconds;
        return r;
    }

    static engine::awaitable<pipelines::video_result<std::string>> submit(pipelines::video_provider& p,
                                                                          std::string prompt) {
        auto req = request(std::move(prompt));
        auto id = co_await p.submit(std::move(req));
        co_return id;
    }
};

BOOST_AUTO_TEST_SUITE(vertex_veo_provider)

BOOST_AUTO_TEST_CASE(the_jwt_is_signed_rs256_with_the_expected_header_and_claims) {
    const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'000));
    auto jwt = providers::make_service_account_jwt(account(),
                                                   providers::cloud_platform_scope,
                                                   "https://oauth2.googleapis.com/token",
                                                   now);
    BOOST_REQUIRE(jwt.has_value());
    const auto first = jwt->find('.');
    const auto last = jwt->rfind('.');
    BOOST_REQUIRE(first != last);
    BOOST_TEST(jwt->find_first_of("+/=") == std::string::npos); // base64url without padding

    const auto header = boost::json::parse(*providers::decode_base64url(jwt->substr(0, first))).as_object();
    BOOST_TEST(header.at("alg").as_string() == "RS256");
    BOOST_TEST(header.at("typ").as_string() == "JWT");
    BOOST_TEST(header.at("kid").as_string() == "kid-0123456789abcdef");

    const auto claims =
        boost::json::parse(*providers::decode_base64url(jwt->substr(first + 1, last - first - 1)))
            .as_object();
    BOOST_TEST(claims.at("iss").as_string() == "companion-video@demo-project.iam.gserviceaccount.com");
    BOOST_TEST(claims.at("scope").as_string() == "https://www.googleapis.com/auth/cloud-platform");
    BOOST_TEST(claims.at("aud").as_string() == "https://oauth2.googleapis.com/token");
    BOOST_TEST(claims.at("iat").as_int64() == 1'800'000'000);
    BOOST_TEST(claims.at("exp").as_int64() == 1'800'003'600);

    const auto signature = providers::decode_base64url(jwt->substr(last + 1));
    BOOST_REQUIRE(signature.has_value());
    BOOST_TEST(signature->size() == 256U); // RSA 2048
    BOOST_TEST(verify(jwt->substr(0, last), *signature));
    BOOST_TEST(!verify(jwt->substr(0, last) + "x", *signature));

    auto bad = account();
    bad.private_key = "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n";
    auto refused = providers::make_service_account_jwt(bad, providers::cloud_platform_scope, "aud", now);
    BOOST_REQUIRE(refused.has_error());
    BOOST_TEST(refused.error().kind == video_error_kind::auth);
}

BOOST_AUTO_TEST_CASE(service_account_files_are_read_and_checked) {
    boost::json::object o{{"type", "service_account"},
                          {"project_id", "demo-project"},
                          {"private_key_id", "kid-1"},
                          {"private_key", the_key().pem},
                          {"client_email", "a@b.iam.gserviceaccount.com"},
                          {"token_uri", "https://oauth2.googleapis.com/token"}};
    auto sa = providers::parse_service_account(boost::json::serialize(o));
    BOOST_REQUIRE(sa.has_value());
    BOOST_TEST(sa->private_key == the_key().pem);
    BOOST_TEST(sa->project_id == "demo-project");

    o["type"] = "authorized_user";
    BOOST_TEST(providers::parse_service_account(boost::json::serialize(o)).error().kind ==
               video_error_kind::auth);
    BOOST_TEST(providers::parse_service_account("{}").has_error());
    BOOST_TEST(providers::load_service_account("/nonexistent/key.json").has_error());
}

BOOST_FIXTURE_TEST_CASE(the_token_is_exchanged_once_cached_and_refreshed_early, vertex_fixture) {
    run([this]() -> engine::awaitable<void> {
        token_endpoint fake(ioc.get_executor());
        providers::service_account_token_config cfg;
        cfg.account = account();
        cfg.token_uri = fake.uri();
        providers::service_account_token_source tokens(http, std::move(cfg));

        auto first = co_await tokens.authorization();
        BOOST_REQUIRE(first.has_value());
        BOOST_TEST(*first == "Bearer ya29.sim-vertex-token");
        auto second = co_await tokens.authorization();
        BOOST_TEST(second.value() == *first);
        BOOST_TEST(fake.requests == 1);
        // The assertion's audience is the token URI it was sent to.
        const auto a = fake.last_assertion;
        const auto claims = boost::json::parse(*providers::decode_base64url(
                                                   a.substr(a.find('.') + 1, a.rfind('.') - a.find('.') - 1)))
                                .as_object();
        BOOST_TEST(claims.at("aud").as_string() == fake.uri());

        tokens.invalidate();
        fake.token = "ya29.second-token";
        fake.expires_in = 200; // inside the 5-minute margin: stale at once
        auto third = co_await tokens.authorization();
        BOOST_TEST(third.value() == "Bearer ya29.second-token");
        auto fourth = co_await tokens.authorization();
        BOOST_TEST(fourth.has_value());
        BOOST_TEST(fake.requests == 3);

        fake.expires_in = 3599;
        tokens.invalidate();
        auto one = tokens.authorization();
        auto other = tokens.authorization();
        auto both = co_await (std::move(one) && std::move(other));
        BOOST_TEST(std::get<0>(both).has_value());
        BOOST_TEST(std::get<1>(both).has_value());
        BOOST_TEST(fake.requests == 4); // the second caller waited for the first one's exchange

        fake.refuse = true;
        tokens.invalidate();
        auto refused = co_await tokens.authorization();
        BOOST_REQUIRE(refused.has_error());
        BOOST_TEST(refused.error().kind == video_error_kind::auth);
        BOOST_TEST(refused.error().message.find("invalid_grant") != std::string::npos);
        co_await fake.server.stop();
    });
}

BOOST_FIXTURE_TEST_CASE(a_job_runs_with_an_injected_token_and_its_video_is_written_from_base64,
                        vertex_fixture) {
    run([this]() -> engine::awaitable<void> {
        auto provider = with_token("Bearer ya29.sim-vertex-token");
        BOOST_TEST(!provider->info().reports_progress);
        BOOST_TEST(provider->info().name == "vertex-veo");
        auto id = co_await submit(*provider, "vertex-full: she turns to the camera");
        BOOST_REQUIRE(id.has_value());
        BOOST_TEST(id->starts_with("projects/demo-project/locations/us-central1/publishers/google/models/"
                                   "veo-3.1-fast-generate-001/operations/"));
        const auto& created = sims.gemini().video_creates();
        BOOST_REQUIRE(created.size() == 1U);
        BOOST_TEST(created.front().seconds == 4); // 5 requested: 4/6/8, ties to the shorter
        BOOST_TEST(created.front().with_image);

        auto done = co_await test::wait_for(*provider, *id);
        BOOST_REQUIRE(done.has_value());
        BOOST_TEST(done->status == video_poll::state::completed);
        auto file = co_await provider->download(*id, dir.path / "vertex" / "veo.mp4");
        BOOST_REQUIRE(file.has_value());
        test::check_mp4(*file, 720, 1280, 4.0);
        BOOST_TEST(sims.gemini().video_creates().size() == 1U);
    });
}

BOOST_FIXTURE_TEST_CASE(refusals_retired_models_and_errors_are_typed, vertex_fixture) {
    run([this]() -> engine::awaitable<void> {
        auto provider = with_token("Bearer ya29.sim-vertex-token");
        auto blocked = co_await submit(*provider, "flirty [[block]]");
        BOOST_REQUIRE(blocked.has_value());
        auto refused = co_await test::wait_for(*provider, *blocked);
        BOOST_REQUIRE(refused.has_value());
        BOOST_TEST(refused->status == video_poll::state::refused);
        BOOST_TEST(refused->error.find("policies") != std::string::npos);

        sims.gemini().faults.add(
            test::fault_of(sim::fault_kind::custom, "predictLongRunning", "operation_error"));
        auto broken = co_await submit(*provider, "fails");
        auto failed = co_await test::wait_for(*provider, *broken);
        BOOST_REQUIRE(failed.has_value());
        BOOST_TEST(failed->status == video_poll::state::failed);

        auto retired = with_token("Bearer ya29.sim-vertex-token", "veo-3.0-generate-001");
        auto gone = co_await submit(*retired, "x");
        BOOST_REQUIRE(gone.has_error());
        BOOST_TEST(gone.error().kind == video_error_kind::model_gone);

        auto wrong = with_token("Bearer ya29.wrong");
        auto denied = co_await submit(*wrong, "x");
        BOOST_REQUIRE(denied.has_error());
        BOOST_TEST(denied.error().kind == video_error_kind::auth);

        sims.gemini().faults.add(
            test::fault_of(sim::fault_kind::rate_limited, "predictLongRunning", "", 20s));
        auto limited = co_await submit(*provider, "x");
        BOOST_REQUIRE(limited.has_error());
        BOOST_TEST(limited.error().kind == video_error_kind::rate_limited);
        BOOST_TEST(limited.error().retry_after.value_or(0ms).count() == 20000);

        sims.gemini().faults.add(test::fault_of(sim::fault_kind::reset, "predictLongRunning"));
        auto lost = co_await submit(*provider, "lost");
        BOOST_REQUIRE(lost.has_error());
        BOOST_TEST(lost.error().kind == video_error_kind::unknown_outcome);
        BOOST_TEST(sims.gemini().video_creates().size() == 2U); // the blocked and the failing job
    });
}

BOOST_FIXTURE_TEST_CASE(the_service_account_flow_reaches_vertex_with_its_token, vertex_fixture) {
    run([this]() -> engine::awaitable<void> {
        token_endpoint fake(ioc.get_executor());
        boost::json::object key{{"type", "service_account"},
                                {"project_id", "demo-project"},
                                {"private_key_id", "kid-1"},
                                {"private_key", the_key().pem},
                                {"client_email", "video@demo-project.iam.gserviceaccount.com"},
                                {"token_uri", "https://oauth2.googleapis.com/token"}};
        const auto key_file = dir.path / "service-account.json";
        std::ofstream(key_file) << boost::json::serialize(key);

        auto s = settings(sims.gemini().base_url(), "veo-3.1-fast-generate-001");
        s.project.clear(); // from the key file
        s.credentials_file = key_file;
        s.token_uri = fake.uri();
        auto provider = pipelines::make_vertex_veo_provider(http, std::move(s));
        auto id = co_await submit(*provider, "vertex-sa");
        BOOST_REQUIRE(id.has_value());
        BOOST_TEST(id->starts_with("projects/demo-project/"));
        auto done = co_await test::wait_for(*provider, *id);
        BOOST_TEST(done.value().status == video_poll::state::completed);
        BOOST_TEST(fake.requests == 1); // one token for the create and every poll

        auto s2 = settings(sims.gemini().base_url(), "veo-3.1-fast-generate-001");
        s2.credentials_file = dir.path / "missing.json";
        auto unconfigured = pipelines::make_vertex_veo_provider(http, std::move(s2));
        auto no_key = co_await submit(*unconfigured, "x");
        BOOST_REQUIRE(no_key.has_error());
        BOOST_TEST(no_key.error().kind == video_error_kind::auth);
        BOOST_TEST(sims.gemini().video_creates().size() == 1U);
        co_await fake.server.stop();
    });
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace
} // namespace companion
