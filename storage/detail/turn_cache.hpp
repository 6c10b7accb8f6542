// The newest turns of recently active conversations, kept in memory beside the loop connection
// (storage/ only). A chat turn reads its history on every update: from SQLite that is a seek along
// the index and a table lookup per row, a sixth of the full bot's instructions per update. The
// conversation repository writes through this cache, so a conversation read once is answered
// from memory until it falls out (least recently used first).
//
// It stays true because the loop connection is the only writer of the conversation tables (the
// checkpoint connection copies pages, an operator's sqlite3 or a backup only reads): an append
// adds to its conversation's entry, /forget drops the user's entries, and any rollback clears
// the whole cache, since what it held may have been written by the transaction rolled back.
// Should another connection write all the same, the file's data version moves, and the next
// read finds the cache cleared.
#pragma once

#include "storage/conversation.hpp"

#include <cstddef>
#include <cstdint>
#include <list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace companion::storage::detail {

class turn_cache {
public:
    /// At most `conversations` entries; 0 turns the cache off.
    explicit turn_cache(std::size_t conversations) : capacity_(conversations) {}

    /// A conversation keeps at most this many turns, and longer reads go to the database.
    static constexpr std::size_t max_kept = 64;

    /// The newest `limit` turns of the conversation, oldest first, when the cache holds them.
    std::optional<std::vector<turn>> newest(std::int64_t user, std::string_view persona, std::size_t limit);
    /// What the database answered to a read of the newest `limit` turns (`rows`, oldest first).
    void fill(std::int64_t user, std::string_view persona, std::size_t limit, const std::vector<turn>& rows);
    /// A turn was appended (inside a transaction or not): its conversation's entry takes it.
    void appended(const turn& t);
    /// Every conversation of `user` is gone.
    void forget(std::int64_t user);
    /// A transaction rolled back: nothing held may be trusted.
    void clear() noexcept;
    /// Clears the cache when `version` (the file's PRAGMA data_version) moved since the last
    /// call: another connection wrote.
    void check(std::int64_t version) noexcept;

    std::size_t size() const noexcept { return index_.size(); }
    std::uint64_t hits() const noexcept { return hits_; }
    std::uint64_t misses() const noexcept { return misses_; }

private:
    struct key {
        std::int64_t user = 0;
        std::string persona{};
        bool operator==(const key&) const = default;
    };
    struct key_hash {
        std::size_t operator()(const key& k) const noexcept;
    };
    struct entry {
        key k;
        std::vector<turn> turns{}; ///< the newest, oldest first; at most `keep`
        std::size_t keep = 0;
        bool whole = false; ///< `turns` is the entire conversation
    };
    using lru = std::list<entry>;

    std::size_t capacity_;
    lru order_; ///< most recently used first
    std::unordered_map<key, lru::iterator, key_hash> index_;
    std::optional<std::int64_t> version_{};
    std::uint64_t hits_ = 0;
    std::uint64_t misses_ = 0;
};

} // namespace companion::storage::detail
