// Messages of the engine's error category.
#include "engine/error.hpp"

#include <boost/asio/error.hpp>

#include <string>

namespace companion::engine {
namespace {

class engine_category_impl final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "companion.engine"; }

    std::string message(int ev) const override {
        switch (static_cast<errc>(ev)) {
        case errc::timeout:
            return "deadline exceeded";
        case errc::cancelled:
            return "operation cancelled";
        case errc::queue_full:
            return "queue is full";
        case errc::closed:
            return "channel or queue is closed";
        case errc::shutting_down:
            return "runtime is shutting down";
        case errc::task_failed:
            return "a child task failed";
        }
        return "unknown engine error";
    }
};

} // namespace

const boost::system::error_category& engine_category() noexcept {
    static const engine_category_impl instance;
    return instance;
}

void throw_error(errc e, const char* what) {
    throw boost::system::system_error(make_error_code(e), what);
}

bool is_cancellation(const boost::system::error_code& ec) noexcept {
    return ec == boost::asio::error::operation_aborted || ec == make_error_code(errc::cancelled);
}

bool is_cancellation(const std::exception_ptr& e) noexcept {
    if (!e) {
        return false;
    }
    try {
        std::rethrow_exception(e);
    } catch (const boost::system::system_error& se) {
        return is_cancellation(se.code());
    } catch (...) {
        return false;
    }
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
