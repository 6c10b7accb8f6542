// Tests of engine/log: formats, levels and the redaction of secrets and token-shaped text.
#include "engine/log.hpp"

#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

using namespace companion::engine;

namespace {

struct redactor_fixture {
    redactor r;
};

} // namespace

BOOST_AUTO_TEST_SUITE(log_suite)

BOOST_FIXTURE_TEST_CASE(registered_secret_is_masked_everywhere_in_a_line, redactor_fixture) {
    r.add_secret("sk-test-abcdef123456");
    const auto out = r.redact("key sk-test-abcdef123456 and again sk-test-abcdef123456.");
    BOOST_TEST(out.find("sk-test") == std::string::npos);
    BOOST_TEST(out == "key [REDACTED] and again [REDACTED].");
}

BOOST_FIXTURE_TEST_CASE(url_encoded_form_of_a_secret_is_masked, redactor_fixture) {
    r.add_secret("12345:secret/with+chars");
    const auto out = r.redact("GET /bot12345%3Asecret%2Fwith%2Bchars/getMe");
    BOOST_TEST(out == "GET /bot[REDACTED]/getMe");
}

BOOST_FIXTURE_TEST_CASE(short_secrets_are_ignored_to_keep_lines_readable, redactor_fixture) {
    r.add_secret("abc");
    BOOST_TEST(r.redact("abc def") == "abc def");
}

BOOST_AUTO_TEST_CASE(unregistered_telegram_token_shape_is_masked) {
    std::string line =
        "connect failed: "
        "https://api.telegram.org/bot7000000001:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0/getUpdates";
    redact_token_shapes(line);
    BOOST_TEST(line == "connect failed: https://api.telegram.org/bot[REDACTED]/getUpdates");
}

BOOST_AUTO_TEST_CASE(ordinary_times_and_ids_are_not_masked) {
    std::string line = "at 12:30:45 chat=1234567890 ratio 16:9 id 123456:short";
    const std::string before = line;
    redact_token_shapes(line);
    BOOST_TEST(line == before);
}

BOOST_AUTO_TEST_CASE(text_format_has_level_event_and_fields) {
    logger lg(logger::config{.level = log_level::debug, .format = log_format::text});
    const auto line =
        lg.format(log_level::info, "update.handled", {{"chat", -100123}, {"ok", true}, {"text", "a b"}});
    BOOST_TEST(line.find(" INFO  update.handled chat=-100123 ok=true text=\"a b\"") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(json_format_escapes_strings) {
    logger lg(logger::config{.level = log_level::info, .format = log_format::json});
    const auto line = lg.format(log_level::warn, "x", {{"q", "say \"hi\"\n"}, {"n", 3U}, {"f", 0.5}});
    BOOST_TEST(
        line.find("\"level\":\"warn\",\"event\":\"x\",\"q\":\"say \\\"hi\\\"\\n\",\"n\":3,\"f\":0.5}") !=
        std::string::npos);
}

BOOST_AUTO_TEST_CASE(lines_below_the_level_are_dropped_and_capture_sees_redacted_text) {
    logger lg(logger::config{.level = log_level::info});
    std::vector<std::string> lines;
    lg.set_capture([&](log_level, std::string_view l) { lines.emplace_back(l); }, true);
    secrets().add_secret("super-secret-key-42");
    lg.debug("dropped");
    lg.error("request.failed", {{"error", "401 for key super-secret-key-42"}});
    BOOST_TEST_REQUIRE(lines.size() == 1U);
    BOOST_TEST(lines[0].find("super-secret") == std::string::npos);
    BOOST_TEST(lines[0].find("[REDACTED]") != std::string::npos);
    secrets().clear();
}

BOOST_AUTO_TEST_CASE(level_words_parse) {
    log_level l{};
    BOOST_TEST(parse_log_level("warn", l));
    BOOST_TEST((l == log_level::warn));
    BOOST_TEST(!parse_log_level("loud", l));
}

BOOST_AUTO_TEST_SUITE_END()
