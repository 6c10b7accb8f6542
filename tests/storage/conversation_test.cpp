// Tests of the conversation repository: bounded chronological history, summaries, and user text
// that looks like SQL stored verbatim.
#include "storage/conversation.hpp"
#include "tests/storage/test_support.hpp"

using namespace std::chrono_literals;

namespace companion::storage::test {

BOOST_AUTO_TEST_SUITE(storage_conversation)

BOOST_FIXTURE_TEST_CASE(last_turns_are_the_newest_in_chronological_order, database_fixture) {
    add_user(1);
    conversation_repository conv(*db);
    for (int i = 0; i < 10; ++i) {
        conv.append(1,
                    "aylin",
                    i % 2 == 0 ? speaker::user : speaker::assistant,
                    "m" + std::to_string(i),
                    t0 + i * 1s);
    }
    conv.append(1, "olga", speaker::user, "other persona", t0);
    const auto turns = conv.last_turns(1, "aylin", 4);
    BOOST_TEST_REQUIRE(turns.size() == 4U);
    BOOST_TEST(turns[0].text == "m6");
    BOOST_TEST(turns[3].text == "m9");
    BOOST_TEST((turns[3].role == speaker::assistant));
    BOOST_TEST((turns[3].created == t0 + 9s));
    BOOST_TEST(conv.last_turns(1, "aylin", 100).size() == 10U);
    BOOST_TEST(conv.last_turns(1, "nobody", 5).empty());
}

BOOST_FIXTURE_TEST_CASE(turns_since_summary_counts_after_the_covered_turn, database_fixture) {
    add_user(1);
    conversation_repository conv(*db);
    std::int64_t last = 0;
    for (int i = 0; i < 5; ++i) {
        last = conv.append(1, "aylin", speaker::user, "hi", t0);
    }
    BOOST_TEST(conv.turns_since_summary(1, "aylin") == 5);
    BOOST_TEST(!conv.summary(1, "aylin").has_value());
    conv.set_summary(1, "aylin", "they said hi five times", last, t0 + 1min);
    BOOST_TEST(conv.turns_since_summary(1, "aylin") == 0);
    conv.append(1, "aylin", speaker::assistant, "hello", t0);
    BOOST_TEST(conv.turns_since_summary(1, "aylin") == 1);

    conv.set_summary(1, "aylin", "replaced", last + 1, t0 + 2min);
    const auto s = conv.summary(1, "aylin");
    BOOST_TEST_REQUIRE(s.has_value());
    BOOST_TEST(s->text == "replaced");
    BOOST_TEST(s->covered_turn_id == last + 1);
    BOOST_TEST((s->updated == t0 + 2min));
}

BOOST_FIXTURE_TEST_CASE(sql_injection_text_is_stored_and_read_back_verbatim, database_fixture) {
    add_user(1);
    conversation_repository conv(*db);
    const std::string evil =
        "'); DROP TABLE users; -- \" ; SELECT * FROM users WHERE '1'='1 \xF0\x9F\x98\x88 \\ %_";
    conv.append(1, "aylin' OR '1'='1", speaker::user, evil, t0);
    const auto turns = conv.last_turns(1, "aylin' OR '1'='1", 1);
    BOOST_TEST_REQUIRE(turns.size() == 1U);
    BOOST_TEST(turns[0].text == evil);
    BOOST_TEST(conv.last_turns(1, "aylin", 1).empty());
    BOOST_TEST(db->connection().tableExists("users"));
}

BOOST_FIXTURE_TEST_CASE(turn_of_an_unknown_user_violates_the_foreign_key, database_fixture) {
    conversation_repository conv(*db);
    try {
        conv.append(404, "aylin", speaker::user, "hi", t0);
        BOOST_FAIL("expected a constraint error");
    } catch (const storage::error& e) {
        BOOST_TEST(e.code() == make_error_code(errc::constraint));
    }
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace companion::storage::test
