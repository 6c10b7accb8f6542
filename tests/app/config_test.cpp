// Tests of app/config: the example file equals the defaults, the environment overrides the file,
// every kind of mistake is one line naming the key, and printing redacts secrets.
#include "app/config.hpp"

#include <boost/test/unit_test.hpp>

#include <string>

using namespace companion::app;
using namespace std::chrono_literals;

namespace {

std::string error_of(std::string_view toml, const env_lookup& env = {}) {
    auto r = parse_config(toml, env);
    return r ? std::string{} : r.error();
}

} // namespace

BOOST_AUTO_TEST_SUITE(config_suite)

BOOST_AUTO_TEST_CASE(example_file_documents_exactly_the_defaults) {
    auto from_file = load_config(COMPANION_SOURCE_DIR "/app/companion.example.toml", {});
    BOOST_TEST_REQUIRE(from_file.has_value(), (from_file ? "" : from_file.error()));
    auto defaults = parse_config("", {});
    BOOST_TEST_REQUIRE(defaults.has_value());
    BOOST_TEST(print_config(*from_file) == print_config(*defaults));
    BOOST_TEST(!defaults->live());
    BOOST_TEST((defaults->video.poll_interval == 5s));
    BOOST_TEST((defaults->video.poll_timeout == 10min));
    BOOST_TEST(defaults->video.flirty_probability == 0.5);
}

BOOST_AUTO_TEST_CASE(environment_overrides_the_file_and_enables_live_mode) {
    env_lookup env{{"TELEGRAM_BOT_TOKEN", "123456:ABCdefGHIjklMNOpqrSTUvwxYZ0123456789"},
                   {"OPENAI_BASE_URL", "http://127.0.0.1:8082/v1"},
                   {"OPENAI_API_KEY", "sk-test-key-123456"},
                   {"COMPANION_LOG_LEVEL", "debug"}};
    auto c = parse_config("[openai]\nbase_url = \"https://openrouter.ai/api/v1\"\n", env);
    BOOST_TEST_REQUIRE(c.has_value(), (c ? "" : c.error()));
    BOOST_TEST(c->live());
    BOOST_TEST(c->openai.base_url == "http://127.0.0.1:8082/v1");
    BOOST_TEST(c->log.level == "debug");
    const auto printed = print_config(*c);
    BOOST_TEST(printed.find("sk-test-key") == std::string::npos);
    BOOST_TEST(printed.find("ABCdefGHI") == std::string::npos);
    BOOST_TEST(printed.find("[REDACTED]") != std::string::npos);
    BOOST_TEST(printed.find("live mode") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(mistakes_are_one_line_naming_the_key) {
    BOOST_TEST(
        error_of("[video]\npoll_interval = \"soon\"\n").find("video.poll_interval: expected a duration") ==
        0U);
    BOOST_TEST(error_of("[video]\nprovider = \"sora\"\n").find("video.provider: must be one of") == 0U);
    BOOST_TEST(error_of("[vidoe]\n").find("[vidoe]: unknown section") == 0U);
    BOOST_TEST(error_of("[video]\nflirty = 1\n").find("video.flirty: unknown key") == 0U);
    BOOST_TEST(
        error_of("[video]\nflirty_probability = 1.5\n").find("video.flirty_probability: must be between") ==
        0U);
    BOOST_TEST(
        error_of("[limits]\nvideos_per_day = \"3\"\n").find("limits.videos_per_day: expected an integer") ==
        0U);
    BOOST_TEST(error_of("[openai]\nbase_url = \"api.openai.com\"\n").find("openai.base_url") == 0U);
    BOOST_TEST(error_of("[telegram]\ntoken = \"x\"\n").find("telegram.token: unknown key") == 0U);
    BOOST_TEST(error_of("[video]\nallowed_seconds = []\n").find("video.allowed_seconds") == 0U);
    BOOST_TEST(error_of("[video]\nsize = \"big\"\n").find("video.size") == 0U);
    BOOST_TEST(
        error_of("[video]\npoll_interval = \"4m\"\npoll_timeout = \"1m\"\n").find("video.poll_timeout") ==
        0U);
    BOOST_TEST(error_of("", {{"TELEGRAM_BOT_TOKEN", "nocolon"}}).find("TELEGRAM_BOT_TOKEN") == 0U);
    BOOST_TEST(error_of("[log]\nformat = \"xml\"\n").find("log.format") == 0U);
    const auto syntax = error_of("[video\n");
    BOOST_TEST(syntax.find("config:1:") == 0U);
    for (const auto& e : {error_of("[video]\nprovider = 3\n"), syntax}) {
        BOOST_TEST(e.find('\n') == std::string::npos);
    }
}

BOOST_AUTO_TEST_CASE(durations_parse_in_every_unit) {
    BOOST_TEST((parse_duration("250ms").value() == 250ms));
    BOOST_TEST((parse_duration("5s").value() == 5s));
    BOOST_TEST((parse_duration("7").value() == 7s));
    BOOST_TEST((parse_duration("10m").value() == 10min));
    BOOST_TEST((parse_duration("2h").value() == 2h));
    BOOST_TEST((parse_duration("30d").value() == std::chrono::hours(720)));
    BOOST_TEST(!parse_duration("5x").has_value());
    BOOST_TEST(!parse_duration("").has_value());
}

BOOST_AUTO_TEST_CASE(requested_length_maps_to_the_nearest_allowed_ties_to_the_shorter) {
    BOOST_TEST(nearest_allowed_seconds(5, {4, 8, 12}) == 4);
    BOOST_TEST(nearest_allowed_seconds(5, {4, 6, 8}) == 4);
    BOOST_TEST(nearest_allowed_seconds(7, {4, 6, 8}) == 6);
    BOOST_TEST(nearest_allowed_seconds(5, {3, 4, 5, 6, 7, 8, 9, 10}) == 5);
    BOOST_TEST(nearest_allowed_seconds(30, {4, 8, 12}) == 12);
}

BOOST_AUTO_TEST_SUITE_END()
