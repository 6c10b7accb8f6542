// A Telegram Bot API simulator on loopback, faithful to the wire contract
// (contracts/telegram-bot-api.md, README §D): /bot<token>/<method> with query, form, JSON and
// multipart parameters; the {ok,result} envelope with HTTP status = error_code; long-poll
// getUpdates (hold until an update or the timeout, confirmation by a later offset, 409 for the
// older of two pollers and while a webhook is set); sends with the contract's limits, file ids
// issued for uploads and reusable, 400 "message is not modified", 403 for users who blocked the
// bot, 429 with retry_after from per-chat and global token buckets, 401 for a wrong token.
//
// Tests and the simulation mode drive it as Telegram's users would, in-process or over HTTP under
// /_sim/...: create users, send texts (with a bot_command entity for "/..."), press inline
// buttons, block the bot, read what the bot sent, wait for it, inject raw (even malformed)
// updates. Fault knobs (`faults`) apply per API method.
//
// Use from the loop thread only. Lifetime: call stop() before destroying it.
#pragma once

#include "engine/asio.hpp"
#include "engine/clock.hpp"
#include "engine/rate_limit.hpp"
#include "engine/sync.hpp"
#include "net/http_server.hpp"
#include "sim/detail/wakeup.hpp"
#include "sim/fault.hpp"

#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <random>
#include <string>
#include <vector>

namespace companion::sim {

using namespace std::chrono_literals;

struct telegram_simulator_config {
    std::string address = "127.0.0.1";
    std::uint16_t port = 0; ///< 0: ephemeral
    /// The accepted token; empty accepts any well-formed one (<digits>:<35+ of [A-Za-z0-9_-]>).
    std::string token{};
    std::int64_t bot_id = 7000000001;
    std::string bot_first_name = "Companion";
    std::string bot_username = "companion_bot";
    engine::token_bucket_config per_chat_rate{.rate_per_second = 1.0, .burst = 3.0};
    engine::token_bucket_config global_rate{.rate_per_second = 30.0, .burst = 30.0};
    bool enforce_rate_limits = true;
    /// The longest a getUpdates is held, whatever its `timeout` (tests shorten it).
    engine::duration max_poll_hold = 50s;
    std::size_t max_photo_bytes = 10 * 1024 * 1024;
    std::size_t max_upload_bytes = 50 * 1024 * 1024;
    std::string name = "telegram_sim";
};

/// One thing the bot did in a chat, in order.
struct sent_item {
    enum class kind { text, photo, video, edit, action, callback_answer };

    kind what = kind::text;
    std::int64_t chat_id = 0;
    std::int64_t message_id = 0;     ///< the sent or edited message (0 for actions and answers)
    std::string text{};              ///< text, caption, the action name, or the answer's text
    std::string reply_markup{};      ///< JSON text as the bot sent it, or empty
    std::string file_id{};           ///< photo (largest size) or video
    std::string callback_query_id{}; ///< for callback answers
    bool show_alert = false;
    engine::time_point at{};
};

std::string_view to_string(sent_item::kind k) noexcept;
std::ostream& operator<<(std::ostream& os, sent_item::kind k);

struct telegram_sim_user {
    std::int64_t id = 0; ///< 0: assign one
    std::string first_name = "User";
    std::string language_code = "en";
    std::string username{};
};

struct telegram_sim_counters {
    std::uint64_t requests = 0;
    std::uint64_t get_updates_calls = 0;
    std::uint64_t rate_limited = 0; ///< 429s issued by the buckets or faults
    std::uint64_t conflicts = 0;    ///< 409s issued
    /// Calls for a chat that came before the retry_after of a 429 for that chat had passed.
    std::uint64_t retry_after_violations = 0;
    /// "reset" faults with detail "after_effect": the call took effect, its answer was lost.
    std::uint64_t resets_after_effect = 0;
    std::size_t current_pollers = 0;
    std::size_t max_concurrent_pollers = 0;
    std::map<std::int64_t, std::uint64_t> sends_per_chat; ///< messages, media and edits accepted
};

class telegram_simulator {
public:
    telegram_simulator(engine::executor ex, telegram_simulator_config cfg);
    ~telegram_simulator();
    telegram_simulator(const telegram_simulator&) = delete;
    telegram_simulator& operator=(const telegram_simulator&) = delete;

    /// Binds and serves; returns the port.
    net::result<std::uint16_t> start();
    /// Answers held long polls with what they have (an empty result), then stops the server. Runs
    /// to its end even when the caller is cancelled (engine::shielded), so nothing the server's
    /// handlers use is destroyed before they have ended.
    engine::awaitable<void> stop();
    /// "http://127.0.0.1:PORT": the client's base_url (and file_base_url + "/file").
    std::string base_url() const;
    const telegram_simulator_config& config() const noexcept { return cfg_; }

