// A Telegram Bot API simulator on loopback, faithful to the wire contract
// (contracts/telegram-bot-api.md, README §D) so that unmodified bot frameworks run against it:
// /bot<token>/<method> with query, form, JSON and multipart parameters; the {ok,result} envelope
// with HTTP status = error_code; long-poll getUpdates (hold until an update or the timeout,
// confirmation by a later offset, 409 for the older of two pollers and while a webhook is set);
// `parse_mode` HTML / MarkdownV2 / Markdown parsed into entities; sends with the contract's limits
// and Telegram's error texts; file ids issued for uploads and reusable only for their type; real
// per-size photo files and thumbnails; 403 for users who blocked the bot; 429 with retry_after from
// per-chat and global token buckets; 401 for a wrong token; the bot's id from the token.
// The implemented methods are listed by `implemented_methods()` (and in the README).
//
// Tests and the simulation mode drive it as Telegram's users would, in-process or over HTTP under
// /_sim/...: create users and groups, send every kind of message, edit, react, press inline
// buttons (of a message, or of an inline message: no `message` in the query), query inline, pay,
// block the bot, join and leave groups, stop a streamed draft, read what the bot sent and the
// drafts it streamed, wait for it, inject raw (even malformed) updates. Fault knobs (`faults`) apply per API
// method.
//
// Files: simulator.cpp (world state), request.cpp (decoding and dispatch), methods_*.cpp (the Bot
// API), users.cpp (scripted users), control.cpp (the /_sim endpoints), entities.cpp (parse modes).
//
// Use from the loop thread only. Lifetime: call stop() before destroying it.
#pragma once

#include "engine/asio.hpp"
#include "engine/clock.hpp"
#include "engine/enum_text.hpp"
#include "engine/rate_limit.hpp"
#include "engine/sync.hpp"
#include "engine/task_group.hpp"
#include "engine/time_source.hpp"
#include "net/http_client.hpp"
#include "net/http_server.hpp"
#include "sim/detail/wakeup.hpp"
#include "sim/fault.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <boost/noncopyable.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <random>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace companion::sim {

using engine::operator<<; // to_string and printing of the described enums
using engine::to_string;

enum class file_kind; // sim/telegram/detail/state.hpp

struct telegram_simulator_config {
    std::string address = "127.0.0.1";
    std::uint16_t port = 0; ///< 0: ephemeral
    /// The accepted token; empty accepts any well-formed one (<digits>:<35+ of [A-Za-z0-9_-]>).
    std::string token{};
    /// 0: the numeric prefix of the token in use, as on Telegram (7000000001 until a call came).
    std::int64_t bot_id = 0;
    std::string bot_first_name = "Companion";
    std::string bot_username = "companion_bot";
    engine::token_bucket_config per_chat_rate{.rate_per_second = 1.0, .burst = 3.0};
    engine::token_bucket_config global_rate{.rate_per_second = 30.0, .burst = 30.0};
    /// sendMessageDraft per chat. Telegram publishes no limit (projects send one draft every
    /// 0.3-0.5 s); drafts have their own bucket, apart from messages', so a 429 on drafts never
    /// holds back the chat's final message.
    engine::token_bucket_config per_chat_draft_rate{.rate_per_second = 3.0, .burst = 3.0};
    bool enforce_rate_limits = true;
    /// How long the bot has to answer a pre_checkout_query before the payment is cancelled
    /// (Telegram's 10 s; a test shortens it to make any answer late).
    engine::duration pre_checkout_timeout = std::chrono::seconds{10};
    /// The longest a getUpdates is held, whatever its `timeout` (tests shorten it).
    engine::duration max_poll_hold = std::chrono::seconds{50};
    std::size_t max_photo_bytes = 10 * 1024 * 1024;
    std::size_t max_upload_bytes = 50 * 1024 * 1024;
    std::string name = "telegram_sim";
    /// Webhook deliveries (setWebhook): the CA bundle that verifies the bot's certificate (empty:
    /// the system store), how long a failed delivery waits before it is tried again, and how long
    /// one delivery may take.
    std::string webhook_ca_file{};
    engine::duration webhook_retry_delay = std::chrono::seconds{1};
    engine::duration webhook_timeout = std::chrono::seconds{60};
    /// The time rate limits, flood refusals, held polls and waits run on; nullptr is the process's
    /// real time (`engine::system_time()`). A test passes its manual_time; it must outlive the
    /// simulator.
    engine::time_source* time = nullptr;
};

