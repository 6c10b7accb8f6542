// counter_service: an HTTP service of its own on Boost.Beast, built against the installed
// companion package, that runs on its own io_context with the engine's pieces:
//
// - a task group owns every connection (and the load it sends itself), so nothing outlives main;
// - a deadline on every request read: a client that connects and says nothing is cut off;
// - a keyed serial queue: additions to one account run one after another, in arrival order,
//   while different accounts run side by side;
// - companion::net's HTTP client is the load: three accounts, twenty sequential additions each.
//
// It prints one line and exits 0 when every addition landed once and in order, 1 otherwise.
#include "engine/error.hpp"
#include "engine/keyed_serial.hpp"
#include "engine/runtime.hpp"
#include "engine/sync.hpp"
#include "engine/task_group.hpp"
#include "engine/time.hpp"
#include "net/http_client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace engine = companion::engine;
namespace net = companion::net;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

namespace {

struct ledger_state {
    std::map<std::string, long> balance;
    std::map<std::string, std::vector<int>> order; // the sequence numbers, as applied
};

struct service {
    engine::executor ex;
    ledger_state state;
    engine::keyed_serial<std::string> ledger;
    engine::task_group connections;
    int timed_out = 0;

    explicit service(engine::executor e)
        : ex(e),
          ledger(e, {.per_key_limit = 64, .name = "accounts"}),
          connections(e, {.name = "connections"}) {}
};

// One addition, applied in its account's turn.
engine::awaitable<void> apply(service& s, std::string account, int seq, std::shared_ptr<engine::event> done) {
    co_await engine::sleep(std::chrono::microseconds(200 * (seq % 3))); // some work that takes time
    s.state.balance[account] += seq;
    s.state.order[account].push_back(seq);
    done->set();
}

http::response<http::string_body> answer(http::status status, std::string body, unsigned version) {
    http::response<http::string_body> res{status, version};
    res.set(http::field::content_type, "text/plain");
    res.body() = std::move(body);
    res.prepare_payload();
    return res;
}

// POST /add/<account> with the sequence number as the body; GET /balance/<account>.
engine::awaitable<http::response<http::string_body>> handle(service& s,
                                                            const http::request<http::string_body>& req) {
    const std::string target(req.target());
    if (req.method() == http::verb::post && target.rfind("/add/", 0) == 0) {
        const std::string account = target.substr(5);
        const int seq = std::stoi(req.body());
        auto done = std::make_shared<engine::event>(s.ex);
        const auto refused = co_await s.ledger.push(account, apply(s, account, seq, done));
        if (refused) {
            co_return answer(http::status::service_unavailable, refused.message(), req.version());
        }
        co_await done->wait();
        co_return answer(http::status::ok, std::to_string(s.state.balance[account]), req.version());
    }
    if (req.method() == http::verb::get && target.rfind("/balance/", 0) == 0) {
        co_return answer(http::status::ok, std::to_string(s.state.balance[target.substr(9)]), req.version());
    }
    co_return answer(http::status::not_found, "no such route", req.version());
}

engine::awaitable<http::request<http::string_body>> read_request(beast::tcp_stream& stream,
                                                                 beast::flat_buffer& buffer) {
    http::request<http::string_body> req;
    co_await http::async_read(stream, buffer, req, engine::use_awaitable);
    co_return req;
}

engine::awaitable<void> serve_connection(service& s, tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    for (;;) {
        http::request<http::string_body> req;
        try {
            // Each request within 1 s of the last answer: an idle or silent client is let go.
            req = co_await engine::with_timeout(read_request(stream, buffer), 1s);
        } catch (const boost::system::system_error& e) {
            if (e.code() == engine::errc::timeout) {
                ++s.timed_out;
            }
            co_return; // timeout, end of stream or a bad request: the connection ends
        }
        const bool keep_alive = req.keep_alive();
        auto res = co_await handle(s, req);
        res.keep_alive(keep_alive);
        co_await http::async_write(stream, res, engine::use_awaitable);
        if (!keep_alive) {
            co_return;
        }
    }
}

engine::awaitable<void> accept_loop(service& s, tcp::acceptor& acceptor) {
    for (;;) {
        auto socket = co_await acceptor.async_accept(engine::use_awaitable);
        if (!s.connections.spawn(serve_connection(s, std::move(socket)))) {
            co_return; // stopping
        }
    }
}

// A client that connects and never sends a byte: the service must cut it off.
engine::awaitable<void> silent_client(std::uint16_t port, bool& cut_off) {
    tcp::socket socket(co_await asio::this_coro::executor);
    co_await socket.async_connect({asio::ip::make_address("127.0.0.1"), port}, engine::use_awaitable);
    char byte = 0;
    const auto [ec, n] =
        co_await socket.async_read_some(asio::buffer(&byte, 1), asio::as_tuple(engine::use_awaitable));
    cut_off = ec == asio::error::eof && n == 0;
}

// Twenty additions to one account, one after another, through the engine's HTTP client.
engine::awaitable<void>
account_load(net::http_client& client, std::uint16_t port, std::string account, int& ok) {
    for (int seq = 1; seq <= 20; ++seq) {
        net::request req{.method = http::verb::post,
                         .url = "http://127.0.0.1:" + std::to_string(port) + "/add/" + account,
                         .body = std::to_string(seq)};
        auto res = co_await client.send(std::move(req));
        if (res && res->status == 200) {
            ++ok;
        }
    }
}

struct outcome {
    int ok = 0;
    bool silent_cut_off = false;
};

engine::awaitable<void> run(service& s, tcp::acceptor& acceptor, outcome& out, engine::runtime& rt) {
    const auto port = acceptor.local_endpoint().port();
    engine::task_group server(s.ex, {.name = "server"});
    if (!server.spawn(accept_loop(s, acceptor))) {
        co_return;
    }
    {
        // Named, not a temporary in the call: g++ 12 misjudges temporaries in coroutine frames.
        net::client_config load_cfg;
        load_cfg.max_connections_per_origin = 4;
        load_cfg.name = "load";
        net::http_client client(s.ex, load_cfg);
        engine::task_group load(s.ex, {.name = "load", .policy = engine::on_child_error::fail_group});
        const bool started = load.spawn(silent_client(port, out.silent_cut_off)) &&
                             load.spawn(account_load(client, port, "ada", out.ok)) &&
                             load.spawn(account_load(client, port, "bob", out.ok)) &&
                             load.spawn(account_load(client, port, "cem", out.ok));
        if (!started) {
            load.cancel();
        }
        co_await load.join();
        client.close_idle();
    }
    // Stop: the acceptor first, then every connection and the queue, within a grace.
    server.cancel();
    co_await server.shutdown(1s);
    co_await s.connections.shutdown(1s);
    co_await s.ledger.shutdown(1s);
    rt.request_stop();
}

} // namespace

