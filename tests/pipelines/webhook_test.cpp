// The webhook receiver's verdict on a request before its body is read (issue 23), as a table.
#include "pipelines/webhook.hpp"

#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

using companion::pipelines::check_delivery;
using companion::pipelines::delivery_check;
namespace http = companion::net::http;

BOOST_AUTO_TEST_SUITE(webhook_check)

BOOST_AUTO_TEST_CASE(method_and_secret) {
    struct row {
        http::verb method;
        std::string header;
        std::string secret;
        delivery_check expected;
    };
    const std::vector<row> rows{
        {http::verb::post, "s3cret_token", "s3cret_token", delivery_check::accept},
        {http::verb::post, "", "s3cret_token", delivery_check::unauthorized},
        {http::verb::post, "s3cret_tokeN", "s3cret_token", delivery_check::unauthorized},
        {http::verb::post, "s3cret_token-and-more", "s3cret_token", delivery_check::unauthorized},
        {http::verb::post, "s3cret", "s3cret_token", delivery_check::unauthorized},
        {http::verb::post, "anything", "", delivery_check::accept}, // no secret configured
        {http::verb::get, "s3cret_token", "s3cret_token", delivery_check::wrong_method},
        {http::verb::put, "", "s3cret_token", delivery_check::wrong_method},
    };
    for (const auto& r : rows) {
        BOOST_TEST_CONTEXT(http::to_string(r.method) << " '" << r.header << "' vs '" << r.secret << "'") {
            BOOST_TEST((check_delivery(r.method, r.header, r.secret) == r.expected));
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
