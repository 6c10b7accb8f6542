// The part of the Telegram update model the bot needs, parsed defensively from Boost.JSON:
// unknown fields and update types are ignored (new ones appear regularly), a value of the wrong
// type makes only that update malformed (the parser never throws and the caller can still advance
// the offset past it), and every id is 64-bit. Also bot-command extraction by entity offsets in
// UTF-16 code units, and keyboard builders that enforce the contract's byte limits.
#pragma once

#include "engine/enum_text.hpp"
#include "net/boxed.hpp"
#include "net/utf16.hpp"

#include <boost/assert/source_location.hpp>
#include <boost/json/value.hpp>
#include <boost/system/result.hpp>

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace companion::net::telegram {

using engine::operator<<; // to_string and printing of the described enums
using engine::to_string;

/// Why outside input (an update) or caller input (a keyboard) was rejected.
struct invalid_input {
    std::string what{};
};
[[noreturn]] void throw_exception_from_error(const invalid_input& e, const boost::source_location& loc);

template <class T>
using checked = boost::system::result<T, invalid_input>;

using net::boxed;

struct user {
    std::int64_t id = 0;
    bool is_bot = false;
    std::string first_name{};
    std::string last_name{};
    std::string username{};
    std::string language_code{}; ///< IETF tag ("ru", "tr", "en-US"); empty when Telegram omits it
};

struct chat {
    std::int64_t id = 0; ///< negative for groups
    std::string type{};  ///< private | group | supergroup | channel
    std::string title{};
    std::string username{};
    std::string first_name{};
};

struct message_entity {
    std::string type{};      ///< bot_command, mention, url, bold, ...
    std::int64_t offset = 0; ///< in UTF-16 code units
    std::int64_t length = 0; ///< in UTF-16 code units
    std::string url{};
};

struct photo_size {
    std::string file_id{};
    std::string file_unique_id{};
    std::int64_t width = 0;
    std::int64_t height = 0;
    std::int64_t file_size = 0;
};

struct video {
    std::string file_id{};
    std::string file_unique_id{};
    std::int64_t width = 0;
    std::int64_t height = 0;
    std::int64_t duration = 0; ///< seconds
    std::string mime_type{};
    std::string file_name{};
    std::int64_t file_size = 0;
};

/// A voice note (Ogg Opus as Telegram's apps record it; contracts/telegram-drafts-stars-voice.md
/// §3). Fetch its bytes with getFile and the file path; downloads are limited to 20 MB.
struct voice {
    std::string file_id{};
    std::string file_unique_id{};
    int duration = 0;        ///< seconds, as the sender stated it
    std::string mime_type{}; ///< "audio/ogg" from the apps; empty when Telegram omits it
    std::optional<std::int64_t> file_size{};
};

/// SuccessfulPayment (contracts/telegram-drafts-stars-voice.md §2): for Stars `currency` is "XTR"
/// and `total_amount` whole Stars. Goods are granted once per `telegram_payment_charge_id`
/// (Telegram may deliver the update again).
struct successful_payment {
    std::string currency{};
    std::int64_t total_amount = 0;
    std::string invoice_payload{};
    std::string telegram_payment_charge_id{};
    std::optional<std::int64_t> subscription_expiration_date{}; ///< Unix time, subscriptions only
    bool is_recurring = false;
    bool is_first_recurring = false;
};

/// RefundedPayment: the service message after refundStarPayment.
struct refunded_payment {
    std::string currency{};
    std::int64_t total_amount = 0;
    std::string invoice_payload{};
    std::string telegram_payment_charge_id{};
};

/// A Message, or an InaccessibleMessage (date == 0: only chat and message_id are known).
/// reply_markup and reply_to_message are not parsed: the bot never reads them back.
struct message {
    std::int64_t message_id = 0; ///< may be 0 for a scheduled big video send
    std::int64_t date = 0;       ///< Unix time
    std::optional<telegram::user> from{};
    telegram::chat chat{};
    std::string text{};
    std::vector<message_entity> entities{};
    std::vector<photo_size> photo{}; ///< largest last
    // Out of line (boxed): most messages have none of these four.
    boxed<telegram::video> video{};
    boxed<telegram::voice> voice{};
    boxed<telegram::successful_payment> successful_payment{};
    boxed<telegram::refunded_payment> refunded_payment{};
    std::string caption{};
    std::vector<message_entity> caption_entities{};
    std::int64_t edit_date = 0;

    bool inaccessible() const noexcept { return date == 0; }
    /// The last (largest) photo size, or nullptr.
    const photo_size* largest_photo() const noexcept { return photo.empty() ? nullptr : &photo.back(); }
};

/// A button press. Since Bot API 10.5 a press on the bot's own message may carry
/// `inline_message_id` instead of `message` (a non-default callback_query_mode), as presses on
/// inline-mode messages always did: answer it and route it by `data`, never assume `message`.
struct callback_query {
    std::string id{};
    telegram::user from{};
    std::optional<telegram::message> message{};     ///< absent when inline_message_id is set
    std::optional<std::string> inline_message_id{}; ///< the message pressed, when `message` is absent
    std::string chat_instance{};
    std::string data{}; ///< the button's callback_data; validate it, the message may be stale
};

/// ChatMemberUpdated about the bot itself: "kicked" in a private chat means the user blocked it.
struct my_chat_member {
    telegram::chat chat{};
    telegram::user from{};
    std::int64_t date = 0;
    std::string old_status{};
    std::string new_status{}; ///< creator | administrator | member | restricted | left | kicked
};

/// MessageGenerationStopped (Bot API 10.3): the user pressed stop on a draft sent with can_stop.
/// The draft may belong to a generation that already ended, or name a draft id of another chat:
/// match both chat_id and draft_id against a generation that still runs.
struct message_generation_stopped {
    std::int64_t chat_id = 0;
    std::optional<std::int64_t> message_thread_id{};
    std::int64_t draft_id = 0;
};

/// PreCheckoutQuery: the user pressed Pay. Answer it with answerPreCheckoutQuery within 10 s, or
/// Telegram cancels the payment.
struct pre_checkout_query {
    std::string id{};
    telegram::user from{};
    std::string currency{};
    std::int64_t total_amount = 0;
    std::string invoice_payload{};
};

/// BotSubscriptionUpdated (Bot API 10.2, contracts/telegram-drafts-stars-voice.md §2): a user's
/// Stars subscription to the bot changed state: "active", "canceled" (it runs to its end, no
/// renewal) or "failed" (a renewal could not be charged). `invoice_payload` names what it was for.
struct bot_subscription_updated {
    telegram::user from{}; ///< the JSON's `user`
    std::string invoice_payload{};
    std::string state{};
};

struct update {
    /// Every kind but `other` is named after its JSON key (typed_update_kinds() relies on it).
    enum class kind {
        message,
        edited_message,
        callback_query,
        my_chat_member,
        stopped_message_generation,
        pre_checkout_query,
        subscription,
        other
    };
    // clang-format off
    BOOST_DESCRIBE_NESTED_ENUM(kind, message, edited_message, callback_query, my_chat_member,
                               stopped_message_generation, pre_checkout_query, subscription, other)
    // clang-format on

    std::int64_t update_id = 0;
    kind what = kind::other; ///< `other`: a type this bot does not handle (still confirm it)
    std::optional<telegram::message> message{}; ///< for kind::message and kind::edited_message
    // The other kinds are out of line: an update carries one of them at most, and an update is
    // held in the intake's and the router's frames while its turn runs (inline, 2.2 KB each).
    boxed<telegram::callback_query> callback_query{};
    boxed<telegram::my_chat_member> my_chat_member{};
    boxed<message_generation_stopped> stopped_generation{};
    boxed<telegram::pre_checkout_query> pre_checkout{};
    boxed<bot_subscription_updated> subscription{};
    /// For kind::other: the update's JSON key ("guest_message", "business_message", ...), cut to
    /// max_other_kind bytes, so the bot can count ignored kinds without logging each update; empty
    /// when the update carries nothing besides its id. Telegram adds kinds over time: a metric
    /// labelled by it stays small, but bound its label set anyway.
    std::string other_kind{};
    /// The update's JSON as received, kept by parse_updates() (a durable inbox stores it so a
    /// restart can replay it); empty when parsed on its own.
    std::string raw{};

    static constexpr std::size_t max_other_kind = 64;

    /// The chat the update belongs to (for per-chat ordering), if any. A callback query without a
    /// message (inline_message_id) is ordered in the presser's private chat (its id is the user's
    /// id): the chat the bot answers it in, as the router already does; the message's chat would
    /// be unknown anyway.
    std::optional<std::int64_t> chat_id() const noexcept;
};

/// The update kinds parse_update() types, as Telegram names them (every update::kind but
/// `other`, "stopped_message_generation" included): the allowed_updates of a bot that handles
/// each of them. Telegram keeps the last list it was given (and serves no stop without it), so a
/// bot sends this list rather than relying on the default set.
std::vector<std::string> typed_update_kinds();

/// An update that could not be parsed. `update_id` is set whenever it was readable, so the
/// caller can still advance its offset past the update.
struct malformed_update {
    std::optional<std::int64_t> update_id{};
    std::string reason{};
};

struct update_batch {
    std::vector<update> updates{};
    std::vector<malformed_update> malformed{};
    /// Updates served after their text was repaired (see update_scan.hpp): invalid UTF-8 or an
    /// unpaired surrogate escape replaced by U+FFFD.
    std::vector<std::int64_t> repaired{};

    /// The offset that confirms this batch: max(update_id) + 1 over both lists, if any id is known.
    std::optional<std::int64_t> next_offset() const noexcept;
};

[[noreturn]] void throw_exception_from_error(const malformed_update& e, const boost::source_location& loc);

// The parsers below report bad input as a value and never throw on it (only std::bad_alloc can
// escape them).

/// An update's JSON text for update::raw, one that parses again. Boost.JSON 1.81 reads a number
/// beyond the double range as infinity and writes it as `Infinity`, which no parser reads back
/// (an inbox could never replay it); such a number is written as the largest finite double of its
/// sign instead. Everything else is json::serialize's text.
std::string serialize_update(const boost::json::value& v);

/// Parses one Update object.
boost::system::result<update, malformed_update> parse_update(const boost::json::value& v);
/// Parses the `result` array of getUpdates; a non-array is one malformed entry without an id.
/// `texts`, when it holds one entry per item (result_items() of the body), gives each update's
/// raw text as received; otherwise raw is serialize_update()'s text of the item.
update_batch parse_updates(const boost::json::value& result, std::span<const std::string_view> texts = {});

checked<user> parse_user(const boost::json::value& v);
checked<message> parse_message(const boost::json::value& v);
/// A sendMessage answer read from its body by the streamed field reader, without a DOM (issue
/// 16): "ok" is true and "result" holds message_id and a non-zero date as integers. The message
/// carries those, its text, and `chat_id` as its chat's id (the chat it was sent to); what else
/// Telegram echoes (from, entities, the chat's other fields) is skipped. nullopt for any other
/// body, which the caller then reads the general way (a failure classified, a malformed answer
/// reported).
std::optional<message> read_sent_message(std::string_view body, std::int64_t chat_id);
/// read_sent_message() into `out`, a default-constructed message, in place (the reply path keeps
/// the message where its caller holds it). False for any other body; `out` is then unspecified.
bool read_sent_message(std::string_view body, std::int64_t chat_id, message& out);

struct file_info {
    std::string file_id{};
    std::string file_unique_id{};
    std::int64_t file_size = 0;
    std::string file_path{}; ///< relative; download under <file_base_url>/bot<token>/<file_path>
};
checked<file_info> parse_file(const boost::json::value& v);

using net::utf16_length;         // net/utf16.hpp
using net::utf16_to_byte_offset; // net/utf16.hpp
/// The text an entity covers, or nullopt when its offsets do not fit the text.
std::optional<std::string_view> entity_text(std::string_view text, const message_entity& e) noexcept;

struct bot_command {
    std::string name{};    ///< without the slash, lowercased ("start")
    std::string bot{};     ///< the "@bot" suffix without '@', or empty
    std::string payload{}; ///< the rest of the text after the command, leading spaces removed
};

/// The bot command a message starts with (a bot_command entity at offset 0), if any.
std::optional<bot_command> extract_command(const message& m);

/// Inline keyboard: rows of buttons carrying callback_data (1-64 BYTES; Cyrillic counts 2 per
/// letter, emoji 4). An invalid button is remembered and reported by build().
class inline_keyboard {
public:
    static constexpr std::size_t max_callback_bytes = 64;

    /// Starts a new row (the first button starts one implicitly).
    inline_keyboard& row();
    inline_keyboard& button(std::string text, std::string callback_data);
    inline_keyboard& url_button(std::string text, std::string url);

    /// {"inline_keyboard": [[...]]}, or the first problem found.
    checked<boost::json::value> build() const;

    static bool valid_callback_data(std::string_view data) noexcept {
        return !data.empty() && data.size() <= max_callback_bytes;
    }

private:
    boost::json::array rows_;
    std::optional<std::string> problem_;
};

/// Persistent main-menu reply keyboard; a press arrives as a plain text message.
class reply_keyboard {
public:
    reply_keyboard& row();
    reply_keyboard& button(std::string text);
    reply_keyboard& is_persistent(bool on = true);
    reply_keyboard& resize_keyboard(bool on = true);
    reply_keyboard& one_time_keyboard(bool on = true);
    /// 1-64 characters, checked by build().
    reply_keyboard& input_field_placeholder(std::string text);

    checked<boost::json::value> build() const;

private:
    boost::json::array rows_;
    bool persistent_ = false;
    bool resize_ = false;
    bool one_time_ = false;
    std::string placeholder_{};
    std::optional<std::string> problem_;
};

/// {"remove_keyboard": true}
boost::json::value remove_keyboard();

} // namespace companion::net::telegram
