// TOML parsing (toml++), environment overrides, validation and redacted printing.
#include "app/config.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <limits>
#include <sstream>

namespace companion::app {
namespace {

using error_line = std::string;

std::string quote(std::string_view s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') {
            out.push_back('\\');
        }
        out.push_back(c);
    }
    out.push_back('"');
    return out;
}

// Reads typed values from the parsed table and records the first error with its key.
class reader {
public:
    explicit reader(const toml::table& root) : root_(root) {}

    std::optional<error_line> error;

    void string(std::string_view key, std::string& out) {
        auto node = root_.at_path(key);
        if (!node) {
            return;
        }
        if (auto v = node.value<std::string>()) {
            out = *v;
        } else {
            fail(key, "expected a string");
        }
    }

    template <class Int>
    void integer(std::string_view key, Int& out, long long lo, long long hi) {
        auto node = root_.at_path(key);
        if (!node) {
            return;
        }
        // Type first: toml++ converts a float node to an integer without a range check (undefined
        // for 1e24, found by fuzzing).
        const auto v = node.is_integer() ? node.value<std::int64_t>() : std::nullopt;
        if (!v) {
            fail(key, "expected an integer");
            return;
        }
        if (*v < lo || *v > hi) {
            fail(key, "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
            return;
        }
        out = static_cast<Int>(*v);
    }

    void number(std::string_view key, double& out, double lo, double hi) {
        auto node = root_.at_path(key);
        if (!node) {
            return;
        }
        auto v = node.value<double>();
        if (!v || !(node.is_floating_point() || node.is_integer())) {
            fail(key, "expected a number");
            return;
        }
        if (*v < lo || *v > hi) {
            fail(key, "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
            return;
        }
        out = *v;
    }

    void boolean(std::string_view key, bool& out) {
        auto node = root_.at_path(key);
        if (!node) {
            return;
        }
        if (auto v = node.value<bool>(); v && node.is_boolean()) {
            out = *v;
        } else {
            fail(key, "expected true or false");
        }
    }

    template <class Duration>
    void duration(std::string_view key,
                  Duration& out,
                  std::chrono::milliseconds lo,
                  std::chrono::milliseconds hi) {
        auto node = root_.at_path(key);
        if (!node) {
            return;
        }
        std::optional<std::chrono::milliseconds> d;
        if (auto s = node.value<std::string>(); s && node.is_string()) {
            d = parse_duration(*s);
        } else if (node.is_integer()) {
            // Seconds; a count whose milliseconds do not fit is an error (fuzzing found both the
            // float-to-integer conversion and this overflow).
            constexpr std::int64_t max_seconds = std::numeric_limits<std::int64_t>::max() / 1000;
            if (const auto i = node.value<std::int64_t>(); i && *i >= -max_seconds && *i <= max_seconds) {
                d = std::chrono::seconds(*i);
            }
        }
        if (!d) {
            fail(key, "expected a duration like \"5s\", \"500ms\" or \"10m\"");
            return;
        }
        if (*d < lo || *d > hi) {
            fail(key, "is out of range");
            return;
        }
        out = std::chrono::duration_cast<Duration>(*d);
    }

    template <class Int>
    void int_array(std::string_view key, std::vector<Int>& out) {
        auto node = root_.at_path(key);
        if (!node) {
            return;
        }
        const auto* arr = node.as_array();
        if (arr == nullptr) {
            fail(key, "expected an array of integers");
            return;
        }
        std::vector<Int> values;
        for (const auto& item : *arr) {
            const auto v = item.is_integer() ? item.value<std::int64_t>() : std::nullopt;
            if (!v) {
                fail(key, "expected an array of integers");
                return;
            }
            values.push_back(static_cast<Int>(*v));
        }
        out = std::move(values);
    }

    void fail(std::string_view key, std::string_view what) {
        if (!error) {
            error = std::string(key) + ": " + std::string(what);
        }
    }

private:
    const toml::table& root_;
};

std::string env_or(const env_lookup& env, const char* name, const std::string& fallback) {
    auto it = env.find(name);
    return it != env.end() && !it->second.empty() ? it->second : fallback;
}

bool valid_url(const std::string& url) {
    return url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0;
}

std::string secret(const std::string& s) {
    return s.empty() ? std::string("\"\"") : std::string("\"[REDACTED]\"");
}

std::string seconds_text(std::chrono::milliseconds d) {
    if (d.count() % 1000 != 0) {
        return quote(std::to_string(d.count()) + "ms");
    }
    return quote(std::to_string(d.count() / 1000) + "s");
}

} // namespace

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
    if (text.empty()) {
        return std::nullopt;
    }
    std::size_t i = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
        ++i;
    }
    if (i == 0) {
        return std::nullopt;
    }
    long long n = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + i, n);
    (void)ptr;
    if (ec != std::errc{}) {
        return std::nullopt;
    }
    const auto unit = text.substr(i);
    long long unit_ms = 0;
    if (unit.empty() || unit == "s") {
        unit_ms = 1000;
    } else if (unit == "ms") {
        unit_ms = 1;
    } else if (unit == "m" || unit == "min") {
        unit_ms = 60'000;
    } else if (unit == "h") {
        unit_ms = 3'600'000;
    } else if (unit == "d") {
        unit_ms = 86'400'000;
    } else {
        return std::nullopt;
    }
    // A value whose milliseconds do not fit is an error, not a wrapped duration (signed overflow,
    // found by fuzzing).
    if (n > std::numeric_limits<long long>::max() / unit_ms) {
        return std::nullopt;
    }
    return std::chrono::milliseconds(n * unit_ms);
}

