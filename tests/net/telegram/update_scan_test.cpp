// The tolerant scan of a getUpdates body that does not parse as a whole: one poisoned update must
// not hold back the others (issue 15, finding 5).
#include "net/telegram/update_scan.hpp"
#include "tests/common/print.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <limits>
#include <optional>
#include <string>
#include <vector>

using namespace companion::net::telegram;
namespace json = boost::json;

namespace {

std::string text_update(std::int64_t id, const std::string& text_json) {
    return R"({"update_id":)" + std::to_string(id) +
           R"(,"message":{"message_id":1,"date":1764000000,"from":{"id":7,"is_bot":false,"first_name":"A"},)"
           R"("chat":{"id":7,"type":"private"},"text":)" +
           text_json + "}}";
}

std::string envelope(const std::string& items) {
    return R"({"ok":true,"result":[)" + items + "]}";
}

} // namespace

BOOST_AUTO_TEST_SUITE(update_scan)

BOOST_AUTO_TEST_CASE(repair_replaces_only_what_is_invalid) {
    struct row {
        std::string in;
        std::string out;
    };
    const row rows[] = {
        {R"("plain")", R"("plain")"},
        {"\"ok \xC3\xA7\"", "\"ok \xC3\xA7\""},           // valid 2-byte UTF-8 kept
        {"\"\xF0\x9F\x98\x80\"", "\"\xF0\x9F\x98\x80\""}, // valid 4-byte kept
        {"\"a\xFF"
         "b\"",
         "\"a\xEF\xBF\xBD"
         "b\""},                                                          // a stray byte
        {"\"\xC0\xAF\"", "\"\xEF\xBF\xBD\xEF\xBF\xBD\""},                 // overlong
        {"\"\xED\xA0\x80\"", "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\""}, // a surrogate in UTF-8
        {"\"\xE2\x82\"", "\"\xEF\xBF\xBD\xEF\xBF\xBD\""},                 // cut short
        {R"("\udc80")", R"("\ufffd")"},                                   // lone low surrogate
        {R"("\ud83d")", R"("\ufffd")"},                                   // lone high surrogate
        {R"("\ud83dx")", R"("\ufffdx")"},                                 // high, then no low
        {R"("\ud83d\ude00")", R"("\ud83d\ude00")"},                       // a pair kept
        {R"("\\udc80")", R"("\\udc80")"},                                 // an escaped backslash
        {R"({"\udc80":1})", R"({"\ufffd":1})"},                           // keys are strings too
        {R"("\n\"\u00e7")", R"("\n\"\u00e7")"},                           // other escapes kept
    };
    for (const auto& r : rows) {
        BOOST_TEST(repair_json_text(r.in) == r.out, "repairing " << r.in);
    }
}

BOOST_AUTO_TEST_CASE(a_poisoned_update_is_repaired_and_the_others_served) {
    const std::string body =
        envelope(text_update(10, R"("first")") + "," + text_update(11, "\"bad \xFF byte\"") + "," +
                 text_update(12, R"("lone \udc80 surrogate")") + "," + text_update(13, R"("last")"));
    boost::system::error_code ec;
    [[maybe_unused]] auto whole = json::parse(body, ec);
    BOOST_TEST_REQUIRE(ec.failed()); // the premise: the body as a whole is not JSON

    const auto batch = scan_updates(body);
    BOOST_TEST_REQUIRE(batch.has_value());
    BOOST_TEST_REQUIRE(batch->updates.size() == 4U);
    BOOST_TEST(batch->malformed.empty());
    BOOST_TEST(batch->updates[0].message->text == "first");
    BOOST_TEST(batch->updates[1].message->text == "bad \xEF\xBF\xBD byte");
    BOOST_TEST(batch->updates[2].message->text == "lone \xEF\xBF\xBD surrogate");
    BOOST_TEST(batch->updates[3].message->text == "last");
    BOOST_TEST((batch->repaired == std::vector<std::int64_t>{11, 12}));
    // The stored raw text is valid JSON again (the inbox replays it after a restart).
    boost::system::error_code raw_ec;
    [[maybe_unused]] auto raw = json::parse(batch->updates[1].raw, raw_ec);
    BOOST_TEST(!raw_ec.failed());
    BOOST_TEST(batch->next_offset() == 14);
}

