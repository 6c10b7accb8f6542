// engine::enum_name / enum_from_name: one described list names and parses every enumerator.
#include "engine/enum_text.hpp"
#include "engine/log.hpp"

#include <boost/test/unit_test.hpp>

#include <string>

namespace companion::engine {
namespace {

enum class colour { red = 3, green, deep_blue };
BOOST_DESCRIBE_ENUM(colour, red, green, deep_blue)

struct holder {
    enum class state { idle, busy };
    BOOST_DESCRIBE_NESTED_ENUM(state, idle, busy)
};

} // namespace

BOOST_AUTO_TEST_SUITE(enum_text)

BOOST_AUTO_TEST_CASE(names_round_trip_for_every_enumerator) {
    for (const colour c : {colour::red, colour::green, colour::deep_blue}) {
        const auto back = enum_from_name<colour>(enum_name(c));
        BOOST_TEST_REQUIRE(back.has_value());
        BOOST_TEST(static_cast<int>(*back) == static_cast<int>(c));
    }
    BOOST_TEST(enum_name(colour::deep_blue) == "deep_blue");
    BOOST_TEST(enum_name(holder::state::busy) == "busy");
}

BOOST_AUTO_TEST_CASE(a_value_outside_the_list_gets_the_fallback) {
    BOOST_TEST(enum_name(static_cast<colour>(42)) == "unknown");
    BOOST_TEST(enum_name(static_cast<colour>(0), "none") == "none");
}

BOOST_AUTO_TEST_CASE(only_an_exact_name_parses) {
    BOOST_TEST(!enum_from_name<colour>("Red").has_value());
    BOOST_TEST(!enum_from_name<colour>("").has_value());
    BOOST_TEST(!enum_from_name<colour>("green ").has_value());
    BOOST_TEST(enum_from_name<holder::state>("idle").has_value());
}

BOOST_AUTO_TEST_CASE(log_levels_parse_with_the_warning_alias) {
    log_level level = log_level::off;
    BOOST_TEST(parse_log_level("warning", level));
    BOOST_TEST(to_string(level) == "warn");
    BOOST_TEST(parse_log_level("critical", level));
    BOOST_TEST(to_string(level) == "critical");
    BOOST_TEST(!parse_log_level("loud", level));
    BOOST_TEST(to_string(level) == "critical"); // unchanged on failure
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace companion::engine
