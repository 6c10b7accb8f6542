// SQL of the voice notes.
#include "storage/voice_notes.hpp"

#include "storage/detail/statement.hpp"
#include "storage/error.hpp"

#include <SQLiteCpp/Exception.h>

namespace companion::storage {

using detail::statement_scope;

voice_note_repository::voice_note_repository(database& db) try
    : insert_(db.connection(),
              "INSERT INTO voice_notes (user_id, persona_id, text, seconds, telegram_file_id, created_at) "
              "VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id"),
      of_user_(db.connection(),
               "SELECT id, user_id, persona_id, text, seconds, telegram_file_id, created_at FROM voice_notes "
               "WHERE user_id = ?1 ORDER BY id DESC LIMIT ?2") {
} catch (const SQLite::Exception& e) {
    rethrow(e, "prepare voice_notes statements");
}

std::int64_t voice_note_repository::insert(const new_voice_note& n) try {
    statement_scope scope(insert_, n.user_id, n.persona_id, n.text, n.seconds, n.telegram_file_id, n.created);
    insert_->executeStep();
    return insert_->getColumn(0).getInt64();
} catch (const SQLite::Exception& e) {
    rethrow(e, "voice_notes.insert");
}

std::vector<voice_note> voice_note_repository::of_user(std::int64_t user_id, int limit) try {
    statement_scope scope(of_user_, user_id, limit);
    std::vector<voice_note> out;
    while (of_user_->executeStep()) {
        voice_note n;
        n.id = of_user_->getColumn(0).getInt64();
        n.user_id = of_user_->getColumn(1).getInt64();
        n.persona_id = of_user_->getColumn(2).getString();
        n.text = of_user_->getColumn(3).getString();
        n.seconds = of_user_->getColumn(4).getInt();
        n.telegram_file_id = of_user_->getColumn(5).getString();
        n.created = detail::time_of(of_user_->getColumn(6));
        out.push_back(std::move(n));
    }
    return out;
} catch (const SQLite::Exception& e) {
    rethrow(e, "voice_notes.of_user");
}

} // namespace companion::storage
