// A client test's world over real loopback sockets: a loop, one simulator (or the suite of them)
// started on an ephemeral port, an HTTP client, and run(), which drives a test coroutine, then
// stops the simulator and closes idle connections whatever the body did, and rethrows what it
// threw. Also planned faults, and (tests/common/files.hpp) file reads and digests.
#pragma once

#include "engine/asio.hpp"
#include "engine/time.hpp"
#include "net/http_client.hpp"
#include "sim/fault.hpp"
#include "tests/common/files.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace companion::test {

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

template <class Sim>
struct sim_fixture {
    asio::io_context ioc{1};
    Sim sim;
    net::http_client http;

    template <class Config>
    explicit sim_fixture(Config sim_config, std::string client_name = "test")
        : sim(ioc.get_executor(), std::move(sim_config)),
          http(ioc.get_executor(), net::client_config{.name = std::move(client_name)}) {
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

/// A planned simulator fault (sim::fault has members without initializers, so designated
/// initializers that skip them warn on g++ 12).
inline sim::fault fault_of(sim::fault_kind kind,
                           std::string match = {},
                           std::string detail = {},
                           engine::duration delay = engine::duration::zero(),
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

} // namespace companion::test