/// One thing the bot did in a chat, in order.
struct sent_item {
    enum class kind {
        text,
        photo,
        video,
        edit, ///< editMessageText / Caption / ReplyMarkup / Media: `text` is the new text or caption
        action,
        callback_answer,
        document,
        audio,
        voice,
        animation,
        deletion,      ///< deleteMessage(s): `message_id` is the deleted message
        reaction,      ///< setMessageReaction: `text` is the reaction list as JSON
        draft,         ///< sendMessageDraft: `text` is the draft, `message_id` the draft_id
        inline_answer, ///< answerInlineQuery: `text` is the results as JSON
        invoice,       ///< sendInvoice: `text` is the title
    };
    // clang-format off
    BOOST_DESCRIBE_NESTED_ENUM(kind, text, photo, video, edit, action, callback_answer, document, audio,
                               voice, animation, deletion, reaction, draft, inline_answer, invoice)
    // clang-format on

    kind what = kind::text;
    std::int64_t chat_id = 0;
    std::int64_t message_id = 0;     ///< the sent or edited message (0 for actions and answers)
    std::string text{};              ///< text, caption, the action name, or the answer's text
    std::string reply_markup{};      ///< JSON text as the bot sent it, or empty
    std::string file_id{};           ///< photo (largest size), video, document, audio, voice, animation
    std::string callback_query_id{}; ///< for callback and inline answers
    bool show_alert = false;
    engine::time_point at{};
    std::string entities{};       ///< the message's entities as JSON text (parse_mode applied), or empty
    std::string media_group_id{}; ///< sendMediaGroup
    std::int64_t duration = 0;    ///< seconds of a video, audio or voice (as sent, or read from the file)
};

/// One sendMessageDraft the simulator accepted (also recorded as a sent_item of kind draft).
struct sim_draft {
    std::int64_t chat_id = 0;
    std::int64_t draft_id = 0;
    std::string text{}; ///< after parse_mode; empty: the "Thinking..." placeholder
    bool can_stop = false;
    bool keep_on_stop = false;
    std::optional<std::int64_t> message_thread_id{};
    engine::time_point at{}; ///< on the simulator's time source
};

struct telegram_sim_user {
    std::int64_t id = 0; ///< 0: assign one
    std::string first_name = "User";
    std::string language_code = "en";
    std::string username{};
    std::string last_name{};
};

/// Something a scripted user sends: every kind of message a bot meets.
struct user_message {
    enum class kind {
        text,
        photo,
        video,
        voice,
        video_note,
        audio,
        document,
        animation,
        sticker,
        location,
        contact,
        dice,
        poll
    };
    // clang-format off
    BOOST_DESCRIBE_NESTED_ENUM(kind, text, photo, video, voice, video_note, audio, document, animation, sticker,
                               location, contact, dice, poll)
    // clang-format on

    kind what = kind::text;
    /// text, or caption (media), emoji (sticker, dice), question (poll), phone number (contact)
    std::string text{};
    std::int64_t chat_id = 0;           ///< a group the user is in; 0: the private chat
    std::int64_t reply_to = 0;          ///< the message it replies to; 0: none
    std::string file_name{};            ///< document, audio
    double latitude = 41.0082;          ///< location
    double longitude = 28.9784;         ///< location
    std::vector<std::string> options{}; ///< poll options (two when empty)
};
std::string_view to_string(user_message::kind k) noexcept;
std::ostream& operator<<(std::ostream& os, user_message::kind k);
/// Parses the snake_case names above; nullopt when unknown.
std::optional<user_message::kind> user_message_kind_from(std::string_view name);

