// Supervision of the root task group: signals, graceful stop with a grace period, completion.
#include "engine/runtime.hpp"

#include "engine/error.hpp"
#include "engine/log.hpp"

#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/parallel_group.hpp>

#include <csignal>

namespace companion::engine {

runtime::runtime(runtime_config cfg) : runtime(std::make_unique<asio::io_context>(1), nullptr, cfg) {}

runtime::runtime(asio::io_context& host, runtime_config cfg) : runtime(nullptr, &host, cfg) {}

runtime::runtime(std::unique_ptr<asio::io_context> owned, asio::io_context* host, runtime_config cfg)
    : owned_(std::move(owned)),
      ioc_(host != nullptr ? host : owned_.get()),
      cfg_(cfg),
      offload_(cfg.offload_threads),
      tasks_(std::make_unique<task_group>(ioc_->get_executor(),
                                          task_group::config{.name = "root", .policy = cfg.policy})),
      stop_requested_(ioc_->get_executor()),
      stopping_(ioc_->get_executor()),
      stopped_(ioc_->get_executor()) {}

runtime::~runtime() {
    // Offloaded jobs post their completions to the loop: join them before the loop goes away.
    offload_.stop();
    if (tasks_->size() != 0 && owned_) {
        // Children still alive (run() was never called or was interrupted): cancel them and let
        // them unwind so their frames are destroyed before the io_context.
        tasks_->cancel(asio::cancellation_type::terminal);
        owned_->restart();
        owned_->poll();
    }
}

void runtime::request_stop() {
    ++stop_requests_;
    if (stop_requests_ == 1) {
        log().info("runtime.stop_requested",
                   {{"grace_ms", std::chrono::duration_cast<std::chrono::milliseconds>(cfg_.grace).count()}});
        stopping_.set();
        stop_requested_.set();
    } else {
        log().warn("runtime.stop_forced", {{"children", tasks_->size()}});
        tasks_->cancel(asio::cancellation_type::terminal);
    }
}

void runtime::arm_signals() {
    if (!cfg_.handle_signals) {
        return;
    }
    signals_.emplace(*ioc_, SIGINT, SIGTERM);
    wait_signal();
}

void runtime::wait_signal() {
    signals_->async_wait([this](const boost::system::error_code& ec, int signo) {
        if (ec) {
            return;
        }
        log().info("runtime.signal", {{"signal", signo == SIGINT ? "SIGINT" : "SIGTERM"}});
        request_stop();
        if (!stopped_.is_set()) {
            wait_signal();
        }
    });
}

void runtime::start() {
    if (started_) {
        return;
    }
    started_ = true;
    arm_signals();
    asio::co_spawn(*ioc_, supervise(), [](std::exception_ptr e) {
        if (e) {
            log().error("runtime.supervisor_failed");
        }
    });
}

int runtime::run() {
    start();
    ioc_->run();
    return tasks_->failures() == 0 && !forced() ? 0 : 1;
}

awaitable<void> runtime::supervise() {
    // Wait until either every root child has finished or a stop is requested.
    auto [order, join_error, stop_error] = co_await asio::experimental::make_parallel_group(
                                               asio::co_spawn(*ioc_, tasks_->join(), asio::deferred),
                                               asio::co_spawn(*ioc_, stop_requested_.wait(), asio::deferred))
                                               .async_wait(asio::experimental::wait_for_one(), use_awaitable);
    // The branch that lost was cancelled; any other end of either is a defect worth a line.
    for (const auto& e : {join_error, stop_error}) {
        if (e && !is_cancellation(e)) {
            log().error("runtime.supervise_branch_failed", {{"error", describe(e)}});
        }
    }
    if (order[0] == 1) {
        co_await tasks_->shutdown(cfg_.grace);
    }
    stopping_.set();
    if (signals_) {
        signals_->cancel();
    }
    log().info("runtime.stopped", {{"failures", tasks_->failures()}});
    stopped_.set();
}

} // namespace companion::engine
