// Planned faults, their HTTP control endpoint, and the wire-level renderings.
#include "sim/fault.hpp"

#include "engine/time.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <array>
#include <utility>

using namespace std::chrono_literals;

namespace companion::sim {

bool parse_fault_kind(std::string_view text, fault_kind& out) {
    const auto kind = engine::enum_from_name<fault_kind>(text);
    if (kind) {
        out = *kind;
    }
    return kind.has_value();
}

void fault_injector::add(fault f) {
    const auto ends = f.lasts > engine::duration::zero() ? now() + f.lasts : engine::time_point::max();
    faults_.push_back({std::move(f), ends});
}

void fault_injector::clear() {
    faults_.clear();
}

std::optional<fault> fault_injector::take(std::string_view method) {
    const auto t = now();
    std::erase_if(faults_, [t](const planned& p) { return p.ends <= t; }); // incidents that are over
    for (auto it = faults_.begin(); it != faults_.end(); ++it) {
        if (!it->f.match.empty() && method.find(it->f.match) == std::string_view::npos) {
            continue;
        }
        fault f = it->f;
        if (it->f.count > 0 && --it->f.count == 0) {
            faults_.erase(it);
        }
        ++applied_;
        return f;
    }
    return std::nullopt;
}

void fault_injector::expose(net::http_server& server) {
    server.route(net::http::verb::post,
                 "/_sim/faults",
                 [this](net::server_request& req) -> engine::awaitable<net::server_response> {
                     boost::system::error_code ec;
                     auto v = boost::json::parse(req.msg.body(), ec);
                     if (ec || !v.is_object()) {
                         co_return net::json_response(400, R"({"error":"body must be a JSON object"})");
                     }
                     const auto& o = v.as_object();
                     fault f;
                     if (auto* m = o.if_contains("match"); m && m->is_string()) {
                         f.match = std::string(m->as_string());
                     }
                     if (auto* k = o.if_contains("kind"); k && k->is_string()) {
                         if (!parse_fault_kind(std::string_view(k->as_string()), f.kind)) {
                             co_return net::json_response(400, R"({"error":"unknown fault kind"})");
                         }
                     } else {
                         co_return net::json_response(400, R"({"error":"kind is required"})");
                     }
                     if (auto* c = o.if_contains("count"); c && c->is_int64()) {
                         f.count = static_cast<int>(c->as_int64());
                     }
                     if (auto* d = o.if_contains("delay_ms"); d && d->is_int64()) {
                         f.delay = std::chrono::milliseconds(d->as_int64());
                     }
                     if (auto* s = o.if_contains("status"); s && s->is_int64()) {
                         f.status = static_cast<unsigned>(s->as_int64());
                     }
                     if (auto* t = o.if_contains("detail"); t && t->is_string()) {
                         f.detail = std::string(t->as_string());
                     }
                     if (auto* l = o.if_contains("lasts_ms"); l && l->is_int64() && l->as_int64() > 0) {
                         f.lasts = std::chrono::milliseconds(l->as_int64());
                     }
                     add(std::move(f));
                     co_return net::json_response(200, R"({"ok":true})");
                 });
    server.route(net::http::verb::delete_,
                 "/_sim/faults",
                 [this](net::server_request&) -> engine::awaitable<net::server_response> {
                     clear();
                     co_return net::json_response(200, R"({"ok":true})");
                 });
}

engine::awaitable<bool>
apply_wire_fault(const fault& f, net::server_response& response, engine::time_source& time) {
    using kind = net::response_fault::kind;
    switch (f.kind) {
    case fault_kind::latency:
        co_await time.sleep(f.delay);
        co_return false; // the service answers normally afterwards
    case fault_kind::reset:
        response.fault.what = kind::reset;
        co_return true;
    case fault_kind::reset_mid_body:
        response.fault.what = kind::reset_mid_body;
        co_return false; // the service renders its normal answer, which is then cut in half
    case fault_kind::slow_body:
        response.fault.what = kind::slow_body;
        response.fault.delay = f.delay.count() > 0 ? f.delay : engine::duration(50ms);
        co_return false; // the service renders its normal body, which is then sent slowly
    case fault_kind::malformed_json:
        response = net::json_response(200, R"({"ok":true,"result":[{"update_id":)");
        co_return true;
    default:
        co_return false;
    }
}

} // namespace companion::sim
