// Long polling into the inbox and the per-chat queues.
#include "pipelines/intake.hpp"

#include "engine/error.hpp"
#include "engine/log.hpp"

#include <boost/json/parse.hpp>

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

intake::intake(engine::executor ex, bot_services& svc, update_handler& handler, intake_config cfg)
    : svc_(svc),
      handler_(handler),
      cfg_(cfg),
      queue_(std::move(ex),
             {.per_key_limit = cfg.per_chat_queue, .total_limit = cfg.total_queue, .name = "chats"}),
      log_(svc.db),
      inbox_(svc.db) {}

engine::awaitable<void> intake::replay() {
    for (auto& entry : inbox_.pending()) {
        co_await accept(std::move(entry), std::nullopt);
    }
}

engine::awaitable<void> intake::poll() {
    std::optional<std::int64_t> offset = log_.offset();
    const engine::retry_policy policy{.max_attempts = 1 << 30,
                                      .base_delay = 500ms,
                                      .max_delay = cfg_.poll_backoff_max};
    for (;;) {
        tg::get_updates_params params;
        params.offset = offset;
        params.timeout = cfg_.poll_timeout;
        params.allowed_updates =
            std::vector<std::string>{"message", "edited_message", "callback_query", "my_chat_member"};
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
        for (const auto& m : batch.malformed) {
            ++stats_.updates_malformed; // confirmed past by the offset; nothing to handle
            engine::log().warn("bot.update_malformed",
                               {{"update", m.update_id.value_or(0)}, {"error", m.reason}});
        }
        // Store the batch and advance the offset in one transaction; then it is ours to process.
        std::vector<std::pair<storage::inbox_entry, tg::update*>> fresh;
        const auto next = batch.next_offset();
        const auto now = svc_.time.wall();
        svc_.db.in_transaction([&] {
            for (auto& u : batch.updates) {
                ++stats_.updates_received;
                storage::inbox_entry e{u.update_id, u.chat_id().value_or(0), std::move(u.raw)};
                if (inbox_.add(e, now)) {
                    fresh.emplace_back(std::move(e), &u);
                } else {
                    ++stats_.updates_replayed;
                }
            }
            if (next && next != offset) {
                log_.set_offset(*next);
            }
        });
        const bool confirms = next && (!offset || *next > *offset);
        if (next) {
            offset = std::max(offset.value_or(0), *next);
        }
        if (!confirms && (!batch.updates.empty() || !batch.malformed.empty())) {
            // Updates below the offset again: a compliant server never sends them, and polling at
            // once would spin; wait a little, as after a failed poll.
            ++stats_.poll_errors;
            engine::log().warn("bot.poll_confirms_nothing", {{"updates", batch.updates.size()}});
            co_await svc_.time.sleep(1s);
        }
        for (auto& [entry, u] : fresh) {
            entry.payload.clear(); // parsed already; the inbox row keeps the text
            co_await accept(std::move(entry), std::move(*u));
        }
    }
}

engine::awaitable<void> intake::accept(storage::inbox_entry entry, std::optional<tg::update> parsed) {
    const auto chat = entry.chat_id;
    if (queue_.submit(chat, process(entry, parsed)) != engine::make_error_code(engine::errc::queue_full)) {
        co_return; // queued; or stopping, and the update stays in the inbox for the next start
    }
    // The chat floods faster than it is served (or every queue is full): wait for room, in order.
    ++stats_.updates_deferred;
    engine::log().debug("bot.update_deferred", {{"update", entry.update_id}, {"chat", chat}});
    waiting_ = true;
    struct clear_flag {
        bool& flag;
        ~clear_flag() { flag = false; }
    } clear{waiting_};
    const auto ec = co_await queue_.push(chat, process(std::move(entry), std::move(parsed)));
    if (ec) {
        engine::log().debug("bot.update_left_in_inbox", {{"chat", chat}, {"reason", ec.message()}});
    }
}

engine::awaitable<void> intake::process(storage::inbox_entry entry, std::optional<tg::update> parsed) {
    const auto id = entry.update_id;
    if (log_.is_processed(id)) {
        ++stats_.updates_replayed;
        inbox_.remove(id);
        co_return;
    }
    if (!parsed) {
        boost::system::error_code ec;
        auto value = boost::json::parse(entry.payload, ec);
        if (!ec) {
            if (auto u = tg::parse_update(value)) {
                parsed = std::move(*u);
            } else {
                engine::log().warn("bot.update_malformed", {{"update", id}, {"error", u.error().reason}});
            }
        } else {
            engine::log().warn("bot.update_malformed", {{"update", id}, {"error", ec.message()}});
        }
        if (!parsed) {
            ++stats_.updates_malformed;
        }
    }
    if (parsed) {
        std::exception_ptr failure;
        try {
            co_await engine::with_deadline(handler_.handle(*parsed),
                                           svc_.time.now() + cfg_.update_deadline,
                                           svc_.time);
        } catch (...) {
            failure = std::current_exception();
        }
        if (failure) {
            if (engine::is_cancellation(failure)) {
                std::rethrow_exception(failure); // stays in the inbox for the next start
            }
            ++stats_.handler_failures;
            engine::log().error(
                "bot.handler_failed",
                {{"update", id}, {"chat", entry.chat_id}, {"error", engine::describe(failure)}});
            std::exception_ptr telling;
            try {
                co_await handler_.handle_failure(*parsed);
            } catch (...) {
                telling = std::current_exception();
            }
            if (engine::is_cancellation(telling)) {
                std::rethrow_exception(telling);
            }
            if (telling) {
                // The apology itself failed (the database, say): the update is still confirmed
                // below, or a poisoned update would replay forever.
                engine::log().error("bot.failure_not_reported",
                                    {{"update", id}, {"error", engine::describe(telling)}});
            }
        }
    }
    // Marked processed even after a failure: a poisoned update must not replay forever.
    svc_.db.in_transaction([&] {
        if (!log_.mark_processed(id, svc_.time.wall())) {
            ++stats_.updates_replayed; // processed meanwhile by a replay of the same id
        }
        inbox_.remove(id);
    });
    ++stats_.updates_processed;
}

} // namespace companion::pipelines
