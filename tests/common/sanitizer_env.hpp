// The bot a suite starts as a child process runs under the sanitizer options of the test that
// starts it. The children get an environment built for them (secrets, base URLs), so without this
// the asan preset's ASAN_OPTIONS and UBSAN_OPTIONS never reached the bot: it ran with the
// runtime's defaults (a UBSan report printed and ignored, the TLS interceptor on).
#pragma once

#include <cstdlib>
#include <string>
#include <vector>

namespace companion::test {

/// Appends NAME=value for each sanitizer option variable set in this process's environment.
inline void add_sanitizer_options(std::vector<std::string>& env) {
    for (const char* name : {"ASAN_OPTIONS", "LSAN_OPTIONS", "UBSAN_OPTIONS", "TSAN_OPTIONS"}) {
        if (const char* value = std::getenv(name); value != nullptr) {
            env.push_back(std::string(name) + "=" + value);
        }
    }
}

} // namespace companion::test
