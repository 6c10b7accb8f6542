// Structured logging behind a small interface (spdlog underneath), with secret redaction.
//
// A line is an event name plus `key=value` fields:
//     engine::log().info("update.handled", {{"chat", chat_id}, {"ms", 4.2}});
// Text mode:  2026-11-24T21:30:00.123Z INFO  update.handled chat=42 ms=4.2
// JSON mode:  {"ts":"2026-11-24T21:30:00.123Z","level":"info","event":"update.handled","chat":42,"ms":4.2}
//
// Every finished line passes through the process-wide redactor before it reaches a sink: secrets
// registered once (bot token, API keys; their URL-encoded forms too) and anything shaped like a
// Telegram bot token are replaced by "[REDACTED]", including text that came from exceptions and
// URLs. Thread-safe (the offload pool may log).
#pragma once

#include "engine/enum_text.hpp"

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace companion::engine {

enum class log_level { trace, debug, info, warn, error, critical, off };
BOOST_DESCRIBE_ENUM(log_level, trace, debug, info, warn, error, critical, off)
enum class log_format { text, json };

/// Parses "trace|debug|info|warn|error|critical|off"; returns false on an unknown word.
bool parse_log_level(std::string_view text, log_level& out) noexcept;
std::string_view to_string(log_level level) noexcept;

/// One `key=value` field. Strings are copied only when the line is actually written.
class log_field {
public:
    enum class kind { string, signed_int, unsigned_int, floating, boolean };

    log_field(std::string_view key, std::string_view v) : key_(key), kind_(kind::string), str_(v) {}
    log_field(std::string_view key, const std::string& v) : key_(key), kind_(kind::string), str_(v) {}
    log_field(std::string_view key, const char* v) : key_(key), kind_(kind::string), str_(v ? v : "") {}
    log_field(std::string_view key, bool v) : key_(key), kind_(kind::boolean), u_(v ? 1U : 0U) {}
    log_field(std::string_view key, double v) : key_(key), kind_(kind::floating), d_(v) {}
    template <class I>
    requires(std::is_integral_v<I>&& std::is_signed_v<I>) log_field(std::string_view key, I v)
        : key_(key), kind_(kind::signed_int), i_(static_cast<std::int64_t>(v)) {}
    template <class I>
    requires(std::is_integral_v<I>&& std::is_unsigned_v<I> && !std::is_same_v<I, bool>)
        log_field(std::string_view key, I v)
        : key_(key), kind_(kind::unsigned_int), u_(static_cast<std::uint64_t>(v)) {}

    std::string_view key() const noexcept { return key_; }
    kind type() const noexcept { return kind_; }
    std::string_view str() const noexcept { return str_; }
    std::int64_t i() const noexcept { return i_; }
    std::uint64_t u() const noexcept { return u_; }
    double d() const noexcept { return d_; }

private:
    std::string_view key_;
    kind kind_;
    std::string_view str_{};
    std::int64_t i_ = 0;
    std::uint64_t u_ = 0;
    double d_ = 0.0;
};

using log_fields = std::initializer_list<log_field>;

/// Replaces registered secrets, and anything shaped like a Telegram bot token, in text.
class redactor {
public:
    static constexpr std::string_view mask = "[REDACTED]";

    /// Registers a secret (and its URL-encoded form). Secrets shorter than 6 characters are
    /// ignored: masking them would garble ordinary words.
    void add_secret(std::string_view secret);
    /// Returns `text` with every secret masked.
    std::string redact(std::string_view text) const;
    void redact_in_place(std::string& text) const;
    void clear();

private:
    mutable std::mutex mutex_;
    std::vector<std::string> secrets_;
};

/// The process-wide redactor every log line passes through.
redactor& secrets();

/// Masks Telegram-token-shaped substrings (`<5+ digits>:<30+ of [A-Za-z0-9_-]>`) in place.
void redact_token_shapes(std::string& text);

class logger {
public:
    struct config {
        log_level level = log_level::info;
        log_format format = log_format::text;
    };

    /// Writes to stderr.
    logger();
    explicit logger(config cfg);
    ~logger();
    logger(const logger&) = delete;
    logger& operator=(const logger&) = delete;

    void configure(config cfg);
    bool enabled(log_level level) const noexcept { return level >= level_ && level_ != log_level::off; }

    void write(log_level level, std::string_view event, log_fields fields);
    void trace(std::string_view event, log_fields fields = {}) { write(log_level::trace, event, fields); }
    void debug(std::string_view event, log_fields fields = {}) { write(log_level::debug, event, fields); }
    void info(std::string_view event, log_fields fields = {}) { write(log_level::info, event, fields); }
    void warn(std::string_view event, log_fields fields = {}) { write(log_level::warn, event, fields); }
    void error(std::string_view event, log_fields fields = {}) { write(log_level::error, event, fields); }

    /// Sends every written (already redacted) line to `capture` as well as to stderr; tests use it
    /// to assert on log output. Pass nullptr to stop. `quiet` also silences stderr.
    void set_capture(std::function<void(log_level, std::string_view)> capture, bool quiet = false);

    /// Formats one line without writing it (exposed for tests of the format).
    std::string format(log_level level, std::string_view event, log_fields fields) const;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
    log_level level_ = log_level::info;
    log_format format_ = log_format::text;
};

/// The process-wide logger.
logger& log();

} // namespace companion::engine
