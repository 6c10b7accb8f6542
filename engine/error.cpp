// Messages of the engine's error category.
#include "engine/error.hpp"

#include "engine/error_category.hpp"

#include <boost/asio/error.hpp>

#include <string>

namespace companion::engine {

const boost::system::error_category& engine_category() noexcept {
    // One message per errc, in the order of its BOOST_DESCRIBE_ENUM.
    // clang-format off
    static const engine::table_category<errc> instance("companion.engine", {
        "deadline exceeded", "operation cancelled", "queue is full", "channel or queue is closed",
        "runtime is shutting down", "a child task failed"
    }, "unknown engine error");
    // clang-format on
    return instance;
}

void throw_error(errc e, const char* what) {
    throw boost::system::system_error(make_error_code(e), what);
}

bool is_cancellation(const boost::system::error_code& ec) noexcept {
    return ec == boost::asio::error::operation_aborted || ec == make_error_code(errc::cancelled);
}

boost::system::error_code code_of(const std::exception_ptr& e) noexcept {
    if (!e) {
        return {};
    }
    try {
        std::rethrow_exception(e);
    } catch (const boost::system::system_error& se) {
        return se.code();
    } catch (...) {
        return {};
    }
}

bool is_cancellation(const std::exception_ptr& e) noexcept {
    return e && is_cancellation(code_of(e));
}

std::string describe(const std::exception_ptr& e) {
    if (!e) {
        return {};
    }
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& ex) {
        return ex.what();
    } catch (...) {
        return "non-standard exception";
    }
}

} // namespace companion::engine
