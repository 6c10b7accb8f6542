// The router, sans-I/O: an update in, what the user asked for out (an intent), with who asked and
// which per-user limit guards it. It reads commands, the reply-keyboard labels in all three
// languages and the inline buttons' data; it touches no database and sends nothing, so every
// input (including forged or stale buttons) is table-tested.
#pragma once

#include "engine/enum_text.hpp"
#include "net/telegram/types.hpp"
#include "pipelines/locale.hpp"
#include "storage/users.hpp"
#include "storage/video_jobs.hpp"

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <variant>

namespace companion::pipelines {

namespace tg = net::telegram;

// clang-format off
enum class command { start, persona, language, help, selfie, video, videos, selfies, forget, status, settings,
                     balance, paysupport, stop, unknown };
BOOST_DESCRIBE_ENUM(command, start, persona, language, help, selfie, video, videos, selfies, forget, status,
                    settings, balance, paysupport, stop, unknown)
// clang-format on
using engine::operator<<; // to_string and printing of the described enums
using engine::to_string;

namespace intent {
/// Nothing to do (a group, another bot, an edited message, a kind the bot does not handle).
struct ignore {
    std::string_view why;
};
/// The user blocked (`blocked`) or unblocked the bot.
struct block_changed {
    bool blocked = false;
};
/// A command, or a reply-keyboard label that stands for one.
struct run_command {
    pipelines::command what = pipelines::command::unknown;
};
/// Free text for the persona.
struct chat_text {
    std::string text;
};
/// A voice note for the persona: heard (downloaded and transcribed), then answered as a turn.
struct voice_note {
    std::string file_id;
    int duration = 0;                        ///< seconds, as Telegram measured it
    std::string mime_type{};                 ///< "audio/ogg" for a voice note; may be empty
    std::optional<std::int64_t> file_size{}; ///< bytes, when Telegram says
};
/// A message the bot cannot read (a photo, a sticker, a voice note...): `kind` names it.
struct unsupported {
    std::string_view kind;
};
struct pick_persona {
    std::string persona_id;
};
struct pick_language {
    std::string lang;
};
/// The answer to the 18+ question.
struct answer_adult {
    bool adult = false;
};
/// The answer to /forget's "erase everything?".
struct confirm_forget {
    bool erase = false;
};
struct choose_video {
    storage::video_mode mode = storage::video_mode::new_video;
    /// A length button's seconds; none: the configured length (the offer without a choice).
    std::optional<int> seconds{};
};
/// A /settings button: streamed replies on or off.
struct set_streaming {
    bool on = true;
};
/// A /settings button: how replies come (text, voice, both, or voice for voice).
struct set_voice {
    storage::voice_replies how = storage::voice_replies::mirror;
};
/// The opt-in question's or a /settings button: check-ins (she writes first) on or off.
struct set_checkins {
    bool on = false;
};
/// A /settings clock button: the user's time zone moved by `minutes` (one hour either way).
struct shift_clock {
    int minutes = 0;
};
/// The user pressed stop on a streamed reply's draft (`stopped_message_generation`).
struct stop_generation {
    std::int64_t draft_id = 0;
};
/// A gallery button (/videos, /selfies): send content row `id` again.
struct resend_media {
    std::int64_t id = 0;
};
/// A pack button ("buy:<credits>"): the Stars invoice for that pack.
struct buy_pack {
    int credits = 0;
};
/// The subscribe button ("sub:month"): the monthly subscription's invoice link.
struct subscribe {};
/// Telegram's `subscription` update: the user's subscription is active, canceled or failed.
struct subscription_changed {
    std::string state;
};
/// The user pressed Pay on an invoice: answered at once, on its own lane.
struct pre_checkout {
    tg::pre_checkout_query query;
};
/// A successful_payment service message: the credits, once per charge id.
struct payment_received {
    tg::successful_payment payment;
};
/// An admin's /refund <telegram_payment_charge_id> (empty: the usage line).
struct refund_payment {
    std::string charge_id;
};
/// A button this version does not know (an older version's data, a forged query).
struct stale_button {};
/// A button pressed on a bot message outside a private chat (a forwarded or group copy): never
/// acted on, only answered with "I only talk in private".
struct private_only {};
} // namespace intent

using routed_intent = std::variant<intent::ignore,
                                   intent::block_changed,
                                   intent::run_command,
                                   intent::chat_text,
                                   intent::voice_note,
                                   intent::unsupported,
                                   intent::pick_persona,
                                   intent::pick_language,
                                   intent::answer_adult,
                                   intent::confirm_forget,
                                   intent::choose_video,
                                   intent::set_streaming,
                                   intent::set_voice,
                                   intent::set_checkins,
                                   intent::shift_clock,
                                   intent::stop_generation,
                                   intent::resend_media,
                                   intent::buy_pack,
                                   intent::subscribe,
                                   intent::subscription_changed,
                                   intent::pre_checkout,
                                   intent::payment_received,
                                   intent::refund_payment,
                                   intent::stale_button,
                                   intent::private_only>;

/// Which per-user limit an intent passes first.
enum class gate { none, action, chat };

/// Who asked, where, and with which button press.
struct sender_info {
    std::int64_t user_id = 0;
    std::int64_t chat_id = 0;
    std::string first_name{};
    std::string language_code{};              ///< Telegram's tag; the user's stored language wins once known
    std::optional<std::string> callback_id{}; ///< set for a button press: answer it
};

struct route {
    routed_intent what;
    sender_info from{};
    gate limit = gate::none;
};

/// The intent of `u`. Private chats only; a bot's messages and edits are ignored, and so is a
/// command addressed to another bot (`/start@OtherBot`) when `bot_username` (getMe's) is known.
route route_update(const tg::update& u, const locale_catalog& locales, std::string_view bot_username = {});

std::ostream& operator<<(std::ostream& os, const routed_intent& i);
std::ostream& operator<<(std::ostream& os, gate g);

namespace intent {
using pipelines::operator<<; // found by argument-dependent lookup from the alternatives' namespace
}

} // namespace companion::pipelines