/// How inject_raw_update treats the text.
struct raw_update_options {
    /// Replace the update's `update_id` with a fresh one (as Telegram numbers updates); false keeps
    /// the text's own id (an id below the consumer's offset is confirmed at the next poll).
    bool assign_id = true;
};

struct telegram_sim_counters {
    std::uint64_t requests = 0;
    std::uint64_t get_updates_calls = 0;
    std::uint64_t rate_limited = 0; ///< 429s issued by the buckets or faults
    std::uint64_t conflicts = 0;    ///< 409s issued
    /// Repeats of a refused request (same method, same chat) sent before the refusal's
    /// retry_after had elapsed, counted from the refusal; calls already in flight when the 429 was
    /// sent, and other methods or chats, are not counted.
    std::uint64_t retry_after_violations = 0;
    /// "reset" faults with detail "after_effect": the call took effect, its answer was lost.
    std::uint64_t resets_after_effect = 0;
    std::size_t current_pollers = 0;
    std::size_t max_concurrent_pollers = 0;
    std::map<std::int64_t, std::uint64_t> sends_per_chat; ///< messages, media and edits accepted
    std::uint64_t webhook_deliveries = 0;                 ///< updates POSTed to the webhook and answered 2xx
    std::uint64_t webhook_failures = 0;     ///< deliveries refused, failed or cut (tried again later)
    std::uint64_t webhook_unauthorized = 0; ///< of those, answered 401
    /// Stars payments: completed (a successful_payment was sent), cancelled because the
    /// pre-checkout was answered after Telegram's 10 s or refused, and refunded.
    std::uint64_t payments_completed = 0;
    std::uint64_t payments_cancelled = 0;
    std::uint64_t payments_refunded = 0;
};

class telegram_simulator : boost::noncopyable {
public:
    telegram_simulator(engine::executor ex, telegram_simulator_config cfg);
    ~telegram_simulator();

    /// Binds and serves; returns the port.
    net::result<std::uint16_t> start();
    /// Answers held long polls with what they have (an empty result), then stops the server. Runs
    /// to its end even when the caller is cancelled (engine::shielded), so nothing the server's
    /// handlers use is destroyed before they have ended.
    engine::awaitable<void> stop();
    /// "http://127.0.0.1:PORT": the client's base_url (and file_base_url + "/file").
    std::string base_url() const;
    const telegram_simulator_config& config() const noexcept { return cfg_; }
    /// The Bot API methods served (canonical names, sorted).
    static std::span<const std::string_view> implemented_methods() noexcept;