int nearest_allowed_seconds(int requested, const std::vector<int>& allowed) {
    int best = allowed.empty() ? requested : allowed.front();
    for (int a : allowed) {
        const int da = std::abs(a - requested);
        const int db = std::abs(best - requested);
        if (da < db || (da == db && a < best)) {
            best = a;
        }
    }
    return best;
}

env_lookup process_environment() {
    env_lookup env;
    for (const char* name : {"TELEGRAM_BOT_TOKEN",
                             "OPENAI_API_KEY",
                             "GEMINI_API_KEY",
                             "VIDEO_API_KEY",
                             "GOOGLE_APPLICATION_CREDENTIALS",
                             "TELEGRAM_API_BASE_URL",
                             "OPENAI_BASE_URL",
                             "GEMINI_BASE_URL",
                             "VIDEO_BASE_URL",
                             "COMPANION_LOG_LEVEL",
                             "COMPANION_DATA_DIR"}) {
        if (const char* v = std::getenv(name)) {
            env[name] = v;
        }
    }
    return env;
}

boost::system::result<config, std::string>
parse_config(std::string_view toml_text, const env_lookup& env, std::string_view source) {
    toml::table root;
    try {
        root = toml::parse(toml_text, source);
    } catch (const toml::parse_error& e) {
        const auto& where = e.source().begin;
        return std::string(source) + ":" + std::to_string(where.line) + ":" + std::to_string(where.column) +
               ": " + std::string(e.description());
    }

    // Unknown sections and keys are errors: a typo must not silently keep a default.
    static const std::map<std::string, std::vector<std::string>> known{
        {"telegram", {"api_base_url", "poll_timeout", "send_pacing"}},
        {"openai", {"base_url", "model", "token_field", "max_tokens", "temperature", "timeout"}},
        {"gemini", {"base_url", "image_model", "timeout"}},
        {"video",
         {"provider",
          "base_url",
          "model",
          "allowed_seconds",
          "size",
          "requested_seconds",
          "price_cents_per_second",
          "reports_progress",
          "poll_interval",
          "poll_timeout",
          "flirty_probability",
          "debug_info",
          "vertex_project",
          "vertex_location"}},
        {"limits",
         {"selfies_per_day",
          "videos_per_day",
          "daily_spend_cap_cents",
          "chat_turns_per_minute",
          "selfies_per_minute"}},
        {"storage", {"data_dir", "database", "synchronous", "media_retention"}},
        {"bot", {"personas", "locales", "admins", "history_turns", "summary_every"}},
        {"admin", {"listen", "port"}},
        {"log", {"level", "format"}},
        {"http", {"ca_file"}},
    };
    for (const auto& [section, node] : root) {
        const std::string name(section.str());
        auto it = known.find(name);
        if (it == known.end()) {
            return "[" + name + "]: unknown section";
        }
        const auto* table = node.as_table();
        if (table == nullptr) {
            return name + ": expected a table [" + name + "]";
        }
        for (const auto& [key, value] : *table) {
            (void)value;
            if (std::find(it->second.begin(), it->second.end(), std::string(key.str())) == it->second.end()) {
                return name + "." + std::string(key.str()) + ": unknown key";
            }
            if (name == "telegram" && key.str() == "token") {
                return "telegram.token: secrets come from the environment (TELEGRAM_BOT_TOKEN), not the file";
            }
        }
    }

    config cfg;
    reader r(root);
    r.string("telegram.api_base_url", cfg.telegram.api_base_url);
    r.duration("telegram.poll_timeout", cfg.telegram.poll_timeout, 1s, 50s);
    r.boolean("telegram.send_pacing", cfg.telegram.send_pacing);

    r.string("openai.base_url", cfg.openai.base_url);
    r.string("openai.model", cfg.openai.model);
    std::string field = "max_completion_tokens";
    r.string("openai.token_field", field);
    if (field == "max_tokens") {
        cfg.openai.limit_field = token_field::max_tokens;
    } else if (field != "max_completion_tokens") {
        r.fail("openai.token_field", "must be \"max_completion_tokens\" or \"max_tokens\"");
    }
    r.integer("openai.max_tokens", cfg.openai.max_tokens, 16, 100000);
    if (root.at_path("openai.temperature")) {
        double t = 1.0;
        r.number("openai.temperature", t, 0.0, 2.0);
        cfg.openai.temperature = t;
    }
    r.duration("openai.timeout", cfg.openai.timeout, 1s, 10min);

    r.string("gemini.base_url", cfg.gemini.base_url);
    r.string("gemini.image_model", cfg.gemini.image_model);
    r.duration("gemini.timeout", cfg.gemini.timeout, 1s, 10min);

    std::string provider = "none";
    r.string("video.provider", provider);
    if (provider == "none") {
        cfg.video.provider = video_provider_kind::none;
    } else if (provider == "openai") {
        cfg.video.provider = video_provider_kind::openai_videos;
    } else if (provider == "gemini-omni") {
        cfg.video.provider = video_provider_kind::gemini_omni;
    } else if (provider == "vertex-veo") {
        cfg.video.provider = video_provider_kind::vertex_veo;
    } else {
        r.fail("video.provider", "must be one of \"none\", \"openai\", \"gemini-omni\", \"vertex-veo\"");
    }
    r.string("video.base_url", cfg.video.base_url);
    r.string("video.model", cfg.video.model);
    r.int_array("video.allowed_seconds", cfg.video.allowed_seconds);
    r.string("video.size", cfg.video.size);
    r.integer("video.requested_seconds", cfg.video.requested_seconds, 1, 60);
    r.integer("video.price_cents_per_second", cfg.video.price_cents_per_second, 0, 10000);
    r.boolean("video.reports_progress", cfg.video.reports_progress);
    r.duration("video.poll_interval", cfg.video.poll_interval, 500ms, 5min);
    r.duration("video.poll_timeout", cfg.video.poll_timeout, 10s, 24h);
    r.number("video.flirty_probability", cfg.video.flirty_probability, 0.0, 1.0);
    std::string debug = "admins";
    r.string("video.debug_info", debug);
    if (debug == "off") {
        cfg.video.debug_info = debug_info_mode::off;
    } else if (debug == "all") {
        cfg.video.debug_info = debug_info_mode::all;
    } else if (debug != "admins") {
        r.fail("video.debug_info", "must be \"off\", \"admins\" or \"all\"");
    }
    r.string("video.vertex_project", cfg.video.vertex_project);
    r.string("video.vertex_location", cfg.video.vertex_location);

    r.integer("limits.selfies_per_day", cfg.limits.selfies_per_day, 0, 100000);
    r.integer("limits.videos_per_day", cfg.limits.videos_per_day, 0, 100000);
    r.integer("limits.daily_spend_cap_cents", cfg.limits.daily_spend_cap_cents, 0, 100000000);
    r.integer("limits.chat_turns_per_minute", cfg.limits.chat_turns_per_minute, 1, 10000);
    r.integer("limits.selfies_per_minute", cfg.limits.selfies_per_minute, 1, 1000);

    r.string("storage.data_dir", cfg.storage.data_dir);
    r.string("storage.database", cfg.storage.database);
    std::string sync = "normal";
    r.string("storage.synchronous", sync);
    if (sync == "full") {
        cfg.storage.synchronous_full = true;
    } else if (sync != "normal") {
        r.fail("storage.synchronous", "must be \"normal\" or \"full\"");
    }
    r.duration("storage.media_retention", cfg.storage.media_retention, 1h, std::chrono::hours(24 * 3650));

    r.string("bot.personas", cfg.bot.personas);
    r.string("bot.locales", cfg.bot.locales);
    r.int_array("bot.admins", cfg.bot.admins);
    r.integer("bot.history_turns", cfg.bot.history_turns, 0, 200);
    r.integer("bot.summary_every", cfg.bot.summary_every, 1, 1000);

    r.string("admin.listen", cfg.admin.listen);
    r.integer("admin.port", cfg.admin.port, 0, 65535);
    r.string("log.level", cfg.log.level);
    r.string("log.format", cfg.log.format);
    r.string("http.ca_file", cfg.http.ca_file);
    if (r.error) {
        return *r.error;
    }

    // The environment overrides the file.
    cfg.telegram.token = env_or(env, "TELEGRAM_BOT_TOKEN", "");
    cfg.telegram.api_base_url = env_or(env, "TELEGRAM_API_BASE_URL", cfg.telegram.api_base_url);
    cfg.openai.api_key = env_or(env, "OPENAI_API_KEY", "");
    cfg.openai.base_url = env_or(env, "OPENAI_BASE_URL", cfg.openai.base_url);
    cfg.gemini.api_key = env_or(env, "GEMINI_API_KEY", "");
    cfg.gemini.base_url = env_or(env, "GEMINI_BASE_URL", cfg.gemini.base_url);
    cfg.video.api_key = env_or(env, "VIDEO_API_KEY", "");
    cfg.video.base_url = env_or(env, "VIDEO_BASE_URL", cfg.video.base_url);
    cfg.video.credentials_file = env_or(env, "GOOGLE_APPLICATION_CREDENTIALS", "");
    cfg.log.level = env_or(env, "COMPANION_LOG_LEVEL", cfg.log.level);
    cfg.storage.data_dir = env_or(env, "COMPANION_DATA_DIR", cfg.storage.data_dir);

    // Cross-field checks.
    const std::pair<const char*, const std::string*> urls[] = {
        {"telegram.api_base_url (TELEGRAM_API_BASE_URL)", &cfg.telegram.api_base_url},
        {"openai.base_url (OPENAI_BASE_URL)", &cfg.openai.base_url},
        {"gemini.base_url (GEMINI_BASE_URL)", &cfg.gemini.base_url},
    };
    for (const auto& [name, url] : urls) {
        if (!valid_url(*url)) {
            return std::string(name) + ": must start with http:// or https://";
        }
    }
    if (!cfg.video.base_url.empty() && !valid_url(cfg.video.base_url)) {
        return "video.base_url (VIDEO_BASE_URL): must start with http:// or https://";
    }
    if (!cfg.telegram.token.empty()) {
        const auto colon = cfg.telegram.token.find(':');
        if (colon == std::string::npos || colon == 0 || colon + 1 == cfg.telegram.token.size()) {
            return "TELEGRAM_BOT_TOKEN: not a bot token (expected <digits>:<secret>)";
        }
    }
    if (cfg.video.allowed_seconds.empty()) {
        return "video.allowed_seconds: must list at least one length";
    }
    for (int s : cfg.video.allowed_seconds) {
        if (s < 1 || s > 60) {
            return "video.allowed_seconds: lengths must be 1-60 seconds";
        }
    }
    const auto x = cfg.video.size.find('x');
    if (x == std::string::npos || x == 0 || x + 1 == cfg.video.size.size() ||
        cfg.video.size.find_first_not_of("0123456789x") != std::string::npos) {
        return "video.size: expected WIDTHxHEIGHT, e.g. \"720x1280\"";
    }
    if (cfg.video.poll_timeout <= cfg.video.poll_interval) {
        return "video.poll_timeout: must be longer than video.poll_interval";
    }
    if (cfg.log.format != "text" && cfg.log.format != "json") {
        return "log.format: must be \"text\" or \"json\"";
    }
    static const std::vector<std::string>
        levels{"trace", "debug", "info", "warn", "error", "critical", "off"};
    if (std::find(levels.begin(), levels.end(), cfg.log.level) == levels.end()) {
        return "log.level (COMPANION_LOG_LEVEL): must be one of trace, debug, info, warn, error, critical, "
               "off";
    }
    if (cfg.live() && cfg.video.provider == video_provider_kind::vertex_veo &&
        (cfg.video.credentials_file.empty() || cfg.video.vertex_project.empty())) {
        return "video.provider: \"vertex-veo\" needs GOOGLE_APPLICATION_CREDENTIALS and video.vertex_project";
    }
    return cfg;
}

