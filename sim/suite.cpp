// Starting and stopping the simulators together.
#include "sim/suite.hpp"

#include "engine/task_group.hpp"

namespace companion::sim {

suite::suite(engine::executor ex, suite_config cfg) {
    cfg.telegram.address = cfg.address;
    cfg.telegram.port = cfg.telegram_port;
    cfg.openai.server.address = cfg.address;
    cfg.openai.server.port = cfg.openai_port;
    cfg.gemini.server.address = cfg.address;
    cfg.gemini.server.port = cfg.gemini_port;
    cfg.fal.server.address = cfg.address;
    cfg.fal.server.port = cfg.fal_port;
    cfg.openrouter.server.address = cfg.address;
    cfg.openrouter.server.port = cfg.openrouter_port;
    telegram_ = std::make_unique<telegram_simulator>(ex, cfg.telegram);
    openai_ = std::make_unique<openai_simulator>(ex, cfg.openai);
    gemini_ = std::make_unique<gemini_simulator>(ex, cfg.gemini);
    fal_ = std::make_unique<fal_simulator>(ex, cfg.fal);
    openrouter_ = std::make_unique<openrouter_simulator>(ex, cfg.openrouter);
}

suite::~suite() = default;

net::result<void> suite::start() {
    if (auto r = telegram_->start(); !r) {
        return r.error();
    }
    if (auto r = openai_->start(); !r) {
        return r.error();
    }
    if (auto r = gemini_->start(); !r) {
        return r.error();
    }
    if (auto r = fal_->start(); !r) {
        return r.error();
    }
    if (auto r = openrouter_->start(); !r) {
        return r.error();
    }
    return {};
}

engine::awaitable<void> suite::stop() {
    // One shielded sequence: a cancellation of the caller during the first stop must not skip the
    // others (their servers' handlers would outlive the simulators).
    co_await engine::shielded(stop_all());
}

engine::awaitable<void> suite::stop_all() {
    co_await telegram_->stop();
    co_await openai_->stop();
    co_await gemini_->stop();
    co_await fal_->stop();
    co_await openrouter_->stop();
}

std::string suite::token() {
    return "7000000001:SIMULATIONaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
}

} // namespace companion::sim
