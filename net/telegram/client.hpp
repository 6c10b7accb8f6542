// The typed Telegram Bot API client over net::http_client: one coroutine per method, each
// returning telegram::result<T> (the parsed result or a classified telegram::error). Parameters go
// as JSON, uploads as multipart/form-data with objects as JSON strings (contract §1, §4).
//
// The client maps outcomes faithfully and never retries: flood waits, re-sends after an unknown
// outcome and backoff are the pipelines' decisions (design.md §4). Every call carries a deadline
// through net's per-phase timeouts; getUpdates' response-header deadline is its poll timeout plus
// a margin, so a long poll is never cut short by its own transport.
//
// The token sits in the URL path: the constructor registers it with the log redactor, and no
// error text built here contains it. Lifetime: `http` must outlive the client and its calls;
// use from the loop thread only.
#pragma once

#include "engine/asio.hpp"
#include "engine/enum_text.hpp"
#include "net/http_client.hpp"
#include "net/telegram/error.hpp"
#include "net/telegram/types.hpp"

#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace companion::net::telegram {

struct client_config {
    std::string base_url = "https://api.telegram.org"; ///< methods: <base_url>/bot<token>/<method>
    std::string file_base_url{};                       ///< downloads; empty: <base_url>/file
    std::string token{};
    /// getUpdates' `timeout` (0 would busy-loop).
    std::chrono::seconds poll_timeout = std::chrono::seconds(25);
    /// getUpdates waits poll_timeout + poll_margin for the response header.
    engine::duration poll_margin = std::chrono::seconds(15);
    /// Ordinary method calls.
    net::phase_timeouts request_timeouts{.write = std::chrono::seconds(30),
                                         .response_header = std::chrono::seconds(30),
                                         .body = std::chrono::seconds(30)};
    /// Uploads (sendPhoto/sendVideo with a file): up to 50 MB on a slow uplink.
    net::phase_timeouts upload_timeouts{.write = std::chrono::seconds(300),
                                        .response_header = std::chrono::seconds(60),
                                        .body = std::chrono::seconds(30)};
    std::size_t response_body_limit = 4 * 1024 * 1024; ///< a 100-update batch is far smaller
};

/// A file to send: a file_id from an earlier message (no re-upload), bytes in memory, or a file
/// on disk (both uploaded via multipart).
struct input_file {
    enum class source { file_id, memory, disk };

    source from = source::file_id;
    std::string file_id{};
    std::string filename{};     ///< for uploads, e.g. "selfie.jpg"
    std::string content_type{}; ///< for uploads, e.g. "image/jpeg"
    std::string bytes{};
    std::filesystem::path path{};

    static input_file by_id(std::string id);
    static input_file from_memory(std::string filename, std::string content_type, std::string bytes);
    static input_file from_disk(std::filesystem::path path, std::string content_type);
};

enum class parse_mode { none, html, markdown_v2 };
enum class notification { normal, silent };

struct get_updates_params {
    std::optional<std::int64_t> offset{}; ///< max(update_id) + 1 of the last batch: confirms it
    int limit = 100;                      ///< 1-100
    /// Sticky on Telegram's side when omitted; include "my_chat_member" to learn of blocks.
    std::optional<std::vector<std::string>> allowed_updates{};
    std::optional<std::chrono::seconds> timeout{}; ///< default: client_config::poll_timeout
};

/// setWebhook (Bot API: the URL is HTTPS on port 443, 80, 88 or 8443).
struct set_webhook_params {
    std::string url{};          ///< empty removes the webhook
    std::string secret_token{}; ///< 1-256 of [A-Za-z0-9_-], or empty; sent back in every delivery's header
    std::optional<std::vector<std::string>> allowed_updates{};
    std::optional<int> max_connections{}; ///< 1-100, Telegram's default 40
    bool drop_pending_updates = false;
};

struct send_message_params {
    std::int64_t chat_id = 0;
    std::string text{}; ///< 1-4096 characters
    std::optional<boost::json::value> reply_markup{};
    parse_mode mode = parse_mode::none;
    std::optional<std::int64_t> reply_to{};
    notification notify = notification::normal;
};

struct edit_message_text_params {
    std::int64_t chat_id = 0;
    std::int64_t message_id = 0;
    std::string text{}; ///< 1-4096 characters; a caption 0-1024
    /// The message is a photo or video: its caption is edited (editMessageCaption).
    bool caption = false;
    std::optional<boost::json::value> reply_markup{}; ///< inline keyboard only; absent removes it
    parse_mode mode = parse_mode::none;
};

/// An edit that succeeded, or changed nothing (400 "message is not modified" is success).
struct edit_outcome {
    bool modified = true;
    std::optional<telegram::message> message{}; ///< the edited message when modified
};

