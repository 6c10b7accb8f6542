// The streamed field reader (net/detail/json_fields): what it visits, what it skips, and that it
// refuses what boost::json::parse refuses, with the same error.
#include "net/detail/json_fields.hpp"

#include <boost/json/error.hpp>
#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <string>
#include <string_view>
#include <vector>

using companion::net::detail::json_scalar;
using companion::net::detail::read_json_fields;

namespace {

/// Each visit as "parent/key=value" (value: s:<text>, i:<n>, u:<n>, d:<n>, b:<0|1>, null, {, [).
std::vector<std::string> visits(std::string_view body, boost::system::error_code& ec) {
    std::vector<std::string> out;
    const auto record = [&](std::string_view parent, std::string_view key, const json_scalar& v) {
        std::string line = std::string(parent) + "/" + std::string(key) + "=";
        switch (v.type) {
        case json_scalar::kind::string:
            line += "s:" + std::string(v.text);
            break;
        case json_scalar::kind::int64:
            line += "i:" + std::to_string(v.i);
            break;
        case json_scalar::kind::uint64:
            line += "u:" + std::to_string(v.u);
            break;
        case json_scalar::kind::number:
            line += "d:" + std::to_string(v.d);
            break;
        case json_scalar::kind::boolean:
            line += v.b ? "b:1" : "b:0";
            break;
        case json_scalar::kind::null:
            line += "null";
            break;
        case json_scalar::kind::object:
            line += "{";
            break;
        case json_scalar::kind::array:
            line += "[";
            break;
        }
        out.push_back(std::move(line));
    };
    ec = read_json_fields(body, record);
    return out;
}

struct visit_case {
    std::string_view body;
    std::vector<std::string> expected;
};

} // namespace

BOOST_AUTO_TEST_SUITE(json_fields)

BOOST_AUTO_TEST_CASE(visits_the_root_and_one_level_down_and_skips_the_rest) {
    const std::vector<visit_case> cases{
        {R"({})", {}},
        {R"({"id":"video_1","status":"in_progress","progress":42})",
         {"/id=s:video_1", "/status=s:in_progress", "/progress=i:42"}},
        {R"({"n":-3,"big":18446744073709551615,"x":1.5,"t":true,"f":false,"z":null})",
         {"/n=i:-3", "/big=u:18446744073709551615", "/x=d:1.500000", "/t=b:1", "/f=b:0", "/z=null"}},
        // An object one level down: its scalars with the parent's key; deeper ones are skipped.
        {R"({"error":{"code":"moderation","message":"no","meta":{"deep":1},"after":2},"id":"v"})",
         {"/error={", "error/code=s:moderation", "error/message=s:no", "error/after=i:2", "/id=s:v"}},
        // Arrays open, their contents are skipped (objects inside them too).
        {R"({"list":[1,"two",{"k":3},[4]],"next":"x"})", {"/list=[", "/next=s:x"}},
        // Escapes are undone; keys that need unescaping too.
        {R"({"m\u0073g":"a\"b\\c\u00e9","e":{"k\n":"v"}})", {"/msg=s:a\"b\\c\xC3\xA9", "/e={", "e/k\n=s:v"}},
        // Duplicates are all visited, in order (the caller's last assignment wins, as in a DOM).
        {R"({"a":1,"a":2})", {"/a=i:1", "/a=i:2"}},
        // Whitespace around the document is fine.
        {" \n{ \"a\" : \"b\" } \n", {"/a=s:b"}},
    };
    for (const auto& c : cases) {
        boost::system::error_code ec;
        auto got = visits(c.body, ec);
        BOOST_TEST_CONTEXT(c.body) {
            BOOST_TEST(!ec, ec.message());
            BOOST_TEST(got == c.expected, boost::test_tools::per_element());
        }
    }
}

BOOST_AUTO_TEST_CASE(refuses_what_a_dom_parse_refuses_with_the_same_error) {
    const std::vector<std::string_view> bodies{
        "",
        "{",
        R"({"a":})",
        R"({"a":1,})",
        R"({"a":1} x)",
        R"({"a":1}{})",
        R"({'a':1})",
        "{\"a\":\"\xC3\"}", // a cut UTF-8 sequence
        R"({"a":tru})",
        R"({"a":1e999999})", // accepted by both (infinity)
        R"({"a":[1,2,{"b":[]}]})",
        "{\"a\":1}\n",
    };
    for (const auto body : bodies) {
        BOOST_TEST_CONTEXT(body) {
            boost::system::error_code dom;
            boost::json::parse(body, dom);
            boost::system::error_code ec;
            visits(body, ec);
            BOOST_TEST(ec == dom, ec.message() << " vs " << dom.message());
        }
    }
}

BOOST_AUTO_TEST_CASE(a_root_that_is_not_an_object_is_refused) {
    for (const std::string_view body : {R"([{"id":"x"}])", R"("id")", "42", "null"}) {
        BOOST_TEST_CONTEXT(body) {
            boost::system::error_code ec;
            const auto got = visits(body, ec);
            BOOST_TEST(ec == boost::json::error::not_object);
            BOOST_TEST(got.empty());
        }
    }
}

BOOST_AUTO_TEST_CASE(deep_documents_are_refused_as_a_dom_parse_refuses_them) {
    const std::string deep = "{\"a\":" + std::string(100, '[') + std::string(100, ']') + "}";
    boost::system::error_code dom;
    boost::json::parse(deep, dom);
    BOOST_TEST_REQUIRE(static_cast<bool>(dom));
    boost::system::error_code ec;
    visits(deep, ec);
    BOOST_TEST(ec == dom);
}

BOOST_AUTO_TEST_CASE(scalars_read_as_text_and_integers_like_the_dom_helpers) {
    const auto text = [](json_scalar v) { return v.as_text(); };
    const auto integer = [](json_scalar v) { return v.as_int(); };
    BOOST_TEST(text({.type = json_scalar::kind::string, .text = "abc"}) == "abc");
    BOOST_TEST(text({.type = json_scalar::kind::int64, .i = -7}) == "-7");
    BOOST_TEST(text({.type = json_scalar::kind::number, .d = 2.6}) == "3");
    BOOST_TEST(text({.type = json_scalar::kind::boolean, .b = true}).empty());
    BOOST_TEST(text({.type = json_scalar::kind::null}).empty());
    BOOST_TEST(integer({.type = json_scalar::kind::string, .text = "42"}).value_or(0) == 42);
    BOOST_TEST(!integer({.type = json_scalar::kind::string, .text = "42x"}));
    BOOST_TEST(!integer({.type = json_scalar::kind::string, .text = ""}));
    BOOST_TEST(integer({.type = json_scalar::kind::uint64, .u = 5}).value_or(0) == 5);
    BOOST_TEST(!integer({.type = json_scalar::kind::number, .d = 1e300}));
    BOOST_TEST(!integer({.type = json_scalar::kind::object}));
}

BOOST_AUTO_TEST_SUITE_END()
