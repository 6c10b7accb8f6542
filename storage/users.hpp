// The users repository: who talks to the bot, in which language, with which persona, and the
// flags that gate content (adult confirmation) and delivery (blocked the bot).
#pragma once

#include "engine/enum_text.hpp"
#include "storage/database.hpp"
#include "storage/detail/lazy_statement.hpp"
#include "storage/time.hpp"

#include <boost/system/result.hpp>

#include <SQLiteCpp/Statement.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace companion::storage {

/// How replies come (the user's /settings): `mirror` answers a voice note by voice and text by text.
enum class voice_replies { mirror, text, voice, both };
BOOST_DESCRIBE_ENUM(voice_replies, mirror, text, voice, both)
using engine::operator<<; // to_string and printing of the described enums
using engine::to_string;

struct user {
    std::int64_t telegram_id = 0;
    std::string language{};                  ///< "tr", "ru" or "en"; localization owns the list
    std::optional<std::string> persona_id{}; ///< none until the user picks one
    bool adult_confirmed = false;
    bool is_admin = false;
    bool blocked_bot = false; ///< Telegram answered 403: stop sending until the user returns
    timestamp created{};
    timestamp last_seen{};
    bool adult_answered = false; ///< asked once: yes sets adult_confirmed, no leaves it false
    bool stream_replies = true;  ///< replies stream as a growing draft (the user's /settings)
    storage::voice_replies voice = storage::voice_replies::mirror; ///< text, voice or both (/settings)

    bool operator==(const user&) const = default;
};

/// How old last_seen may be before contact writes it again: a user who writes every few seconds
/// costs one write a minute, not a commit a message. Check-ins count quiet hours, so a minute of
/// staleness changes nothing they decide.
inline constexpr std::chrono::milliseconds contact_refresh = std::chrono::minutes(1);

/// Whether contact from the stored `u` at `now` must be written: last_seen is `contact_refresh`
/// old or more, the admin flag changed, or the user had blocked the bot (writing unblocks it).
bool contact_needs_write(const user& u, bool is_admin, timestamp now) noexcept;

class user_repository {
public:
    explicit user_repository(database& db);

    /// Records contact from a user: creates the row on first contact (with `language` and
    /// `is_admin`), otherwise refreshes last_seen and the admin flag (admins come from the
    /// configuration) and clears blocked_bot, since a user who writes has unblocked the bot.
    /// Keeps an existing user's chosen language. A known user whose row needs none of that
    /// (contact_needs_write) is only read. Returns the stored row.
    user record_contact(std::int64_t telegram_id, std::string_view language, bool is_admin, timestamp now);

    std::optional<user> get(std::int64_t telegram_id);

    /// Each returns errc::not_found when the user does not exist.
    boost::system::result<void> set_language(std::int64_t telegram_id, std::string_view language);
    boost::system::result<void> set_persona(std::int64_t telegram_id, std::optional<std::string> persona_id);
    /// The user's answer to the 18+ question (asked once either way).
    boost::system::result<void> set_adult_answer(std::int64_t telegram_id, bool adult);
    boost::system::result<void> set_blocked_bot(std::int64_t telegram_id, bool blocked);
    boost::system::result<void> set_stream_replies(std::int64_t telegram_id, bool on);
    boost::system::result<void> set_voice_replies(std::int64_t telegram_id, voice_replies how);

    std::int64_t count();

private:
    boost::system::result<void> changed_one(SQLite::Statement& s, std::string_view operation);

    detail::lazy_statement upsert_;
    detail::lazy_statement get_;
    detail::lazy_statement set_language_;
    detail::lazy_statement set_persona_;
    detail::lazy_statement set_adult_;
    detail::lazy_statement set_blocked_;
    detail::lazy_statement set_stream_;
    detail::lazy_statement set_voice_;
    detail::lazy_statement count_;
};

} // namespace companion::storage
