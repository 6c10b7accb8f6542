// One loop driver for unit tests on virtual time: an io_context, a manual time source the units
// under test read and sleep on, and helpers that run what is ready and move time forward. The
// fixture fails a test that leaves work behind (a task still sleeping, a handler still queued),
// as Boost.MySQL's tests do: a unit that forgets a task is a bug, not a detail.
#pragma once

#include "engine/asio.hpp"
#include "engine/error.hpp"
#include "engine/time_source.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/system/system_error.hpp>
#include <boost/test/unit_test.hpp>

#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <type_traits>

namespace companion::test {

/// Runs ready handlers until the loop has nothing ready for a few turns in a row.
inline std::size_t settle_loop(boost::asio::io_context& ioc) {
    std::size_t total = 0;
    for (int idle = 0; idle < 3;) {
        ioc.restart();
        const auto n = ioc.poll();
        total += n;
        idle = n == 0 ? idle + 1 : 0;
    }
    return total;
}

/// A task spawned by a test: whether it ended, how, and its value.
template <class T>
struct task_outcome {
    bool done = false;
    std::exception_ptr error;
    std::optional<T> value;
};

template <>
struct task_outcome<void> {
    bool done = false;
    std::exception_ptr error;
};

struct virtual_loop {
    boost::asio::io_context ioc{1};
    engine::manual_time time;

    virtual_loop() = default;
    virtual_loop(const virtual_loop&) = delete;
    virtual_loop& operator=(const virtual_loop&) = delete;
    ~virtual_loop() {
        settle();
        BOOST_TEST(time.sleepers() == 0U, "the test left " << time.sleepers() << " task(s) sleeping");
    }

    void settle() { settle_loop(ioc); }
    /// Moves virtual time forward by `d`, running what each instant wakes in order.
    void advance(engine::duration d) {
        time.advance(d, [this] { settle(); });
    }
    /// Advances in steps of `step` until `done()` or `limit` of virtual time passed.
    bool advance_until(const std::function<bool()>& done,
                       engine::duration limit = std::chrono::minutes(10),
                       engine::duration step = std::chrono::milliseconds(10)) {
        settle();
        for (engine::duration passed{}; !done() && passed < limit; passed += step) {
            advance(step);
        }
        return done();
    }

    template <class T>
    std::shared_ptr<task_outcome<T>> spawn(engine::awaitable<T> task);
};

/// Spawns `task` on `ioc` and records how it ends (it runs when the loop next runs).
template <class T>
std::shared_ptr<task_outcome<T>> spawn(boost::asio::io_context& ioc, engine::awaitable<T> task) {
    auto out = std::make_shared<task_outcome<T>>();
    if constexpr (std::is_void_v<T>) {
        boost::asio::co_spawn(ioc, std::move(task), [out](std::exception_ptr e) {
            out->done = true;
            out->error = e;
        });
    } else {
        boost::asio::co_spawn(ioc, std::move(task), [out](std::exception_ptr e, T v) {
            out->done = true;
            out->error = e;
            if (!e) {
                out->value.emplace(std::move(v));
            }
        });
    }
    return out;
}

/// Spawns `task` and runs what is ready at once.
template <class T>
std::shared_ptr<task_outcome<T>> virtual_loop::spawn(engine::awaitable<T> task) {
    auto out = test::spawn(ioc, std::move(task));
    settle();
    return out;
}

/// The error_code inside a system_error exception_ptr: empty for no exception, `fault` for an
/// exception that is not a system_error (so a test never mistakes it for success).
inline boost::system::error_code error_of(const std::exception_ptr& e) {
    if (!e) {
        return {};
    }
    const auto ec = engine::code_of(e);
    return ec ? ec : boost::system::error_code(boost::asio::error::fault);
}

} // namespace companion::test