    // --- scripted users -------------------------------------------------------------------
    /// Registers a user (its private chat has the same id). Returns the id.
    std::int64_t add_user(telegram_sim_user u);
    /// Creates a group (a supergroup, as Telegram makes every new group today) with the bot and
    /// `members` in it. Returns its chat id (negative).
    std::int64_t add_group(std::string title, const std::vector<std::int64_t>& members);
    /// The user writes `text`; Telegram's entities (a leading "/command", @mentions, URLs...)
    /// are detected. Returns the update_id.
    std::int64_t user_sends_text(std::int64_t user_id, std::string text);
    /// The user sends any kind of message. Returns the update_id.
    std::int64_t user_sends(std::int64_t user_id, user_message m);
    /// The user records a voice note of these bytes in their private chat: a message with `voice`
    /// {file_id, file_unique_id, duration, mime_type, file_size} whose file getFile and
    /// /file/bot<token>/<file_path> serve as they are (getFile refuses files over 20 MB, as
    /// Telegram does). The bytes are not checked: a test may send a broken file. Returns the
    /// update_id.
    std::int64_t user_sends_voice(std::int64_t user_id,
                                  std::string bytes,
                                  int duration,
                                  std::string mime_type = "audio/ogg");
    /// The message id of the user's last message in `chat_id` (0: private chat), 0 if none.
    std::int64_t last_user_message(std::int64_t user_id, std::int64_t chat_id = 0) const;
    /// The user edits their earlier text (or caption): an edited_message update.
    std::int64_t user_edits_message(std::int64_t user_id,
                                    std::int64_t message_id,
                                    std::string text,
                                    std::int64_t chat_id = 0);
    /// The user sets their reactions on a message (empty: removes them): a message_reaction update
    /// (delivered only if the bot asked for it in allowed_updates, as on Telegram).
    std::int64_t user_reacts(std::int64_t user_id,
                             std::int64_t message_id,
                             std::vector<std::string> emoji,
                             std::int64_t chat_id = 0);
    /// The user presses an inline button of bot message `message_id` (any message: an unknown one
    /// arrives as an InaccessibleMessage). Returns the callback_query id (answer it with
    /// answerCallbackQuery).
    std::string user_presses_button(std::int64_t user_id, std::int64_t message_id, std::string callback_data);
    std::string user_presses_button(std::int64_t user_id,
                                    std::int64_t chat_id,
                                    std::int64_t message_id,
                                    std::string callback_data);
    /// The user presses an inline button of a message known only by its `inline_message_id`: the
    /// callback query carries inline_message_id and no `message` (an inline-mode message, or since
    /// Bot API 10.5 the bot's own message under a non-default callback_query_mode). Returns the
    /// callback_query id; the answer is recorded in the user's private chat.
    std::string
    press_inline_button(std::int64_t user_id, std::string inline_message_id, std::string callback_data);
    /// The user presses stop on draft `draft_id` of private chat `chat_id`: a
    /// stopped_message_generation update (served only when the bot listed it in allowed_updates),
    /// with the draft's message_thread_id when its last draft had one. It is sent whatever the
    /// draft's state, as a late stop is (a finished generation, a draft without can_stop, an id the
    /// chat never saw); the chat's open draft of that id is closed. Throws std::invalid_argument
    /// for an unknown or group chat. Returns the update_id.
    std::int64_t press_stop(std::int64_t chat_id, std::int64_t draft_id);
    /// The user types an inline query "@bot query". Returns its id (answer with answerInlineQuery).
    std::string user_queries_inline(std::int64_t user_id, std::string query);
    /// The user blocks (or unblocks) the bot: a my_chat_member update, and 403 for sends to them.
    void user_blocks_bot(std::int64_t user_id, bool blocked = true);
    /// The user joins or leaves a group: a message with new_chat_members / left_chat_member and
    /// a chat_member update (delivered when asked for).
    void user_joins_group(std::int64_t user_id, std::int64_t group_id);
    void user_leaves_group(std::int64_t user_id, std::int64_t group_id);
    /// The user pays the bot's invoice message `invoice_message_id` (in Telegram Stars): a
    /// pre_checkout_query; once the bot answers it with ok, a successful_payment message follows.
    /// Returns the pre_checkout_query id.
    std::string user_pays(std::int64_t user_id, std::int64_t invoice_message_id);
    /// The user opens invoice link `link` (made by createInvoiceLink) and pays: a
    /// pre_checkout_query, then a successful_payment; for a subscription link it carries
    /// subscription_expiration_date (now + the period), is_recurring and is_first_recurring, and
    /// the subscription renews by renew_subscription. Returns the pre_checkout_query id.
    std::string user_pays_link(std::int64_t user_id, const std::string& link);
    /// The invoice links the bot made, oldest first: link and payload.
    std::vector<std::pair<std::string, std::string>> invoice_links() const;
    /// A period of `user_id`'s active subscription passes: Telegram charges it again (a new
    /// charge id) and the bot gets a successful_payment with is_recurring and the new
    /// expiration. Returns the charge id, empty when the user has no active subscription.
    std::string renew_subscription(std::int64_t user_id);
    /// The user cancels the subscription (it runs to its end): a `subscription` update, state
    /// "canceled"; no renewal follows.
    void user_cancels_subscription(std::int64_t user_id);
    /// The bot's invoices in `user_id`'s chat, oldest first: message id and payload.
    std::vector<std::pair<std::int64_t, std::string>> invoices_to(std::int64_t user_id) const;
    /// The Stars charges made so far: charge id -> (user, amount, refunded).
    struct star_charge {
        std::int64_t user_id = 0;
        std::int64_t amount = 0;
        std::string payload;
        bool refunded = false;
    };
    std::map<std::string, star_charge> star_charges() const;
    /// The error_message of every pre-checkout the bot refused, in order (what the user read).
    const std::vector<std::string>& checkout_refusals() const noexcept { return checkout_refusals_; }
    /// Queues an update written by hand. JSON text is re-numbered (see raw_update_options) and its
    /// callback, inline and pre-checkout query ids are registered, so the bot's answers are
    /// recorded; any "$ID" in the text is replaced by the assigned update_id. Text that is not JSON
    /// is served verbatim inside the result array (malformed on purpose).
    std::int64_t inject_raw_update(std::string text, raw_update_options options = {});
    /// Telegram's update-id reset: after a week without updates the next update is numbered at
    /// random, possibly far below the last one; the updates from now on are numbered from
    /// `next_id`. A consumer that sends its old offset confirms them away unanswered.
    void renumber_updates_from(std::int64_t next_id) noexcept { next_update_id_ = next_id; }