boost::system::result<config, std::string> load_config(const std::string& path, const env_lookup& env) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return path + ": cannot read the configuration file";
    }
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return parse_config(text, env, path);
}

std::string print_config(const config& c) {
    std::ostringstream o;
    auto ints = [](const auto& v) {
        std::string s = "[";
        for (std::size_t i = 0; i < v.size(); ++i) {
            s += (i ? ", " : "") + std::to_string(v[i]);
        }
        return s + "]";
    };
    const char* provider = c.video.provider == video_provider_kind::none            ? "none"
                           : c.video.provider == video_provider_kind::openai_videos ? "openai"
                           : c.video.provider == video_provider_kind::gemini_omni   ? "gemini-omni"
                                                                                    : "vertex-veo";
    const char* debug = c.video.debug_info == debug_info_mode::off      ? "off"
                        : c.video.debug_info == debug_info_mode::admins ? "admins"
                                                                        : "all";
    o << "# effective configuration (" << (c.live() ? "live" : "simulation") << " mode)\n";
    o << "[telegram]\n# token from TELEGRAM_BOT_TOKEN: " << secret(c.telegram.token) << "\n";
    o << "api_base_url = " << quote(c.telegram.api_base_url) << "\npoll_timeout = "
      << seconds_text(std::chrono::duration_cast<std::chrono::milliseconds>(c.telegram.poll_timeout))
      << "\nsend_pacing = " << (c.telegram.send_pacing ? "true" : "false") << "\n\n";
    o << "[openai]\n# api key from OPENAI_API_KEY: " << secret(c.openai.api_key) << "\n";
    o << "base_url = " << quote(c.openai.base_url) << "\nmodel = " << quote(c.openai.model)
      << "\ntoken_field = "
      << quote(c.openai.limit_field == token_field::max_tokens ? "max_tokens" : "max_completion_tokens")
      << "\nmax_tokens = " << c.openai.max_tokens << "\n";
    if (c.openai.temperature) {
        o << "temperature = " << *c.openai.temperature << "\n";
    }
    o << "timeout = " << seconds_text(c.openai.timeout) << "\n\n";
    o << "[gemini]\n# api key from GEMINI_API_KEY: " << secret(c.gemini.api_key) << "\n";
    o << "base_url = " << quote(c.gemini.base_url) << "\nimage_model = " << quote(c.gemini.image_model)
      << "\ntimeout = " << seconds_text(c.gemini.timeout) << "\n\n";
    o << "[video]\n# api key from VIDEO_API_KEY: " << secret(c.video.api_key)
      << "\n# credentials from GOOGLE_APPLICATION_CREDENTIALS: " << quote(c.video.credentials_file) << "\n";
    o << "provider = " << quote(provider) << "\nbase_url = " << quote(c.video.base_url)
      << "\nmodel = " << quote(c.video.model) << "\nallowed_seconds = " << ints(c.video.allowed_seconds)
      << "\nsize = " << quote(c.video.size) << "\nrequested_seconds = " << c.video.requested_seconds
      << "  # effective: " << nearest_allowed_seconds(c.video.requested_seconds, c.video.allowed_seconds)
      << "\nprice_cents_per_second = " << c.video.price_cents_per_second
      << "\nreports_progress = " << (c.video.reports_progress ? "true" : "false")
      << "\npoll_interval = " << seconds_text(c.video.poll_interval)
      << "\npoll_timeout = " << seconds_text(c.video.poll_timeout)
      << "\nflirty_probability = " << c.video.flirty_probability << "\ndebug_info = " << quote(debug)
      << "\nvertex_project = " << quote(c.video.vertex_project)
      << "\nvertex_location = " << quote(c.video.vertex_location) << "\n\n";
    o << "[limits]\nselfies_per_day = " << c.limits.selfies_per_day
      << "\nvideos_per_day = " << c.limits.videos_per_day
      << "\ndaily_spend_cap_cents = " << c.limits.daily_spend_cap_cents
      << "\nchat_turns_per_minute = " << c.limits.chat_turns_per_minute
      << "\nselfies_per_minute = " << c.limits.selfies_per_minute << "\n\n";
    o << "[storage]\ndata_dir = " << quote(c.storage.data_dir) << "\ndatabase = " << quote(c.storage.database)
      << "\nsynchronous = " << quote(c.storage.synchronous_full ? "full" : "normal")
      << "\nmedia_retention = " << quote(std::to_string(c.storage.media_retention.count() / 24) + "d")
      << "\n\n";
    o << "[bot]\npersonas = " << quote(c.bot.personas) << "\nlocales = " << quote(c.bot.locales)
      << "\nadmins = " << ints(c.bot.admins) << "\nhistory_turns = " << c.bot.history_turns
      << "\nsummary_every = " << c.bot.summary_every << "\n\n";
    o << "[admin]\nlisten = " << quote(c.admin.listen) << "\nport = " << c.admin.port << "\n\n";
    o << "[log]\nlevel = " << quote(c.log.level) << "\nformat = " << quote(c.log.format) << "\n\n";
    o << "[http]\nca_file = " << quote(c.http.ca_file) << "\n";
    return o.str();
}

} // namespace companion::app
