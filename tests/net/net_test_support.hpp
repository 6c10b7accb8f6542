// Helpers for net tests over real loopback sockets: run a test coroutine on a fresh loop with a
// real-time safety limit, and capture log lines.
#pragma once

#include "engine/asio.hpp"
#include "engine/log.hpp"
#include "engine/time_source.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <string>
#include <vector>

namespace companion::test {

/// Runs `body` on `ioc` until it completes (or `limit` passes, which fails the test).
inline void run_test(boost::asio::io_context& ioc,
                     engine::awaitable<void> body,
                     std::chrono::steady_clock::duration limit = std::chrono::seconds(20)) {
    bool done = false;
    std::exception_ptr error;
    boost::asio::co_spawn(ioc, std::move(body), [&](std::exception_ptr e) {
        done = true;
        error = e;
    });
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done && std::chrono::steady_clock::now() < deadline) {
        ioc.run_for(std::chrono::milliseconds(50));
        if (ioc.stopped() && !done) {
            ioc.restart();
        }
    }
    BOOST_REQUIRE_MESSAGE(done, "test coroutine did not finish in time");
    if (error) {
        std::rethrow_exception(error);
    }
}

/// Captures every log line while alive (and keeps stderr quiet).
struct log_capture {
    std::vector<std::string> lines;
    log_capture() {
        engine::log().set_capture([this](engine::log_level, std::string_view l) { lines.emplace_back(l); },
                                  true);
    }
    ~log_capture() {
        engine::log().set_capture(nullptr);
        if (std::getenv("COMPANION_TEST_LOGS") != nullptr) {
            for (const auto& l : lines) {
                std::fprintf(stderr, "%s\n", l.c_str());
            }
        }
    }
    log_capture(const log_capture&) = delete;
    log_capture& operator=(const log_capture&) = delete;
    bool contains(std::string_view s) const {
        for (const auto& l : lines) {
            if (l.find(s) != std::string::npos) {
                return true;
            }
        }
        return false;
    }
};

/// Moves `time` one second at a time while a paced stream is read, and only after the reader took
/// the piece before (it sets `may_advance`), so every piece after the first waits for the reader's
/// word; ends when `finished` is set.
inline engine::awaitable<void> pace(engine::manual_time& time, bool& may_advance, const bool& finished) {
    while (!finished) {
        co_await engine::yield();
        if (may_advance && time.sleepers() > 0) {
            may_advance = false;
            time.advance(std::chrono::seconds(1));
        }
    }
}

} // namespace companion::test
