// A user's `/forget` (design.md §4): erases what the bot remembers of them in one transaction.
#pragma once

#include "storage/database.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace companion::storage {

struct forget_result {
    std::vector<std::string> media_paths{}; ///< files for the caller to delete after the commit
    std::int64_t turns = 0;
    std::int64_t summaries = 0;
    std::int64_t voice_notes = 0;
    std::int64_t content = 0;
    std::int64_t jobs = 0;
};

/// Erases the user's turns, summaries, generated content and finished video jobs. A job still in
/// flight is kept (it will finish and be delivered), and so is the image it animates. The user
/// row and today's quota counters stay: forgetting history must not reset the daily limits.
/// Throws storage::error on failure (nothing is erased then).
forget_result forget_user(database& db, std::int64_t user_id);

} // namespace companion::storage
