// The one API error type without sockets: its printed line, the retry rule, the outcome-unknown
// flag from a transport failure, the category, and that no secret reaches any of its texts.
#include "engine/log.hpp"
#include "net/api_error.hpp"

#include <boost/system/system_error.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <string>
#include <vector>

namespace companion {
namespace {

using net::api_error;
using net::api_error_kind;

BOOST_AUTO_TEST_SUITE(api_error_type)

BOOST_AUTO_TEST_CASE(the_line_names_api_method_kind_status_text_and_the_wait) {
    api_error e;
    e.kind = api_error_kind::rate_limited;
    e.api = "telegram";
    e.method = "sendMessage";
    e.status = 429;
    e.detail = "Too Many Requests: retry after 3";
    e.retry_after = std::chrono::seconds(3);
    BOOST_TEST(e.message() ==
               "telegram sendMessage: rate_limited (429): Too Many Requests: retry after 3 [retry after 3s]");

    api_error google;
    google.kind = api_error_kind::bad_request;
    google.api = "gemini";
    google.status = 400;
    google.code = "400";
    google.google_status = "INVALID_ARGUMENT";
    google.detail = "bad durationSeconds";
    google.retry_after = std::chrono::milliseconds(250);
    BOOST_TEST(google.message() ==
               "gemini: bad_request (400) INVALID_ARGUMENT: bad durationSeconds [retry after 250ms]");
}

BOOST_AUTO_TEST_CASE(a_reset_after_the_write_leaves_the_outcome_unknown) {
    const auto sent =
        net::transport_error("openai",
                             "",
                             net::make_failure(net::errc::connection_reset, "reset by peer", true));
    BOOST_TEST(sent.kind == api_error_kind::transport);
    BOOST_TEST(sent.outcome_unknown());
    BOOST_TEST(sent.message().find("[outcome unknown]") != std::string::npos);

    const auto refused =
        net::transport_error("openai", "", net::make_failure(net::errc::connect_refused, "refused", false));
    BOOST_TEST(!refused.outcome_unknown());
    BOOST_TEST(refused.message().find("outcome unknown") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(only_rate_limits_server_errors_and_transport_failures_are_retryable) {
    const std::vector<std::pair<api_error_kind, bool>> cases{
        {api_error_kind::transport, true},
        {api_error_kind::rate_limited, true},
        {api_error_kind::server, true},
        {api_error_kind::unauthorized, false},
        {api_error_kind::forbidden, false},
        {api_error_kind::not_found, false},
        {api_error_kind::conflict, false},
        {api_error_kind::quota_exhausted, false},
        {api_error_kind::bad_request, false},
        {api_error_kind::too_large, false},
        {api_error_kind::context_length, false},
        {api_error_kind::model_gone, false},
        {api_error_kind::not_modified, false},
        {api_error_kind::query_too_old, false},
        {api_error_kind::message_to_edit_not_found, false},
        {api_error_kind::malformed_response, false},
    };
    for (const auto& [kind, retryable] : cases) {
        api_error e;
        e.kind = kind;
        BOOST_TEST(e.retryable() == retryable, kind);
        BOOST_TEST(make_error_code(kind).message() == std::string(to_string(kind)));
        BOOST_TEST(std::string(make_error_code(kind).category().name()) == "companion.api");
    }
}

BOOST_AUTO_TEST_CASE(no_secret_reaches_the_detail_the_line_or_the_exception) {
    const std::string key = "sk-api-error-test-7f3c9d2e";
    engine::secrets().add_secret(key);
    auto e = net::malformed_response("openai", "", 200, "echoed " + key + " back");
    e.code = key; // even a field set without redaction is masked in the printed line
    BOOST_TEST(e.detail.find(key) == std::string::npos);
    BOOST_TEST(e.message().find(key) == std::string::npos);
    net::api_result<int> r = e;
    try {
        (void)r.value();
        BOOST_FAIL("value() did not throw");
    } catch (const boost::system::system_error& thrown) {
        BOOST_TEST(thrown.code() == make_error_code(api_error_kind::malformed_response));
        BOOST_TEST(std::string(thrown.what()).find(key) == std::string::npos);
    }
}

BOOST_AUTO_TEST_CASE(a_long_provider_text_is_cut_and_marked) {
    const std::string page(2000, 'x');
    const auto cut = net::redacted_text(page, 300);
    BOOST_TEST(cut.size() == 303U);
    BOOST_TEST(cut.ends_with("..."));
    BOOST_TEST(net::redacted_text("short", 300) == "short");
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace
} // namespace companion
