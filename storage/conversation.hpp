// The conversation repository: the turns of each user with each persona, and the rolling
// summary the LLM sees in place of older turns (design.md §1, Memory).
#pragma once

#include "engine/enum_text.hpp"
#include "storage/database.hpp"
#include "storage/detail/lazy_statement.hpp"
#include "storage/time.hpp"

#include <SQLiteCpp/Statement.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace companion::storage {

enum class speaker { user, assistant };
BOOST_DESCRIBE_ENUM(speaker, user, assistant)
using engine::operator<<; // to_string and printing of the described enums
using engine::to_string;

struct turn {
    std::int64_t id = 0; ///< increases with time: the order of the conversation
    std::int64_t user_id = 0;
    std::string persona_id{};
    speaker role = speaker::user;
    std::string text{};
    timestamp created{};

    bool operator==(const turn&) const = default;
};

struct conversation_summary {
    std::string text{};
    std::int64_t covered_turn_id = 0; ///< the last turn the summary accounts for
    timestamp updated{};

    bool operator==(const conversation_summary&) const = default;
};

class conversation_repository {
public:
    explicit conversation_repository(database& db);

    /// Appends a turn; returns its id. The user must exist (foreign key: errc::constraint).
    std::int64_t append(std::int64_t user_id,
                        std::string_view persona_id,
                        speaker role,
                        std::string_view text,
                        timestamp now);

    /// The last `limit` turns, oldest first (the order the LLM reads them in).
    std::vector<turn> last_turns(std::int64_t user_id, std::string_view persona_id, std::size_t limit);

    std::optional<conversation_summary> summary(std::int64_t user_id, std::string_view persona_id);

    /// Replaces the summary; `covered_turn_id` is the newest turn it accounts for.
    void set_summary(std::int64_t user_id,
                     std::string_view persona_id,
                     std::string_view text,
                     std::int64_t covered_turn_id,
                     timestamp now);

    /// Turns after the summary's covered turn (all turns when there is no summary): the trigger
    /// for refreshing the summary every few turns.
    std::int64_t turns_since_summary(std::int64_t user_id, std::string_view persona_id);

private:
    database& db_;
    detail::lazy_statement append_;
    detail::lazy_statement last_turns_;
    detail::lazy_statement summary_;
    detail::lazy_statement set_summary_;
    detail::lazy_statement since_summary_;
};

} // namespace companion::storage
