// What the benchmarks measure about themselves: CPU time of a clock (the process, a thread) and
// the resident set, read the same way by every bench so their figures compare.
#pragma once

#include <ctime>
#include <fstream>
#include <string>

namespace companion::bench {

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
