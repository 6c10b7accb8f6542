// The engine's own error category: typed failures of its primitives (timeouts, full queues,
// closed channels) as boost::system::error_code values.
#pragma once

#include "engine/enum_text.hpp"

#include <boost/system/error_code.hpp>
#include <boost/system/system_error.hpp>

#include <exception>
#include <string>
#include <type_traits>

namespace companion::engine {

enum class errc {
    timeout = 1,   ///< a deadline expired before the operation completed
    cancelled,     ///< the operation was cancelled by its owner (shutdown, parent cancel)
    queue_full,    ///< a bounded queue refused an item instead of growing
    closed,        ///< the channel or queue was closed
    shutting_down, ///< the runtime is stopping and accepts no new work
    task_failed,   ///< a child task of a group ended with an exception
};
BOOST_DESCRIBE_ENUM(errc, timeout, cancelled, queue_full, closed, shutting_down, task_failed)

const boost::system::error_category& engine_category() noexcept;

inline boost::system::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), engine_category()};
}

/// Throws boost::system::system_error carrying the engine error `e`.
[[noreturn]] void throw_error(errc e, const char* what = "");

/// True when `ec` means the operation was cancelled (Asio's operation_aborted or errc::cancelled).
bool is_cancellation(const boost::system::error_code& ec) noexcept;

/// The code of the system_error `e` holds; an empty code for a null pointer or any other
/// exception.
boost::system::error_code code_of(const std::exception_ptr& e) noexcept;

/// True when `e` holds a system_error whose code is a cancellation (a stop, not a failure).
bool is_cancellation(const std::exception_ptr& e) noexcept;

/// The text of the exception `e` holds, for a log line ("non-standard exception" when it is not
/// a std::exception; "" for a null pointer).
std::string describe(const std::exception_ptr& e);

} // namespace companion::engine

template <>
struct boost::system::is_error_code_enum<companion::engine::errc> : std::true_type {};
