// Health and metrics handlers.
#include "app/admin.hpp"

#include "engine/log.hpp"
#include "engine/metrics.hpp"
#include "pipelines/admin_report.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <SQLiteCpp/Statement.h>

namespace companion::app {

namespace json = boost::json;

bool bearer_authorized(std::string_view authorization, std::string_view token) {
    if (token.empty()) {
        return true;
    }
    constexpr std::string_view scheme = "bearer ";
    if (authorization.size() < scheme.size()) {
        return false;
    }
    for (std::size_t i = 0; i < scheme.size(); ++i) {
        const char c = authorization[i];
        if ((c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c) != scheme[i]) {
            return false;
        }
    }
    const auto given = authorization.substr(scheme.size());
    // Every byte compared whatever differs first: the time taken says nothing of the token.
    unsigned char difference = given.size() == token.size() ? 0 : 1;
    for (std::size_t i = 0; i < token.size(); ++i) {
        const auto g = static_cast<unsigned char>(i < given.size() ? given[i] : 0);
        difference |= static_cast<unsigned char>(g ^ static_cast<unsigned char>(token[i]));
    }
    return difference == 0;
}

namespace {

engine::awaitable<net::server_response> unauthorized() {
    auto r = net::json_response(401, R"({"error":"unauthorized: send Authorization: Bearer <token>"})");
    r.msg.set(net::http::field::www_authenticate, R"(Bearer realm="companion-admin")");
    co_return r;
}

engine::awaitable<net::server_response> not_found() {
    co_return net::json_response(404, R"({"error":"not found"})");
}

} // namespace

admin_server::admin_server(engine::executor ex,
                           std::string address,
                           std::uint16_t port,
                           pipelines::bot& bot,
                           storage::database& db,
                           const pipelines::service_health& health,
                           admin_options options)
    : server_(ex,
              net::server_config{.address = std::move(address),
                                 .port = port,
                                 .name = "admin",
                                 .max_connections = options.max_connections}),
      bot_(bot),
      db_(db),
      health_(health),
      token_(std::move(options.token)) {
    if (!token_.empty()) {
        engine::secrets().add_secret(token_);
    }
    server_.route(net::http::verb::get, "/healthz", guarded([this](net::server_request& r) {
                      return healthz(r);
                  }));
    server_.route(net::http::verb::get, "/readyz", guarded([this](net::server_request& r) {
                      return readyz(r);
                  }));
    server_.route(net::http::verb::get, "/metrics", guarded([this](net::server_request& r) {
                      return metrics(r);
                  }));
    // An unknown path says nothing to a caller without the token either.
    server_.fallback(guarded([](net::server_request&) { return not_found(); }));
}

net::request_handler admin_server::guarded(net::request_handler handler) const {
    // Not a coroutine: the returned awaitable is the handler's own (or the 401's), so nothing of
    // this lambda needs to outlive the call.
    return [this, inner = std::move(handler)](net::server_request& r) {
        return bearer_authorized(r.header("Authorization"), token_) ? inner(r) : unauthorized();
    };
}

bool admin_server::database_writable() {
    try {
        db_.in_transaction([&] {
            SQLite::Statement(db_.connection(), "CREATE TEMP TABLE IF NOT EXISTS healthz (x)").exec();
        });
        return true;
    } catch (const std::exception&) {
        return false;
    }
}

engine::awaitable<net::server_response> admin_server::healthz(net::server_request&) {
    // Polling is alive when a poll finished within twice its timeout plus a margin.
    const auto since = engine::system_time().now() - bot_.last_poll();
    const bool polling = bot_.polling() && since < std::chrono::seconds(120);
    const bool writable = database_writable();
    json::array reasons;
    if (!polling) {
        reasons.emplace_back("telegram: no successful poll in the last 120 s");
    }
    if (!writable) {
        reasons.emplace_back("database: not writable");
    }
    json::object services;
    for (auto s : {pipelines::service::telegram,
                   pipelines::service::llm,
                   pipelines::service::images,
                   pipelines::service::videos}) {
        const auto& st = health_.status(s);
        json::object o{{"state", pipelines::to_string(st.state)}};
        if (!st.error.empty()) {
            o["error"] = st.error;
        }
        if (st.since != engine::wall_time{}) {
            o["since_unix_ms"] = st.since.time_since_epoch().count();
        }
        services[pipelines::to_string(s)] = std::move(o);
        if (st.state == pipelines::service_state::refused) {
            // Nobody can be served by it until an operator changes the key, the quota or the model.
            reasons.emplace_back(std::string(pipelines::to_string(s)) + ": refused: " + st.error);
        }
    }
    const bool ok = reasons.empty();
    json::object body{{"ok", ok},
                      {"polling", polling},
                      {"database_writable", writable},
                      {"services", std::move(services)}};
    if (!ok) {
        body["reasons"] = std::move(reasons);
    }
    co_return net::json_response(ok ? 200 : 503, json::serialize(body));
}

engine::awaitable<net::server_response> admin_server::readyz(net::server_request&) {
    // Ready once a poll has succeeded: updates flow and users are answered.
    const bool polled = bot_.last_poll() != engine::time_point{};
    const bool writable = database_writable();
    const bool ready = polled && writable;
    json::object body{{"ready", ready}};
    if (!polled) {
        body["reason"] = "telegram: no successful poll yet";
    } else if (!writable) {
        body["reason"] = "database: not writable";
    }
    co_return net::json_response(ready ? 200 : 503, json::serialize(body));
}

engine::histogram& loop_lag_histogram() {
    return engine::metrics().make_histogram("loop_lag_seconds",
                                            "How late a 1 ms timer fires.",
                                            engine::latency_buckets_seconds());
}

engine::awaitable<net::server_response> admin_server::metrics(net::server_request&) {
    pipelines::publish_metrics(bot_, db_, engine::system_time().wall());
    co_return net::text_response(200, engine::metrics().expose(), "text/plain; version=0.0.4");
}

} // namespace companion::app
