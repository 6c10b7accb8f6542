// Update intake (design.md §3-§4): long polling through the typed getUpdates into the durable
// inbox, then one keyed serial queue per chat. A batch and the offset that confirms it commit in
// one transaction; each update is handled under one overall deadline, then marked processed and
// removed from the inbox together, so a crash replays at most what was not finished and the
// processed log makes a replay a no-op. A chat whose queue is full holds the intake back (an
// awaitable push): the rest stays with Telegram, which keeps updates for a day.
//
// Faults: a transient poll failure is retried with back-off (the server's delay honoured, a 409
// conflict at least 5 s apart) and counted; a refused token is fatal: poll() throws
// intake_error so the process ends non-zero instead of staying alive and deaf. A transient storage
// fault (locked, full) pauses the intake with back-off until it clears: a batch that cannot
// be stored is not confirmed (Telegram sends it again), an update whose handling hit the fault
// stays in the inbox and runs again. A storage fault that is not transient (a corrupt file) ends
// the poll loop with the error, and the process with it.
#pragma once

#include "engine/keyed_serial.hpp"
#include "engine/metrics.hpp"
#include "engine/retry.hpp"
#include "engine/sync.hpp"
#include "pipelines/services.hpp"
#include "pipelines/webhook.hpp"
#include "storage/updates.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace companion::pipelines {

/// What the intake hands each update to.
class update_handler {
public:
    virtual ~update_handler() = default;
    virtual engine::awaitable<void> handle(const tg::update& u) = 0;
    /// `u`'s handling threw or ran past its deadline: tell the user something went wrong.
    virtual engine::awaitable<void> handle_failure(const tg::update& u) = 0;
};

struct intake_config {
    std::chrono::seconds poll_timeout{25};
    engine::duration poll_backoff_max = std::chrono::seconds(30);
    std::size_t per_chat_queue = 32;
    std::size_t total_queue = 20'000;
    /// One update's handling, sends and model calls included, at most this long.
    engine::duration update_deadline = std::chrono::minutes(10);
    /// A transient storage fault (another process's lock, a full disk) is retried from this delay
    /// up to storage_backoff_max, for as long as it lasts: the update waits, nothing is lost.
    engine::duration storage_backoff = std::chrono::milliseconds(200);
    engine::duration storage_backoff_max = std::chrono::seconds(10);
};

struct intake_stats {
    std::uint64_t updates_received = 0;
    std::uint64_t updates_processed = 0;
    std::uint64_t updates_replayed = 0; ///< skipped: already processed
    std::uint64_t updates_malformed = 0;
    std::uint64_t updates_deferred = 0; ///< waited for room in a full queue
    std::uint64_t handler_failures = 0;
    std::uint64_t polls = 0;
    std::uint64_t poll_errors = 0;
    std::uint64_t updates_repaired = 0; ///< served after invalid text was replaced by U+FFFD
    std::uint64_t id_resets = 0;        ///< Telegram's update ids started again below the offset
    std::uint64_t storage_faults = 0;   ///< transient storage errors waited out (locked, full)
};

/// The getUpdates offset, sans-I/O. Telegram confirms every update below the offset a call
/// sends, including updates numbered after an update-id reset (after a week without updates,
/// Telegram numbers the next one at random, possibly far below the last offset). So an offset is
/// sent only to confirm what the previous answer delivered; a poll with nothing to confirm sends
/// none, and Telegram answers with the oldest updates it still holds (a replay of updates already
/// stored or processed is a no-op). The stored offset is a high-water mark: a new update below it
/// means the ids were reset, and the mark is rebased.
class poll_offset {
public:
    explicit poll_offset(std::optional<std::int64_t> stored) : high_(stored) {}

    /// What the next getUpdates sends.
    std::optional<std::int64_t> request() const noexcept { return request_; }
    std::optional<std::int64_t> high_water() const noexcept { return high_; }

    /// What one successful answer means.
    struct step {
        std::optional<std::int64_t> request{}; ///< the offset the following call sends
        std::optional<std::int64_t> store{};   ///< the high-water mark to store, when it moves
        bool rebase = false;           ///< the ids were reset: `store` replaces the mark, even when lower
        bool confirms_nothing = false; ///< every id was below the offset sent: wait before polling
    };
    /// `top` is max(update_id) + 1 over the answer (nullopt: an empty answer); `lowest_new` the
    /// lowest id that was neither stored nor processed before.
    step answered(std::optional<std::int64_t> top, std::optional<std::int64_t> lowest_new) const noexcept;
    /// Takes `s` once what it stores is committed.
    void apply(const step& s) noexcept;

private:
    std::optional<std::int64_t> request_{};
    std::optional<std::int64_t> high_{};
};

