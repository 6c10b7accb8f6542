// SQL of /forget. Rare, so its statements are prepared per call rather than cached.
#include "storage/forget.hpp"

#include "storage/detail/statement.hpp"
#include "storage/detail/turn_cache.hpp"
#include "storage/error.hpp"

#include <SQLiteCpp/Exception.h>
#include <SQLiteCpp/Statement.h>

namespace companion::storage {
namespace {

const std::string kept_content =
    std::string("SELECT image_content_id FROM video_jobs WHERE user_id = ?1 AND image_content_id IS NOT NULL "
                "AND state NOT IN ") +
    detail::terminal_job_states;

std::int64_t run(SQLite::Database& db, const std::string& sql, std::int64_t user_id) {
    SQLite::Statement s(db, sql);
    s.bind(1, user_id);
    return s.exec();
}

} // namespace

forget_result forget_user(database& db, std::int64_t user_id) {
    return db.in_transaction([&] {
        try {
            auto& conn = db.connection();
            forget_result r;
            {
                SQLite::Statement paths(
                    conn,
                    "SELECT media_path FROM generated_content WHERE user_id = ?1 AND id NOT IN (" +
                        kept_content + ")");
                paths.bind(1, user_id);
                while (paths.executeStep()) {
                    r.media_paths.push_back(paths.getColumn(0).getString());
                }
            }
            r.turns = run(conn, "DELETE FROM conversation_turns WHERE user_id = ?1", user_id);
            db.turn_cache().forget(user_id);
            r.summaries = run(conn, "DELETE FROM conversation_summaries WHERE user_id = ?1", user_id);
            r.voice_notes = run(conn, "DELETE FROM voice_notes WHERE user_id = ?1", user_id);
            r.jobs = run(conn,
                         std::string("DELETE FROM video_jobs WHERE user_id = ?1 AND state IN ") +
                             detail::terminal_job_states,
                         user_id);
            r.content =
                run(conn,
                    "DELETE FROM generated_content WHERE user_id = ?1 AND id NOT IN (" + kept_content + ")",
                    user_id);
            return r;
        } catch (const SQLite::Exception& e) {
            rethrow(e, "forget_user");
        }
    });
}

} // namespace companion::storage
