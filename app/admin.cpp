// Health and metrics handlers.
#include "app/admin.hpp"

#include "engine/metrics.hpp"
#include "pipelines/admin_report.hpp"

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
    const auto since = engine::system_time().now() - bot_.last_poll();
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
    pipelines::publish_metrics(bot_, db_, engine::system_time().wall());
    co_return net::text_response(200, engine::metrics().expose(), "text/plain; version=0.0.4");
}

} // namespace companion::app
