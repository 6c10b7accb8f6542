// Line formatting (text or JSON), redaction and the spdlog sink behind engine::logger.
#include "engine/log.hpp"

#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

#include <spdlog/logger.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <ctime>

namespace companion::engine {
namespace {

bool is_token_char(char c) noexcept {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

bool is_digit(char c) noexcept {
    return c >= '0' && c <= '9';
}

void replace_all(std::string& text, std::string_view needle, std::string_view with) {
    if (needle.empty()) {
        return;
    }
    std::size_t pos = 0;
    while ((pos = text.find(needle, pos)) != std::string::npos) {
        text.replace(pos, needle.size(), with);
        pos += with.size();
    }
}

void append_json_string(std::string& out, std::string_view s) {
    out.push_back('"');
    for (char c : s) {
        switch (c) {
        case '"':
            out += "\\\"";
            break;
        case '\\':
            out += "\\\\";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\r':
            out += "\\r";
            break;
        case '\t':
            out += "\\t";
            break;
        default:
            if (static_cast<unsigned char>(c) < 0x20) {
                std::array<char, 8> buf{};
                std::snprintf(buf.data(), buf.size(), "\\u%04x", static_cast<unsigned>(c));
                out += buf.data();
            } else {
                out.push_back(c);
            }
        }
    }
    out.push_back('"');
}

bool needs_quotes(std::string_view s) noexcept {
    if (s.empty()) {
        return true;
    }
    return std::any_of(s.begin(), s.end(), [](char c) {
        return c == ' ' || c == '"' || c == '=' || static_cast<unsigned char>(c) < 0x20;
    });
}

void append_number(std::string& out, const log_field& f) {
    std::array<char, 32> buf{};
    int n = 0;
    switch (f.type()) {
    case log_field::kind::signed_int:
        n = std::snprintf(buf.data(), buf.size(), "%lld", static_cast<long long>(f.i()));
        break;
    case log_field::kind::unsigned_int:
        n = std::snprintf(buf.data(), buf.size(), "%llu", static_cast<unsigned long long>(f.u()));
        break;
    case log_field::kind::floating:
        n = std::snprintf(buf.data(), buf.size(), "%.6g", f.d());
        break;
    default:
        break;
    }
    out.append(buf.data(), static_cast<std::size_t>(std::max(n, 0)));
}

// A field's value: a string JSON-quoted (in a text line only when it needs quotes), a boolean as
// a word, a number as digits.
void append_value(std::string& out, const log_field& f, bool json) {
    switch (f.type()) {
    case log_field::kind::string:
        if (json || needs_quotes(f.str())) {
            append_json_string(out, f.str());
        } else {
            out += f.str();
        }
        break;
    case log_field::kind::boolean:
        out += f.u() != 0 ? "true" : "false";
        break;
    default:
        append_number(out, f);
    }
}

void append_timestamp(std::string& out) {
    const auto now = std::chrono::system_clock::now();
    const auto secs = std::chrono::system_clock::to_time_t(now);
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
    std::tm tm{};
    gmtime_r(&secs, &tm);
    std::array<char, 40> buf{};
    const auto n = std::strftime(buf.data(), buf.size(), "%Y-%m-%dT%H:%M:%S", &tm);
    out.append(buf.data(), n);
    std::snprintf(buf.data(), buf.size(), ".%03dZ", static_cast<int>(ms));
    out += buf.data();
}

// log_level names spdlog's levels in spdlog's order, so the conversion is a cast.
static_assert(static_cast<int>(log_level::trace) == SPDLOG_LEVEL_TRACE &&
              static_cast<int>(log_level::debug) == SPDLOG_LEVEL_DEBUG &&
              static_cast<int>(log_level::info) == SPDLOG_LEVEL_INFO &&
              static_cast<int>(log_level::warn) == SPDLOG_LEVEL_WARN &&
              static_cast<int>(log_level::error) == SPDLOG_LEVEL_ERROR &&
              static_cast<int>(log_level::critical) == SPDLOG_LEVEL_CRITICAL &&
              static_cast<int>(log_level::off) == SPDLOG_LEVEL_OFF);

spdlog::level::level_enum to_spdlog(log_level level) noexcept {
    return static_cast<spdlog::level::level_enum>(level);
}

} // namespace

bool parse_log_level(std::string_view text, log_level& out) noexcept {
    // "warning" is accepted too: spdlog and most operators spell it so.
    const auto level = text == "warning" ? log_level::warn : engine::enum_from_name<log_level>(text);
    if (level) {
        out = *level;
    }
    return level.has_value();
}

std::string_view to_string(log_level level) noexcept {
    return engine::enum_name(level, "info");
}

void redactor::add_secret(std::string_view secret) {
    if (secret.size() < 6) {
        return;
    }
    std::lock_guard lock(mutex_);
    for (std::string form :
         {std::string(secret), boost::urls::encode(secret, boost::urls::unreserved_chars)}) {
        if (std::find(secrets_.begin(), secrets_.end(), form) == secrets_.end()) {
            secrets_.push_back(std::move(form));
        }
    }
    // Longest first, so a secret that contains another is masked whole.
    std::sort(secrets_.begin(), secrets_.end(), [](const auto& a, const auto& b) {
        return a.size() > b.size();
    });
}

std::string redactor::redact(std::string_view text) const {
    std::string out(text);
    redact_in_place(out);
    return out;
}

void redactor::redact_in_place(std::string& text) const {
    {
        std::lock_guard lock(mutex_);
        for (const auto& s : secrets_) {
            replace_all(text, s, mask);
        }
    }
    redact_token_shapes(text);
}

void redactor::clear() {
    std::lock_guard lock(mutex_);
    secrets_.clear();
}

redactor& secrets() {
    static redactor instance;
    return instance;
}

void redact_token_shapes(std::string& text) {
    // <5+ digits> ':' <30+ token chars>, the shape of a Telegram bot token, raw or with the colon
    // URL-encoded as %3A.
    std::size_t i = 0;
    while (i < text.size()) {
        std::size_t colon_len = 0;
        if (text[i] == ':') {
            colon_len = 1;
        } else if (text.compare(i, 3, "%3A") == 0 || text.compare(i, 3, "%3a") == 0) {
            colon_len = 3;
        }
        if (colon_len == 0) {
            ++i;
            continue;
        }
        std::size_t start = i;
        while (start > 0 && is_digit(text[start - 1])) {
            --start;
        }
        std::size_t end = i + colon_len;
        while (end < text.size() && is_token_char(text[end])) {
            ++end;
        }
        if (i - start >= 5 && end - (i + colon_len) >= 30) {
            text.replace(start, end - start, redactor::mask);
            i = start + redactor::mask.size();
        } else {
            i += colon_len;
        }
    }
}

struct logger::impl {
    std::shared_ptr<spdlog::logger> sink_logger;
    std::mutex capture_mutex;
    std::function<void(log_level, std::string_view)> capture;
    bool quiet = false;
};

logger::logger() : logger(config{}) {}

logger::logger(config cfg) : impl_(std::make_unique<impl>()) {
    auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    impl_->sink_logger = std::make_shared<spdlog::logger>("companion", std::move(sink));
    impl_->sink_logger->set_pattern("%v");
    impl_->sink_logger->set_level(spdlog::level::trace);
    impl_->sink_logger->flush_on(spdlog::level::trace);
    configure(cfg);
}

logger::~logger() = default;

void logger::configure(config cfg) {
    level_ = cfg.level;
    format_ = cfg.format;
}

std::string logger::format(log_level level, std::string_view event, log_fields fields) const {
    std::string line;
    line.reserve(128);
    if (format_ == log_format::json) {
        line += R"({"ts":")";
        append_timestamp(line);
        line += R"(","level":")";
        line += to_string(level);
        line += R"(","event":)";
        append_json_string(line, event);
        for (const auto& f : fields) {
            line.push_back(',');
            append_json_string(line, f.key());
            line.push_back(':');
            append_value(line, f, true);
        }
        line.push_back('}');
    } else {
        append_timestamp(line);
        line.push_back(' ');
        std::string lv(to_string(level));
        std::transform(lv.begin(), lv.end(), lv.begin(), [](char c) { return static_cast<char>(c - 32); });
        lv.resize(5, ' ');
        line += lv;
        line.push_back(' ');
        line += event;
        for (const auto& f : fields) {
            line.push_back(' ');
            line += f.key();
            line.push_back('=');
            append_value(line, f, false);
        }
    }
    secrets().redact_in_place(line);
    return line;
}

void logger::write(log_level level, std::string_view event, log_fields fields) {
    if (!enabled(level)) {
        return;
    }
    const std::string line = format(level, event, fields);
    bool quiet = false;
    {
        std::lock_guard lock(impl_->capture_mutex);
        if (impl_->capture) {
            impl_->capture(level, line);
        }
        quiet = impl_->quiet;
    }
    if (!quiet) {
        impl_->sink_logger->log(to_spdlog(level), "{}", line);
    }
}

void logger::set_capture(std::function<void(log_level, std::string_view)> capture, bool quiet) {
    std::lock_guard lock(impl_->capture_mutex);
    impl_->quiet = capture ? quiet : false;
    impl_->capture = std::move(capture);
}

logger& log() {
    static logger instance;
    return instance;
}

} // namespace companion::engine
