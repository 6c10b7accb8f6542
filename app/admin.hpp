// The admin HTTP endpoint on loopback: /metrics (Prometheus text), /healthz (polling alive, the
// database writable, no service whose key or model was refused: 503 with the reasons otherwise)
// and /readyz (the first poll succeeded: the bot serves users).
#pragma once

#include "net/http_server.hpp"
#include "pipelines/bot.hpp"
#include "pipelines/service_health.hpp"
#include "storage/database.hpp"

#include <cstdint>
#include <memory>
#include <string>

namespace companion::app {

class admin_server {
public:
    admin_server(engine::executor ex,
                 std::string address,
                 std::uint16_t port,
                 pipelines::bot& bot,
                 storage::database& db,
                 const pipelines::service_health& health);
    net::result<std::uint16_t> start() { return server_.start(); }
    engine::awaitable<void> stop() { return server_.stop(); }
    std::string base_url() const { return server_.base_url(); }

private:
    engine::awaitable<net::server_response> healthz(net::server_request& req);
    engine::awaitable<net::server_response> readyz(net::server_request& req);
    engine::awaitable<net::server_response> metrics(net::server_request& req);
    bool database_writable();

    net::http_server server_;
    pipelines::bot& bot_;
    storage::database& db_;
    const pipelines::service_health& health_;
};

} // namespace companion::app
