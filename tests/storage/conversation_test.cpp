// Tests of the conversation repository: bounded chronological history, summaries, and user text
// that looks like SQL stored verbatim.
#include "storage/conversation.hpp"
#include "storage/detail/turn_cache.hpp"
#include "storage/forget.hpp"
#include "tests/storage/test_support.hpp"

#include <stdexcept>
#include <tuple>
#include <vector>

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

// The cache of recent turns answers exactly what the file holds. The reference is a second
// connection to the same file with the cache off.
struct cached_fixture : database_fixture {
    database uncached{database_config{.path = db_path(), .cached_conversations = 0}};
    conversation_repository conv{*db};
    conversation_repository truth{uncached};

    void same(std::int64_t user, std::string_view persona, std::size_t limit) {
        const auto kept = conv.last_turns(user, persona, limit);
        const auto stored = truth.last_turns(user, persona, limit);
        BOOST_TEST_INFO("user " << user << ", persona " << persona << ", limit " << limit);
        BOOST_TEST(kept.size() == stored.size());
        BOOST_TEST((kept == stored));
    }
};

BOOST_FIXTURE_TEST_CASE(a_cached_history_answers_what_the_file_holds, cached_fixture) {
    add_user(1);
    add_user(2);
    // Appends to three conversations, with reads of every length between them: short reads of
    // a long entry, reads longer than the entry, and reads past the whole conversation.
    const std::vector<std::tuple<std::int64_t, std::string_view>> conversations = {{1, "aylin"},
                                                                                   {1, "olga"},
                                                                                   {2, "aylin"}};
    const std::vector<std::size_t> limits = {4, 12, 1, 16, 12, 100, 6, 64, 12};
    std::size_t next_limit = 0;
    for (int i = 0; i < 60; ++i) {
        const auto& [user, persona] = conversations[static_cast<std::size_t>(i) % conversations.size()];
        conv.append(user,
                    persona,
                    i % 2 == 0 ? speaker::user : speaker::assistant,
                    "m" + std::to_string(i),
                    t0 + i * 1s);
        if (i % 2 == 1) {
            same(user, persona, limits[next_limit++ % limits.size()]);
        }
        same(user, persona, 12);
    }
    for (const auto& [user, persona] : conversations) {
        for (const auto limit : limits) {
            same(user, persona, limit);
        }
    }
    same(1, "nobody", 12);
    BOOST_TEST(db->turn_cache().hits() > db->turn_cache().misses());
}

BOOST_FIXTURE_TEST_CASE(a_rolled_back_turn_leaves_no_trace_in_the_cached_history, cached_fixture) {
    add_user(1);
    conv.append(1, "aylin", speaker::user, "kept", t0);
    same(1, "aylin", 12);
    BOOST_CHECK_THROW(db->in_transaction([&] {
        conv.append(1, "aylin", speaker::assistant, "rolled back", t0 + 1s);
        // Inside the transaction the cache shows the transaction's own write, as the file does.
        BOOST_TEST(conv.last_turns(1, "aylin", 12).back().text == "rolled back");
        throw std::runtime_error("the reply could not be sent");
    }),
                      std::runtime_error);
    const auto after = conv.last_turns(1, "aylin", 12);
    BOOST_TEST_REQUIRE(after.size() == 1U);
    BOOST_TEST(after[0].text == "kept");
    same(1, "aylin", 12);
}

BOOST_FIXTURE_TEST_CASE(forgetting_a_user_empties_their_cached_history, cached_fixture) {
    add_user(1);
    add_user(2);
    conv.append(1, "aylin", speaker::user, "mine", t0);
    conv.append(2, "aylin", speaker::user, "theirs", t0);
    same(1, "aylin", 12);
    same(2, "aylin", 12);
    const auto forgotten = forget_user(*db, 1);
    BOOST_TEST(forgotten.turns == 1);
    BOOST_TEST(conv.last_turns(1, "aylin", 12).empty());
    same(2, "aylin", 12);
}

BOOST_FIXTURE_TEST_CASE(a_write_by_another_connection_clears_the_cached_history, cached_fixture) {
    add_user(1);
    conv.append(1, "aylin", speaker::user, "first", t0);
    same(1, "aylin", 12);
    // An operator's sqlite3, say: the turn reaches the file past this connection's cache.
    truth.append(1, "aylin", speaker::assistant, "written elsewhere", t0 + 1s);
    const auto after = conv.last_turns(1, "aylin", 12);
    BOOST_TEST_REQUIRE(after.size() == 2U);
    BOOST_TEST(after[1].text == "written elsewhere");
    same(1, "aylin", 12);
}

BOOST_FIXTURE_TEST_CASE(the_cache_keeps_at_most_its_conversations, temp_dir) {
    database db(database_config{.path = db_path(), .cached_conversations = 2});
    database uncached(database_config{.path = db_path(), .cached_conversations = 0});
    user_repository(db).record_contact(1, "en", false, t0);
    conversation_repository conv(db);
    conversation_repository truth(uncached);
    for (const auto* persona : {"aylin", "olga", "mira", "aylin", "mira"}) {
        conv.append(1, persona, speaker::user, std::string("to ") + persona, t0);
        BOOST_TEST((conv.last_turns(1, persona, 12) == truth.last_turns(1, persona, 12)));
        BOOST_TEST(db.turn_cache().size() <= 2U);
    }
    BOOST_TEST(db.turn_cache().size() == 2U);
    BOOST_TEST(uncached.turn_cache().size() == 0U);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace companion::storage::test
