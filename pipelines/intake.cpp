// Long polling into the inbox and the per-chat queues.
#include "pipelines/intake.hpp"

#include "engine/error.hpp"
#include "engine/log.hpp"
#include "engine/sync.hpp"
#include "pipelines/storage_faults.hpp"
#include "storage/error.hpp"

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>

#include <algorithm>
#include <array>
#include <limits>
#include <memory>

namespace companion::pipelines {

using namespace std::chrono_literals;

engine::retry_verdict classify_poll_failure(const tg::error& e, engine::duration conflict_wait) {
    switch (e.kind) {
    case tg::error_kind::unauthorized:
    case tg::error_kind::not_found: // a malformed token: the method URL does not exist
        return engine::retry_verdict::fail();
    case tg::error_kind::rate_limited:
        return engine::retry_verdict::again(e.retry_after.value_or(1s));
    case tg::error_kind::conflict:
        return engine::retry_verdict::again(conflict_wait);
    default:
        return engine::retry_verdict::again();
    }
}

namespace {

/// Every update kind the bot handles (getUpdates' and setWebhook's allowed_updates).
std::vector<std::string> allowed_update_kinds() {
    return tg::typed_update_kinds();
}

/// The queue a stop press runs on: its own, since the chat's queue is busy with the very
/// generation it stops. Handling it only signals that generation, so the lane never backs up.
constexpr std::int64_t stop_lane = std::numeric_limits<std::int64_t>::min();
/// The queue a pre-checkout query runs on: Telegram cancels the payment unless it is answered
/// within 10 s, so it never waits behind a slow chat (its answer is one unpaced call).
constexpr std::int64_t checkout_lane = std::numeric_limits<std::int64_t>::min() + 1;

std::int64_t queue_key(const storage::inbox_entry& entry, const std::optional<tg::update>& parsed) {
    if (parsed && parsed->what == tg::update::kind::stopped_message_generation) {
        return stop_lane;
    }
    if (parsed && parsed->what == tg::update::kind::pre_checkout_query) {
        return checkout_lane;
    }
    return entry.chat_id;
}

} // namespace

intake::intake(engine::executor ex, bot_services& svc, update_handler& handler, intake_config cfg)
    : svc_(svc),
      handler_(handler),
      cfg_(cfg),
      queue_(std::move(ex),
             {.per_key_limit = cfg.per_chat_queue, .total_limit = cfg.total_queue, .name = "chats"},
             [this](queued item) { return process(item); }),
      log_(svc.db),
      inbox_(svc.db),
      handling_seconds_(engine::metrics().make_histogram("bot_update_seconds",
                                                         "Time to handle one update, replies sent.",
                                                         engine::latency_buckets_seconds())) {}

engine::awaitable<void> intake::replay() {
    for (const auto& entry : inbox_.pending()) {
        const auto chat = entry.chat_id; // its lane is not known unparsed: its chat's queue
        // Named: g++ 12 miscompiles a braced temporary in an awaited call's arguments.
        queued item{.update_id = entry.update_id, .chat_id = chat, .from_earlier_run = true};
        co_await accept(item, chat);
    }
}

poll_offset::step poll_offset::answered(std::optional<std::int64_t> top,
                                        std::optional<std::int64_t> lowest_new) const noexcept {
    step s;
    if (!top) {
        return s; // the offset sent (if any) confirmed everything: the next call sends none
    }
    if (lowest_new && high_ && *lowest_new < *high_) {
        // New updates below the mark: the ids were reset. The next call confirms this answer
        // alone: the old offset would confirm every renumbered update away unanswered.
        s.store = *top;
        s.rebase = true;
        s.request = *top;
        return s;
    }
    s.confirms_nothing = request_ && *top <= *request_;
    s.request = std::max(*top, request_.value_or(*top));
    if (!high_ || *top > *high_) {
        s.store = *top;
    }
    return s;
}

void poll_offset::apply(const step& s) noexcept {
    request_ = s.request;
    if (s.store) {
        high_ = s.store;
    }
}

namespace {

/// Capped doubling from `first` to `max`.
class backoff {
public:
    backoff(engine::duration first, engine::duration max) : first_(first), next_(first), max_(max) {}
    engine::duration take() noexcept {
        const auto d = next_;
        next_ = std::min(next_ * 2, max_);
        return d;
    }
    void reset() noexcept { next_ = first_; }

private:
    engine::duration first_;
    engine::duration next_;
    engine::duration max_;
};

} // namespace

template <class Write>
engine::awaitable<void> intake::write_through_faults(std::string_view what, Write write) {
    co_await svc_.db.writes_open(); // not while a checkpoint's last pass runs (storage/database.hpp)
    co_await through_storage_faults(svc_.time,
                                    what,
                                    std::move(write),
                                    {cfg_.storage_backoff, cfg_.storage_backoff_max},
                                    &stats_.storage_faults);
}

engine::awaitable<void> intake::poll() {
    std::optional<std::int64_t> stored;
    co_await write_through_faults("reading the offset", [&] { stored = log_.offset(); });
    poll_offset offsets(stored);
    const engine::retry_policy policy{.max_attempts = 1 << 30,
                                      .base_delay = 500ms,
                                      .max_delay = cfg_.poll_backoff_max};
    backoff storage_wait(cfg_.storage_backoff, cfg_.storage_backoff_max);
    for (;;) {
        tg::get_updates_params params;
        params.offset = offsets.request();
        params.timeout = cfg_.poll_timeout;
        params.allowed_updates = allowed_update_kinds();
        // A stop drops the held long poll at once: its answer is confirmed only by the next
        // call's offset, so Telegram delivers those updates again after the restart.
        auto call = [this, &params] { return engine::abandon_on_cancel(svc_.telegram.get_updates(params)); };
        auto classify = [this](const tg::result<tg::update_batch>& r) {
            ++stats_.polls;
            if (r) {
                return engine::retry_verdict::done();
            }
            ++stats_.poll_errors;
            polling_ = false;
            const auto verdict = classify_poll_failure(r.error(), 5s);
            const auto& t = r.error().transport;
            const bool stopping = t && t->code == net::make_error_code(net::errc::cancelled);
            if (verdict.action == engine::retry_action::retry && !stopping) {
                engine::log().warn(r.error().kind == tg::error_kind::conflict ? "bot.conflict"
                                                                              : "bot.poll_failed",
                                   {{"error", r.error().message()}});
            }
            return verdict;
        };
        polling_ = true;
        auto r = co_await engine::retry(policy, std::move(call), std::move(classify), svc_.time);
        const auto cancel_state = co_await asio::this_coro::cancellation_state;
        if (cancel_state.cancelled() != asio::cancellation_type::none) {
            polling_ = false;
            co_return;
        }
        if (!r) {
            polling_ = false;
            engine::log().error("bot.token_refused", {{"error", r.error().message()}});
            throw intake_error("Telegram refused the bot token: " + r.error().message());
        }
        last_poll_ = svc_.time.now();
        polling_ = true;
        auto& batch = *r;
        // Store the batch and move the offset in one transaction; then it is ours to process. A
        // malformed update is recorded as processed (it cannot be handled, and a replay of it
        // must not look new).
        std::vector<std::pair<storage::inbox_entry, tg::update*>> fresh;
        std::size_t replayed = 0;
        std::size_t malformed_new = 0;
        poll_offset::step step;
        co_await svc_.db.writes_open();
        const auto now = svc_.time.wall();
        std::exception_ptr fault;
        try {
            svc_.db.in_transaction([&] {
                std::optional<std::int64_t> lowest_new;
                const auto seen_new = [&](std::int64_t id) {
                    lowest_new = std::min(id, lowest_new.value_or(id));
                };
                for (auto& u : batch.updates) {
                    storage::inbox_entry e{u.update_id, u.chat_id().value_or(0), std::move(u.raw)};
                    if (inbox_.add(e, now)) {
                        seen_new(u.update_id);
                        fresh.emplace_back(std::move(e), &u);
                    } else {
                        ++replayed;
                    }
                }
                for (const auto& m : batch.malformed) {
                    if (m.update_id && log_.mark_processed(*m.update_id, now)) {
                        seen_new(*m.update_id);
                        ++malformed_new;
                    }
                }
                step = offsets.answered(batch.next_offset(), lowest_new);
                if (step.store) {
                    if (step.rebase) {
                        log_.rebase_offset(*step.store);
                    } else {
                        log_.set_offset(*step.store);
                    }
                }
            });
        } catch (...) {
            fault = std::current_exception();
        }
        if (fault) {
            if (!storage::is_transient(fault)) {
                std::rethrow_exception(fault);
            }
            // Not confirmed: the same offset brings the same batch again once storage is back.
            ++stats_.storage_faults;
            const auto delay = storage_wait.take();
            engine::log().warn(
                "bot.storage_fault",
                {{"while", "storing updates"},
                 {"error", engine::describe(fault)},
                 {"retry_ms", std::chrono::duration_cast<std::chrono::milliseconds>(delay).count()}});
            co_await svc_.time.sleep(delay);
            continue;
        }
        storage_wait.reset();
        if (step.rebase) {
            ++stats_.id_resets;
            engine::log().warn(
                "bot.update_ids_reset",
                {{"previous_offset", offsets.high_water().value_or(0)}, {"offset", step.store.value_or(0)}});
        }
        offsets.apply(step);
        stats_.updates_received += batch.updates.size();
        stats_.updates_replayed += replayed;
        stats_.updates_malformed += malformed_new;
        stats_.updates_repaired += batch.repaired.size();
        for (const auto& m : batch.malformed) {
            engine::log().warn("bot.update_malformed",
                               {{"update", m.update_id.value_or(0)}, {"error", m.reason}});
        }
        for (const auto id : batch.repaired) {
            engine::log().warn("bot.update_repaired", {{"update", id}});
        }
        if (step.confirms_nothing) {
            // Updates below the offset again: a compliant server never sends them, and polling at
            // once would spin; wait a little, as after a failed poll.
            ++stats_.poll_errors;
            engine::log().warn("bot.poll_confirms_nothing", {{"updates", batch.updates.size()}});
            co_await svc_.time.sleep(1s);
        }
        for (auto& [entry, u] : fresh) {
            const auto key = queue_key(entry, *u);
            queued item{.update_id = entry.update_id, .chat_id = entry.chat_id};
            co_await accept(item, key);
        }
    }
}

engine::awaitable<void> intake::receive(const webhook_config& cfg) {
    auto ex = co_await asio::this_coro::executor;
    fatal_ = nullptr;
    fatal_set_ = std::make_unique<engine::event>(ex);
    webhook_receiver receiver(ex, cfg, [this](std::string body) { return deliver(std::move(body)); });
    // Listening first: Telegram's first delivery follows setWebhook at once.
    const auto port = receiver.start();
    if (!port) {
        throw intake_error("webhook: cannot listen on " + cfg.listen + ":" + std::to_string(cfg.port) + ": " +
                           port.error().message());
    }
    engine::log().info(
        "webhook.listening",
        {{"address", cfg.listen}, {"port", static_cast<std::int64_t>(*port)}, {"path", cfg.path}});
    std::exception_ptr failure;
    try {
        const engine::retry_policy policy{.max_attempts = 1 << 30,
                                          .base_delay = 500ms,
                                          .max_delay = cfg_.poll_backoff_max};
        auto call = [this, &cfg] {
            tg::set_webhook_params params;
            params.url = cfg.url;
            params.secret_token = cfg.secret_token;
            params.allowed_updates = allowed_update_kinds();
            params.max_connections = cfg.max_connections;
            return svc_.telegram.set_webhook(std::move(params));
        };
        auto classify = [](const tg::result<void>& r) {
            if (r) {
                return engine::retry_verdict::done();
            }
            if (r.error().kind == tg::error_kind::bad_request) {
                return engine::retry_verdict::fail(); // the URL refused: the operator's to fix
            }
            const auto verdict = classify_poll_failure(r.error(), 5s);
            if (verdict.action == engine::retry_action::retry) {
                engine::log().warn("webhook.set_failed", {{"error", r.error().message()}});
            }
            return verdict;
        };
        auto set = co_await engine::retry(policy, std::move(call), std::move(classify), svc_.time);
        if (!set) {
            engine::log().error("webhook.refused", {{"error", set.error().message()}});
            throw intake_error("Telegram refused the webhook: " + set.error().message());
        }
        engine::log().info("webhook.set", {{"url", cfg.url}, {"max_connections", cfg.max_connections}});
        polling_ = true;
        last_poll_ = svc_.time.now();
        // Deliveries arrive on the receiver's connections; this waits for a stop or a fatal fault.
        co_await fatal_set_->wait();
    } catch (...) {
        failure = std::current_exception();
    }
    polling_ = false;
    co_await asio::this_coro::reset_cancellation_state(asio::enable_terminal_cancellation());
    co_await engine::shielded(receiver.stop());
    if (failure && !engine::is_cancellation(failure)) {
        std::rethrow_exception(failure);
    }
    if (fatal_) {
        std::rethrow_exception(fatal_);
    }
}

engine::awaitable<delivery_answer> intake::deliver(std::string body) {
    boost::system::error_code ec;
    const auto value = boost::json::parse(body, ec);
    const auto* object = ec ? nullptr : value.if_object();
    const auto* id_value = object == nullptr ? nullptr : object->if_contains("update_id");
    if (id_value == nullptr || !id_value->is_int64()) {
        ++stats_.updates_malformed;
        const std::string reason =
            ec ? "malformed JSON: " + ec.message() : "not an Update: no integer update_id";
        engine::log().warn("webhook.malformed", {{"error", reason}});
        co_return delivery_answer{.status = 400, .reason = reason};
    }
    const auto id = id_value->as_int64();
    auto parsed = tg::parse_update(value);
    last_poll_ = svc_.time.now();
    // Stored before the 200, in one transaction: an update Telegram saw acknowledged is never lost.
    // One that cannot be parsed is recorded as processed (it cannot be handled, and a resend of it
    // must not look new), and acknowledged: Telegram would resend it forever.
    std::optional<storage::inbox_entry> fresh;
    bool recorded = false;
    std::exception_ptr fault;
    try {
        svc_.db.in_transaction([&] {
            const auto now = svc_.time.wall();
            if (parsed) {
                storage::inbox_entry e{id, parsed->chat_id().value_or(0), body};
                if (inbox_.add(e, now)) {
                    fresh = std::move(e);
                }
            } else {
                recorded = log_.mark_processed(id, now);
            }
        });
    } catch (...) {
        fault = std::current_exception();
    }
    if (fault) {
        ++stats_.storage_faults;
        if (storage::is_transient(fault)) {
            engine::log().warn("webhook.storage_fault", {{"update", id}, {"error", engine::describe(fault)}});
            co_return delivery_answer{.status = 503, .reason = "storage busy; deliver again"};
        }
        engine::log().error("webhook.storage_failed", {{"update", id}, {"error", engine::describe(fault)}});
        if (!fatal_) {
            fatal_ = fault;
            fatal_set_->set(); // receive() ends, and the process with it, as the poll loop does
        }
        co_return delivery_answer{.status = 500, .reason = "storage failed"};
    }
    if (!parsed) {
        if (recorded) {
            ++stats_.updates_malformed;
            engine::log().warn("bot.update_malformed", {{"update", id}, {"error", parsed.error().reason}});
        } else {
            ++stats_.updates_replayed;
        }
        co_return delivery_answer{};
    }
    if (!fresh) {
        ++stats_.updates_replayed; // a resend of one stored or processed already
        co_return delivery_answer{};
    }
    ++stats_.updates_received;
    // Waits for room in a full chat queue: the answer, and with it Telegram's next deliveries on
    // this connection, wait too.
    const auto key = queue_key(*fresh, *parsed);
    queued item{.update_id = fresh->update_id, .chat_id = fresh->chat_id};
    co_await accept(item, key);
    co_return delivery_answer{};
}

engine::awaitable<void> intake::accept(queued item, std::int64_t chat) {
    if (queue_.offer(chat, item) != engine::make_error_code(engine::errc::queue_full)) {
        co_return; // queued; or stopping, and the update stays in the inbox for the next start
    }
    // The chat floods faster than it is served (or every queue is full): wait for room, in order.
    ++stats_.updates_deferred;
    engine::log().debug("bot.update_deferred", {{"update", item.update_id}, {"chat", chat}});
    waiting_ = true;
    struct clear_flag {
        bool& flag;
        ~clear_flag() { flag = false; }
    } clear{waiting_};
    const auto ec = co_await queue_.push(chat, item);
    if (ec) {
        engine::log().debug("bot.update_left_in_inbox", {{"chat", chat}, {"reason", ec.message()}});
    }
}

std::optional<tg::update> intake::read(std::int64_t update_id, const std::string& payload) {
    boost::system::error_code ec;
    // The document lives only for this read: its nodes go in a scratch buffer, not one
    // allocation each (an update's text is a few hundred bytes).
    std::array<unsigned char, 4096> scratch; // NOLINT(cppcoreguidelines-pro-type-member-init)
    boost::json::monotonic_resource nodes(scratch.data(), scratch.size());
    const auto value = boost::json::parse(payload, ec, &nodes);
    if (ec) {
        engine::log().warn("bot.update_malformed", {{"update", update_id}, {"error", ec.message()}});
        ++stats_.updates_malformed;
        return std::nullopt;
    }
    auto u = tg::parse_update(value);
    if (!u) {
        engine::log().warn("bot.update_malformed", {{"update", update_id}, {"error", u.error().reason}});
        ++stats_.updates_malformed;
        return std::nullopt;
    }
    return std::move(*u);
}

engine::awaitable<void> intake::process(queued item) {
    const auto id = item.update_id;
    bool done_before = false;
    std::optional<std::string> payload;
    co_await write_through_faults("reading an update", [&] {
        if (item.from_earlier_run) {
            done_before = log_.is_processed(id);
            if (done_before) {
                inbox_.remove(id);
                return;
            }
        }
        payload = inbox_.payload(id);
    });
    if (done_before) {
        ++stats_.updates_replayed;
        co_return;
    }
    if (!payload) {
        // Only this intake removes inbox rows, after processing them; a row gone before its turn
        // was taken out by hand (an operator's sqlite3): nothing is left to run.
        engine::log().warn("bot.update_gone", {{"update", id}, {"chat", item.chat_id}});
        co_return;
    }
    // Read and parsed here, when its turn comes, though the intake parsed it on arrival: a queued
    // update costs its ids, not its JSON text or the few kilobytes of its parsed form.
    const auto parsed = read(id, *payload);
    payload.reset();
    const auto started = svc_.time.now();
    if (parsed) {
        // A transient storage fault in the handling (a locked or full database) is waited out and
        // the update runs again: the user gets the reply late, not an apology and a lost message.
        backoff wait(cfg_.storage_backoff, cfg_.storage_backoff_max);
        for (;;) {
            const bool done = co_await attempt(item, *parsed);
            if (done) {
                break;
            }
            co_await svc_.time.sleep(wait.take());
        }
    }
    // Marked processed even after a failure: a poisoned update must not replay forever.
    bool replay = false;
    // Grouped: the updates that end in one reactor pass share a commit (storage::database::grouped).
    co_await write_through_faults("marking an update processed", [&] {
        return svc_.db.grouped([&] {
            replay = !log_.mark_processed(id, svc_.time.wall()); // processed meanwhile by a replay
            inbox_.remove(id);
        });
    });
    if (replay) {
        ++stats_.updates_replayed;
    }
    ++stats_.updates_processed;
    handling_seconds_.observe(std::chrono::duration<double>(svc_.time.now() - started).count());
}

engine::awaitable<bool> intake::attempt(const queued& item, const tg::update& u) {
    const auto id = item.update_id;
    std::exception_ptr failure;
    try {
        co_await engine::with_deadline(handler_.handle(u), svc_.time.now() + cfg_.update_deadline, svc_.time);
    } catch (...) {
        failure = std::current_exception();
    }
    if (!failure) {
        co_return true;
    }
    if (engine::is_cancellation(failure)) {
        std::rethrow_exception(failure); // stays in the inbox for the next start
    }
    if (storage::is_transient(failure)) {
        ++stats_.storage_faults;
        engine::log().warn("bot.update_waits_for_storage",
                           {{"update", id}, {"chat", item.chat_id}, {"error", engine::describe(failure)}});
        co_return false;
    }
    ++stats_.handler_failures;
    engine::log().error("bot.handler_failed",
                        {{"update", id}, {"chat", item.chat_id}, {"error", engine::describe(failure)}});
    std::exception_ptr telling;
    try {
        co_await handler_.handle_failure(u);
    } catch (...) {
        telling = std::current_exception();
    }
    if (engine::is_cancellation(telling)) {
        std::rethrow_exception(telling);
    }
    if (telling) {
        // The apology itself failed (the database, say): the update is still confirmed, or a
        // poisoned update would replay forever.
        engine::log().error("bot.failure_not_reported",
                            {{"update", id}, {"error", engine::describe(telling)}});
    }
    co_return true;
}

} // namespace companion::pipelines
