// SQL of the update log.
#include "storage/updates.hpp"

#include "storage/detail/statement.hpp"
#include "storage/error.hpp"

#include <SQLiteCpp/Exception.h>

namespace companion::storage {

using detail::statement_scope;

update_log::update_log(database& db) try
    : mark_(db.connection(),
            "INSERT INTO processed_updates (update_id, processed_at) VALUES (?1, ?2) "
            "ON CONFLICT (update_id) DO NOTHING"),
      is_processed_(db.connection(), "SELECT 1 FROM processed_updates WHERE update_id = ?1"),
      // LIMIT -1 is no limit.
      prune_(db.connection(),
             "DELETE FROM processed_updates WHERE update_id IN (SELECT update_id FROM processed_updates "
             "WHERE processed_at < ?1 ORDER BY processed_at LIMIT ?2)"),
      get_offset_(db.connection(), "SELECT next_offset FROM telegram_offset WHERE id = 1"),
      set_offset_(db.connection(),
                  "INSERT INTO telegram_offset (id, next_offset) VALUES (1, ?1) ON CONFLICT (id) DO UPDATE "
                  "SET next_offset = excluded.next_offset WHERE excluded.next_offset > next_offset"),
      rebase_offset_(
          db.connection(),
          "INSERT INTO telegram_offset (id, next_offset) VALUES (1, ?1) ON CONFLICT (id) DO UPDATE "
          "SET next_offset = excluded.next_offset") {
} catch (const SQLite::Exception& e) {
    rethrow(e, "prepare update_log statements");
}

bool update_log::mark_processed(std::int64_t update_id, timestamp now) try {
    statement_scope scope(mark_, update_id, now);
    return mark_->exec() == 1;
} catch (const SQLite::Exception& e) {
    rethrow(e, "updates.mark_processed");
}

bool update_log::is_processed(std::int64_t update_id) try {
    statement_scope scope(is_processed_, update_id);
    return is_processed_->executeStep();
} catch (const SQLite::Exception& e) {
    rethrow(e, "updates.is_processed");
}

std::int64_t update_log::prune(timestamp cutoff, std::int64_t limit) try {
    return statement_scope(prune_, cutoff, limit).exec();
} catch (const SQLite::Exception& e) {
    rethrow(e, "updates.prune");
}

std::optional<std::int64_t> update_log::offset() try {
    statement_scope scope(get_offset_);
    if (!get_offset_->executeStep()) {
        return std::nullopt;
    }
    return get_offset_->getColumn(0).getInt64();
} catch (const SQLite::Exception& e) {
    rethrow(e, "updates.offset");
}

void update_log::rebase_offset(std::int64_t next_offset) try {
    statement_scope scope(rebase_offset_, next_offset);
    rebase_offset_->exec();
} catch (const SQLite::Exception& e) {
    rethrow(e, "updates.rebase_offset");
}

void update_log::set_offset(std::int64_t next_offset) try {
    statement_scope scope(set_offset_, next_offset);
    set_offset_->exec();
} catch (const SQLite::Exception& e) {
    rethrow(e, "updates.set_offset");
}

update_inbox::update_inbox(database& db) try
    : add_(db.connection(),
           "INSERT INTO update_inbox (update_id, chat_id, payload, received_at) "
           "SELECT ?1, ?2, ?3, ?4 WHERE NOT EXISTS (SELECT 1 FROM processed_updates WHERE update_id = ?1) "
           "ON CONFLICT (update_id) DO NOTHING"),
      remove_(db.connection(), "DELETE FROM update_inbox WHERE update_id = ?1"),
      pending_(db.connection(), "SELECT update_id, chat_id FROM update_inbox ORDER BY update_id"),
      payload_(db.connection(), "SELECT payload FROM update_inbox WHERE update_id = ?1"),
      size_(db.connection(), "SELECT count(*) FROM update_inbox") {
} catch (const SQLite::Exception& e) {
    rethrow(e, "prepare update_inbox statements");
}

bool update_inbox::add(const inbox_entry& e, timestamp now) try {
    statement_scope scope(add_, e.update_id, e.chat_id, e.payload, now);
    return add_->exec() == 1;
} catch (const SQLite::Exception& ex) {
    rethrow(ex, "updates.inbox_add");
}

void update_inbox::remove(std::int64_t update_id) try {
    statement_scope scope(remove_, update_id);
    remove_->exec();
} catch (const SQLite::Exception& e) {
    rethrow(e, "updates.inbox_remove");
}

std::vector<waiting_update> update_inbox::pending() try {
    statement_scope scope(pending_);
    std::vector<waiting_update> out;
    while (pending_->executeStep()) {
        out.push_back({pending_->getColumn(0).getInt64(), pending_->getColumn(1).getInt64()});
    }
    return out;
} catch (const SQLite::Exception& e) {
    rethrow(e, "updates.inbox_pending");
}

std::optional<std::string> update_inbox::payload(std::int64_t update_id) try {
    statement_scope scope(payload_, update_id);
    if (!payload_->executeStep()) {
        return std::nullopt;
    }
    return payload_->getColumn(0).getString();
} catch (const SQLite::Exception& e) {
    rethrow(e, "updates.inbox_payload");
}

std::int64_t update_inbox::size() try {
    statement_scope scope(size_);
    size_->executeStep();
    return size_->getColumn(0).getInt64();
} catch (const SQLite::Exception& e) {
    rethrow(e, "updates.inbox_size");
}

flood_waits::flood_waits(database& db)
    : set_(db.connection(),
           "INSERT INTO flood_waits (chat_id, until_ms) VALUES (?1, ?2) "
           "ON CONFLICT (chat_id) DO UPDATE SET until_ms = max(until_ms, excluded.until_ms)"),
      purge_(db.connection(), "DELETE FROM flood_waits WHERE until_ms <= ?1"),
      active_(db.connection(), "SELECT chat_id, until_ms FROM flood_waits ORDER BY chat_id") {}

void flood_waits::set(std::int64_t chat_id, timestamp until) try {
    statement_scope scope(set_, chat_id, until);
    set_->exec();
} catch (const SQLite::Exception& e) {
    rethrow(e, "flood_waits.set");
}

std::vector<std::pair<std::int64_t, timestamp>> flood_waits::active(timestamp now) try {
    {
        statement_scope scope(purge_, now);
        purge_->exec();
    }
    statement_scope scope(active_);
    std::vector<std::pair<std::int64_t, timestamp>> out;
    while (active_->executeStep()) {
        out.emplace_back(active_->getColumn(0).getInt64(), from_unix_ms(active_->getColumn(1).getInt64()));
    }
    return out;
} catch (const SQLite::Exception& e) {
    rethrow(e, "flood_waits.active");
}

update_claim claim_updates_for(database& db, std::int64_t bot_id) try {
    return db.in_transaction([&] {
        auto& c = db.connection();
        update_claim out;
        SQLite::Statement owner(c, "SELECT bot_id FROM telegram_bot WHERE id = 1");
        if (owner.executeStep()) {
            out.previous_bot = owner.getColumn(0).getInt64();
        }
        out.other_bot = out.previous_bot != 0 && out.previous_bot != bot_id;
        if (out.other_bot) {
            SQLite::Statement waiting(c, "SELECT count(*) FROM update_inbox");
            out.dropped_updates = waiting.executeStep() ? waiting.getColumn(0).getInt64() : 0;
            c.exec("DELETE FROM update_inbox; DELETE FROM processed_updates; DELETE FROM telegram_offset;");
        }
        SQLite::Statement claim(c,
                                "INSERT INTO telegram_bot (id, bot_id) VALUES (1, ?1) "
                                "ON CONFLICT (id) DO UPDATE SET bot_id = excluded.bot_id");
        claim.bind(1, bot_id);
        claim.exec();
        return out;
    });
} catch (const SQLite::Exception& e) {
    rethrow(e, "updates.claim_for_bot");
}

} // namespace companion::storage
