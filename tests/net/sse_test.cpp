// Tests of net/sse: the WHATWG event-stream rules as a table of streams and the events each gives,
// every split point (and byte-by-byte feeding) of sample streams, the size limit, and finish().
#include "net/sse.hpp"

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

using namespace companion::net;
using namespace std::string_view_literals;

namespace companion::net {
bool operator==(const sse_event& a, const sse_event& b) {
    return a.event == b.event && a.data == b.data && a.id == b.id;
}
std::ostream& operator<<(std::ostream& os, const sse_event& e) {
    return os << "{event=\"" << e.event << "\" data=\"" << e.data << "\" id=\"" << e.id << "\"}";
}
} // namespace companion::net

namespace {

// Feeds `pieces` in order; the events, and whether every feed succeeded.
struct collected {
    std::vector<sse_event> events;
    bool ok = true;
};

collected feed_all(sse_parser& p, const std::vector<std::string_view>& pieces) {
    collected out;
    for (auto piece : pieces) {
        auto r = p.feed(piece, [&](const sse_event& e) { out.events.push_back(e); });
        out.ok = out.ok && r.has_value();
    }
    return out;
}

std::vector<sse_event> parse_whole(std::string_view stream) {
    sse_parser p;
    auto got = feed_all(p, {stream});
    BOOST_TEST(got.ok);
    return got.events;
}

sse_event msg(std::string data, std::string id = {}) {
    return {.event = "message", .data = std::move(data), .id = std::move(id)};
}

struct rule_case {
    std::string_view name;
    std::string_view stream;
    std::vector<sse_event> expected;
};

std::ostream& operator<<(std::ostream& os, const rule_case& c) {
    return os << c.name;
}

const std::vector<rule_case> rule_cases{
    {"LF line ends", "data: a\n\ndata: b\n\n", {msg("a"), msg("b")}},
    {"CRLF line ends", "data: a\r\n\r\ndata: b\r\n\r\n", {msg("a"), msg("b")}},
    {"CR line ends", "data: a\r\rdata: b\r\r", {msg("a"), msg("b")}},
    {"mixed line ends", "data: a\r\n\rdata: b\n\r\n", {msg("a"), msg("b")}},
    {"no space after the colon", "data:a\n\n", {msg("a")}},
    {"only one space is removed", "data:  a \n\n", {msg(" a ")}},
    {"data lines are joined with LF", "data: a\ndata:\ndata: b\n\n", {msg("a\n\nb")}},
    {"an empty data line is an event", "data\n\n", {msg("")}},
    {"a blank line without data dispatches nothing", "\n\nevent: x\n\ndata: a\n\n", {msg("a")}},
    {"comments are ignored", ": OPENROUTER PROCESSING\n\n: keep-alive\ndata: a\n: between\n\n", {msg("a")}},
    {"event names the type", "event: error\ndata: {}\n\ndata: b\n\n", {{"error", "{}", ""}, msg("b")}},
    {"id carries over to later events",
     "id: 7\ndata: a\n\ndata: b\n\nid\ndata: c\n\n",
     {msg("a", "7"), msg("b", "7"), msg("c", "")}},
    {"an id with NUL is ignored",
     "id: 1\ndata: a\n\nid: 2\0x\ndata: b\n\n"sv,
     {msg("a", "1"), msg("b", "1")}},
    {"retry and unknown fields are ignored", "retry: 10\nfoo: bar\ndata: a\nDATA: no\n\n", {msg("a")}},
    {"a leading BOM is skipped",
     "\xEF\xBB\xBF"
     "data: a\n\n",
     {msg("a")}},
    {"only one BOM is skipped",
     "\xEF\xBB\xBF\xEF\xBB\xBF"
     "data: a\n\n",
     {}},
    {"a colon in the value stays", "data: {\"a\":1}\n\n", {msg("{\"a\":1}")}},
    {"an unterminated event is not dispatched", "data: a\n\ndata: b\n", {msg("a")}},
    {"the OpenAI shape",
     "data: {\"choices\":[]}\n\ndata: [DONE]\n\n",
     {msg("{\"choices\":[]}"), msg("[DONE]")}},
};

// A stream with every rule in it, for the split tests.
constexpr std::string_view sample = "\xEF\xBB\xBF"
                                    ": OPENROUTER PROCESSING\r\n"
                                    "\r\n"
                                    "id: 1\r"
                                    "data: {\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}\r"
                                    "\r"
                                    "event: note\n"
                                    "data: two\n"
                                    "data:lines\n"
                                    "retry: 5\n"
                                    "\n"
                                    "data: [DONE]\r\n"
                                    "\r\n";

const std::vector<sse_event> sample_events{
    msg("{\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}", "1"),
    {"note", "two\nlines", "1"},
    msg("[DONE]", "1"),
};

} // namespace

BOOST_AUTO_TEST_SUITE(sse_suite)