struct send_photo_params {
    std::int64_t chat_id = 0;
    input_file photo{};
    std::string caption{}; ///< 0-1024 characters
    std::optional<boost::json::value> reply_markup{};
    parse_mode mode = parse_mode::none;
    notification notify = notification::normal;
};

struct send_video_params {
    std::int64_t chat_id = 0;
    input_file video{};
    std::string caption{};
    std::optional<boost::json::value> reply_markup{};
    parse_mode mode = parse_mode::none;
    notification notify = notification::normal;
    int width = 0;  ///< 0: not sent
    int height = 0; ///< 0: not sent
    std::chrono::seconds duration{0};
    bool supports_streaming = true; ///< our MP4s are faststart
};

/// sendVoice: a voice note, Ogg with Opus (also MP3 or M4A), up to 50 MB
/// (contracts/telegram-drafts-stars-voice.md §3). Telegram refuses other audio with 400.
struct send_voice_params {
    std::int64_t chat_id = 0;
    input_file voice{};
    std::optional<int> duration{}; ///< seconds; absent: not sent
    std::string caption{};         ///< 0-1024 characters
    std::optional<boost::json::value> reply_markup{};
    parse_mode mode = parse_mode::none;
    notification notify = notification::normal;
};

// clang-format off
enum class chat_action { typing, upload_photo, upload_video, record_video, upload_document, upload_voice,
                         record_voice };
BOOST_DESCRIBE_ENUM(chat_action, typing, upload_photo, upload_video, record_video, upload_document, upload_voice,
                    record_voice)
// clang-format on
using engine::operator<<; // to_string and printing of the described enums
using engine::to_string;

struct answer_callback_params {
    std::string callback_query_id{};
    std::string text{}; ///< 0-200 characters; empty shows nothing
    bool show_alert = false;
};

/// One LabeledPrice; for Stars (`XTR`) an invoice carries exactly one, in whole Stars.
struct labeled_price {
    std::string label{};
    std::int64_t amount = 0;
};

/// sendInvoice (contracts/telegram-drafts-stars-voice.md §2): for Stars `currency` is "XTR", no
/// provider token, one price; title 1-32 characters, description 1-255, payload 1-128 bytes.
struct send_invoice_params {
    std::int64_t chat_id = 0;
    std::string title{};
    std::string description{};
    std::string payload{};
    std::string currency{"XTR"};
    std::vector<labeled_price> prices{};
    std::optional<boost::json::value> reply_markup{};
};

/// createInvoiceLink: a link to an invoice, the only way to sell a Stars subscription
/// (`subscription_period` 2592000, 30 days; price at most 10000 Stars).
struct create_invoice_link_params {
    std::string title{};
    std::string description{};
    std::string payload{};
    std::string currency{"XTR"};
    std::vector<labeled_price> prices{};
    std::optional<int> subscription_period{}; ///< seconds; set: a subscription renewed each period
};

/// sendMessageDraft (Bot API 9.5 for every bot; contracts/telegram-drafts-stars-voice.md §1): one
/// animated draft per draft_id in a private chat, an ephemeral preview of about 30 s that the
/// final sendMessage replaces. Telegram answers 400 for a group or a zero draft_id.
struct send_message_draft_params {
    std::int64_t chat_id = 0;  ///< a private chat
    std::int64_t draft_id = 0; ///< non-zero; updates of one id animate as one growing draft
    std::string text{};        ///< 0-4096 characters after entity parsing; empty shows "Thinking..."
    std::optional<std::int64_t> message_thread_id{}; ///< a topic in a private chat with topics
    bool can_stop = false;     ///< shows a stop button (10.3): a stopped_message_generation update
    bool keep_on_stop = false; ///< the draft stays visible after a stop (10.3)
    std::optional<std::string> parse_mode{}; ///< "HTML", "MarkdownV2" or "Markdown"; absent: plain
};

struct command_description {
    std::string command{}; ///< 1-32 of [a-z0-9_], no slash
    std::string description{};
};

enum class drop_pending { no, yes };

class client {
public:
    /// Registers cfg.token with engine::secrets().
    client(net::http_client& http, client_config cfg);

    const client_config& config() const noexcept { return cfg_; }

