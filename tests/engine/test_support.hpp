// Helpers for engine tests: a virtual-time fixture and loop drivers that never sleep for real.
#pragma once

#include "engine/asio.hpp"
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

/// The engine tests' fixture: an io_context and a manual time source that the units under test
/// are given (`time`), failing a test that leaves a task sleeping (tests/common/loop.hpp).
using virtual_time = virtual_loop;

template <class T>
using spawned = task_outcome<T>;

} // namespace companion::test
