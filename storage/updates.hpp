// The Telegram update bookkeeping of design.md §4: the getUpdates offset and the log of processed
// update ids, which makes the replay of an unconfirmed batch after a crash a no-op.
#pragma once

#include "storage/database.hpp"
#include "storage/detail/lazy_statement.hpp"
#include "storage/time.hpp"

#include <SQLiteCpp/Statement.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace companion::storage {

class update_log {
public:
    explicit update_log(database& db);

    /// Records `update_id` as processed; false when it already was (a replay).
    bool mark_processed(std::int64_t update_id, timestamp now);
    bool is_processed(std::int64_t update_id);
    /// Forgets at most `limit` updates processed before `cutoff`, oldest first (they are far
    /// behind the offset); returns how many. A limit keeps one delete short on the loop thread.
    [[nodiscard]] std::int64_t prune(timestamp cutoff, std::int64_t limit = -1);

    /// The offset for the next getUpdates, if one was stored.
    std::optional<std::int64_t> offset();
    /// Stores the offset; it only moves forward (a stale writer cannot move it back).
    void set_offset(std::int64_t next_offset);
    /// Stores the offset even when it is lower: Telegram renumbered its updates (an update-id
    /// reset after a week without updates), and the old offset would confirm new ones away.
    void rebase_offset(std::int64_t next_offset);

private:
    detail::lazy_statement mark_;
    detail::lazy_statement is_processed_;
    detail::lazy_statement prune_;
    detail::lazy_statement get_offset_;
    detail::lazy_statement set_offset_;
    detail::lazy_statement rebase_offset_;
};

/// What claim_updates_for found.
struct update_claim {
    bool other_bot = false;           ///< the bookkeeping was another bot's, and is dropped
    std::int64_t previous_bot = 0;    ///< that bot's id (0 when none had claimed it)
    std::int64_t dropped_updates = 0; ///< its inbox entries, never to be answered by this bot
};

/// Ties the update bookkeeping (offset, processed ids, inbox) to the bot `bot_id` (getMe's id).
/// Another bot's bookkeeping means nothing to this one, so it is dropped in one transaction and
/// reported; a database no bot has claimed yet is claimed as it is.
update_claim claim_updates_for(database& db, std::int64_t bot_id);

/// A received update waiting to be processed.
struct inbox_entry {
    std::int64_t update_id = 0;
    std::int64_t chat_id = 0;
    std::string payload{}; ///< the Update object's JSON text as Telegram sent it
};

/// An update waiting in the inbox, without its text (read by `update_inbox::payload` at its turn).
struct waiting_update {
    std::int64_t update_id = 0;
    std::int64_t chat_id = 0;
};

/// Durable queue of received updates (design.md §4, with an inbox): a batch is stored, then the
/// offset advances past it (both in one transaction), then each update is processed and removed
/// together with its processed mark. A restart processes what is left here first.
class update_inbox {
public:
    explicit update_inbox(database& db);
    /// Stores an update unless it is already stored or was processed; false when skipped.
    bool add(const inbox_entry& e, timestamp now);
    /// Removes a processed update (call in the transaction that marks it processed).
    void remove(std::int64_t update_id);
    /// Every waiting update, oldest first.
    std::vector<waiting_update> pending();
    /// The JSON text of a waiting update; nullopt when it is not (or no longer) in the inbox.
    std::optional<std::string> payload(std::int64_t update_id);
    std::int64_t size();

private:
    detail::lazy_statement add_;
    detail::lazy_statement remove_;
    detail::lazy_statement pending_;
    detail::lazy_statement payload_;
    detail::lazy_statement size_;
};

/// Telegram's retry_after per chat (0: every chat), kept across restarts.
class flood_waits {
public:
    explicit flood_waits(database& db);
    /// Records that `chat_id` must not be written to before `until` (a later wait wins).
    void set(std::int64_t chat_id, timestamp until);
    /// Waits still running at `now`, by chat; older rows are deleted.
    std::vector<std::pair<std::int64_t, timestamp>> active(timestamp now);

private:
    detail::lazy_statement set_;
    detail::lazy_statement purge_;
    detail::lazy_statement active_;
};

} // namespace companion::storage
