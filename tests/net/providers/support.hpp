// Helpers for the provider client tests: drive a test coroutine on a real io_context (loopback
// sockets, real time), rethrow what it threw, and check downloaded files.
#pragma once

#include "engine/asio.hpp"
#include "engine/time.hpp"
#include "net/http_client.hpp"
#include "sim/fault.hpp"
#include "tests/common/temp_dir.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>

#include <openssl/evp.h>

#include <chrono>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>

namespace companion::test {

using namespace std::chrono_literals;

/// Runs `body()` (a coroutine factory; it lives in the caller's full expression, so a lambda that
/// captures `this` stays alive while the loop runs) until the loop has no work, then rethrows.
template <class F>
void run_loop(asio::io_context& ioc, F&& body) {
    std::exception_ptr failure;
    bool finished = false;
    asio::co_spawn(ioc, body(), [&](std::exception_ptr e) {
        failure = e;
        finished = true;
    });
    ioc.run();
    ioc.restart();
    if (failure) {
        std::rethrow_exception(failure);
    }
    BOOST_REQUIRE(finished);
}

inline std::string sha256_hex(const std::string& data) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_Digest(data.data(), data.size(), md, &n, EVP_sha256(), nullptr);
    std::string out;
    char buf[3];
    for (unsigned i = 0; i < n; ++i) {
        std::snprintf(buf, sizeof buf, "%02x", md[i]);
        out += buf;
    }
    return out;
}

inline std::string read_file(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// A planned simulator fault (sim::fault has members without initializers, so designated
/// initializers that skip them warn on g++ 12).
inline sim::fault fault_of(sim::fault_kind kind,
                           std::string match = {},
                           std::string detail = {},
                           engine::duration delay = 0ms,
                           unsigned status = 0,
                           int count = 1) {
    sim::fault f;
    f.match = std::move(match);
    f.kind = kind;
    f.count = count;
    f.delay = delay;
    f.status = status;
    f.detail = std::move(detail);
    return f;
}

/// A client test's world: a loop, one simulator of type `Sim` started on loopback, and an HTTP
/// client; run() drives a test coroutine, then stops the simulator and closes idle connections.
template <class Sim>
struct sim_fixture {
    asio::io_context ioc{1};
    Sim sim;
    net::http_client http{ioc.get_executor(), {}};

    template <class Config>
    explicit sim_fixture(Config sim_config) : sim(ioc.get_executor(), std::move(sim_config)) {
        BOOST_REQUIRE(sim.start());
    }

    template <class F>
    void run(F&& body) {
        run_loop(ioc, [&]() -> engine::awaitable<void> {
            std::exception_ptr e;
            try {
                co_await body();
            } catch (...) {
                e = std::current_exception();
            }
            co_await sim.stop();
            http.close_idle();
            if (e) {
                std::rethrow_exception(e);
            }
        });
    }
};

} // namespace companion::test
