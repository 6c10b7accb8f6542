// The engine's monotonic clock and the timer type built on it: the plain steady clock.
//
// Virtual time is not a property of this clock (nothing freezes it process-wide): a service that
// waits or reads the time takes an `engine::time_source` (engine/time_source.hpp), production
// passes `system_time()`, and a test passes a `manual_time` of its own (style.md rule 9).
#pragma once

#include "engine/asio.hpp"

#include <boost/asio/basic_waitable_timer.hpp>
#include <boost/asio/wait_traits.hpp>

#include <chrono>

namespace companion::engine {

using clock = std::chrono::steady_clock;
using timer = asio::basic_waitable_timer<clock, asio::wait_traits<clock>, executor>;
using duration = clock::duration;
using time_point = clock::time_point;

} // namespace companion::engine
