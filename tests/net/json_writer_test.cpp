// The JSON writer (net/detail/json_writer): its text is what boost::json::serialize writes for
// the same document, escapes, numbers and nesting included.
#include "net/detail/json_writer.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

using companion::net::detail::json_writer;
namespace json = boost::json;

namespace {

/// Strings a body carries: quotes, backslashes, control characters, Cyrillic and Turkish text,
/// an emoji, the empty string, and one long enough to take the serializer several rounds.
std::vector<std::string> awkward_strings() {
    std::string long_one;
    for (int i = 0; i < 2000; ++i) {
        long_one += "line \"";
        long_one += std::to_string(i);
        long_one += "\"\\\n\t\x01";
    }
    return {"",
            "plain",
            "say \"hi\"",
            "back\\slash",
            std::string("nul\0inside", 10),
            "\x1f\x7f\b\f\r",
            "Привет, как дела?",
            "Günaydın, nasılsın?",
            "\xF0\x9F\x98\x8A smile",
            "</script>",
            long_one};
}

} // namespace

BOOST_AUTO_TEST_SUITE(json_writer_suite)

BOOST_AUTO_TEST_CASE(strings_are_escaped_as_the_serializer_escapes_them) {
    for (const auto& s : awkward_strings()) {
        std::string out;
        json_writer(out).string(s);
        BOOST_TEST(out == json::serialize(json::value(json::string_view(s.data(), s.size()))));
        BOOST_TEST(json::parse(out).as_string() == json::string_view(s.data(), s.size()));
    }
}

BOOST_AUTO_TEST_CASE(every_byte_value_is_written_as_the_serializer_writes_it) {
    for (int c = 0; c < 256; ++c) {
        const std::string s = "a" + std::string(1, static_cast<char>(c)) + "b";
        std::string out;
        json_writer(out).string(s);
        BOOST_TEST(out == json::serialize(json::value(json::string_view(s.data(), s.size()))), "byte " << c);
    }
}

BOOST_AUTO_TEST_CASE(every_byte_value_is_found_wherever_it_sits_in_a_long_string) {
    // Long strings are scanned sixteen bytes a step: each byte value at the start, inside, at the
    // edges of a step and in the tail after the last whole step.
    for (int c = 0; c < 256; ++c) {
        for (const std::size_t at : {0U, 7U, 15U, 16U, 31U, 33U, 37U}) {
            std::string s(38, 'x');
            s[at] = static_cast<char>(c);
            std::string out;
            json_writer(out).string(s);
            BOOST_TEST(out == json::serialize(json::value(json::string_view(s.data(), s.size()))),
                       "byte " << c << " at " << at);
        }
    }
}

BOOST_AUTO_TEST_CASE(numbers_and_booleans_are_written_as_the_serializer_writes_them) {
    const std::vector<std::int64_t> ints{0,
                                         -1,
                                         42,
                                         std::numeric_limits<std::int64_t>::min(),
                                         std::numeric_limits<std::int64_t>::max()};
    for (const auto n : ints) {
        std::string out;
        json_writer(out).number(n);
        BOOST_TEST(out == json::serialize(json::value(n)));
    }
    const std::vector<double> doubles{0.0, 0.7, -1.5, 1e300, 2.5e-8, 1.0};
    for (const auto d : doubles) {
        std::string out;
        json_writer(out).number(d);
        BOOST_TEST(out == json::serialize(json::value(d)));
    }
    std::string out;
    json_writer(out).begin_array().boolean(true).boolean(false).end_array();
    BOOST_TEST(out == "[true,false]");
}

BOOST_AUTO_TEST_CASE(a_nested_document_matches_its_dom_serialized) {
    const auto schema =
        json::parse(R"({"type":"object","properties":{"reply":{"type":"string"}},"required":["reply"]})");
    json::object dom;
    dom["model"] = "gpt-4o-mini";
    json::array messages;
    for (const auto& s : awkward_strings()) {
        messages.push_back(json::object{{"role", "user"}, {"content", s}});
    }
    dom["messages"] = std::move(messages);
    dom["max_tokens"] = 1000;
    dom["empty_object"] = json::object{};
    dom["empty_array"] = json::array{};
    dom["format"] = json::object{{"strict", true}, {"schema", schema}};

    std::string out = "prefix:"; // appends to what the string holds
    json_writer w(out);
    w.begin_object().field("model", "gpt-4o-mini").key("messages").begin_array();
    for (const auto& s : awkward_strings()) {
        w.begin_object().field("role", "user").field("content", s).end_object();
    }
    w.end_array().field("max_tokens", std::int64_t{1000});
    w.key("empty_object").begin_object().end_object();
    w.key("empty_array").begin_array().end_array();
    w.key("format")
        .begin_object()
        .key("strict")
        .boolean(true)
        .key("schema")
        .value(schema.as_object())
        .end_object();
    w.end_object();
    BOOST_TEST(out == "prefix:" + json::serialize(dom));
}

BOOST_AUTO_TEST_CASE(any_value_is_written_whole) {
    const auto v = json::parse(R"([1,"two",{"three":[3.5,null,false]},{}])");
    std::string out;
    json_writer(out).value(v);
    BOOST_TEST(out == json::serialize(v));
}

BOOST_AUTO_TEST_SUITE_END()
