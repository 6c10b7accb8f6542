// The admin HTTP endpoint: /metrics (Prometheus text), /healthz (polling alive, the database
// writable, no service whose key or model was refused: 503 with the reasons otherwise) and /readyz
// (the first poll succeeded: the bot serves users). Loopback by default; beyond it only with a
// bearer token (config refuses otherwise), and never more than a capped number of connections
// (idle connections once exhausted the bot's file descriptors).
#pragma once

#include "net/http_server.hpp"
#include "pipelines/bot.hpp"
#include "pipelines/service_health.hpp"
#include "storage/database.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace companion::app {

struct admin_options {
    /// Non-empty: every request needs "Authorization: Bearer <token>" (401 otherwise).
    std::string token{};
    /// Connections served at once; more are closed as soon as they are accepted.
    std::size_t max_connections = 64;
};

/// Whether a request with this Authorization header value may be served: always when `token` is
/// empty; otherwise only "Bearer <token>" (the scheme in any case), compared in constant time.
bool bearer_authorized(std::string_view authorization, std::string_view token);

/// The loop-lag histogram the process's probe fills (`loop_lag_seconds`), registered once.
engine::histogram& loop_lag_histogram();

class admin_server {
public:
    admin_server(engine::executor ex,
                 std::string address,
                 std::uint16_t port,
                 pipelines::bot& bot,
                 storage::database& db,
                 const pipelines::service_health& health,
                 admin_options options = {});
    net::result<std::uint16_t> start() { return server_.start(); }
    engine::awaitable<void> stop() { return server_.stop(); }
    std::string base_url() const { return server_.base_url(); }
    std::size_t connections() const noexcept { return server_.connections(); }
    std::size_t connections_refused() const noexcept { return server_.connections_refused(); }

private:
    engine::awaitable<net::server_response> healthz(net::server_request& req);
    engine::awaitable<net::server_response> readyz(net::server_request& req);
    engine::awaitable<net::server_response> metrics(net::server_request& req);
    bool database_writable();
    /// `handler` behind the bearer check.
    net::request_handler guarded(net::request_handler handler) const;

    net::http_server server_;
    pipelines::bot& bot_;
    storage::database& db_;
    const pipelines::service_health& health_;
    std::string token_;
};

} // namespace companion::app
