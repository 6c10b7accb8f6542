// Helpers for engine tests: a frozen-clock fixture and loop drivers that never sleep for real.
#pragma once

#include "engine/asio.hpp"
#include "engine/clock.hpp"
#include "tests/common/loop.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <exception>
#include <optional>
#include <utility>

namespace companion::test {

/// Runs ready handlers until the loop has nothing ready for a few turns in a row.
inline std::size_t drain(boost::asio::io_context& ioc) {
    return settle_loop(ioc);
}

/// A test fixture owning an io_context and a frozen engine clock.
struct virtual_time {
    boost::asio::io_context ioc{1};

    virtual_time() { engine::clock::freeze(); }
    ~virtual_time() { engine::clock::unfreeze(); }

    /// Moves virtual time forward by `d` in steps, draining the loop after each step so timers
    /// fire in order.
    void advance(engine::duration d, engine::duration step = std::chrono::milliseconds{1}) {
        drain(ioc);
        for (engine::duration done{0}; done < d; done += step) {
            engine::clock::advance(std::min(step, d - done));
            drain(ioc);
        }
    }

    void settle() { drain(ioc); }
};

template <class T>
using spawned = task_outcome<T>;

/// The error_code inside a system_error exception_ptr (or an empty code).
inline boost::system::error_code code_of(const std::exception_ptr& e) {
    return error_of(e);
}

} // namespace companion::test
