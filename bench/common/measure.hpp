// What the benchmarks measure about themselves: CPU time of a clock (the process, a thread) and
// the resident set, read the same way by every bench so their figures compare.
#pragma once

#include "engine/task_group.hpp"

#include <ctime>
#include <fstream>
#include <stdexcept>
#include <string>

namespace companion::bench {

/// Spawns `task` into `g`; a refused spawn (the group is shutting down) would make the figures
/// count work that never ran, so it ends the benchmark.
inline void spawn_or_fail(engine::task_group& g, engine::awaitable<void> task) {
    if (!g.spawn(std::move(task))) {
        throw std::logic_error("the task group refused a benchmark task");
    }
}

/// Seconds of CPU on `clock` (CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID, or a thread's
/// clock from pthread_getcpuclockid).
inline double cpu_seconds(clockid_t clock = CLOCK_THREAD_CPUTIME_ID) {
    timespec ts{};
    clock_gettime(clock, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

/// The process's resident set in kB (VmRSS of /proc/self/status); 0 when it cannot be read.
inline long rss_kb() {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("VmRSS:", 0) == 0) {
            return std::stol(line.substr(6));
        }
    }
    return 0;
}

} // namespace companion::bench