    /// Everything the bot did in `chat_id`, in order.
    std::vector<sent_item> sent_to(std::int64_t chat_id) const;
    /// The drafts the bot streamed into `chat_id` (sendMessageDraft accepted), in order.
    std::vector<sim_draft> drafts(std::int64_t chat_id) const;
    /// Whether the bot's last draft in `chat_id` is still open: no message (sendMessage,
    /// sendPhoto, ... any new message; not an edit) went to the chat after it, and the user did
    /// not stop it (press_stop). A draft left open is a reply the user never received.
    bool draft_open(std::int64_t chat_id) const noexcept;
    /// Waits until the bot did something in `chat_id` matching `pred` at index >= `from_index`;
    /// nullopt after `timeout`. Cancellable.
    engine::awaitable<std::optional<sent_item>> wait_for(std::int64_t chat_id,
                                                         std::function<bool(const sent_item&)> pred,
                                                         engine::duration timeout,
                                                         std::size_t from_index = 0);

    const telegram_sim_counters& counters() const noexcept { return counters_; }
    /// Updates not yet confirmed by an offset.
    std::size_t pending_updates() const noexcept { return pending_.size(); }
    /// The commands set by setMyCommands for the default scope and `language_code` ("" = all
    /// languages), as JSON text.
    std::string commands(const std::string& language_code) const;
    bool webhook_set() const noexcept { return !webhook_url_.empty(); }
    /// Deliveries to the webhook in flight now (at most its max_connections).
    std::size_t webhook_in_flight() const noexcept { return webhook_in_flight_.size(); }
    /// Bytes of an uploaded file, by file_id (nullptr when unknown).
    const std::string* file_bytes(const std::string& file_id) const;

    /// Planned faults, matched by API method name ("sendMessage", "getUpdates", ...).
    fault_injector faults;

    // Internal types, defined in sim/telegram/detail/state.hpp.
    struct stored_file;
    struct stored_message;
    struct chat_state;
    struct call;
    struct pending_update;

private:
    struct poller {
        detail::wakeup wake;
        bool kicked = false;
        poller(engine::executor ex, engine::time_source* time) : wake(std::move(ex), time) {}
    };
    /// The configured time source, or the real one.
    engine::time_source& time() const noexcept {
        return cfg_.time != nullptr ? *cfg_.time : engine::system_time();
    }
    using response = net::server_response;

