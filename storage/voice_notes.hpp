// The voice notes she sent: the text each says, its length, and Telegram's file_id (the audio
// itself stays at Telegram; a resend needs only the id). They go with the user (ON DELETE CASCADE)
// and with /forget.
#pragma once

#include "storage/database.hpp"
#include "storage/detail/lazy_statement.hpp"
#include "storage/time.hpp"

#include <SQLiteCpp/Statement.h>

#include <cstdint>
#include <string>
#include <vector>

namespace companion::storage {

struct new_voice_note {
    std::int64_t user_id = 0;
    std::string persona_id{};
    std::string text{};
    int seconds = 0;
    std::string telegram_file_id{};
    timestamp created{};

    bool operator==(const new_voice_note&) const = default;
};

struct voice_note : new_voice_note {
    std::int64_t id = 0;

    bool operator==(const voice_note&) const = default;
};

class voice_note_repository {
public:
    explicit voice_note_repository(database& db);

    /// Returns the new row's id. The user must exist (errc::constraint otherwise).
    std::int64_t insert(const new_voice_note& n);
    /// The user's notes, newest first, at most `limit`.
    std::vector<voice_note> of_user(std::int64_t user_id, int limit);

private:
    detail::lazy_statement insert_;
    detail::lazy_statement of_user_;
};

} // namespace companion::storage