/// The poll loop cannot go on (the token is refused).
class intake_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// The poll loop's verdict on a failed getUpdates, sans-I/O: fatal (the token is refused or
/// malformed) fails; a flood waits its retry_after; a conflict (another consumer, a webhook)
/// waits at least `conflict_wait`; everything else backs off.
engine::retry_verdict classify_poll_failure(const tg::error& e, engine::duration conflict_wait);

class intake {
public:
    /// `svc` and `handler` must outlive the intake.
    intake(engine::executor ex, bot_services& svc, update_handler& handler, intake_config cfg);

    /// Queues what a previous run left in the inbox, in order.
    engine::awaitable<void> replay();
    /// Long-polls until cancelled (returns) or the token is refused (throws intake_error).
    engine::awaitable<void> poll();
    /// Webhook mode: serves `cfg`'s HTTP endpoint, then tells Telegram (setWebhook, retried
    /// through outages) and takes deliveries until cancelled (returns). Throws intake_error when
    /// the address cannot be bound, Telegram refuses the token or the URL, or the database fails
    /// for good.
    engine::awaitable<void> receive(const webhook_config& cfg);
    /// One delivered update (a webhook POST's body): stored in the inbox, queued, then 200; a
    /// malformed body 400; a transient storage fault 503 (Telegram delivers it again).
    engine::awaitable<delivery_answer> deliver(std::string body);
    /// Stops taking updates and gives the queued ones `grace` before cancelling them (they stay
    /// in the inbox and run again on the next start).
    engine::awaitable<void> drain(engine::duration grace) { return queue_.shutdown(grace); }

    /// True while the poll loop works and its last poll succeeded (the /healthz check).
    bool polling() const noexcept { return polling_; }
    engine::time_point last_poll() const noexcept { return last_poll_; }
    const intake_stats& stats() const noexcept { return stats_; }
    std::size_t active_chats() const noexcept { return queue_.active_keys(); }
    std::size_t queued_updates() const noexcept { return queue_.queued(); }
    std::size_t deferred_updates() const noexcept { return waiting_ ? 1U : 0U; }

private:
    /// An inbox row waiting for its turn: its ids only. At a burst's peak thousands wait in the
    /// chats' queues (32 per chat); their JSON text stays in the inbox, read when the turn comes.
    struct queued {
        std::int64_t update_id = 0;
        std::int64_t chat_id = 0;
        /// Left in the inbox by an earlier run: checked against the processed log when its turn
        /// comes. A row this run stored needs no check: the store refused ids already processed,
        /// and a row is queued once (a second delivery of it finds it stored).
        bool from_earlier_run = false;
    };
    /// Queues `item` on the queue `chat` names (its chat's, or a lane of its own).
    engine::awaitable<void> accept(queued item, std::int64_t chat);
    /// Handles a queued update when its turn comes: parses it, runs the handler, marks it processed.
    engine::awaitable<void> process(queued item);
    /// The update an inbox row's text holds; nullopt (logged, counted) when it is malformed.
    std::optional<tg::update> read(std::int64_t update_id, const std::string& payload);
    /// Runs the handler; true when the update is done (handled, or failed and told), false when a
    /// transient storage fault stopped it and it must run again.
    engine::awaitable<bool> attempt(const queued& item, const tg::update& u);
    /// Runs `write` (a storage transaction) until it commits, waiting out transient faults.
    template <class Write>
    engine::awaitable<void> write_through_faults(std::string_view what, Write write);

    bot_services& svc_;
    update_handler& handler_;
    intake_config cfg_;
    /// Queued updates are inbox rows (their ids), handed to process() in turn.
    engine::keyed_queue<std::int64_t, queued> queue_;
    storage::update_log log_;
    storage::update_inbox inbox_;
    intake_stats stats_;
    /// How long an update takes from its dequeue to processed (the user's wait for a reply).
    engine::histogram& handling_seconds_;
    /// Webhook mode: set when a delivery met a storage fault that is not transient.
    std::exception_ptr fatal_{};
    std::unique_ptr<engine::event> fatal_set_{};
    bool polling_ = false;
    bool waiting_ = false;
    engine::time_point last_poll_{};
};

} // namespace companion::pipelines