    // simulator.cpp: the world
    engine::awaitable<void> stop_serving();
    std::int64_t enqueue(std::string kind, std::function<std::string(std::int64_t)> render);
    std::int64_t enqueue_update(std::string kind, const std::string& body_json);
    void record(sent_item item);
    chat_state* find_chat(std::int64_t chat_id);
    const chat_state* find_chat(std::int64_t chat_id) const;
    chat_state& user_chat(std::int64_t user_id, std::int64_t chat_id);
    bool token_ok(std::string_view token) const;
    std::int64_t bot_id() const noexcept;
    std::optional<response> check_rate(const call& c, std::int64_t chat_id);
    /// The same for a draft: the chat's draft bucket only (config.per_chat_draft_rate).
    std::optional<response> check_draft_rate(const call& c, chat_state& chat);
    /// A 429 for the call, remembered so that an early repeat counts as a violation.
    response flood_for(const call& c, std::optional<std::int64_t> chat_id, std::chrono::seconds retry_after);
    void check_flood_respected(const call& c, std::optional<std::int64_t> chat_id);
    boost::json::object bot_json() const;
    boost::json::object chat_json(std::int64_t chat_id) const;
    boost::json::object user_json(std::int64_t user_id) const;
    /// Stores a new message in `chat` (its id is the chat's next) and returns it.
    stored_message&
    add_message(chat_state& chat, boost::json::object msg, std::string content, std::int64_t from_user);
    /// The message `message_id` of `chat`, or nullptr.
    stored_message* find_message(chat_state& chat, std::int64_t message_id);
    /// A message from a user to the bot, with the reply_to_message it names.
    boost::json::object user_message_json(chat_state& chat, std::int64_t user_id, std::int64_t reply_to);

    // request.cpp: decoding and dispatch
    engine::awaitable<response> handle_api(net::server_request& req);
    engine::awaitable<response> dispatch(call& c);

    // methods_updates.cpp: updates, webhook, identity, commands, chats, queries, payments
    engine::awaitable<response> get_updates(call& c);
    /// Whether `u` is of a kind getUpdates and the webhook serve (allowed_updates, sticky).
    bool serves(const pending_update& u) const;
    /// Takes a call's allowed_updates (absent: the last list stays); false when it is no array.
    bool take_allowed_updates(const call& c);
    /// The commands' key of the call's scope (a canonical JSON text), or the error.
    std::variant<std::string, response> command_scope(const call& c);
    response get_me(call& c);
    response set_webhook(call& c, bool remove);
    response get_webhook_info(call& c);
    // webhook.cpp: deliveries to a webhook, as Telegram makes them
    /// Wakes the delivery loop (a new update, a delivery done, the webhook changed).
    void wake_webhook();
    /// Starts the delivery loop unless it runs.
    void start_webhook_loop();
    engine::awaitable<void> webhook_loop();
    engine::awaitable<void> deliver_webhook(std::int64_t update_id, std::string body, std::int64_t chat);
    response set_my_commands(call& c);
    response get_my_commands(call& c);
    response delete_my_commands(call& c);
    response get_chat(call& c);
    response get_chat_member(call& c);
    response answer_callback_query(call& c);
    response answer_inline_query(call& c);
    response send_chat_action(call& c);
    /// An invoice's fields as sendInvoice and createInvoiceLink check them: the invoice (title,
    /// description, payload, currency, total_amount), or the error Telegram answers.
    std::variant<boost::json::object, response> checked_invoice(call& c);
    response send_invoice(call& c);
    response create_invoice_link(call& c);
    response answer_pre_checkout_query(call& c);
    response refund_star_payment(call& c);
    response get_star_transactions(call& c);

