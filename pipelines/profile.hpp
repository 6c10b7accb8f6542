// The user's own settings and data: picking a persona and a language (the menus and their
// buttons), the main reply keyboard, and /forget. Each choice is stored, confirmed in the user's
// language, and a failure to store it is logged (the next update reads the old value).
#pragma once

#include "engine/asio.hpp"
#include "pipelines/sender.hpp"
#include "pipelines/services.hpp"
#include "storage/users.hpp"

#include <boost/json/value.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace companion::pipelines {

/// A part of /settings another unit owns (check-ins): a line and rows of (label, callback data)
/// buttons.
struct settings_section {
    std::string text;
    std::vector<std::vector<std::pair<std::string, std::string>>> rows;
};

class profile {
public:
    /// `svc` and `out` must outlive it.
    profile(bot_services& svc, sender& out);

    /// The persistent reply keyboard (selfie, video, persona, language) in `lang`.
    boost::json::value main_keyboard(std::string_view lang) const;

    engine::awaitable<void> choose_persona(const user_context& c);
    engine::awaitable<void> choose_language(const user_context& c);
    /// A persona button: an unknown id is a stale button (a toast), a known one is stored and
    /// greeted in her words.
    engine::awaitable<void>
    pick_persona(const user_context& c, const std::string& callback_id, const std::string& id);
    engine::awaitable<void>
    pick_language(const user_context& c, const std::string& callback_id, const std::string& lang);
    /// Asks whether to erase everything, with "yes, erase" and "keep it".
    /// /settings: how replies come (streamed as a growing draft, or whole after "typing…"), and
    /// when `voice` (speech is configured) whether in text, by voice, both, or voice for voice.
    /// `more`: further parts, shown after these.
    engine::awaitable<void>
    show_settings(const user_context& c, bool voice, std::optional<settings_section> more = std::nullopt);
    /// A /settings voice button: stores the choice and confirms it (without speech configured,
    /// an old button gets the "voice unavailable" line and nothing changes).
    engine::awaitable<void>
    set_voice(const user_context& c, const std::string& callback_id, storage::voice_replies how, bool voice);
    /// A /settings button: stores the choice and confirms it.
    engine::awaitable<void> set_streaming(const user_context& c, const std::string& callback_id, bool on);
    engine::awaitable<void> ask_forget(const user_context& c);
    /// Erases the user's history and media (rows first, then files).
    engine::awaitable<void> forget(const user_context& c);
    /// Records the user's answer to the 18+ question.
    void answer_adult(const user_context& c, bool adult);
    /// Records that the user blocked (or unblocked) the bot.
    void set_blocked(std::int64_t user_id, bool blocked);

    /// Sends `text` to the user; a failure is logged (the sender says why), the flow goes on.
    engine::awaitable<void>
    say(const user_context& c, std::string text, std::optional<boost::json::value> markup = {});

private:
    void note(const char* what, std::int64_t user_id, const boost::system::result<void>& r) const;

    bot_services& svc_;
    sender& out_;
    storage::user_repository users_;
};

} // namespace companion::pipelines
