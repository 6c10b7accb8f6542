// Tests of sim/telegram/entities: the three parse modes turned into text and entities (offsets in
// UTF-16 units) and their errors in Telegram's words, plus the entities Telegram finds by itself.
#include "sim/telegram/entities.hpp"

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <ostream>
#include <string>
#include <vector>

using namespace companion::sim::telegram;

namespace {

struct parsed_case {
    parse_mode mode;
    std::string markup;
    std::string text;
    std::vector<message_entity> entities;
};

std::ostream& operator<<(std::ostream& os, const parsed_case& c) {
    return os << c.mode << " \"" << c.markup << '"';
}

struct failing_case {
    parse_mode mode;
    std::string markup;
    std::string error;
};

std::ostream& operator<<(std::ostream& os, const failing_case& c) {
    return os << c.mode << " \"" << c.markup << '"';
}

message_entity e(std::string type, std::int64_t offset, std::int64_t length) {
    return {.type = std::move(type), .offset = offset, .length = length};
}

const std::vector<parsed_case> parsed{
    {parse_mode::html, "<b>bold</b> and <i>it</i>", "bold and it", {e("bold", 0, 4), e("italic", 9, 2)}},
    {parse_mode::html,
     "<strong>a</strong><em>b</em><u>c</u><s>d</s>",
     "abcd",
     {e("bold", 0, 1), e("italic", 1, 1), e("underline", 2, 1), e("strikethrough", 3, 1)}},
    {parse_mode::html, "&lt;tag&gt; &amp; &quot;q&quot; &#65;&#x42;", "<tag> & \"q\" AB", {}},
    {parse_mode::html, "😀 <b>x</b>", "😀 x", {e("bold", 3, 1)}}, // the emoji is two UTF-16 units
    {parse_mode::html, "Привет <i>мир</i>", "Привет мир", {e("italic", 7, 3)}},
    {parse_mode::html, "<b>a<i>b</i></b>", "ab", {e("bold", 0, 2), e("italic", 1, 1)}},
    {parse_mode::html,
     R"(<a href="https://example.com/?a=1&amp;b=2">site</a>)",
     "site",
     {{.type = "text_link", .offset = 0, .length = 4, .url = "https://example.com/?a=1&b=2"}}},
    {parse_mode::html,
     R"(<a href="tg://user?id=42">Ann</a>)",
     "Ann",
     {{.type = "text_mention", .offset = 0, .length = 3, .user_id = 42}}},
    {parse_mode::html,
     R"(<pre><code class="language-cpp">int x;</code></pre>)",
     "int x;",
     {{.type = "pre", .offset = 0, .length = 6, .language = "cpp"}}},
    {parse_mode::html,
     R"(<span class="tg-spoiler">s</span><tg-spoiler>t</tg-spoiler>)",
     "st",
     {e("spoiler", 0, 1), e("spoiler", 1, 1)}},
    {parse_mode::html, "<blockquote>q</blockquote><b></b>", "q", {e("blockquote", 0, 1)}},
    {parse_mode::markdown_v2,
     "*bold* _it_ __u__ ~s~ ||sp||",
     "bold it u s sp",
     {e("bold", 0, 4),
      e("italic", 5, 2),
      e("underline", 8, 1),
      e("strikethrough", 10, 1),
      e("spoiler", 12, 2)}},
    {parse_mode::markdown_v2,
     R"([link](https://e.x/a\)b))",
     "link",
     {{.type = "text_link", .offset = 0, .length = 4, .url = "https://e.x/a)b"}}},
    {parse_mode::markdown_v2, R"(1\.5 \- ok\!)", "1.5 - ok!", {}},
    {parse_mode::markdown_v2, "`a*b_c`", "a*b_c", {e("code", 0, 5)}},
    {parse_mode::markdown_v2,
     "```python\nprint(1)\n```",
     "print(1)\n",
     {{.type = "pre", .offset = 0, .length = 9, .language = "python"}}},
    {parse_mode::markdown_v2, ">quoted\nplain", "quoted\nplain", {e("blockquote", 0, 6)}},
    {parse_mode::markdown_v2, "*bold _both_*", "bold both", {e("bold", 0, 9), e("italic", 5, 4)}},
    {parse_mode::markdown,
     "*b* _i_ `c` [l](http://u.io)",
     "b i c l",
     {e("bold", 0, 1),
      e("italic", 2, 1),
      e("code", 4, 1),
      {.type = "text_link", .offset = 6, .length = 1, .url = "http://u.io"}}},
    {parse_mode::markdown, R"(snake\_case 1.5!)", "snake_case 1.5!", {}},
};

const std::vector<failing_case> failing{
    {parse_mode::html, "<b>x", "Can't find end tag corresponding to start tag \"b\""},
    {parse_mode::html, "<div>x</div>", "Unsupported start tag \"div\" at byte offset 0"},
    {parse_mode::html, "a <3 b", "Unsupported start tag \"3\" at byte offset 2"},
    {parse_mode::html, "<b>x</i>", "Unmatched end tag at byte offset 4, expected \"</b>\", found \"</i>\""},
    {parse_mode::html, "x</b>", "Unexpected end tag at byte offset 1"},
    {parse_mode::html, "a <b", "Unclosed start tag at byte offset 2"},
    {parse_mode::html, "<span>x</span>", "Tag \"span\" must have class \"tg-spoiler\" at byte offset 0"},
    {parse_mode::markdown_v2,
     "Hello.",
     "Character '.' is reserved and must be escaped with the preceding '\\'"},
    {parse_mode::markdown_v2, "a-b", "Character '-' is reserved and must be escaped with the preceding '\\'"},
    {parse_mode::markdown_v2, "*bold", "Can't find end of Bold entity at byte offset 0"},
    {parse_mode::markdown_v2, "a _b", "Can't find end of Italic entity at byte offset 2"},
    {parse_mode::markdown_v2, "`code", "Can't find end of Code entity at byte offset 0"},
    {parse_mode::markdown_v2, "[a](http://x", "Can't find end of a URL at byte offset 3"},
    {parse_mode::markdown, "*bold", "Can't find end of the entity starting at byte offset 0"},
    {parse_mode::markdown, "ok _x", "Can't find end of the entity starting at byte offset 3"},
};

} // namespace