int main() {
    asio::io_context ioc{1}; // the application's own loop
    engine::runtime rt(ioc, {.grace = 2s, .handle_signals = false});
    service s(rt.get_executor());
    tcp::acceptor acceptor(ioc, {asio::ip::make_address("127.0.0.1"), 0});
    outcome out;
    if (!rt.spawn(run(s, acceptor, out, rt))) {
        return 1;
    }
    rt.start();
    while (rt.running()) {
        ioc.run_one();
    }
    ioc.run();

    bool in_order = s.state.order.size() == 3;
    for (const auto& [account, seqs] : s.state.order) {
        in_order = in_order && seqs.size() == 20;
        for (std::size_t i = 0; i < seqs.size(); ++i) {
            in_order = in_order && seqs[i] == static_cast<int>(i) + 1;
        }
    }
    const bool balances =
        s.state.balance["ada"] == 210 && s.state.balance["bob"] == 210 && s.state.balance["cem"] == 210;
    std::printf("consumer: requests=%d in_order=%s balances=%s silent_client_cut_off=%s timed_out=%d\n",
                out.ok,
                in_order ? "yes" : "no",
                balances ? "yes" : "no",
                out.silent_cut_off ? "yes" : "no",
                s.timed_out);
    return (out.ok == 60 && in_order && balances && out.silent_cut_off && s.timed_out >= 1) ? 0 : 1;
}