    engine::awaitable<result<user>> get_me();
    /// Long poll. Returns the well-formed updates and, separately, the malformed ones (with their
    /// update_id when readable) so the caller can still confirm past them.
    engine::awaitable<result<update_batch>> get_updates(get_updates_params params);
    engine::awaitable<result<void>> delete_webhook(drop_pending drop);
    engine::awaitable<result<void>> set_webhook(set_webhook_params params);
    /// The sent message as read_sent_message() reads it: message_id, date, text and the chat's id
    /// (the rest of Telegram's echo is not read; an unusual answer is read in full).
    engine::awaitable<result<message>> send_message(send_message_params params);
    engine::awaitable<result<edit_outcome>> edit_message_text(edit_message_text_params params);
    /// The returned message's largest_photo()->file_id is the id to resend with.
    engine::awaitable<result<message>> send_photo(send_photo_params params);
    /// The returned message's video->file_id is the id to resend with.
    engine::awaitable<result<message>> send_video(send_video_params params);
    /// The returned message's voice->file_id is the id to resend with.
    engine::awaitable<result<message>> send_voice(send_voice_params params);
    engine::awaitable<result<void>> send_chat_action(std::int64_t chat_id, chat_action action);
    /// A streamed reply's draft (`true` on success). Errors as for any send: 429 (rate_limited,
    /// with retry_after), 403 blocked, 400 for a group chat or a zero draft_id. Safe to repeat
    /// after an unknown outcome: the same draft again changes nothing the user sees.
    engine::awaitable<result<void>> send_message_draft(send_message_draft_params params);
    /// A late or repeated answer is error_kind::query_too_old: log it, do not fail the flow.
    engine::awaitable<result<void>> answer_callback_query(answer_callback_params params);
    engine::awaitable<result<message>> send_invoice(send_invoice_params params);
    /// The link of an invoice (a subscription when subscription_period is set).
    engine::awaitable<result<std::string>> create_invoice_link(create_invoice_link_params params);
    /// Answers a pre-checkout query: `ok`, or a refusal the user reads (`error_message`, required
    /// when not ok). Telegram cancels the payment when no answer comes within 10 s.
    engine::awaitable<result<void>>
    answer_pre_checkout_query(std::string pre_checkout_query_id, bool ok, std::string error_message);
    /// Gives a Stars payment back to the user (Telegram then sends a refunded_payment message).
    engine::awaitable<result<void>> refund_star_payment(std::int64_t user_id, std::string charge_id);
    engine::awaitable<result<void>> set_my_commands(std::vector<command_description> commands,
                                                    std::string language_code);
    engine::awaitable<result<file_info>> get_file(std::string file_id);
    /// Downloads a file_path from get_file to `destination` (at most `max_bytes`). A user's voice
    /// note is fetched this way too: get_file(message.voice->file_id), then its file_path (getFile
    /// refuses files over 20 MB with a bad_request).
    engine::awaitable<result<net::download_result>>
    download_file(std::string file_path, std::filesystem::path destination, std::size_t max_bytes);

    /// Calls any method with a JSON object of parameters and returns the raw `result`. Its nodes
    /// live in one arena sized by the response (shared with copies that use its storage): parse
    /// what is needed and drop it rather than keep it for long.
    engine::awaitable<result<boost::json::value>> call(std::string method, boost::json::object params);

private:
    enum class call_kind { ordinary, upload };

    std::string method_url(std::string_view method) const;
    /// call() with its parameters already written as a JSON object (the hot sends write theirs
    /// straight into the body instead of building an object to serialize).
    engine::awaitable<result<boost::json::value>> call_json(std::string method, std::string body);
    /// The request of a call whose parameters are a JSON body.
    net::request json_request(std::string_view method, std::string body) const;
    /// Sets the deadlines and the answer's size limit of a call of `kind`.
    void prepare(net::request& req, call_kind kind) const;
    /// A call that got no HTTP answer: classified, the token scrubbed, logged at debug.
    error not_sent(std::string_view method, net::failure f) const;
    /// Sends `req` and reads the envelope with read_envelope().
    engine::awaitable<result<boost::json::value>>
    exchange(std::string method, net::request req, call_kind kind);
    /// An answer's `result`, or its failure classified. When a 2xx body is not JSON and
    /// `unparsed` is given, the body is moved there beside the malformed_response error
    /// (getUpdates scans it item by item).
    result<boost::json::value>
    read_envelope(std::string_view method, net::response& resp, std::string* unparsed) const;
    /// sendMessage's answer read: the field reader on a plain success, else the general way.
    /// A plain function, so its temporaries sit on the stack, not in send_message's frame.
    result<message> read_sent(net::result<net::response>& resp, std::int64_t chat_id) const;
    engine::awaitable<result<message>> send_media(std::string method,
                                                  std::string field,
                                                  std::int64_t chat_id,
                                                  input_file file,
                                                  boost::json::object fields);

    net::http_client& http_;
    client_config cfg_;
    std::string method_prefix_; ///< base_url + "/bot" + token + "/": each call's URL is it + method
};

} // namespace companion::net::telegram