BOOST_AUTO_TEST_SUITE(telegram_entities)

BOOST_DATA_TEST_CASE(markup_becomes_text_and_entities_in_utf16_units,
                     boost::unit_test::data::make(parsed),
                     c) {
    const auto r = parse_formatted(c.markup, c.mode);
    BOOST_TEST_REQUIRE(r.ok(), r.error);
    BOOST_TEST(r.value.text == c.text);
    BOOST_TEST(r.value.entities == c.entities, boost::test_tools::per_element());
}

BOOST_DATA_TEST_CASE(invalid_markup_fails_with_telegrams_error_text,
                     boost::unit_test::data::make(failing),
                     c) {
    const auto r = parse_formatted(c.markup, c.mode);
    BOOST_TEST(!r.ok());
    BOOST_TEST(r.error == c.error);
}

BOOST_AUTO_TEST_CASE(parse_mode_names_are_case_insensitive_and_unknown_ones_are_refused) {
    BOOST_TEST((parse_mode_from("HTML") == parse_mode::html));
    BOOST_TEST((parse_mode_from("html") == parse_mode::html));
    BOOST_TEST((parse_mode_from("MarkdownV2") == parse_mode::markdown_v2));
    BOOST_TEST((parse_mode_from("markdown") == parse_mode::markdown));
    BOOST_TEST(!parse_mode_from("Markdown3").has_value());
}

BOOST_AUTO_TEST_CASE(telegram_finds_commands_mentions_hashtags_urls_and_emails_by_itself) {
    const auto found =
        detect_entities("/start@companion_bot ref 😀 @anna #tag $USD https://e.io/x, mail a.b@c.io");
    const std::vector<std::string> types{"bot_command", "mention", "hashtag", "cashtag", "url", "email"};
    BOOST_TEST_REQUIRE(found.size() == types.size());
    for (std::size_t i = 0; i < types.size(); ++i) {
        BOOST_TEST(found[i].type == types[i]);
    }
    BOOST_TEST(found[0].offset == 0);
    BOOST_TEST(found[0].length == 20);
    BOOST_TEST(found[1].offset == 28); // after the emoji's two units
    BOOST_TEST(found[4].length == 14); // the trailing comma is not part of the URL
    BOOST_TEST(detect_entities("no entities here").empty());
}

BOOST_AUTO_TEST_CASE(text_length_counts_utf16_units) {
    BOOST_TEST(utf16_length("abc") == 3);
    BOOST_TEST(utf16_length("Привет") == 6);
    BOOST_TEST(utf16_length("😀") == 2);
}

BOOST_AUTO_TEST_SUITE_END()