BOOST_DATA_TEST_CASE(each_rule_of_the_event_stream_format, boost::unit_test::data::make(rule_cases), c) {
    const auto got = parse_whole(c.stream);
    BOOST_TEST(got == c.expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(every_split_point_of_the_sample_gives_the_same_events) {
    BOOST_TEST_REQUIRE(parse_whole(sample) == sample_events, boost::test_tools::per_element());
    for (std::size_t cut = 0; cut <= sample.size(); ++cut) {
        sse_parser p;
        const auto got = feed_all(p, {sample.substr(0, cut), sample.substr(cut)});
        BOOST_TEST(got.ok);
        BOOST_TEST(got.events == sample_events, "split at " << cut);
    }
}

BOOST_AUTO_TEST_CASE(every_pair_of_split_points_gives_the_same_events) {
    for (std::size_t a = 0; a <= sample.size(); ++a) {
        for (std::size_t b = a; b <= sample.size(); ++b) {
            sse_parser p;
            const auto got = feed_all(p, {sample.substr(0, a), sample.substr(a, b - a), sample.substr(b)});
            BOOST_TEST_REQUIRE(got.events == sample_events, "splits at " << a << " and " << b);
        }
    }
}

BOOST_DATA_TEST_CASE(byte_by_byte_feeding_gives_the_same_events,
                     boost::unit_test::data::make(rule_cases),
                     c) {
    sse_parser p;
    std::vector<std::string_view> bytes;
    for (std::size_t i = 0; i < c.stream.size(); ++i) {
        bytes.push_back(c.stream.substr(i, 1));
    }
    const auto got = feed_all(p, bytes);
    BOOST_TEST(got.ok);
    BOOST_TEST(got.events == c.expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_cr_at_the_end_of_a_feed_and_an_lf_at_the_start_of_the_next_are_one_line_end) {
    sse_parser p;
    // Were the LF a second line end, "data: a" would be dispatched by it, before "data: b".
    const auto got = feed_all(p, {"data: a\r", "\ndata: b\r", "\n\r", "\n"});
    BOOST_TEST(got.events == std::vector<sse_event>{msg("a\nb")}, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_bom_split_across_feeds_is_skipped_and_a_false_start_is_kept) {
    sse_parser p;
    auto got = feed_all(p, {"\xEF", "\xBB", "\xBF", "data: a\n\n"});
    BOOST_TEST(got.events == std::vector<sse_event>{msg("a")}, boost::test_tools::per_element());

    // Two bytes that looked like a BOM and were not: they belong to the first field's name, which
    // is then unknown, and the event has no data.
    sse_parser q;
    got = feed_all(q, {"\xEF\xBB", "data: a\n\ndata: b\n\n"});
    BOOST_TEST(got.events == std::vector<sse_event>{msg("b")}, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(an_event_over_the_limit_fails_and_the_parser_stays_failed) {
    sse_parser p(64);
    std::vector<sse_event> events;
    auto first = p.feed("data: small\n\n", [&](const sse_event& e) { events.push_back(e); });
    BOOST_TEST(first.has_value());
    // Many data lines, each short: the event's data grows past the limit.
    std::string big;
    for (int i = 0; i < 10; ++i) {
        big += "data: 0123456789\n";
    }
    auto second = p.feed(big, [&](const sse_event& e) { events.push_back(e); });
    BOOST_TEST_REQUIRE(!second.has_value());
    BOOST_TEST((second.error().code == make_error_code(errc::body_too_large)));
    BOOST_TEST(second.error().detail.find("64 bytes") != std::string::npos);
    BOOST_TEST(p.failed());
    auto third = p.feed("\n\ndata: later\n\n", [&](const sse_event& e) { events.push_back(e); });
    BOOST_TEST(!third.has_value());
    BOOST_TEST(events.size() == 1U);
}

BOOST_AUTO_TEST_CASE(a_line_without_end_over_the_limit_fails_even_when_fed_in_small_pieces) {
    sse_parser p(100);
    result<void> r;
    int feeds = 0;
    while (r.has_value() && feeds < 1000) {
        r = p.feed(": no newline ever comes", [](const sse_event&) {});
        ++feeds;
    }
    BOOST_TEST(!r.has_value());
    BOOST_TEST(feeds < 10);
}

BOOST_AUTO_TEST_CASE(a_long_line_in_one_feed_over_the_limit_fails) {
    sse_parser p(100);
    const std::string line = "data: " + std::string(200, 'x') + "\n\n";
    auto r = p.feed(line, [](const sse_event&) { BOOST_FAIL("no event may come out"); });
    BOOST_TEST(!r.has_value());
}

BOOST_AUTO_TEST_CASE(finish_returns_the_event_a_server_closed_without_its_blank_line) {
    sse_parser p;
    auto got = feed_all(p, {"data: a\n\nevent: last\ndata: [DONE]"});
    BOOST_TEST(got.events.size() == 1U);
    const auto last = p.finish();
    BOOST_TEST_REQUIRE(last.has_value());
    BOOST_TEST(*last == (sse_event{"last", "[DONE]", ""}));
    // Reset: a new stream starts clean (a BOM is skipped again).
    got = feed_all(p,
                   {"\xEF\xBB\xBF"
                    "data: b\n\n"});
    BOOST_TEST(got.events == std::vector<sse_event>{msg("b")}, boost::test_tools::per_element());
    BOOST_TEST(!p.finish().has_value());
}

BOOST_AUTO_TEST_CASE(finish_returns_nothing_without_pending_data) {
    sse_parser p;
    auto got = feed_all(p, {"data: a\n\n: a comment without its end"});
    BOOST_TEST(got.events.size() == 1U);
    BOOST_TEST(!p.finish().has_value());
    sse_parser empty;
    BOOST_TEST(!empty.finish().has_value());
}

BOOST_AUTO_TEST_SUITE_END()