BOOST_AUTO_TEST_CASE(an_item_that_cannot_be_repaired_is_malformed_with_its_id) {
    // A broken literal inside the item: not a text fault, so the repair cannot save it.
    const std::string body =
        envelope(text_update(20, R"("ok")") + "," + R"({"update_id":21,"message":{"text":tru}})" + "," +
                 R"({"message":{"text":nul},"update_id":22})" + "," + text_update(23, R"("ok too")"));
    const auto batch = scan_updates(body);
    BOOST_TEST_REQUIRE(batch.has_value());
    BOOST_TEST(batch->updates.size() == 2U);
    BOOST_TEST_REQUIRE(batch->malformed.size() == 2U);
    BOOST_TEST(batch->malformed[0].update_id == 21);
    BOOST_TEST(batch->malformed[1].update_id == 22); // read after the broken member
    BOOST_TEST(batch->malformed[0].reason.find("not valid JSON") != std::string::npos);
    BOOST_TEST(batch->next_offset() == 24);
}

BOOST_AUTO_TEST_CASE(bodies_that_are_not_an_update_envelope_are_refused) {
    for (const std::string& body : {std::string(""),
                                    std::string("<html>502</html>"),
                                    std::string(R"({"ok":false,"result":[]})"),
                                    std::string(R"({"ok":true})"),
                                    std::string(R"({"ok":true,"result":{}})"),
                                    std::string(R"({"ok":true,"result":[{"update_id":1})"), // cut
                                    std::string("{\"ok\":true,\"result\":[\"\xFF")}) {
        BOOST_TEST(!scan_updates(body).has_value(), "body " << body);
    }
    const auto empty = scan_updates(R"( { "result" : [ ] , "ok" : true } )");
    BOOST_TEST_REQUIRE(empty.has_value());
    BOOST_TEST(empty->updates.empty());
}

BOOST_AUTO_TEST_CASE(a_number_beyond_the_double_range_keeps_the_raw_text_parseable) {
    // Found by fuzz_telegram_update: Boost.JSON reads 7e4000500 as infinity and writes it back as
    // `Infinity`, which the inbox could never replay. Both paths (the whole batch, and the scan
    // of a body with a poisoned item) must keep raw text that parses again.
    const std::string huge =
        R"({"update_id":30,"guest_message":{"dat":716e4000500,"neg":-9e999999,"text":"Infinity"}})";
    const auto whole = parse_updates(json::parse("[" + huge + "]"));
    BOOST_TEST_REQUIRE(whole.updates.size() == 1U);
    const auto scanned = scan_updates(envelope(huge + R"(,{"update_id":31,"message":{"text":tru}})"));
    BOOST_TEST_REQUIRE(scanned.has_value());
    BOOST_TEST_REQUIRE(scanned->updates.size() == 1U);
    // Written out from the DOM (no text as received), the number is clamped to the largest double.
    boost::system::error_code ec;
    const auto again = json::parse(whole.updates[0].raw, ec);
    BOOST_TEST_REQUIRE(!ec, whole.updates[0].raw);
    const auto& message = again.at("guest_message").as_object();
    BOOST_TEST(message.at("dat").as_double() == std::numeric_limits<double>::max());
    BOOST_TEST(message.at("neg").as_double() == -std::numeric_limits<double>::max());
    BOOST_TEST(message.at("text").as_string() == "Infinity"); // a string is left alone
    // The scan keeps the text as received, which parses again as it did the first time.
    BOOST_TEST(scanned->updates[0].raw == huge);
    [[maybe_unused]] const auto replayed = json::parse(scanned->updates[0].raw, ec);
    BOOST_TEST(!ec);
    // The usual update is written as it was.
    const auto plain = parse_updates(json::parse("[" + text_update(32, R"("to Infinity")") + "]"));
    BOOST_TEST(json::parse(plain.updates[0].raw) == json::parse(text_update(32, R"("to Infinity")")));
}

