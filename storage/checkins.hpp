// Check-ins: the persona writes first to a user who asked for it (issue 21). Each user's choice
// (asked once; off until they say yes), the UTC offset they set, when the next check-in is due,
// and the log of check-ins. A check-in is claimed before it is sent and resolved with the send's
// outcome; a claim a crash left behind counts as sent ("unknown"), so none is ever sent twice.
#pragma once

#include "engine/enum_text.hpp"
#include "storage/database.hpp"
#include "storage/detail/lazy_statement.hpp"
#include "storage/time.hpp"

#include <SQLiteCpp/Statement.h>

#include <cstdint>
#include <optional>
#include <vector>

namespace companion::storage {

/// What became of a check-in. `sending`: claimed, not yet resolved; `unknown`: a crash came
/// between the claim and the outcome (it may have arrived: counted as sent, never sent again).
enum class checkin_outcome { sending, sent, unknown, blocked, failed };
BOOST_DESCRIBE_ENUM(checkin_outcome, sending, sent, unknown, blocked, failed)
using engine::operator<<;
using engine::to_string;

/// A user's check-in settings; a user without a row has the defaults.
struct checkin_settings {
    bool opted_in = false;
    std::optional<timestamp> asked{};    ///< when the opt-in question was asked (once)
    std::optional<int> utc_offset{};     ///< minutes east of UTC, as the user set it
    std::optional<timestamp> next_due{}; ///< when the pass looks at this user next

    bool operator==(const checkin_settings&) const = default;
};

class checkin_repository {
public:
    explicit checkin_repository(database& db);

    checkin_settings settings(std::int64_t user_id);
    /// Turns check-ins on (due for a look at `due`) or off (nothing planned).
    void set_opted_in(std::int64_t user_id, bool on, timestamp due);
    /// Marks the opt-in question asked; false when it was asked before (it is asked once).
    bool mark_asked(std::int64_t user_id, timestamp at);
    void set_utc_offset(std::int64_t user_id, int minutes);
    /// When the pass looks at the user next; none: never (until they opt in again).
    void reschedule(std::int64_t user_id, std::optional<timestamp> due);

    /// Users who opted in and are due at `now`, earliest first, at most `limit`.
    std::vector<std::int64_t> due(timestamp now, int limit);
    /// When check-ins that count (sent, unknown, or in flight) went to the user since `since`,
    /// oldest first.
    std::vector<timestamp> sent_since(std::int64_t user_id, timestamp since);

    /// Records a check-in about to be sent (outcome `sending`) and takes the user off the
    /// schedule, in one transaction. Returns the log row's id.
    std::int64_t claim(std::int64_t user_id, timestamp at);
    /// The send's outcome for claim `id`.
    void resolve(std::int64_t id, checkin_outcome outcome);
    /// After a crash: claims still `sending` become `unknown` (counted as sent, never sent
    /// again) and their users, taken off the schedule by the claim, are due for a look at `now`
    /// (the plan then waits for the next one). Returns how many.
    int recover_after_crash(timestamp now);

    /// Check-ins by outcome since `since` (the admin report).
    std::int64_t count(checkin_outcome outcome, timestamp since);
    /// Users who opted in.
    std::int64_t opted_in_users();

private:
    database& db_;
    detail::lazy_statement settings_;
    detail::lazy_statement opt_;
    detail::lazy_statement ask_;
    detail::lazy_statement offset_;
    detail::lazy_statement reschedule_;
    detail::lazy_statement due_;
    detail::lazy_statement sent_since_;
    detail::lazy_statement log_;
    detail::lazy_statement unplan_;
    detail::lazy_statement resolve_;
    detail::lazy_statement replan_;
    detail::lazy_statement recover_;
    detail::lazy_statement count_;
    detail::lazy_statement opted_in_;
};

} // namespace companion::storage
