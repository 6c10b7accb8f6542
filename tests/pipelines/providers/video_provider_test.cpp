// The provider-independent parts of the video interface: length mapping, the clients' errors
// onto the interface's kinds by stage, and error throwing.
#include "pipelines/providers/common.hpp"
#include "pipelines/video_provider.hpp"

#include <boost/system/system_error.hpp>
#include <boost/test/unit_test.hpp>

namespace companion {
namespace {

using pipelines::effective_seconds;

BOOST_AUTO_TEST_SUITE(video_provider)

struct length_case {
    int requested;
    std::vector<int> allowed;
    int expected;
};

BOOST_AUTO_TEST_CASE(requested_length_maps_to_the_nearest_allowed_shorter_on_ties) {
    const std::vector<length_case> cases{
        {5, {4, 8, 12}, 4},
        {6, {4, 8, 12}, 4},
        {7, {4, 8, 12}, 8},
        {5, {4, 6, 8}, 4},
        {5, {3, 4, 5, 6, 7, 8, 9, 10}, 5},
        {20, {4, 6, 8}, 8},
        {1, {8, 4, 6}, 4},
        {7, {8, 6}, 6},
        {5, {}, 5},
    };
    for (const auto& c : cases) {
        BOOST_TEST(effective_seconds(c.requested, c.allowed) == c.expected, "requested " << c.requested);
    }
}

struct offer_case {
    std::vector<int> wanted;
    std::vector<int> allowed;
    std::vector<int> expected;
};

BOOST_AUTO_TEST_CASE(offered_lengths_are_the_distinct_allowed_ones_or_no_choice) {
    const std::vector<offer_case> cases{
        {{5, 10}, {5, 10}, {5, 10}},                   // fal's Kling
        {{10, 5}, {5, 10}, {5, 10}},                   // ascending whatever the order
        {{5, 10}, {4, 8, 12}, {4, 8}},                 // 10 ties between 8 and 12: the shorter
        {{5, 10}, {3, 4, 5, 6, 7, 8, 9, 10}, {5, 10}}, // Gemini Omni: two of its eight
        {{5, 6}, {4, 8, 12}, {}},                      // both map to 4: no choice
        {{5}, {5, 10}, {}},                            // one length: no choice
        {{}, {5, 10}, {}},
        {{5, 10, 20}, {4, 6, 8}, {4, 8}},
        {{5, 10}, {}, {5, 10}}, // a provider that takes any length
    };
    for (const auto& c : cases) {
        BOOST_TEST(pipelines::offered_lengths(c.wanted, c.allowed) == c.expected,
                   boost::test_tools::per_element());
    }
}

BOOST_AUTO_TEST_CASE(an_error_thrown_from_a_result_keeps_its_message) {
    pipelines::video_result<int> r = pipelines::video_error{.kind = pipelines::video_error_kind::model_gone,
                                                            .message = "model sora-2 is gone",
                                                            .retry_after = std::nullopt};
    try {
        (void)r.value();
        BOOST_FAIL("value() did not throw");
    } catch (const boost::system::system_error& e) {
        BOOST_TEST(std::string(e.what()).find("model_gone: model sora-2 is gone") != std::string::npos);
    }
}

struct mapping_case {
    std::string name;
    net::api_error_kind kind;
    unsigned status;
    pipelines::providers::call_stage at;
    pipelines::video_error_kind expected;
    std::string detail{};
    bool request_sent = false;
};

BOOST_AUTO_TEST_CASE(a_client_error_maps_by_the_stage_it_happened_in) {
    using k = net::api_error_kind;
    using v = pipelines::video_error_kind;
    using s = pipelines::providers::call_stage;
    const std::vector<mapping_case> cases{
        {"a reset after the create was written may have made a job",
         k::transport,
         0,
         s::submit,
         v::unknown_outcome,
         {},
         true},
        {"a create that never left is transient", k::transport, 0, s::submit, v::transient, {}, false},
        {"a reset on a poll is transient", k::transport, 0, s::poll, v::transient, {}, true},
        {"a 504 on create may have made a job", k::server, 504, s::submit, v::unknown_outcome},
        {"a gateway's 502 on create may have made a job", k::server, 502, s::submit, v::unknown_outcome},
        {"a 503 on create is transient", k::server, 503, s::submit, v::transient},
        {"a 502 on a poll is transient", k::server, 502, s::poll, v::transient},
        {"an unreadable 2xx to a create still made a job",
         k::malformed_response,
         200,
         s::submit,
         v::unknown_outcome},
        {"an unreadable poll is transient", k::malformed_response, 200, s::poll, v::transient},
        {"an unknown model on create", k::not_found, 404, s::submit, v::model_gone},
        {"an unknown job on a poll", k::not_found, 404, s::poll, v::failed},
        {"a result gone on download", k::not_found, 404, s::download, v::expired},
        {"a 410 on download", k::bad_request, 410, s::download, v::expired},
        {"a safety refusal", k::bad_request, 400, s::submit, v::refused, "blocked by our safety system"},
        {"a wrong request", k::bad_request, 400, s::submit, v::bad_request, "size must be 720x1280"},
        {"a retired model", k::model_gone, 404, s::submit, v::model_gone},
        {"a refused key", k::unauthorized, 401, s::poll, v::auth},
        {"an empty purse", k::quota_exhausted, 429, s::submit, v::quota},
        {"a rate limit", k::rate_limited, 429, s::poll, v::rate_limited},
    };
    for (const auto& c : cases) {
        net::api_error e;
        e.kind = c.kind;
        e.status = c.status;
        e.detail = c.detail;
        e.retry_after = std::chrono::seconds(2);
        if (c.kind == k::transport) {
            e.transport = net::make_failure(net::errc::connection_reset, "reset", c.request_sent);
        }
        const auto mapped = pipelines::providers::to_video_error(e, c.at);
        BOOST_TEST(mapped.kind == c.expected, c.name);
        if (c.kind == k::rate_limited) {
            BOOST_TEST(mapped.retry_after.value_or(std::chrono::milliseconds(0)).count() == 2000, c.name);
        }
    }
}

BOOST_AUTO_TEST_CASE(the_mapped_message_names_the_status_and_the_provider_word) {
    net::api_error e;
    e.kind = net::api_error_kind::bad_request;
    e.status = 400;
    e.code = "400";
    e.google_status = "INVALID_ARGUMENT";
    e.detail = "durationSeconds must be 4, 6 or 8";
    const auto mapped = pipelines::providers::to_video_error(e, pipelines::providers::call_stage::submit);
    BOOST_TEST(mapped.message == "HTTP 400 INVALID_ARGUMENT: durationSeconds must be 4, 6 or 8");
}

BOOST_AUTO_TEST_CASE(refusal_words_are_recognized) {
    BOOST_TEST(pipelines::providers::mentions_refusal("moderation_blocked"));
    BOOST_TEST(pipelines::providers::mentions_refusal("The request was blocked by our Safety system"));
    BOOST_TEST(pipelines::providers::mentions_refusal("violates our content POLICY"));
    BOOST_TEST(!pipelines::providers::mentions_refusal("Inpaint image must match the requested width"));
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace
} // namespace companion
