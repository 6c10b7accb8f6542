// Tests of service_health: which failures say a service cannot serve anyone (refused), which
// pass (failing), which are about one request and change nothing; and how a success clears them.
#include "pipelines/service_health.hpp"

#include <boost/test/unit_test.hpp>

#include <optional>
#include <tuple>
#include <vector>

using namespace companion;
using namespace companion::pipelines;
using namespace std::chrono_literals;
using k = net::api_error_kind;

namespace {

const engine::wall_time t0{std::chrono::milliseconds{1'764'547'200'000}};

net::api_error error_of(k kind) {
    net::api_error e;
    e.kind = kind;
    e.api = "openai";
    return e;
}

} // namespace

BOOST_AUTO_TEST_SUITE(service_health_suite)

BOOST_AUTO_TEST_CASE(each_api_failure_moves_its_service_as_the_table_says) {
    const std::vector<std::tuple<k, std::optional<service_state>>> table{
        {k::unauthorized, service_state::refused},
        {k::quota_exhausted, service_state::refused},
        {k::model_gone, service_state::refused},
        {k::server, service_state::failing},
        {k::transport, service_state::failing},
        {k::rate_limited, service_state::failing},
        {k::malformed_response, service_state::failing},
        {k::conflict, service_state::failing},
        {k::forbidden, std::nullopt}, // one user blocked the bot
        {k::bad_request, std::nullopt},
        {k::context_length, std::nullopt},
        {k::not_modified, std::nullopt},
    };
    for (const auto& [kind, expected] : table) {
        BOOST_TEST((state_after(error_of(kind)) == expected), kind);
    }
}

BOOST_AUTO_TEST_CASE(each_video_failure_moves_the_provider_as_the_table_says) {
    const std::vector<std::tuple<video_error_kind, std::optional<service_state>>> table{
        {video_error_kind::auth, service_state::refused},
        {video_error_kind::quota, service_state::refused},
        {video_error_kind::model_gone, service_state::refused},
        {video_error_kind::transient, service_state::failing},
        {video_error_kind::unknown_outcome, service_state::failing},
        {video_error_kind::refused, std::nullopt}, // the content, not the service
        {video_error_kind::expired, std::nullopt},
    };
    for (const auto& [kind, expected] : table) {
        BOOST_TEST((state_after(video_error{kind, "x", std::nullopt}) == expected), kind);
    }
}

BOOST_AUTO_TEST_CASE(a_refusal_holds_until_a_success_and_only_refusals_are_listed) {
    service_health h;
    BOOST_TEST((h.status(service::llm).state == service_state::unknown));
    h.record_failure(service::llm, service_state::refused, "openai: unauthorized (401)", t0);
    h.record_failure(service::images, service_state::failing, "gemini: server (503)", t0);
    h.record_failure(service::telegram, std::nullopt, "a user blocked the bot", t0);
    BOOST_TEST((h.status(service::telegram).state == service_state::unknown));
    BOOST_TEST_REQUIRE(h.refused().size() == 1U);
    BOOST_TEST((h.refused()[0] == service::llm));
    BOOST_TEST(h.status(service::llm).error == "openai: unauthorized (401)");
    BOOST_TEST((h.status(service::llm).since == t0));
    // The same state again keeps when it began; a success clears the error.
    h.record_failure(service::llm, service_state::refused, "openai: unauthorized (401)", t0 + 5s);
    BOOST_TEST((h.status(service::llm).since == t0));
    h.record_ok(service::llm, t0 + 9s);
    BOOST_TEST((h.status(service::llm).state == service_state::ok));
    BOOST_TEST(h.status(service::llm).error.empty());
    BOOST_TEST((h.status(service::llm).since == t0 + 9s));
    BOOST_TEST(h.refused().empty());
    h.mark_unused(service::videos);
    BOOST_TEST((h.status(service::videos).state == service_state::unused));
}

BOOST_AUTO_TEST_SUITE_END()
