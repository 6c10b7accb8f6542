// Randomness as a service (style.md: time and randomness come in through the services): jitter,
// back-off and the flirty draw take a random_source&, so a test scripts the draws and checks exact
// waits, and production uses one small fast generator per owner.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace companion::engine {

class random_source {
public:
    virtual ~random_source() = default;
    /// 64 random bits.
    virtual std::uint64_t next() noexcept = 0;
    /// Uniform in [0, 1).
    double uniform() noexcept { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
};

/// xorshift64*: small, fast and good enough for jitter (not for secrets).
class xorshift_random final : public random_source {
public:
    explicit xorshift_random(std::uint64_t seed = 0x9E3779B97F4A7C15ULL) noexcept
        : state_(seed == 0 ? 1 : seed) {}
    std::uint64_t next() noexcept override {
        state_ ^= state_ >> 12;
        state_ ^= state_ << 25;
        state_ ^= state_ >> 27;
        return state_ * 0x2545F4914F6CDD1DULL;
    }

private:
    std::uint64_t state_;
};

/// Draws that repeat a fixed list of uniform values (each in [0, 1)), for tests.
class scripted_random final : public random_source {
public:
    explicit scripted_random(std::vector<double> draws) : draws_(std::move(draws)) {}
    std::uint64_t next() noexcept override {
        const double u = draws_.empty() ? 0.0 : draws_[i_++ % draws_.size()];
        return static_cast<std::uint64_t>(u * 0x1.0p53) << 11;
    }

private:
    std::vector<double> draws_;
    std::size_t i_ = 0;
};

} // namespace companion::engine
