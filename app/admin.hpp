// The admin HTTP endpoint on loopback: /metrics (Prometheus text) and /healthz (polling alive,
// database writable).
#pragma once

#include "net/http_server.hpp"
#include "pipelines/bot.hpp"
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
                 storage::database& db);
    net::result<std::uint16_t> start() { return server_.start(); }
    engine::awaitable<void> stop() { return server_.stop(); }
    std::string base_url() const { return server_.base_url(); }

private:
    engine::awaitable<net::server_response> healthz(net::server_request& req);
    engine::awaitable<net::server_response> metrics(net::server_request& req);

    net::http_server server_;
    pipelines::bot& bot_;
    storage::database& db_;
};

} // namespace companion::app
