// Waiting out transient storage faults (design.md §4, "storage faults are transient or fatal"): a
// lock held by another connection or a full disk goes away by itself, so the write is tried again
// after a capped back-off, on the loop's timer; any other fault is rethrown for the process to end.
#pragma once

#include "engine/asio.hpp"
#include "engine/error.hpp"
#include "engine/log.hpp"
#include "engine/time_source.hpp"
#include "storage/error.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <exception>
#include <string_view>
#include <type_traits>

namespace companion::pipelines {

struct fault_backoff {
    engine::duration first = std::chrono::milliseconds(200);
    engine::duration max = std::chrono::seconds(10);
};

/// Runs `write` (a storage transaction, or a read; or a function returning the awaitable of a
/// grouped write, storage::database::grouped) until it returns, waiting out transient faults
/// with doubling waits from `wait.first` to `wait.max`, each logged with `what`; `faults` (if
/// given) counts them. A fatal fault is rethrown.
template <class Write>
engine::awaitable<void> through_storage_faults(engine::time_source& time,
                                               std::string_view what,
                                               Write write,
                                               fault_backoff wait = {},
                                               std::uint64_t* faults = nullptr) {
    auto delay = wait.first;
    for (;;) {
        std::exception_ptr fault;
        try {
            if constexpr (std::is_same_v<std::invoke_result_t<Write&>, engine::awaitable<void>>) {
                co_await write();
            } else {
                write();
            }
            co_return;
        } catch (...) {
            fault = std::current_exception();
        }
        if (!storage::is_transient(fault)) {
            std::rethrow_exception(fault); // a corrupt file: the process must end
        }
        if (faults != nullptr) {
            ++*faults;
        }
        engine::log().warn(
            "bot.storage_fault",
            {{"while", what},
             {"error", engine::describe(fault)},
             {"retry_ms", std::chrono::duration_cast<std::chrono::milliseconds>(delay).count()}});
        co_await time.sleep(delay);
        delay = std::min(delay * 2, wait.max);
    }
}

} // namespace companion::pipelines
