// Webhook mode (issue 23): Telegram POSTs each update to the bot's HTTP server instead of the bot
// long-polling for it. The receiver checks the secret Telegram sends back
// (X-Telegram-Bot-Api-Secret-Token, 401 otherwise), leaves over-long bodies to the server (413),
// and hands the body to the intake, which stores the update in the durable inbox before the 200:
// an update Telegram saw acknowledged is never lost. A malformed body is a 400; a storage fault a
// 503, so Telegram delivers it again; a full chat queue holds the answer back, and Telegram its
// next deliveries (it opens at most max_connections at once). TLS is the reverse proxy's, or the
// bot's own when a certificate is configured.
#pragma once

#include "engine/asio.hpp"
#include "net/http_server.hpp"

#include <boost/asio/ssl/context.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace companion::pipelines {

struct webhook_config {
    std::string url{};                ///< the public HTTPS URL given to setWebhook
    std::string path = "/telegram";   ///< the path this server answers (the URL's own, behind a proxy)
    std::string listen = "127.0.0.1"; ///< the address the server binds
    std::uint16_t port = 8080;        ///< 0: an ephemeral port (tests)
    std::string secret_token{};       ///< sent to setWebhook, required on every delivery
    int max_connections = 40;         ///< Telegram's parallel deliveries (1-100)
    std::size_t body_limit = 1024 * 1024;
    std::shared_ptr<asio::ssl::context> tls{}; ///< the bot's own TLS; empty: a proxy terminates it
};

/// Sans-I/O: what a request to the webhook path is, before its body is looked at.
enum class delivery_check {
    accept,       ///< POST with the right secret
    wrong_method, ///< 405
    unauthorized, ///< 401: the secret is missing or wrong
};

/// The secret is compared in constant time (its length is not secret: Telegram's is public).
delivery_check
check_delivery(net::http::verb method, std::string_view secret_header, std::string_view secret);

/// What the intake made of one delivered body: the status to answer and why (logged, not sent).
struct delivery_answer {
    unsigned status = 200;
    std::string reason{};
};

/// The webhook's HTTP side; `deliver` is the intake's (stores, queues, answers).
class webhook_receiver {
public:
    using deliver_fn = std::function<engine::awaitable<delivery_answer>(std::string body)>;

    webhook_receiver(engine::executor ex, const webhook_config& cfg, deliver_fn deliver);

    /// Binds and starts serving; the bound port, or why not (address in use, ...).
    net::result<std::uint16_t> start();
    /// Stops accepting and ends the connections; a delivery cut short gets no 200, so Telegram
    /// sends it again.
    engine::awaitable<void> stop();

    std::uint64_t deliveries() const noexcept { return deliveries_; }
    std::uint64_t refused() const noexcept { return refused_; }

private:
    engine::awaitable<net::server_response> on_request(net::server_request& r);

    std::string secret_;
    deliver_fn deliver_;
    net::http_server server_;
    std::uint64_t deliveries_ = 0;
    std::uint64_t refused_ = 0;
};

} // namespace companion::pipelines
