// Raw-socket helpers for tests of servers that may close a connection early (a connection cap, an
// accept back-off): bytes written as they are, whatever comes back read to the close, and a
// bounded wait for the server's side of it.
#pragma once

#include "engine/asio.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <cstdint>
#include <functional>
#include <string>

namespace companion::test {

/// Writes `bytes` on a fresh connection to 127.0.0.1:`port` that the server may close before or
/// after reading them; returns whatever arrived before the close (nothing, when the close came
/// first or as a reset).
inline engine::awaitable<std::string> try_exchange(std::uint16_t port, std::string bytes) {
    auto ex = co_await boost::asio::this_coro::executor;
    boost::asio::ip::tcp::socket sock(ex);
    co_await sock.async_connect({boost::asio::ip::make_address("127.0.0.1"), port}, engine::use_awaitable);
    auto [wec, wn] = co_await boost::asio::async_write(sock,
                                                       boost::asio::buffer(bytes),
                                                       boost::asio::as_tuple(engine::use_awaitable));
    std::string out;
    if (wec || wn != bytes.size()) {
        co_return out;
    }
    std::array<char, 4096> buf{};
    for (;;) {
        auto [ec, n] = co_await sock.async_read_some(boost::asio::buffer(buf),
                                                     boost::asio::as_tuple(engine::use_awaitable));
        out.append(buf.data(), n);
        if (ec) {
            co_return out;
        }
    }
}

/// Yields to the loop until `done()`; the server's side of a close or an accept needs a few turns.
/// A bounded number of turns, not a clock: a broken server fails instead of hanging.
inline engine::awaitable<bool> turns_until(std::function<bool()> done) {
    auto ex = co_await boost::asio::this_coro::executor;
    for (int turn = 0; turn < 1'000'000 && !done(); ++turn) {
        co_await boost::asio::post(ex, engine::use_awaitable);
    }
    co_return done();
}

} // namespace companion::test
