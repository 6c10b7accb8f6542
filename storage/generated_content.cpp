// SQL of the generated_content repository.
#include "storage/generated_content.hpp"

#include "storage/detail/statement.hpp"
#include "storage/error.hpp"

#include <SQLiteCpp/Exception.h>

namespace companion::storage {

using detail::statement_scope;

namespace {

constexpr const char* columns =
    "id, user_id, persona_id, kind, prompt, media_path, size_bytes, sha256, mime, width, "
    "height, duration_ms, telegram_file_id, created_at";

std::string select_where(const char* where) {
    return std::string("SELECT ") + columns + " FROM generated_content WHERE " + where;
}

content read_content(const SQLite::Statement& s) {
    content c;
    c.id = s.getColumn(0).getInt64();
    c.user_id = s.getColumn(1).getInt64();
    c.persona_id = s.getColumn(2).getString();
    c.kind = s.getColumn(3).getString() == "selfie" ? content_kind::selfie : content_kind::video;
    c.prompt = s.getColumn(4).getString();
    c.media_path = s.getColumn(5).getString();
    c.size_bytes = s.getColumn(6).getInt64();
    c.sha256 = s.getColumn(7).getString();
    c.mime = s.getColumn(8).getString();
    c.width = s.getColumn(9).getInt();
    c.height = s.getColumn(10).getInt();
    if (auto ms = detail::optional_int(s.getColumn(11))) {
        c.duration = std::chrono::milliseconds{*ms};
    }
    c.telegram_file_id = detail::optional_text(s.getColumn(12));
    c.created = detail::time_of(s.getColumn(13));
    return c;
}

} // namespace

generated_content_repository::generated_content_repository(database& db) try
    : db_(db),
      insert_(
          db.connection(),
          "INSERT INTO generated_content (user_id, persona_id, kind, prompt, media_path, size_bytes, sha256, "
          "mime, width, height, duration_ms, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
          "?11, ?12)"),
      get_(db.connection(), select_where("id = ?1")),
      last_selfie_(
          db.connection(),
          select_where("user_id = ?1 AND persona_id = ?2 AND kind = 'selfie' ORDER BY id DESC LIMIT 1")),
      delivered_(
          db.connection(),
          select_where("id IN (SELECT max(id) FROM generated_content WHERE user_id = ?1 AND kind = ?2 "
                       "AND telegram_file_id IS NOT NULL GROUP BY media_path) ORDER BY id DESC LIMIT ?3")),
      set_file_id_(db.connection(), "UPDATE generated_content SET telegram_file_id = ?2 WHERE id = ?1"),
      by_path_(db.connection(), select_where("media_path = ?1 ORDER BY id")),
      old_paths_(db.connection(), "SELECT media_path FROM generated_content WHERE created_at < ?1"),
      // LIMIT -1 is no limit.
      delete_old_(
          db.connection(),
          std::string("DELETE FROM generated_content WHERE id IN (SELECT id FROM generated_content "
                      "WHERE created_at < ?1 AND user_id NOT IN (SELECT user_id FROM video_jobs WHERE "
                      "state NOT IN ") +
              detail::terminal_job_states + ") ORDER BY created_at LIMIT ?2)"),
      names_file_(db.connection(), "SELECT 1 FROM generated_content WHERE media_path = ?1 LIMIT 1") {
} catch (const SQLite::Exception& e) {
    rethrow(e, "prepare generated_content statements");
}

std::int64_t generated_content_repository::insert(const new_content& c) try {
    statement_scope scope(insert_,
                          c.user_id,
                          c.persona_id,
                          to_string(c.kind),
                          c.prompt,
                          c.media_path,
                          c.size_bytes,
                          c.sha256,
                          c.mime,
                          c.width,
                          c.height,
                          c.duration,
                          c.created);
    insert_->exec();
    return db_.connection().getLastInsertRowid();
} catch (const SQLite::Exception& e) {
    rethrow(e, "generated_content.insert");
}

std::optional<content> generated_content_repository::get(std::int64_t id) try {
    statement_scope scope(get_, id);
    if (!get_->executeStep()) {
        return std::nullopt;
    }
    return read_content(*get_);
} catch (const SQLite::Exception& e) {
    rethrow(e, "generated_content.get");
}

std::vector<content>
generated_content_repository::delivered(std::int64_t user_id, content_kind kind, int limit) try {
    statement_scope scope(delivered_, user_id, to_string(kind), limit);
    std::vector<content> out;
    while (delivered_->executeStep()) {
        out.push_back(read_content(*delivered_));
    }
    return out;
} catch (const SQLite::Exception& e) {
    rethrow(e, "generated_content.delivered");
}

std::vector<content> generated_content_repository::by_media_path(std::string_view path) try {
    statement_scope scope(by_path_, path);
    std::vector<content> out;
    while (by_path_->executeStep()) {
        out.push_back(read_content(*by_path_));
    }
    return out;
} catch (const SQLite::Exception& e) {
    rethrow(e, "generated_content.by_media_path");
}

std::optional<content> generated_content_repository::last_selfie(std::int64_t user_id,
                                                                 std::string_view persona_id) try {
    statement_scope scope(last_selfie_, user_id, persona_id);
    if (!last_selfie_->executeStep()) {
        return std::nullopt;
    }
    return read_content(*last_selfie_);
} catch (const SQLite::Exception& e) {
    rethrow(e, "generated_content.last_selfie");
}

boost::system::result<void> generated_content_repository::set_telegram_file_id(std::int64_t id,
                                                                               std::string_view file_id) try {
    statement_scope scope(set_file_id_, id, file_id);
    if (set_file_id_->exec() == 0) {
        return make_error_code(errc::not_found);
    }
    return {};
} catch (const SQLite::Exception& e) {
    rethrow(e, "generated_content.set_telegram_file_id");
}

std::int64_t generated_content_repository::prune_older_than(timestamp cutoff, std::int64_t limit) try {
    return statement_scope(delete_old_, cutoff, limit).exec();
} catch (const SQLite::Exception& e) {
    rethrow(e, "generated_content.prune_older_than");
}

std::vector<std::string> generated_content_repository::paths_older_than(timestamp cutoff) try {
    statement_scope scope(old_paths_, cutoff);
    std::vector<std::string> paths;
    while (old_paths_->executeStep()) {
        paths.push_back(old_paths_->getColumn(0).getString());
    }
    return paths;
} catch (const SQLite::Exception& e) {
    rethrow(e, "generated_content.paths_older_than");
}

bool generated_content_repository::names_file(std::string_view path) try {
    statement_scope scope(names_file_, path);
    return names_file_->executeStep();
} catch (const SQLite::Exception& e) {
    rethrow(e, "generated_content.names_file");
}

} // namespace companion::storage
