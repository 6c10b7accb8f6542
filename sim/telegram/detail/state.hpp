// The Telegram simulator's internal types and helpers, shared by its source files (see
// simulator.hpp for which file holds what): the world's records (files, messages, chats, queued
// updates), one API call's decoded parameters, and the envelope and validation helpers that give
// Telegram's answers and error texts.
#pragma once

#include "engine/enum_text.hpp"
#include "net/multipart.hpp"
#include "sim/telegram/simulator.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace companion::sim {

namespace json = boost::json;

/// What a file is to Telegram: a file_id is good only for its own kind (a video id sent as a
/// photo is "type of file mismatch").
enum class file_kind { photo, video, document, audio, voice, animation, video_note, sticker, thumbnail };
// clang-format off
BOOST_DESCRIBE_ENUM(file_kind, photo, video, document, audio, voice, animation, video_note, sticker,
                    thumbnail)
// clang-format on
using engine::operator<<; // to_string and printing of the described enums
using engine::to_string;

struct telegram_simulator::stored_file {
    std::string file_id;
    std::string file_unique_id;
    file_kind kind = file_kind::document;
    std::shared_ptr<const std::string> bytes;
    std::int64_t width = 0;
    std::int64_t height = 0;
    std::int64_t duration = 0;
    std::string file_path;
    std::string mime_type;
    std::string file_name;
    std::uint64_t group = 0;                ///< photos: the upload this size belongs to
    std::shared_ptr<stored_file> thumbnail; ///< videos, animations, documents with a picture
};

/// A message as it stands in its chat, whoever sent it.
struct telegram_simulator::stored_message {
    json::object json; ///< the Message object as Telegram renders it
    bool from_bot = false;
    std::string content;        ///< "text", "photo", "video", "document", ... (the field holding it)
    std::string markup;         ///< the inline keyboard as JSON text, or empty
    std::int64_t from_user = 0; ///< the user who sent it (0: the bot)
    json::object meta;          ///< what Telegram knows but does not show (an invoice's payload)
};

struct telegram_simulator::chat_state {
    std::int64_t id = 0;
    std::string type = "private";                ///< "private" or "supergroup"
    std::string title;                           ///< groups
    telegram_sim_user user;                      ///< private chats: the user
    bool blocked = false;                        ///< private chats: the user blocked the bot
    std::map<std::int64_t, std::string> members; ///< groups: user id -> status ("member", "left")
    std::int64_t next_message_id = 1;
    std::vector<sent_item> sent;
    std::map<std::int64_t, stored_message> messages;
    std::map<std::int64_t, std::int64_t> last_from_user; ///< user id -> their last message id
    std::optional<engine::token_bucket> bucket;
    std::vector<sim_draft> drafts;                    ///< every sendMessageDraft accepted, in order
    std::optional<std::int64_t> open_draft;           ///< the draft no message (nor stop) followed yet
    std::optional<engine::token_bucket> draft_bucket; ///< drafts' own flood limit
};

struct telegram_simulator::pending_update {
    std::int64_t id = 0;
    std::string kind; ///< "message", "callback_query", ... ("" for unparsable raw injections)
    std::string json; ///< the Update object's text
};

// One API call's method and parameters, whatever encoding they came in.
struct telegram_simulator::call {
    std::string method; ///< canonical name, e.g. "sendMessage"
    json::object params;
    std::map<std::string, net::multipart_part> files;
    std::string connection; ///< the client's address:port (one HTTP connection)
    engine::time_point arrived{};
    /// A planned fault cuts this call's answer (reset, reset mid-body): the client never reads
    /// it, so a 429 it carries binds nobody and is not registered with the retry_after oracle.
    bool answer_lost = false;

    bool has(std::string_view key) const { return params.contains(key); }
    std::optional<std::string> str(std::string_view key) const;
    std::optional<std::int64_t> integer(std::string_view key) const;
    bool flag(std::string_view key) const;
    /// An object or array parameter: native in JSON bodies, a JSON string in forms. nullopt when
    /// absent; a null value when present but unparsable.
    std::optional<json::value> structured(std::string_view key) const;
    /// The same for every encoding of the same parameters (a retry of this request has it too).
    std::size_t fingerprint() const;
};

namespace telegram_detail {

using response = net::server_response;

response api_ok(const json::value& result);
response api_error(unsigned code, std::string_view description, json::object parameters = {});
response flood(std::chrono::seconds retry_after);
response blocked_error();
response chat_not_found();
response bad_request(std::string_view what); ///< "Bad Request: " + what
inline constexpr std::string_view query_too_old =
    "Bad Request: query is too old and response timeout expired or query ID is invalid";
inline constexpr std::string_view not_modified =
    "Bad Request: message is not modified: specified new message content and reply markup are exactly the "
    "same as a current content and reply markup of the message";

std::int64_t unix_now();
/// Update kinds served when allowed_updates was never given (Bot API: all but chat_member and the
/// reactions; stopped_message_generation "must be listed in allowed_updates", as
/// contracts/telegram-drafts-stars-voice.md §1 reads the Bot API).
inline bool allowed_by_default(std::string_view kind) {
    return kind != "chat_member" && kind != "message_reaction" && kind != "message_reaction_count" &&
           kind != "stopped_message_generation";
}
std::string lower(std::string_view s);
std::string random_suffix(std::mt19937_64& rng, std::size_t n);

/// A reply_markup parameter checked as Telegram does: its JSON text ("" when absent) or the error.
std::variant<std::string, response> check_markup(const telegram_simulator::call& c);

/// A text or caption after parse_mode / entities: the plain text and its entities.
struct formatted {
    std::string text;
    json::array entities;
};
/// Which of Telegram's length limits a text meets, in characters after entity parsing.
enum class text_rule {
    message, ///< 1-4096
    caption, ///< 0-1024
    draft,   ///< 0-4096 (sendMessageDraft: empty shows "Thinking...")
};
/// Reads `text_key` with the call's `parse_mode` or `entities_key`, applies Telegram's limits
/// (text 1-4096, caption 0-1024 characters after parsing) and detects Telegram's own entities.
std::variant<formatted, response> format_text(const telegram_simulator::call& c,
                                              std::string_view text_key,
                                              std::string_view entities_key,
                                              bool caption);
/// The same for a text given directly (InputMedia captions, drafts), with its parse_mode and
/// entities.
std::variant<formatted, response> format_value(std::string_view text,
                                               std::optional<std::string> parse_mode,
                                               std::optional<json::value> entities,
                                               text_rule rule);

json::object file_json(const telegram_simulator::stored_file& f);
json::object sent_item_json(const sent_item& s);
/// Puts the text (or caption) and its entities into a message object.
void put_text(json::object& msg, const formatted& f, bool caption);
/// The inline keyboard of a markup text (only inline keyboards show in the Message), or null.
json::value inline_markup(const std::string& markup_text);

} // namespace telegram_detail

/// What every send checks before it may go out: the chat, the text or caption after parse_mode
/// or entities, the reply markup (as JSON text) and the message replied to (null: none).
struct telegram_simulator::outgoing {
    chat_state* chat = nullptr;
    telegram_detail::formatted text{};
    std::string markup{};
    json::value reply{};
};

} // namespace companion::sim
