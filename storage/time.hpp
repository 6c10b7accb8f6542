// Wall-clock time as the storage layer keeps it: unix milliseconds in INTEGER columns, UTC days
// for daily quotas. Callers pass the time in (style.md rule 9): repositories never read a clock.
#pragma once

#include <chrono>
#include <cstdint>

namespace companion::storage {

/// A wall-clock instant with millisecond resolution (poll deadlines need finer than seconds).
using timestamp = std::chrono::sys_time<std::chrono::milliseconds>;
/// A UTC calendar day: the key of daily quotas and spend.
using day = std::chrono::sys_days;

inline std::int64_t to_unix_ms(timestamp t) noexcept {
    return static_cast<std::int64_t>(t.time_since_epoch().count());
}

inline timestamp from_unix_ms(std::int64_t ms) noexcept {
    return timestamp{std::chrono::milliseconds{ms}};
}

inline day utc_day(timestamp t) noexcept {
    return std::chrono::floor<std::chrono::days>(t);
}

inline std::int64_t day_number(day d) noexcept {
    return static_cast<std::int64_t>(d.time_since_epoch().count());
}

} // namespace companion::storage