    // methods_messages.cpp: what every send and edit shares
    /// The chat named by `key` that the bot can write to, or Telegram's error.
    std::variant<chat_state*, response> chat_for_send(const call& c, std::string_view key);
    /// The reply_to_message for reply_parameters / reply_to_message_id (null: none), or the error.
    std::variant<boost::json::value, response> reply_for(chat_state& chat, const call& c);
    struct outgoing;
    /// The checks every send makes (chat, text or caption, markup, reply), in Telegram's order.
    std::variant<outgoing, response> prepare_send(const call& c, bool caption);
    /// Stores the bot's message, records what the bot did, and returns the message.
    stored_message& post(chat_state& chat,
                         boost::json::object msg,
                         std::string content,
                         sent_item item,
                         const std::string& markup_text);
    response deliver(chat_state& chat,
                     boost::json::object msg,
                     std::string content,
                     sent_item item,
                     const std::string& markup_text);
    /// The bot's message an edit names (sets `chat`), or the error.
    std::variant<stored_message*, response> editable_message(call& c, chat_state*& chat);
    /// Applies an edit ("message is not modified" when nothing changes) and records it.
    response apply_edit(call& c,
                        chat_state& chat,
                        stored_message& message,
                        boost::json::object updated,
                        const std::string& markup_text,
                        std::string recorded_text);

    // methods_messages.cpp: text messages, edits, deletion, forwarding, reactions, drafts
    response send_message(call& c);
    response send_message_draft(call& c);
    response edit_text(call& c, bool caption);
    response edit_message_reply_markup(call& c);
    response delete_message(call& c);
    response delete_messages(call& c);
    response forward_or_copy(call& c, bool copy);
    response set_message_reaction(call& c);

    // methods_media.cpp: files
    struct input_media;
    std::shared_ptr<stored_file> store_file(std::shared_ptr<stored_file> f, std::uint64_t group);
    std::shared_ptr<stored_file> make_thumbnail(std::int64_t width, std::int64_t height, std::uint64_t seed);
    /// A photo's sizes: smaller PNG copies (Telegram's ladder) and the original, largest last.
    std::vector<std::shared_ptr<stored_file>>
    store_photo(std::shared_ptr<const std::string> bytes, std::int64_t width, std::int64_t height);
    struct upload_info {
        std::string file_name{};
        std::string content_type{};
        std::int64_t width = 0;
        std::int64_t height = 0;
        std::int64_t duration = 0;
        std::string thumbnail{}; ///< the client's own thumbnail, or empty
    };
    /// Any other file: its MIME type (from the bytes when the client sent none), its size and
    /// length from the MP4, a thumbnail for what moves.
    std::shared_ptr<stored_file>
    store_upload(file_kind kind, std::shared_ptr<const std::string> bytes, upload_info info);
    /// The file a send names (upload, attach://, file_id or URL): the photo's sizes or one file.
    std::variant<std::vector<std::shared_ptr<stored_file>>, response>
    take_file(const call& c, file_kind kind, std::string_view field, std::string_view reference);
    std::variant<input_media, response> read_input_media(const call& c, const boost::json::value& v);
    void put_media(boost::json::object& msg,
                   std::string_view field,
                   const std::vector<std::shared_ptr<stored_file>>& sizes) const;
    static sent_item::kind sent_kind(file_kind k) noexcept;
    response send_media(call& c, std::string_view field);
    response send_media_group(call& c);
    response edit_message_media(call& c);
    response get_file(call& c);
    engine::awaitable<response> handle_file(net::server_request& req);

    // control.cpp: /_sim
    engine::awaitable<response> handle_control(net::server_request& req);

