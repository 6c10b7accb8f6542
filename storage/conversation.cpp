// SQL of the conversation repository.
#include "storage/conversation.hpp"

#include "storage/detail/statement.hpp"
#include "storage/detail/turn_cache.hpp"
#include "storage/error.hpp"

#include <SQLiteCpp/Exception.h>

#include <algorithm>

namespace companion::storage {

using detail::statement_scope;

conversation_repository::conversation_repository(database& db) try
    : db_(db),
      append_(db.connection(),
              "INSERT INTO conversation_turns (user_id, persona_id, role, text, created_at) "
              "VALUES (?1, ?2, ?3, ?4, ?5)"),
      // The newest N, read backwards along the index (last_turns puts them oldest first: no
      // subquery and no temporary b-tree to sort a dozen rows).
      last_turns_(db.connection(),
                  "SELECT id, role, text, created_at FROM conversation_turns "
                  "WHERE user_id = ?1 AND persona_id = ?2 ORDER BY id DESC LIMIT ?3"),
      summary_(db.connection(),
               "SELECT text, covered_turn_id, updated_at FROM conversation_summaries "
               "WHERE user_id = ?1 AND persona_id = ?2"),
      set_summary_(
          db.connection(),
          "INSERT INTO conversation_summaries (user_id, persona_id, text, covered_turn_id, updated_at) "
          "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (user_id, persona_id) DO UPDATE SET "
          "text = excluded.text, covered_turn_id = excluded.covered_turn_id, "
          "updated_at = excluded.updated_at"),
      since_summary_(
          db.connection(),
          "SELECT count(*) FROM conversation_turns WHERE user_id = ?1 AND persona_id = ?2 AND id > "
          "COALESCE((SELECT covered_turn_id FROM conversation_summaries "
          "WHERE user_id = ?1 AND persona_id = ?2), 0)") {
} catch (const SQLite::Exception& e) {
    rethrow(e, "prepare conversation statements");
}

std::int64_t conversation_repository::append(std::int64_t user_id,
                                             std::string_view persona_id,
                                             speaker role,
                                             std::string_view text,
                                             timestamp now) try {
    statement_scope scope(append_, user_id, persona_id, to_string(role), text, now);
    append_->exec();
    const auto id = db_.connection().getLastInsertRowid();
    db_.turn_cache().appended(turn{.id = id,
                                   .user_id = user_id,
                                   .persona_id = std::string(persona_id),
                                   .role = role,
                                   .text = std::string(text),
                                   .created = now});
    return id;
} catch (const SQLite::Exception& e) {
    rethrow(e, "conversation.append");
}

std::vector<turn> conversation_repository::last_turns(std::int64_t user_id,
                                                      std::string_view persona_id,
                                                      std::size_t limit) try {
    auto& cache = db_.turn_cache();
    cache.check(db_.data_version());
    if (auto kept = cache.newest(user_id, persona_id, limit)) {
        return std::move(*kept);
    }
    statement_scope scope(last_turns_,
                          user_id,
                          persona_id,
                          static_cast<std::int64_t>(std::min<std::size_t>(limit, 1'000'000)));
    std::vector<turn> out;
    out.reserve(std::min<std::size_t>(limit, 64));
    while (last_turns_->executeStep()) {
        out.push_back(turn{
            .id = last_turns_->getColumn(0).getInt64(),
            .user_id = user_id, // the key: not read back from every row
            .persona_id = std::string(persona_id),
            .role = std::string_view(last_turns_->getColumn(1).getText()) == "user" ? speaker::user
                                                                                    : speaker::assistant,
            .text = last_turns_->getColumn(2).getString(),
            .created = detail::time_of(last_turns_->getColumn(3)),
        });
    }
    std::reverse(out.begin(), out.end()); // oldest first
    cache.fill(user_id, persona_id, limit, out);
    return out;
} catch (const SQLite::Exception& e) {
    rethrow(e, "conversation.last_turns");
}

std::optional<conversation_summary> conversation_repository::summary(std::int64_t user_id,
                                                                     std::string_view persona_id) try {
    statement_scope scope(summary_, user_id, persona_id);
    if (!summary_->executeStep()) {
        return std::nullopt;
    }
    return conversation_summary{
        .text = summary_->getColumn(0).getString(),
        .covered_turn_id = summary_->getColumn(1).getInt64(),
        .updated = detail::time_of(summary_->getColumn(2)),
    };
} catch (const SQLite::Exception& e) {
    rethrow(e, "conversation.summary");
}

void conversation_repository::set_summary(std::int64_t user_id,
                                          std::string_view persona_id,
                                          std::string_view text,
                                          std::int64_t covered_turn_id,
                                          timestamp now) try {
    statement_scope scope(set_summary_, user_id, persona_id, text, covered_turn_id, now);
    set_summary_->exec();
} catch (const SQLite::Exception& e) {
    rethrow(e, "conversation.set_summary");
}

std::int64_t conversation_repository::turns_since_summary(std::int64_t user_id,
                                                          std::string_view persona_id) try {
    statement_scope scope(since_summary_, user_id, persona_id);
    since_summary_->executeStep();
    return since_summary_->getColumn(0).getInt64();
} catch (const SQLite::Exception& e) {
    rethrow(e, "conversation.turns_since_summary");
}

} // namespace companion::storage
