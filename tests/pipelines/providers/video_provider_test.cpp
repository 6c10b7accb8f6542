// The provider-independent parts of the video interface: length mapping and error throwing.
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

BOOST_AUTO_TEST_CASE(refusal_words_are_recognized) {
    BOOST_TEST(pipelines::providers::mentions_refusal("moderation_blocked"));
    BOOST_TEST(pipelines::providers::mentions_refusal("The request was blocked by our Safety system"));
    BOOST_TEST(pipelines::providers::mentions_refusal("violates our content POLICY"));
    BOOST_TEST(!pipelines::providers::mentions_refusal("Inpaint image must match the requested width"));
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace
} // namespace companion
