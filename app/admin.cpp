// Health and metrics handlers.
#include "app/admin.hpp"

#include "engine/metrics.hpp"
#include "engine/task_group.hpp"

#include <SQLiteCpp/Statement.h>

namespace companion::app {

admin_server::admin_server(engine::executor ex,
                           std::string address,
                           std::uint16_t port,
                           pipelines::bot& bot,
                           storage::database& db)
    : server_(ex, net::server_config{.address = std::move(address), .port = port, .name = "admin"}),
      bot_(bot),
      db_(db) {
    server_.route(net::http::verb::get, "/healthz", [this](net::server_request& r) { return healthz(r); });
    server_.route(net::http::verb::get, "/metrics", [this](net::server_request& r) { return metrics(r); });
}

engine::awaitable<net::server_response> admin_server::healthz(net::server_request&) {
    // Polling is alive when a poll finished within twice its timeout plus a margin.
    const auto since = engine::clock::now() - bot_.last_poll();
    const bool polling = bot_.polling() && since < std::chrono::seconds(120);
    bool writable = false;
    try {
        db_.in_transaction([&] {
            SQLite::Statement(db_.connection(), "CREATE TEMP TABLE IF NOT EXISTS healthz (x)").exec();
        });
        writable = true;
    } catch (const std::exception&) {
        writable = false;
    }
    const bool ok = polling && writable;
    std::string body = std::string("{\"ok\":") + (ok ? "true" : "false") +
                       ",\"polling\":" + (polling ? "true" : "false") +
                       ",\"database_writable\":" + (writable ? "true" : "false") + "}";
    co_return net::json_response(ok ? 200 : 503, std::move(body));
}

engine::awaitable<net::server_response> admin_server::metrics(net::server_request&) {
    auto& m = engine::metrics();
    const auto& s = bot_.stats();
    m.make_gauge("bot_updates_processed", "Updates processed since start.")
        .set(static_cast<double>(s.updates_processed));
    m.make_gauge("bot_updates_replayed", "Replayed updates skipped since start.")
        .set(static_cast<double>(s.updates_replayed));
    m.make_gauge("bot_active_chats", "Chats with queued or running updates.")
        .set(static_cast<double>(bot_.active_chats()));
    m.make_gauge("bot_queued_updates", "Updates waiting in chat queues.")
        .set(static_cast<double>(bot_.queued_updates()));
    m.make_gauge("bot_deferred_updates", "Updates waiting for room in their chat's queue.")
        .set(static_cast<double>(bot_.deferred_updates()));
    m.make_gauge("bot_video_jobs_running", "Video jobs being generated or delivered.")
        .set(static_cast<double>(bot_.video_jobs_running()));
    m.make_gauge("engine_live_tasks", "Tasks alive in every task group.")
        .set(static_cast<double>(engine::task_group::live_tasks()));
    m.make_gauge("storage_wal_frames", "WAL frames since the last checkpoint.")
        .set(static_cast<double>(db_.wal_frames()));
    co_return net::text_response(200, m.expose(), "text/plain; version=0.0.4");
}

} // namespace companion::app