BOOST_AUTO_TEST_CASE(result_items_cut_each_item_as_received) {
    struct row {
        std::string body;
        std::optional<std::vector<std::string>> items; // nullopt: refused
    };
    const row rows[] = {
        {R"({"ok":true,"result":[]})", std::vector<std::string>{}},
        {R"({"ok":true,"result":[{"update_id":1}]})", std::vector<std::string>{R"({"update_id":1})"}},
        {R"( { "result" : [ {"a":1} , 2 , "x" ] , "ok" : true } )",
         std::vector<std::string>{R"({"a":1})", "2", R"("x")"}},
        // brackets, braces and quotes inside strings are text, not structure
        {R"({"ok":true,"result":[{"t":"]}[{,"},{"t":"\"]"}]})",
         std::vector<std::string>{R"({"t":"]}[{,"})", R"({"t":"\"]"})"}},
        // a run of backslashes: even closes the string, odd escapes the quote
        {R"({"ok":true,"result":[{"t":"a\\"},{"t":"b\\\"c"}]})",
         std::vector<std::string>{R"({"t":"a\\"})", R"({"t":"b\\\"c"})"}},
        {R"({"description":"x","ok":true,"result":[[1,[2]],{}]})", std::vector<std::string>{"[1,[2]]", "{}"}},
        {R"({"ok":false,"result":[]})", std::nullopt},
        {R"({"ok":true})", std::nullopt},
        {R"({"ok":true,"result":{}})", std::nullopt},
        {R"({"ok":true,"result":[1],"result":[2]})", std::nullopt},      // which one would the DOM keep?
        {R"({"ok":true,"result":[1],"res\u0075lt":[2]})", std::nullopt}, // the same, escaped
        {R"({"ok":true,"result":[{"t":"open]})", std::nullopt},          // a string never closed
        {R"({"ok":true,"result":[1,]})", std::nullopt},
        {"", std::nullopt},
    };
    for (const auto& r : rows) {
        const auto items = result_items(r.body);
        BOOST_TEST_REQUIRE(items.has_value() == r.items.has_value(), "body " << r.body);
        if (items) {
            BOOST_TEST(std::vector<std::string>(items->begin(), items->end()) == *r.items, "body " << r.body);
        }
    }
}

BOOST_AUTO_TEST_CASE(the_items_cut_from_a_whole_body_are_the_dom_items) {
    // The client reads a body that parses whole into a DOM and takes each update's raw text from
    // the cut: both must see the same items, in order.
    const std::string body =
        envelope(text_update(40, R"("plain")") + ",\n " + text_update(41, R"("quotes \" and \\\\ and ]}")") +
                 "," + text_update(42, R"("\u00e7 \ud83d\ude00 \\")") + "," +
                 R"({"update_id":43,"guest_message":{"n":[1,{"m":"}"}]}})");
    const auto dom = json::parse(body);
    const auto& arr = dom.at("result").as_array();
    const auto items = result_items(body);
    BOOST_TEST_REQUIRE(items.has_value());
    BOOST_TEST_REQUIRE(items->size() == arr.size());
    for (std::size_t i = 0; i < arr.size(); ++i) {
        BOOST_TEST(json::parse((*items)[i]) == arr[i], "item " << i);
    }
    const auto batch = parse_updates(dom.at("result"), *items);
    BOOST_TEST_REQUIRE(batch.updates.size() == 4U);
    for (std::size_t i = 0; i < batch.updates.size(); ++i) {
        BOOST_TEST(batch.updates[i].raw == (*items)[i]); // as received, not written out again
    }
    BOOST_TEST(batch.updates[1].message->text == R"(quotes " and \\ and ]})");
    // Texts that do not match the items one for one are not used: raw is written from the DOM.
    const std::vector<std::string_view> short_texts{(*items)[0]};
    const auto fallback = parse_updates(dom.at("result"), short_texts);
    BOOST_TEST_REQUIRE(fallback.updates.size() == 4U);
    BOOST_TEST(json::parse(fallback.updates[2].raw) == arr[2]);
    BOOST_TEST(fallback.updates[0].raw == serialize_update(arr[0]));
}

BOOST_AUTO_TEST_SUITE_END()
