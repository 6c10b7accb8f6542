// Helpers for engine tests: a frozen-clock fixture and loop drivers that never sleep for real.
#pragma once

#include "engine/asio.hpp"
#include "engine/clock.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <exception>
#include <optional>
#include <utility>

namespace companion::test {

using namespace std::chrono_literals;

/// Runs ready handlers until the loop has nothing ready for a few turns in a row.
inline std::size_t drain(boost::asio::io_context& ioc) {
    std::size_t total = 0;
    int idle_turns = 0;
    while (idle_turns < 3) {
        ioc.restart();
        const auto n = ioc.poll();
        total += n;
        idle_turns = n == 0 ? idle_turns + 1 : 0;
    }
    return total;
}

/// A test fixture owning an io_context and a frozen engine clock.
struct virtual_time {
    boost::asio::io_context ioc{1};

    virtual_time() { engine::clock::freeze(); }
    ~virtual_time() { engine::clock::unfreeze(); }

    /// Moves virtual time forward by `d` in steps, draining the loop after each step so timers
    /// fire in order.
    void advance(engine::duration d, engine::duration step = 1ms) {
        drain(ioc);
        for (engine::duration done{0}; done < d; done += step) {
            engine::clock::advance(std::min(step, d - done));
            drain(ioc);
        }
    }

    void settle() { drain(ioc); }
};

/// Spawns `aw` and records its completion, exception and value.
template <class T>
struct spawned {
    bool done = false;
    std::exception_ptr error;
    std::optional<T> value;
};

template <>
struct spawned<void> {
    bool done = false;
    std::exception_ptr error;
};

template <class T>
std::shared_ptr<spawned<T>> spawn(boost::asio::io_context& ioc, engine::awaitable<T> aw) {
    auto s = std::make_shared<spawned<T>>();
    if constexpr (std::is_void_v<T>) {
        boost::asio::co_spawn(ioc, std::move(aw), [s](std::exception_ptr e) {
            s->done = true;
            s->error = e;
        });
    } else {
        boost::asio::co_spawn(ioc, std::move(aw), [s](std::exception_ptr e, T v) {
            s->done = true;
            s->error = e;
            if (!e) {
                s->value.emplace(std::move(v));
            }
        });
    }
    return s;
}

/// The error_code inside a system_error exception_ptr (or an empty code).
inline boost::system::error_code code_of(const std::exception_ptr& e) {
    if (!e) {
        return {};
    }
    try {
        std::rethrow_exception(e);
    } catch (const boost::system::system_error& se) {
        return se.code();
    } catch (...) {
        return boost::asio::error::fault;
    }
}

} // namespace companion::test