    engine::executor ex_;
    telegram_simulator_config cfg_;
    std::unique_ptr<net::http_server> server_;
    std::map<std::int64_t, std::unique_ptr<chat_state>> chats_;
    std::map<std::string, std::shared_ptr<stored_file>> files_;
    std::map<std::string, std::shared_ptr<stored_file>> files_by_path_;
    struct open_query {
        std::int64_t chat_id = 0;
        std::int64_t user_id = 0;
        std::string kind; ///< "callback_query", "inline_query", "pre_checkout_query"
        std::int64_t invoice_message_id = 0;
        engine::time_point asked{}; ///< when the query went out (pre-checkout: 10 s to answer)
        /// A pre-checkout's invoice: payload, currency, total_amount, and the subscription's
        /// period (seconds) when it sells one.
        boost::json::object invoice{};
    };
    std::map<std::string, open_query> queries_;   ///< unanswered query id -> where it came from
    std::map<std::string, std::string> commands_; ///< scope key + "|" + language -> JSON text
    struct charge {
        std::int64_t user_id = 0;
        std::int64_t amount = 0;
        std::string payload;
        bool refunded = false;
        std::int64_t date = 0; ///< Unix time of the payment
    };
    std::map<std::string, charge> charges_; ///< telegram_payment_charge_id -> the payment
    /// Invoice links made by createInvoiceLink, in order: link and its invoice (as open_query's).
    std::vector<std::pair<std::string, boost::json::object>> invoice_links_;
    struct subscription {
        boost::json::object invoice;
        std::int64_t expires = 0; ///< Unix time
        bool active = true;
    };
    std::map<std::int64_t, subscription> subscriptions_; ///< by user
    /// Queues the pre_checkout_query for `invoice` (an invoice message's, or a link's: message 0).
    std::string ask_pre_checkout(chat_state& chat,
                                 std::int64_t user_id,
                                 std::int64_t invoice_message_id,
                                 const boost::json::object& invoice);
    /// Charges the user `user_id` for `invoice` and delivers the successful_payment (with the
    /// subscription fields when `expires` is set). Returns the charge id.
    std::string complete_payment(chat_state& chat,
                                 std::int64_t user_id,
                                 const boost::json::object& invoice,
                                 std::optional<std::int64_t> expires,
                                 bool first_recurring);
    std::vector<std::string> checkout_refusals_;
    std::map<std::uint64_t, std::vector<std::string>> photo_groups_; ///< the sizes of one photo
    std::list<pending_update> pending_;                              ///< sorted by update id
    std::vector<std::string> allowed_updates_;                       ///< sticky; empty: the default set
    std::list<std::shared_ptr<poller>> pollers_;
    std::list<detail::wakeup*> sent_waiters_;
    engine::event pollers_gone_; ///< set whenever no getUpdates is held
    std::optional<engine::token_bucket> global_bucket_;
    std::string webhook_url_;
    std::string webhook_secret_;
    int webhook_max_connections_ = 40;
    std::set<std::int64_t> webhook_in_flight_;                    ///< update ids being POSTed
    std::set<std::int64_t> webhook_chats_in_flight_;              ///< one delivery per chat at a time
    std::map<std::int64_t, engine::time_point> webhook_retry_at_; ///< failed: not before then
    std::int64_t webhook_last_error_date_ = 0;
    std::string webhook_last_error_;
    std::unique_ptr<detail::wakeup> webhook_wake_;
    std::unique_ptr<net::http_client> webhook_client_;
    std::unique_ptr<engine::task_group> webhook_tasks_; ///< the loop and its deliveries
    bool webhook_loop_running_ = false;
    std::int64_t next_update_id_ = 0;
    std::int64_t next_user_id_ = 100000001;
    std::int64_t next_group_id_ = 1001000000001;
    std::uint64_t next_file_ = 1;
    std::uint64_t next_query_ = 1;
    std::uint64_t next_media_group_ = 1;
    std::int64_t token_bot_id_ = 0; ///< from the token of the last API call
    telegram_sim_counters counters_;
    struct refusal {
        engine::time_point until;    ///< the refusal's time plus its retry_after
        std::string connection;      ///< that carried the 429
        std::size_t fingerprint = 0; ///< of the refused request
    };
    std::map<std::pair<std::string, std::int64_t>, std::vector<refusal>> refusals_; ///< (method, chat)
    std::mt19937_64 rng_;
    bool stopping_ = false;
};

} // namespace companion::sim
