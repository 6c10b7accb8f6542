// The webhook receiver: the secret check and the hand-off to the intake.
#include "pipelines/webhook.hpp"

#include "engine/log.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <openssl/crypto.h>

namespace companion::pipelines {

delivery_check
check_delivery(net::http::verb method, std::string_view secret_header, std::string_view secret) {
    if (method != net::http::verb::post) {
        return delivery_check::wrong_method;
    }
    if (secret.empty()) {
        return delivery_check::accept; // no secret configured (a proxy checks it, or none)
    }
    if (secret_header.size() != secret.size() ||
        CRYPTO_memcmp(secret_header.data(), secret.data(), secret.size()) != 0) {
        return delivery_check::unauthorized;
    }
    return delivery_check::accept;
}

namespace {

net::server_config server_config_of(const webhook_config& cfg) {
    net::server_config s;
    s.address = cfg.listen;
    s.port = cfg.port;
    s.body_limit = cfg.body_limit;
    s.name = "webhook";
    s.tls = cfg.tls;
    // Telegram opens at most max_connections; a few more for probes and reconnects.
    s.max_connections = static_cast<std::size_t>(cfg.max_connections) + 8;
    return s;
}

} // namespace

webhook_receiver::webhook_receiver(engine::executor ex, const webhook_config& cfg, deliver_fn deliver)
    : secret_(cfg.secret_token), deliver_(std::move(deliver)), server_(std::move(ex), server_config_of(cfg)) {
    server_.route_prefix(cfg.path, [this](net::server_request& r) { return on_request(r); });
}

net::result<std::uint16_t> webhook_receiver::start() {
    return server_.start();
}

engine::awaitable<void> webhook_receiver::stop() {
    co_await server_.stop();
}

engine::awaitable<net::server_response> webhook_receiver::on_request(net::server_request& r) {
    switch (check_delivery(r.msg.method(), r.header("X-Telegram-Bot-Api-Secret-Token"), secret_)) {
    case delivery_check::wrong_method:
        ++refused_;
        co_return net::json_response(405, R"({"error":"POST only"})");
    case delivery_check::unauthorized:
        ++refused_;
        engine::log().warn("webhook.unauthorized", {{"remote", r.remote.address().to_string()}});
        co_return net::json_response(401, R"({"error":"wrong or missing secret token"})");
    case delivery_check::accept:
        break;
    }
    ++deliveries_;
    auto answer = co_await deliver_(std::move(r.msg.body()));
    if (answer.status == 200) {
        co_return net::json_response(200, "{}");
    }
    co_return net::json_response(answer.status,
                                 boost::json::serialize(boost::json::object{{"error", answer.reason}}));
}

} // namespace companion::pipelines
