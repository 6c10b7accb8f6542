// HTTP client figures against a loopback server running on its own thread: requests per second
// and client CPU microseconds per request (keep-alive), and heap bytes per idle pooled connection.
// Prints a table and writes JSON (argv[1], default bench_http.json).
#include "bench/common/measure.hpp"
#include "engine/task_group.hpp"
#include "net/http_client.hpp"
#include "net/http_server.hpp"

#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <malloc.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <string>
#include <thread>

namespace asio = boost::asio;
using namespace companion; // engine::, net::, ... name the layers
using namespace std::chrono_literals;

namespace {

struct figures {
    double requests_per_second = 0;
    double cpu_us_per_request = 0;
};

engine::awaitable<void> worker(net::http_client& c, std::string url, int n) {
    for (int i = 0; i < n; ++i) {
        net::request r;
        r.url = url;
        auto out = co_await c.send(std::move(r));
        if (!out || out->status != 200) {
            std::fprintf(stderr, "request failed\n");
            co_return;
        }
    }
}

// `connections` workers, each making `requests` requests, run to their end.
void run_workers(asio::io_context& ioc,
                 engine::task_group& g,
                 net::http_client& client,
                 const std::string& url,
                 int connections,
                 int requests) {
    for (int i = 0; i < connections; ++i) {
        bench::spawn_or_fail(g, worker(client, url, requests));
    }
    ioc.restart();
    ioc.run();
}

figures run_load(const std::string& url, int connections, int total) {
    asio::io_context ioc{1};
    net::http_client client(ioc.get_executor(),
                            {.max_connections_per_origin = static_cast<std::size_t>(connections)});
    engine::task_group g(ioc.get_executor());
    run_workers(ioc, g, client, url, connections, 10); // warm-up: open the connections
    const double cpu0 = bench::cpu_seconds();
    const auto t0 = std::chrono::steady_clock::now();
    run_workers(ioc, g, client, url, connections, total / connections);
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double cpu = bench::cpu_seconds() - cpu0;
    return {static_cast<double>(total) / wall, cpu * 1e6 / static_cast<double>(total)};
}

double bytes_per_idle_connection(const std::string& url, int connections) {
    asio::io_context ioc{1};
    const auto before = mallinfo2().uordblks;
    double per = 0;
    {
        net::http_client client(ioc.get_executor(),
                                {.max_connections_per_origin = static_cast<std::size_t>(connections)});
        engine::task_group g(ioc.get_executor());
        run_workers(ioc, g, client, url, connections, 1);
        const auto after = mallinfo2().uordblks;
        per = static_cast<double>(after - before) / static_cast<double>(client.idle_connections());
    }
    return per;
}

} // namespace

int main(int argc, char** argv) {
    const std::string json_path = argc > 1 ? argv[1] : "bench_http.json";

    // The server on its own thread (and, with taskset, its own core), like a separate service.
    asio::io_context server_ioc{1};
    net::http_server server(server_ioc.get_executor(), {});
    server.route(net::http::verb::get,
                 "/v1/videos/video_123",
                 [](net::server_request&) -> engine::awaitable<net::server_response> {
                     co_return net::json_response(
                         200,
                         R"({"id":"video_123","object":"video","status":"in_progress","progress":42})");
                 });
    auto port = server.start();
    if (!port) {
        std::fprintf(stderr, "cannot start server\n");
        return 1;
    }
    auto guard = asio::make_work_guard(server_ioc);
    std::thread server_thread([&] { server_ioc.run(); });
    const std::string url = server.base_url() + "/v1/videos/video_123";

    const auto one = run_load(url, 1, 20'000);
    const auto many = run_load(url, 16, 40'000);
    const double idle_bytes = bytes_per_idle_connection(url, 200);

    guard.reset();
    asio::co_spawn(server_ioc, server.stop(), asio::detached);
    server_thread.join();

    std::printf("%-44s %12s %16s\n", "scenario", "requests/s", "client CPU us/req");
    std::printf("%-44s %12.0f %16.1f\n",
                "1 connection, sequential, keep-alive",
                one.requests_per_second,
                one.cpu_us_per_request);
    std::printf("%-44s %12.0f %16.1f\n",
                "16 connections, keep-alive",
                many.requests_per_second,
                many.cpu_us_per_request);
    std::printf("%-44s %12.0f bytes\n", "heap per idle pooled connection", idle_bytes);

    std::ofstream out(json_path);
    out << "{\"bench\":\"bench_http\",\"one_connection\":{\"requests_per_second\":" << one.requests_per_second
        << ",\"cpu_us_per_request\":" << one.cpu_us_per_request
        << "},\"sixteen_connections\":{\"requests_per_second\":" << many.requests_per_second
        << ",\"cpu_us_per_request\":" << many.cpu_us_per_request
        << "},\"bytes_per_idle_connection\":" << idle_bytes << "}\n";
    std::printf("json: %s\n", json_path.c_str());
    return 0;
}