    // --- scripted users -------------------------------------------------------------------
    /// Registers a user (its private chat has the same id). Returns the id.
    std::int64_t add_user(telegram_sim_user u);
    /// The user writes `text`; a leading "/word" gets a bot_command entity. Returns the update_id.
    std::int64_t user_sends_text(std::int64_t user_id, std::string text);
    /// The user presses an inline button of bot message `message_id`. Returns the
    /// callback_query id (answer it with answerCallbackQuery).
    std::string user_presses_button(std::int64_t user_id, std::int64_t message_id, std::string callback_data);
    /// The user blocks (or unblocks) the bot: a my_chat_member update, and 403 for sends to them.
    void user_blocks_bot(std::int64_t user_id, bool blocked = true);
    /// Queues an update written by hand: "$ID" in `text` is replaced by the assigned update_id.
    /// The text is served verbatim inside the result array, so it may be malformed on purpose.
    std::int64_t inject_raw_update(std::string text);

    /// Everything the bot did in `chat_id`, in order.
    std::vector<sent_item> sent_to(std::int64_t chat_id) const;
    /// Waits until the bot did something in `chat_id` matching `pred` at index >= `from_index`;
    /// nullopt after `timeout`. Cancellable.
    engine::awaitable<std::optional<sent_item>> wait_for(std::int64_t chat_id,
                                                         std::function<bool(const sent_item&)> pred,
                                                         engine::duration timeout,
                                                         std::size_t from_index = 0);

    const telegram_sim_counters& counters() const noexcept { return counters_; }
    /// Updates not yet confirmed by an offset.
    std::size_t pending_updates() const noexcept { return pending_.size(); }
    /// The commands set by setMyCommands for `language_code` ("" = default), as JSON text.
    std::string commands(const std::string& language_code) const;
    bool webhook_set() const noexcept { return !webhook_url_.empty(); }
    /// Bytes of an uploaded file, by file_id (nullptr when unknown).
    const std::string* file_bytes(const std::string& file_id) const;

    /// Planned faults, matched by API method name ("sendMessage", "getUpdates", ...).
    fault_injector faults;

    struct stored_file;
    struct chat_state;
    struct call;

private:
    struct pending_update {
        std::int64_t id = 0;
        std::string kind; ///< "message", "callback_query", ... ("" for raw injections)
        std::string json; ///< the Update object's text
    };
    struct poller {
        detail::wakeup wake;
        bool kicked = false;
        explicit poller(engine::executor ex) : wake(std::move(ex)) {}
    };

    engine::awaitable<void> stop_serving();
    engine::awaitable<net::server_response> handle_api(net::server_request& req);
    engine::awaitable<net::server_response> handle_file(net::server_request& req);
    engine::awaitable<net::server_response> handle_control(net::server_request& req);
    engine::awaitable<net::server_response> dispatch(call& c);

    engine::awaitable<net::server_response> get_updates(call& c);
    net::server_response send_message(call& c);
    net::server_response edit_message_text(call& c);
    net::server_response send_media(call& c, bool video);
    net::server_response send_chat_action(call& c);
    net::server_response answer_callback_query(call& c);
    net::server_response set_my_commands(call& c);
    net::server_response get_file(call& c);
    net::server_response set_webhook(call& c, bool remove);

    std::int64_t enqueue(std::string kind, std::function<std::string(std::int64_t)> render);
    void record(sent_item item);
    chat_state* find_chat(std::int64_t chat_id);
    bool token_ok(std::string_view token) const;
    std::optional<net::server_response> check_rate(std::int64_t chat_id);
    /// A 429 for `chat_id`, remembered so that an early retry counts as a violation.
    net::server_response flood_for(std::int64_t chat_id, std::chrono::seconds retry_after);
    void check_flood_respected(const std::string& method, std::optional<std::int64_t> chat_id);
    boost::json::object bot_json() const;
    boost::json::object chat_json(std::int64_t chat_id) const;

    engine::executor ex_;
    telegram_simulator_config cfg_;
    std::unique_ptr<net::http_server> server_;
    std::map<std::int64_t, std::unique_ptr<chat_state>> chats_;
    std::map<std::string, std::shared_ptr<stored_file>> files_;
    std::map<std::string, std::shared_ptr<stored_file>> files_by_path_;
    std::map<std::string, std::int64_t> callbacks_;                  ///< open callback query id -> chat id
    std::map<std::string, std::string> commands_;                    ///< language_code -> JSON text
    std::map<std::uint64_t, std::vector<std::string>> photo_groups_; ///< the sizes of one photo
    std::deque<pending_update> pending_;
    std::vector<std::string> allowed_updates_; ///< sticky; empty: the default set
    std::list<std::shared_ptr<poller>> pollers_;
    std::list<detail::wakeup*> sent_waiters_;
    engine::event pollers_gone_; ///< set whenever no getUpdates is held
    std::optional<engine::token_bucket> global_bucket_;
    std::string webhook_url_;
    std::int64_t next_update_id_ = 0;
    std::int64_t next_user_id_ = 100000001;
    std::uint64_t next_file_ = 1;
    std::uint64_t next_callback_ = 1;
    telegram_sim_counters counters_;
    std::map<std::int64_t, engine::time_point> flood_until_; ///< per chat: no call before this
    std::mt19937_64 rng_;
    bool stopping_ = false;
};

} // namespace companion::sim
