// The configuration table and what it drives: reading (TOML, then the environment), the
// unknown-key check, validation and --print-config. A key is one row of make_table(); nothing
// else lists the keys.
#include "app/config.hpp"

#include "pipelines/providers/gemini_omni.hpp"
#include "pipelines/providers/openai_videos.hpp"
#include "pipelines/providers/openrouter_videos.hpp"
#include "pipelines/providers/vertex_veo.hpp"

#include <boost/asio/ip/address.hpp>

#include <toml++/toml.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <type_traits>
#include <utility>

namespace companion::app {
namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;

/// What is wrong with one value: the text that follows "<key>: " in the error line.
using problem = std::optional<std::string>;

/// A row of the table, its type erased: each builder of `rows` fills the functions for its type.
struct key {
    key_info info;
    std::string section;
    std::string name;                                               ///< within its section
    std::function<problem(const toml::node&, config&)> read;        ///< empty: environment only
    std::function<problem(std::string_view, config&)> read_env;     ///< empty: no variable
    std::function<problem(const config&)> check;                    ///< a rule on the final value
    std::function<std::optional<std::string>(const config&)> print; ///< TOML; nullopt: an unset optional
    std::string example;                                            ///< an optional key's illustration
    std::function<std::string(const config&)> note;                 ///< a derived fact shown under it
};

struct section_info {
    std::string name;
    std::string doc;
};

struct table {
    std::vector<section_info> sections;
    std::vector<key> keys;

    const key* find(std::string_view path) const {
        const auto it =
            std::find_if(keys.begin(), keys.end(), [&](const key& k) { return k.info.path == path; });
        return it == keys.end() ? nullptr : &*it;
    }
};

// ---- value texts -------------------------------------------------------------------------------

std::string quote(std::string_view s) {
    std::string out = "\"";
    for (const char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if (c == '"' || c == '\\') {
            out.push_back('\\');
            out.push_back(ch);
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\t') {
            out += "\\t";
        } else if (c < 0x20 || c == 0x7F) {
            // Any other control character would end or corrupt the TOML line.
            char escaped[8];
            std::snprintf(escaped, sizeof escaped, "\\u%04X", static_cast<unsigned>(c));
            out += escaped;
        } else {
            out.push_back(ch);
        }
    }
    out.push_back('"');
    return out;
}

/// The largest unit that states `d` exactly: "30d", "10m", "250ms".
std::string duration_text(milliseconds d) {
    if (d.count() == 0) {
        return "0s";
    }
    static constexpr std::pair<std::int64_t, const char*> units[] = {{86'400'000, "d"},
                                                                     {3'600'000, "h"},
                                                                     {60'000, "m"},
                                                                     {1000, "s"}};
    for (const auto& [ms, unit] : units) {
        if (d.count() % ms == 0) {
            return std::to_string(d.count() / ms) + unit;
        }
    }
    return std::to_string(d.count()) + "ms";
}

/// The shortest text that reads back as `v`, as a TOML float.
std::string number_text(double v) {
    char buf[64];
    const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    std::string s = ec == std::errc{} ? std::string(buf, end) : std::to_string(v);
    if (s.find_first_of(".eEn") == std::string::npos) {
        s += ".0";
    }
    return s;
}

template <class Int>
std::string list_text(const std::vector<Int>& values) {
    std::string s = "[";
    for (std::size_t i = 0; i < values.size(); ++i) {
        s += (i != 0 ? ", " : "") + std::to_string(values[i]);
    }
    return s + "]";
}

std::string between(const std::string& lo, const std::string& hi) {
    return "must be between " + lo + " and " + hi;
}

template <class T>
std::string one_of(const std::vector<std::pair<std::string, T>>& names) {
    std::string s = "must be one of ";
    for (std::size_t i = 0; i < names.size(); ++i) {
        s += (i != 0 ? ", " : "") + quote(names[i].first);
    }
    return s;
}

// ---- rules on final values ---------------------------------------------------------------------

problem http_url(const std::string& url) {
    if (url.starts_with("http://") || url.starts_with("https://")) {
        return std::nullopt;
    }
    return "must start with http:// or https://";
}

problem https_url_or_empty(const std::string& url) {
    if (url.empty() || url.starts_with("https://")) {
        return std::nullopt;
    }
    return "must be an https:// URL (Telegram delivers to HTTPS only)";
}

/// setWebhook's secret_token: 1-256 of [A-Za-z0-9_-] (empty: made at start).
problem webhook_secret_token(const std::string& s) {
    if (s.size() > 256) {
        return "at most 256 characters";
    }
    const bool ok = std::all_of(s.begin(), s.end(), [](char ch) {
        return std::isalnum(static_cast<unsigned char>(ch)) != 0 || ch == '_' || ch == '-';
    });
    if (!ok) {
        return "only A-Z, a-z, 0-9, _ and - (Telegram's rule)";
    }
    return std::nullopt;
}

problem http_url_or_empty(const std::string& url) {
    return url.empty() ? std::nullopt : http_url(url);
}

problem not_empty(const std::string& text) {
    if (text.empty()) {
        return "must not be empty";
    }
    return std::nullopt;
}

problem ip_address(const std::string& text) {
    boost::system::error_code ec;
    const auto address = boost::asio::ip::make_address(text, ec);
    if (ec || address.is_multicast()) {
        return "expected an IP address such as \"127.0.0.1\" or \"::1\"";
    }
    return std::nullopt;
}

problem bot_token(const std::string& token) {
    const auto colon = token.find(':');
    if (token.empty() || (colon != std::string::npos && colon != 0 && colon + 1 != token.size())) {
        return std::nullopt;
    }
    return "not a bot token (expected <digits>:<secret>)";
}

problem video_size(const std::string& size) {
    // Each side a whole number of pixels a video model can render: 16 to 4096 (the providers'
    // sizes are 480p to 4K), so nothing later has to parse an overflowing number.
    constexpr unsigned min_side = 16;
    constexpr unsigned max_side = 4096;
    const auto x = size.find('x');
    unsigned width = 0;
    unsigned height = 0;
    const char* end = size.data() + size.size();
    const auto w = std::from_chars(size.data(), size.data() + (x == std::string::npos ? 0 : x), width);
    const auto h = x == std::string::npos ? std::from_chars_result{end, std::errc::invalid_argument}
                                          : std::from_chars(size.data() + x + 1, end, height);
    const bool too_long = w.ec == std::errc::result_out_of_range || h.ec == std::errc::result_out_of_range;
    if (!too_long && (x == std::string::npos || w.ec != std::errc{} || w.ptr != size.data() + x ||
                      h.ec != std::errc{} || h.ptr != end)) {
        return "expected WIDTHxHEIGHT, e.g. \"720x1280\"";
    }
    if (too_long || width < min_side || width > max_side || height < min_side || height > max_side) {
        return "each side must be between " + std::to_string(min_side) + " and " + std::to_string(max_side) +
               " pixels";
    }
    return std::nullopt;
}

// ---- the builders ------------------------------------------------------------------------------

template <class T>
constexpr bool is_optional = false;
template <class T>
constexpr bool is_optional<std::optional<T>> = true;

/// A member of one section of `config`: reads and writes `c.*section.*member`.
template <class S, class T>
struct field {
    S config::*section;
    T S::*member;
    T& operator()(config& c) const { return c.*section.*member; }
    const T& operator()(const config& c) const { return c.*section.*member; }
};

/// Whether an empty list is a valid value.
enum class empty_list { allowed, refused };

/// Whether a value from the environment may be printed.
enum class secrecy { secret, plain };

/// The rows of one section: `rows(t, "video", &config::video).duration("poll_interval", ...)`.
template <class S>
class rows {
public:
    rows(table& t, std::string name, S config::*section, std::string doc = {})
        : table_(t), name_(std::move(name)), section_(section) {
        table_.sections.push_back({name_, std::move(doc)});
    }

    /// A string; `env` overrides the file, `rule` checks the final value.
    rows& text(std::string_view name,
               std::string S::*m,
               std::string_view doc,
               std::string_view env = {},
               problem (*rule)(const std::string&) = nullptr) {
        const field<S, std::string> at{section_, m};
        key& k = add(name, doc);
        k.read = [at](const toml::node& n, config& c) -> problem {
            auto v = n.value_exact<std::string>();
            if (!v) {
                return "expected a string";
            }
            at(c) = std::move(*v);
            return std::nullopt;
        };
        if (!env.empty()) {
            k.info.env = env;
            k.read_env = [at](std::string_view v, config& c) -> problem {
                at(c) = std::string(v);
                return std::nullopt;
            };
        }
        if (rule != nullptr) {
            k.check = [at, rule](const config& c) { return rule(at(c)); };
        }
        k.print = [at](const config& c) -> std::optional<std::string> { return quote(at(c)); };
        return *this;
    }

    /// A path whose empty default means "the share folder's" (app/share_folder.hpp, resolved at
    /// start); shown commented out as `example` until the file sets it, and never empty when set.
    rows&
    found_path(std::string_view name, std::string S::*m, std::string_view doc, std::string_view example) {
        text(name, m, doc);
        key& k = table_.keys.back();
        const field<S, std::string> at{section_, m};
        k.read = [read = std::move(k.read), at](const toml::node& n, config& c) -> problem {
            if (auto wrong = read(n, c)) {
                return wrong;
            }
            return not_empty(at(c));
        };
        k.example = example;
        k.print = [at](const config& c) -> std::optional<std::string> {
            return at(c).empty() ? std::nullopt : std::optional<std::string>(quote(at(c)));
        };
        return *this;
    }

    /// A value that comes from `env` only: a secret (design.md §5: never in the file, never
    /// printed), or a credentials path (where the ecosystem puts it).
    rows& from_environment(std::string_view name,
                           std::string S::*m,
                           std::string_view env,
                           secrecy kind,
                           std::string_view doc,
                           problem (*rule)(const std::string&) = nullptr) {
        text(name, m, doc, env, rule);
        key& k = table_.keys.back();
        k.read = nullptr;
        k.info.file = false;
        if (kind == secrecy::secret) {
            k.info.secret = true;
            k.print =
                [at = field<S, std::string>{section_, m}](const config& c) -> std::optional<std::string> {
                return at(c).empty() ? "\"\"" : "\"[REDACTED]\"";
            };
        }
        return *this;
    }

    rows& flag(std::string_view name, bool S::*m, std::string_view doc) {
        const field<S, bool> at{section_, m};
        key& k = add(name, doc);
        k.read = [at](const toml::node& n, config& c) -> problem {
            const auto v = n.value_exact<bool>();
            if (!v) {
                return "expected true or false";
            }
            at(c) = *v;
            return std::nullopt;
        };
        k.print = [at](const config& c) -> std::optional<std::string> { return at(c) ? "true" : "false"; };
        return *this;
    }

    /// An integer. A std::optional member is absent unless set, and shown commented out as
    /// `example`.
    template <class Int>
    rows& integer(std::string_view name,
                  Int S::*m,
                  std::int64_t lo,
                  std::int64_t hi,
                  std::string_view doc,
                  std::string_view example = {}) {
        const field<S, Int> at{section_, m};
        key& k = add(name, doc);
        k.example = example;
        k.read = [at, lo, hi](const toml::node& n, config& c) -> problem {
            // Exact type: toml++ would convert a float to an integer without a range check
            // (undefined for 1e24, found by fuzzing).
            const auto v = n.value_exact<std::int64_t>();
            if (!v) {
                return "expected an integer";
            }
            if (*v < lo || *v > hi) {
                return between(std::to_string(lo), std::to_string(hi));
            }
            at(c) = static_cast<Int>(*v);
            return std::nullopt;
        };
        if constexpr (is_optional<Int>) {
            // Absent (no limit sent) unless set; the example file shows the default.
            k.print = [at](const config& c) -> std::optional<std::string> {
                return at(c) ? std::optional(std::to_string(*at(c))) : std::nullopt;
            };
        } else {
            k.print = [at](const config& c) -> std::optional<std::string> { return std::to_string(at(c)); };
        }
        return *this;
    }

    template <class Int>
    rows& integers(std::string_view name,
                   std::vector<Int> S::*m,
                   std::int64_t lo,
                   std::int64_t hi,
                   empty_list empty,
                   std::string_view doc) {
        const field<S, std::vector<Int>> at{section_, m};
        key& k = add(name, doc);
        k.read = [at, lo, hi, empty](const toml::node& n, config& c) -> problem {
            const auto* arr = n.as_array();
            if (arr == nullptr) {
                return "expected an array of integers";
            }
            std::vector<Int> values;
            for (const auto& item : *arr) {
                const auto v = item.value_exact<std::int64_t>();
                if (!v) {
                    return "expected an array of integers";
                }
                if (*v < lo || *v > hi) {
                    return "every value " + between(std::to_string(lo), std::to_string(hi));
                }
                values.push_back(static_cast<Int>(*v));
            }
            if (values.empty() && empty == empty_list::refused) {
                return "must list at least one value";
            }
            at(c) = std::move(values);
            return std::nullopt;
        };
        k.print = [at](const config& c) -> std::optional<std::string> { return list_text(at(c)); };
        return *this;
    }

    /// A number. A std::optional member is absent unless set, and shown commented out as `example`.
    template <class T>
    rows& number(std::string_view name,
                 T S::*m,
                 double lo,
                 double hi,
                 std::string_view doc,
                 std::string_view example = {}) {
        const field<S, T> at{section_, m};
        key& k = add(name, doc);
        k.read = [at, lo, hi](const toml::node& n, config& c) -> problem {
            double v = 0;
            if (const auto f = n.value_exact<double>()) {
                v = *f;
            } else if (const auto i = n.value_exact<std::int64_t>()) {
                v = static_cast<double>(*i);
            } else {
                return "expected a number";
            }
            // Written so that nan fails too.
            if (!(v >= lo && v <= hi)) {
                return between(number_text(lo), number_text(hi));
            }
            at(c) = v;
            return std::nullopt;
        };
        if constexpr (std::is_same_v<T, std::optional<double>>) {
            k.info.optional = true;
            k.example = example;
            k.print = [at](const config& c) -> std::optional<std::string> {
                if (!at(c)) {
                    return std::nullopt;
                }
                return number_text(*at(c));
            };
        } else {
            k.print = [at](const config& c) -> std::optional<std::string> { return number_text(at(c)); };
        }
        return *this;
    }

    /// A duration: "500ms", "5s", "10m", "2h", "30d", or an integer of seconds.
    template <class Rep, class Period>
    rows& duration(std::string_view name,
                   std::chrono::duration<Rep, Period> S::*m,
                   milliseconds lo,
                   milliseconds hi,
                   std::string_view doc) {
        using D = std::chrono::duration<Rep, Period>;
        const field<S, D> at{section_, m};
        key& k = add(name, doc);
        k.read = [at, lo, hi](const toml::node& n, config& c) -> problem {
            std::optional<milliseconds> d;
            if (const auto s = n.value_exact<std::string>()) {
                d = parse_duration(*s);
            } else if (const auto i = n.value_exact<std::int64_t>()) {
                // A count whose milliseconds do not fit is an error (fuzzing found the overflow).
                constexpr std::int64_t max_seconds = std::numeric_limits<std::int64_t>::max() / 1000;
                if (*i >= -max_seconds && *i <= max_seconds) {
                    d = std::chrono::seconds(*i);
                }
            }
            if (!d) {
                return "expected a duration like \"5s\", \"500ms\" or \"10m\"";
            }
            if (*d < lo || *d > hi) {
                return between(duration_text(lo), duration_text(hi));
            }
            const auto value = std::chrono::duration_cast<D>(*d);
            if (value != *d) {
                // Truncating "90m" to 1h would run with a value nobody wrote.
                return "must be a multiple of " + duration_text(std::chrono::ceil<milliseconds>(D{1}));
            }
            at(c) = value;
            return std::nullopt;
        };
        k.print = [at](const config& c) -> std::optional<std::string> {
            return quote(duration_text(std::chrono::duration_cast<milliseconds>(at(c))));
        };
        return *this;
    }

    /// One of `names`, each standing for a value of the member's type.
    template <class T>
    rows& choice(std::string_view name,
                 T S::*m,
                 std::vector<std::pair<std::string, T>> names,
                 std::string_view doc,
                 std::string_view env = {}) {
        const field<S, T> at{section_, m};
        key& k = add(name, doc);
        auto set = [at, names](std::string_view text, config& c) -> problem {
            for (const auto& [n, value] : names) {
                if (n == text) {
                    at(c) = value;
                    return std::nullopt;
                }
            }
            return one_of(names);
        };
        k.read = [set, names](const toml::node& n, config& c) -> problem {
            const auto v = n.value_exact<std::string>();
            return v ? set(*v, c) : problem(one_of(names));
        };
        if (!env.empty()) {
            k.info.env = env;
            k.read_env = set;
        }
        k.print = [at, names](const config& c) -> std::optional<std::string> {
            for (const auto& [n, value] : names) {
                if (value == at(c)) {
                    return quote(n);
                }
            }
            return std::nullopt;
        };
        return *this;
    }

    /// A string that must be one of `allowed`.
    rows& one_of_texts(std::string_view name,
                       std::string S::*m,
                       const std::vector<std::string>& allowed,
                       std::string_view doc,
                       std::string_view env = {}) {
        std::vector<std::pair<std::string, std::string>> names;
        for (const auto& a : allowed) {
            names.emplace_back(a, a);
        }
        return choice(name, m, std::move(names), doc, env);
    }

    /// Packs of video credits: an array of inline tables `{credits = 3, stars = 150}`.
    rows& packs(std::string_view name, std::vector<pipelines::credit_pack> S::*m, std::string_view doc) {
        const field<S, std::vector<pipelines::credit_pack>> at{section_, m};
        key& k = add(name, doc);
        k.read = [at](const toml::node& n, config& c) -> problem {
            constexpr std::string_view shape = "expected an array of tables like {credits = 3, stars = 150}";
            const auto* arr = n.as_array();
            if (arr == nullptr) {
                return std::string(shape);
            }
            std::vector<pipelines::credit_pack> packs;
            for (const auto& item : *arr) {
                const auto* t = item.as_table();
                if (t == nullptr) {
                    return std::string(shape);
                }
                for (const auto& [field_name, value] : *t) {
                    if (field_name.str() != "credits" && field_name.str() != "stars") {
                        return "a pack has credits and stars only, not " + std::string(field_name.str());
                    }
                }
                const auto credits = (*t)["credits"].value_exact<std::int64_t>();
                const auto stars = (*t)["stars"].value_exact<std::int64_t>();
                if (!credits || !stars) {
                    return "every pack needs integer credits and stars";
                }
                if (*credits < 1 || *credits > 10000) {
                    return "a pack's credits " + between("1", "10000");
                }
                if (*stars < 1 || *stars > 10000) { // Telegram's ceiling on one Stars price
                    return "a pack's stars " + between("1", "10000");
                }
                const auto same = [&](const pipelines::credit_pack& p) { return p.credits == *credits; };
                if (std::any_of(packs.begin(), packs.end(), same)) {
                    return "two packs of " + std::to_string(*credits) + " credits";
                }
                packs.push_back({.credits = static_cast<int>(*credits), .stars = *stars});
            }
            at(c) = std::move(packs);
            return std::nullopt;
        };
        k.print = [at](const config& c) -> std::optional<std::string> {
            std::string out = "[";
            for (const auto& p : at(c)) {
                out += (out.size() > 1 ? ", " : "") + std::string("{ credits = ") +
                       std::to_string(p.credits) + ", stars = " + std::to_string(p.stars) + " }";
            }
            return out + "]";
        };
        return *this;
    }

    /// A derived fact printed on its own comment line under the last key.
    rows& note(std::function<std::string(const config&)> f) {
        table_.keys.back().note = std::move(f);
        return *this;
    }

private:
    key& add(std::string_view name, std::string_view doc) {
        key k;
        k.section = name_;
        k.name = name;
        k.info.path = name_ + "." + std::string(name);
        k.info.doc = doc;
        table_.keys.push_back(std::move(k));
        return table_.keys.back();
    }

    table& table_;
    std::string name_;
    S config::*section_;
};

// ---- the table ---------------------------------------------------------------------------------

table make_table() {
    table t;
    rows(t, "telegram", &config::telegram)
        .from_environment("token",
                          &telegram_settings::token,
                          "TELEGRAM_BOT_TOKEN",
                          secrecy::secret,
                          "the bot's token from @BotFather; unset: the built-in simulation",
                          bot_token)
        .text("api_base_url",
              &telegram_settings::base_url,
              "the Bot API server",
              "TELEGRAM_API_BASE_URL",
              http_url)
        .duration("poll_timeout",
                  // A member of the client's config: named as the section's for deduction.
                  static_cast<std::chrono::seconds telegram_settings::*>(&telegram_settings::poll_timeout),
                  1s,
                  50s,
                  "getUpdates long-poll timeout (1-50 s)")
        .flag("send_pacing",
              &telegram_settings::send_pacing,
              "Telegram's limits: 1 message/s per chat, 30/s overall (false: benchmarks only)")
        .duration(
            "reply_outage",
            &telegram_settings::reply_outage,
            10s,
            10min,
            "a reply is retried through a Telegram outage this long (at most the 10 min an update may take)")
        .duration("video_outage",
                  &telegram_settings::video_outage,
                  1min,
                  24h,
                  "a rendered, paid video is retried through a Telegram outage this long")
        .choice("mode",
                &telegram_settings::webhook_mode,
                {{"polling", false}, {"webhook", true}},
                "\"polling\" (getUpdates) or \"webhook\" (Telegram POSTs to webhook_url)")
        .text("webhook_url",
              &telegram_settings::webhook_url,
              "webhook mode: the public HTTPS URL Telegram posts to",
              "TELEGRAM_WEBHOOK_URL",
              https_url_or_empty)
        .text("webhook_listen",
              &telegram_settings::webhook_listen,
              "webhook mode: the address served",
              {},
              ip_address)
        .integer("webhook_port", &telegram_settings::webhook_port, 1, 65535, "webhook mode: the port served")
        .integer("webhook_max_connections",
                 &telegram_settings::webhook_max_connections,
                 1,
                 100,
                 "webhook mode: Telegram's parallel deliveries")
        .text("webhook_certificate",
              &telegram_settings::webhook_certificate,
              "webhook mode: PEM certificate chain for the bot's own TLS; empty: a proxy terminates TLS")
        .text("webhook_private_key",
              &telegram_settings::webhook_private_key,
              "webhook mode: the certificate's PEM key")
        .from_environment("webhook_secret",
                          &telegram_settings::webhook_secret,
                          "TELEGRAM_WEBHOOK_SECRET",
                          secrecy::secret,
                          "checked on every delivery; unset: a random one per start",
                          webhook_secret_token);

    rows(t, "openai", &config::openai, "chat and prompt writing: any OpenAI-compatible server")
        .from_environment("api_key",
                          &net::openai::chat_config::api_key,
                          "OPENAI_API_KEY",
                          secrecy::secret,
                          "the chat server's key")
        .text("base_url", &net::openai::chat_config::base_url, "the chat server", "OPENAI_BASE_URL", http_url)
        .text("model", &net::openai::chat_config::model, "the chat model")
        .choice("token_field",
                &net::openai::chat_config::limit_field,
                {{"max_completion_tokens", net::openai::token_limit_field::max_completion_tokens},
                 {"max_tokens", net::openai::token_limit_field::max_tokens}},
                "\"max_tokens\" for Ollama and older servers")
        .integer("max_tokens",
                 &net::openai::chat_config::max_output_tokens,
                 16,
                 100'000,
                 "output limit of one reply")
        .number("temperature",
                &net::openai::chat_config::temperature,
                0.0,
                2.0,
                "omitted by default (reasoning models reject it)",
                "0.9")
        .duration("timeout", &net::openai::chat_config::response_timeout, 1s, 10min, "deadline of one reply");

    rows(t, "gemini", &config::gemini, "selfie images")
        .from_environment("api_key",
                          &net::gemini::image_config::api_key,
                          "GEMINI_API_KEY",
                          secrecy::secret,
                          "the Gemini API key")
        .text("base_url", &net::gemini::image_config::base_url, "the Gemini API", "GEMINI_BASE_URL", http_url)
        .text("image_model", &net::gemini::image_config::model, "the image model")
        .duration("timeout",
                  &net::gemini::image_config::response_timeout,
                  1s,
                  10min,
                  "deadline of one image");

    rows(t, "video", &config::video)
        .from_environment(
            "api_key",
            &video_settings::api_key,
            "VIDEO_API_KEY",
            secrecy::secret,
            "the video provider's key; else FAL_KEY (fal), OPENROUTER_API_KEY (openrouter), OPENAI_API_KEY "
            "(openai) or GEMINI_API_KEY (gemini-omni)")
        .from_environment("fal_key", &video_settings::fal_key, "FAL_KEY", secrecy::secret, "fal's API key")
        .from_environment("openrouter_key",
                          &video_settings::openrouter_key,
                          "OPENROUTER_API_KEY",
                          secrecy::secret,
                          "OpenRouter's API key")
        .from_environment("credentials_file",
                          &video_settings::credentials_file,
                          "GOOGLE_APPLICATION_CREDENTIALS",
                          secrecy::plain,
                          "service-account key file of vertex-veo")
        .choice("provider",
                &video_settings::provider,
                {{"none", video_provider_kind::none},
                 {"openai", video_provider_kind::openai_videos},
                 {"gemini-omni", video_provider_kind::gemini_omni},
                 {"vertex-veo", video_provider_kind::vertex_veo},
                 {"fal", video_provider_kind::fal},
                 {"openrouter", video_provider_kind::openrouter}},
                "\"none\" | \"fal\" | \"openrouter\" | \"gemini-omni\" | \"vertex-veo\" | \"openai\" (a "
                "videos protocol gateway)")
        .text("base_url",
              &video_settings::base_url,
              "the provider's base URL",
              "VIDEO_BASE_URL",
              http_url_or_empty)
        .text("model",
              &video_settings::model,
              "the provider's model id; fal: the endpoint id, e.g. "
              "\"fal-ai/kling-video/v3/standard/image-to-video\"")
        .integers("allowed_seconds",
                  &video_settings::allowed_seconds,
                  1,
                  60,
                  empty_list::allowed,
                  "lengths the provider makes; [] (the default): the provider's own")
        .text("size", &video_settings::size, "WIDTHxHEIGHT (9:16, 720p)", {}, video_size)
        .integer("requested_seconds",
                 &video_settings::requested_seconds,
                 1,
                 60,
                 "the seed's 5 s; mapped to the nearest allowed length, ties to the shorter")
        .note([](const config& c) {
            const auto terms = effective_video_terms(c.video);
            if (terms.allowed_seconds.empty()) {
                return std::string("effective: no video provider");
            }
            return "effective: " +
                   std::to_string(
                       pipelines::effective_seconds(c.video.requested_seconds, terms.allowed_seconds)) +
                   " s of " + list_text(terms.allowed_seconds) + " at " +
                   std::to_string(terms.price_cents_per_second) + " cents/s";
        })
        .integers("offered_seconds",
                  &video_settings::offered_seconds,
                  1,
                  60,
                  empty_list::allowed,
                  "the lengths the user chooses from with the video offer's buttons, each mapped to the "
                  "nearest allowed one; fewer than two distinct ones (e.g. [5]): no choice, every clip "
                  "is requested_seconds")
        .note([](const config& c) {
            const auto terms = effective_video_terms(c.video);
            if (terms.allowed_seconds.empty()) {
                return std::string("effective: no video provider");
            }
            const auto offered = pipelines::offered_lengths(c.video.offered_seconds, terms.allowed_seconds);
            return offered.empty() ? std::string("effective: no choice")
                                   : "effective: " + list_text(offered) + " s";
        })
        .integer("price_cents_per_second",
                 &video_settings::price_cents_per_second,
                 0,
                 10'000,
                 "for the daily spend cap; unset: the provider's own",
                 "15")
        .flag("reports_progress",
              &video_settings::reports_progress,
              "false for Omni and Veo: progress shows stage and elapsed time only")
        .duration("poll_interval",
                  &video_settings::poll_interval,
                  500ms,
                  5min,
                  "how often a video in the works is polled")
        .duration("poll_timeout",
                  &video_settings::poll_timeout,
                  10s,
                  24h,
                  "a video not ready by then has failed")
        .duration("submit_outage",
                  &video_settings::submit_outage,
                  10s,
                  1h,
                  "a create the provider certainly refused is retried this long")
        .duration("download_outage",
                  &video_settings::download_outage,
                  10s,
                  6h,
                  "the download of a rendered video is retried this long")
        .number("flirty_probability",
                &video_settings::flirty_probability,
                0.0,
                1.0,
                "only for users who confirmed 18+")
        .choice("debug_info",
                &video_settings::debug_info,
                {{"off", pipelines::debug_info::off},
                 {"admins", pipelines::debug_info::admins},
                 {"all", pipelines::debug_info::all}},
                "\"off\" | \"admins\" | \"all\": the seed's prompt debug message")
        .text("vertex_project", &video_settings::vertex_project, "Google Cloud project of vertex-veo")
        .text("vertex_location", &video_settings::vertex_location, "Google Cloud region of vertex-veo")
        .text("fal_image_field",
              &video_settings::fal_image_field,
              "fal: the model's first-frame field",
              {},
              not_empty)
        .text("fal_duration_field",
              &video_settings::fal_duration_field,
              "fal: the model's length field",
              {},
              not_empty)
        .choice("fal_duration",
                &video_settings::fal_duration,
                {{"string", pipelines::fal_duration_format::string},
                 {"number", pipelines::fal_duration_format::number},
                 {"string_seconds", pipelines::fal_duration_format::string_seconds}},
                "fal: the length as \"5\" (\"string\"), 5 (\"number\") or \"5s\" (\"string_seconds\")")
        .text("fal_aspect_field",
              &video_settings::fal_aspect_field,
              "fal: the model's aspect field (\"aspect_ratio\"); empty: it follows the image")
        .text("fal_aspect_ratio", &video_settings::fal_aspect_ratio, "fal: the aspect sent in that field")
        .text("fal_extra",
              &video_settings::fal_extra,
              "fal: a JSON object merged into every request, e.g. '{\"generate_audio\": false}'",
              {});

    rows(t, "limits", &config::limits)
        .integer("selfies_per_day", &limits_settings::selfies_per_day, 0, 100'000, "per user")
        .integer("videos_per_day", &limits_settings::videos_per_day, 0, 100'000, "per user")
        .integer("daily_spend_cap_cents",
                 &limits_settings::daily_spend_cap_cents,
                 0,
                 100'000'000,
                 "all providers together")
        .integer("chat_turns_per_minute",
                 &limits_settings::chat_turns_per_minute,
                 1,
                 10'000,
                 "per user; faster writers get a localized \"a little slower\"")
        .integer("selfies_per_minute",
                 &limits_settings::selfies_per_minute,
                 1,
                 1000,
                 "per user, on top of the daily quota");

    rows(t, "storage", &config::storage)
        .text("data_dir", &storage_settings::data_dir, "database and media", "COMPANION_DATA_DIR", not_empty)
        .text("database", &storage_settings::database, "relative to data_dir", {}, not_empty)
        .choice("synchronous",
                &storage_settings::synchronous_full,
                {{"normal", false}, {"full", true}},
                "\"full\" for power-loss durability")
        .duration("media_retention",
                  &storage_settings::media_retention,
                  1h,
                  std::chrono::days{3650},
                  "older selfies and videos are deleted, file and row")
        .duration("update_log_retention",
                  &storage_settings::update_log_retention,
                  std::chrono::days{1},
                  std::chrono::days{3650},
                  "how long processed update ids are kept (Telegram resends for up to 24 h)");

    rows(t, "bot", &config::bot)
        .found_path("personas",
                    &bot_settings::personas,
                    "the persona catalog; unset: the data folder's",
                    "\"/path/to/personas.json\"")
        .found_path("locales",
                    &bot_settings::locales,
                    "the folder of locale catalogs; unset: the data folder's",
                    "\"/path/to/locales\"")
        .integers("admins",
                  &bot_settings::admins,
                  1,
                  std::numeric_limits<std::int64_t>::max(),
                  empty_list::allowed,
                  "Telegram user ids allowed /status and /stats")
        .integer("history_turns", &bot_settings::history_turns, 0, 200, "recent turns the LLM sees")
        .integer("summary_every",
                 &bot_settings::summary_every,
                 1,
                 1000,
                 "turns between rolling-summary refreshes");

    rows(t, "chat", &config::chat, "how replies reach the user")
        .flag("stream",
              &chat_settings::stream,
              "private-chat replies appear as she writes them, with a stop button (personas and users may "
              "turn it off)");

    rows(t, "payments", &config::payments, "video credits sold for Telegram Stars (contract §2)")
        .flag("enabled",
              &pipelines::payments_config::enabled,
              "once the day's free videos are used up, packs of video credits are sold for Stars")
        .packs("packs",
               &pipelines::payments_config::packs,
               "the packs offered, in order: credits and their price in Stars")
        .integer("seconds_per_credit",
                 &pipelines::payments_config::seconds_per_credit,
                 1,
                 600,
                 "a clip costs one credit per this many seconds, rounded up")
        .integer("subscription_stars",
                 &pipelines::payments_config::subscription_stars,
                 0,
                 10000,
                 "the monthly subscription's price in Stars (renewed every 30 days); 0: none sold")
        .integer("subscription_videos",
                 &pipelines::payments_config::subscription_videos,
                 1,
                 100,
                 "the extra videos a day a subscription gives, on top of the free ones");

    rows(t, "checkins", &config::checkins, "she writes first, to users who asked for it (issue 21)")
        .flag("enabled",
              &pipelines::checkins_config::enabled,
              "users are asked once, after ask_after of chatting, whether she may write first; only those "
              "who say yes (or turn it on in /settings) ever get a check-in")
        .duration("ask_after",
                  &pipelines::checkins_config::ask_after,
                  1min,
                  std::chrono::days{365},
                  "the opt-in question comes after this long since the user's first message")
        .duration("quiet_after",
                  &pipelines::checkins_config::quiet_after,
                  1s,
                  std::chrono::days{365},
                  "she writes once the user has been quiet this long (and this long after her last)")
        .integer("per_week", &pipelines::checkins_config::per_week, 1, 14, "at most this many in any 7 days")
        .integer("day_starts",
                 &pipelines::checkins_config::day_starts,
                 0,
                 23,
                 "the user's local hour from which she may write")
        .integer("day_ends",
                 &pipelines::checkins_config::day_ends,
                 1,
                 24,
                 "the user's local hour until which she may write (never at night)")
        .duration("every",
                  &pipelines::checkins_config::every,
                  100ms,
                  1h,
                  "how often due check-ins are looked for")
        .duration("retry_after",
                  &pipelines::checkins_config::retry_after,
                  1s,
                  std::chrono::days{7},
                  "a check-in the LLM or Telegram could not make is tried again this much later");

    rows(t,
         "voice",
         &config::voice,
         "voice notes heard and replies spoken: any OpenAI-compatible /v1/audio server")
        .flag("enabled",
              &voice_settings::enabled,
              "false: voice notes get a polite \"please write\" and replies stay text")
        .text("base_url",
              &voice_settings::base_url,
              "the audio server; empty: the chat server's (openai.base_url)",
              "VOICE_BASE_URL",
              http_url_or_empty)
        .from_environment("api_key",
                          &voice_settings::api_key,
                          "VOICE_API_KEY",
                          secrecy::secret,
                          "the audio server's key; else OPENAI_API_KEY")
        .text("transcription_model",
              &voice_settings::transcription_model,
              "speech to text (/v1/audio/transcriptions)")
        .text("speech_model", &voice_settings::speech_model, "text to speech (/v1/audio/speech, Opus)")
        .text("default_voice",
              &voice_settings::default_voice,
              "the voice of a persona without her own \"voice\"")
        .integer("max_seconds", &voice_settings::max_seconds, 1, 3600, "longer voice notes are declined")
        .integer("max_spoken_chars",
                 &voice_settings::max_spoken_chars,
                 1,
                 4096,
                 "longer replies are sent as text, not spoken");

    rows(t, "admin", &config::admin, "/metrics, /healthz and /readyz")
        .from_environment("token",
                          &admin_settings::token,
                          "COMPANION_ADMIN_TOKEN",
                          secrecy::secret,
                          "when set, every request needs Authorization: Bearer <token>; required beyond "
                          "loopback")
        .text("listen",
              &admin_settings::listen,
              "the address to listen on; beyond loopback only with a token",
              {},
              ip_address)
        .integer("port", &admin_settings::port, 0, 65535, "0: off")
        .integer("max_connections",
                 &admin_settings::max_connections,
                 1,
                 10'000,
                 "connections served at once; more are closed at once");

    rows(t, "log", &config::log)
        .one_of_texts("level",
                      &log_settings::level,
                      {"trace", "debug", "info", "warn", "error", "critical", "off"},
                      "trace | debug | info | warn | error | critical | off",
                      "COMPANION_LOG_LEVEL")
        .one_of_texts("format", &log_settings::format, {"text", "json"}, "\"text\" | \"json\" (JSON lines)");

    rows(t, "http", &config::http)
        .text("ca_file",
              &http_settings::ca_file,
              "CA bundle trusted instead of the system store; empty: the system store");
    return t;
}

const table& the_table() {
    static const table t = make_table();
    return t;
}

// ---- reading -----------------------------------------------------------------------------------

/// Edit distance, for "did you mean" on a mistyped key.
std::size_t distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) {
        row[j] = j;
    }
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t above = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0U : 1U)});
            diagonal = above;
        }
    }
    return row[b.size()];
}

/// " (did you mean X?)" for the candidate nearest to `typo`, or nothing when none is close.
std::string suggestion(std::string_view typo, const std::vector<std::string>& candidates, bool brackets) {
    const std::string* best = nullptr;
    std::size_t best_distance = 3; // a closer match than two edits, or a prefix
    for (const auto& c : candidates) {
        const std::size_t d = (typo.size() >= 3 && c.starts_with(typo)) ? 1 : distance(typo, c);
        if (d < best_distance) {
            best = &c;
            best_distance = d;
        }
    }
    if (best == nullptr) {
        return {};
    }
    return " (did you mean " + (brackets ? "[" + *best + "]" : *best) + "?)";
}

/// A key whose name says it holds a secret: a word of it (split at '_' and '-') is one of these.
bool looks_like_a_secret(std::string_view name) {
    static constexpr std::string_view words[] =
        {"token", "key", "apikey", "secret", "password", "passwd", "credentials", "credential"};
    std::string lower;
    for (const char ch : name) {
        lower.push_back(static_cast<char>(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch));
    }
    std::size_t start = 0;
    while (start <= lower.size()) {
        const auto end = std::min(lower.find_first_of("_-", start), lower.size());
        const std::string_view word(lower.data() + start, end - start);
        if (std::find(std::begin(words), std::end(words), word) != std::end(words)) {
            return true;
        }
        start = end + 1;
    }
    return false;
}

/// "TELEGRAM_BOT_TOKEN, OPENAI_API_KEY": the variables of the secrets of `section`, or of every
/// secret when the section has none.
std::string secret_variables(const table& t, std::string_view section) {
    std::string in_section;
    std::string all;
    for (const auto& k : t.keys) {
        if (!k.info.secret) {
            continue;
        }
        all += (all.empty() ? "" : ", ") + k.info.env;
        if (k.section == section) {
            in_section += (in_section.empty() ? "" : ", ") + k.info.env;
        }
    }
    return in_section.empty() ? all : in_section;
}

std::string secrets_come_from_the_environment(const table& t, std::string_view section) {
    return "secrets come from the environment (" + secret_variables(t, section) + "), not the file";
}

/// Unknown sections and keys are errors: a typo must not silently keep a default.
problem unknown_keys(const toml::table& root, const table& t) {
    std::vector<std::string> sections;
    for (const auto& s : t.sections) {
        sections.push_back(s.name);
    }
    for (const auto& [section_key, node] : root) {
        const std::string section(section_key.str());
        if (std::find(sections.begin(), sections.end(), section) == sections.end()) {
            if (!node.is_table()) {
                if (looks_like_a_secret(section)) {
                    return section + ": unknown key; " + secrets_come_from_the_environment(t, {});
                }
                return section + ": unknown key (keys go under a [section])";
            }
            return "[" + section + "]: unknown section" + suggestion(section, sections, true);
        }
        const auto* keys = node.as_table();
        if (keys == nullptr) {
            return section + ": expected a table [" + section + "]";
        }
        for (const auto& [name_key, value] : *keys) {
            const std::string path = section + "." + std::string(name_key.str());
            const key* k = t.find(path);
            if (k == nullptr) {
                std::vector<std::string> names;
                bool typo_of_a_key = false;
                for (const auto& other : t.keys) {
                    if (other.section == section && other.read) {
                        names.push_back(other.name);
                        typo_of_a_key = typo_of_a_key || distance(name_key.str(), other.name) <= 1;
                    }
                }
                // A token pasted into the file is a secret in a file that gets copied and shared:
                // say where it belongs (a near miss of a real key, "max_token", is a typo instead).
                if (looks_like_a_secret(name_key.str()) && !typo_of_a_key) {
                    return path + ": unknown key; " + secrets_come_from_the_environment(t, section);
                }
                return path + ": unknown key" + suggestion(name_key.str(), names, false);
            }
            if (!k->read) {
                return path + ": unknown key; " + (k->info.secret ? "secrets come" : "it comes") +
                       " from the environment (" + k->info.env + "), not the file";
            }
        }
    }
    return std::nullopt;
}

/// How an error names the key: by where its value came from.
std::string label(const key& k, bool from_env) {
    if (!k.read) {
        return k.info.env;
    }
    return from_env ? k.info.path + " (from " + k.info.env + ")" : k.info.path;
}

/// Rules that relate two keys.
problem across_keys(const config& cfg) {
    if (cfg.checkins.day_starts >= cfg.checkins.day_ends) {
        return "checkins.day_ends: must be later than checkins.day_starts (the hours she may write)";
    }
    if (cfg.payments.enabled && cfg.payments.packs.empty()) {
        return "payments.packs: payments are enabled but no pack is sold; add one or set enabled = false";
    }
    if (cfg.video.poll_timeout <= cfg.video.poll_interval) {
        return "video.poll_timeout: must be longer than video.poll_interval";
    }
    if (cfg.admin.port != 0 && cfg.admin.token.empty() && !is_loopback(cfg.admin.listen)) {
        return "admin.listen: " + quote(cfg.admin.listen) +
               " is beyond loopback, where anyone who reaches the port would read the bot's state: set "
               "COMPANION_ADMIN_TOKEN (requests then need Authorization: Bearer <token>), or listen on "
               "127.0.0.1";
    }
    if (cfg.telegram.webhook_mode && cfg.live() && cfg.telegram.webhook_url.empty()) {
        return "telegram.webhook_url: webhook mode needs the public https:// URL Telegram posts to (or "
               "TELEGRAM_WEBHOOK_URL)";
    }
    if (cfg.telegram.webhook_certificate.empty() != cfg.telegram.webhook_private_key.empty()) {
        return "telegram.webhook_certificate: the bot's own TLS needs both webhook_certificate and "
               "webhook_private_key";
    }
    if (cfg.live() && cfg.video.provider == video_provider_kind::vertex_veo &&
        (cfg.video.credentials_file.empty() || cfg.video.vertex_project.empty())) {
        return "video.provider: \"vertex-veo\" needs GOOGLE_APPLICATION_CREDENTIALS and video.vertex_project";
    }
    if (cfg.video.provider == video_provider_kind::fal) {
        auto body = net::fal::request_body(fal_template(cfg.video), "prompt", "data:image/jpeg;base64,", 5);
        if (!body) {
            return "video.fal_extra: " + body.error();
        }
    }
    if (cfg.live() && cfg.video.provider == video_provider_kind::fal && cfg.video.provider_key().empty()) {
        return "video.provider: \"fal\" needs FAL_KEY (or VIDEO_API_KEY)";
    }
    if (cfg.live() && cfg.video.provider == video_provider_kind::openrouter &&
        cfg.video.provider_key().empty()) {
        return "video.provider: \"openrouter\" needs OPENROUTER_API_KEY (or VIDEO_API_KEY)";
    }
    return std::nullopt;
}

// ---- printing ----------------------------------------------------------------------------------

/// `text`, then `# comment` at column 32 (as the example file aligns them).
std::string with_comment(std::string text, const std::string& comment) {
    if (!comment.empty()) {
        constexpr std::size_t column = 32;
        text.append(text.size() < column ? column - text.size() : 2, ' ');
        text += "# " + comment;
    }
    return text + "\n";
}

std::string key_lines(const key& k, const config& c) {
    const auto value = k.print(c);
    std::string comment = k.info.doc;
    if (!k.info.env.empty()) {
        comment += " (" + k.info.env + (k.read ? ")" : " only)");
    }
    // A key the file cannot set, or an unset optional one, is shown commented out.
    std::string line;
    if (!k.read) {
        line = "# " + k.name + " = " + value.value_or("");
    } else if (!value) {
        line = "# " + k.name + " = " + k.example;
    } else {
        line = k.name + " = " + *value;
    }
    std::string out = with_comment(std::move(line), comment);
    if (k.note) {
        out += "# " + k.note(c) + "\n";
    }
    return out;
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
    if (std::from_chars(text.data(), text.data() + i, n).ec != std::errc{}) {
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

video_terms effective_video_terms(const video_settings& v) {
    video_terms out;
    auto declared = [&](const auto& provider_defaults) {
        out.allowed_seconds = provider_defaults.allowed_seconds;
        out.price_cents_per_second = provider_defaults.price_cents_per_second;
    };
    switch (v.provider) {
    case video_provider_kind::openai_videos:
        declared(pipelines::openai_videos_settings{});
        break;
    case video_provider_kind::gemini_omni:
        declared(pipelines::gemini_omni_settings{});
        break;
    case video_provider_kind::vertex_veo:
        declared(pipelines::vertex_veo_settings{});
        break;
    case video_provider_kind::fal:
        declared(pipelines::fal_queue_settings{});
        break;
    case video_provider_kind::openrouter:
        declared(pipelines::openrouter_videos_settings{});
        break;
    case video_provider_kind::none:
        return out;
    }
    if (!v.allowed_seconds.empty()) {
        out.allowed_seconds = v.allowed_seconds;
    }
    if (v.price_cents_per_second) {
        out.price_cents_per_second = *v.price_cents_per_second;
    }
    return out;
}

bool is_loopback(std::string_view text) {
    boost::system::error_code ec;
    const auto address = boost::asio::ip::make_address(text, ec);
    if (ec) {
        return false;
    }
    if (address.is_v4()) {
        return address.to_v4().is_loopback();
    }
    const auto v6 = address.to_v6();
    return v6.is_loopback() ||
           (v6.is_v4_mapped() &&
            boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, v6).is_loopback());
}

pipelines::fal_request_template fal_template(const video_settings& v) {
    pipelines::fal_request_template t;
    t.image_field = v.fal_image_field;
    t.duration_field = v.fal_duration_field;
    t.duration = v.fal_duration;
    t.aspect_field = v.fal_aspect_field;
    t.aspect_ratio = v.fal_aspect_ratio;
    t.extra_json = v.fal_extra;
    return t;
}

const std::string& video_settings::provider_key() const noexcept {
    if (!api_key.empty()) {
        return api_key;
    }
    switch (provider) {
    case video_provider_kind::fal:
        return fal_key;
    case video_provider_kind::openrouter:
        return openrouter_key;
    default:
        return api_key;
    }
}

const std::vector<key_info>& config_keys() {
    static const std::vector<key_info> infos = [] {
        std::vector<key_info> out;
        for (const key& k : the_table().keys) {
            out.push_back(k.info);
        }
        return out;
    }();
    return infos;
}

std::optional<std::string> config_value(const config& cfg, std::string_view path) {
    const key* k = the_table().find(path);
    return k != nullptr ? k->print(cfg) : std::nullopt;
}

env_lookup process_environment() {
    env_lookup env;
    for (const key& k : the_table().keys) {
        if (k.info.env.empty()) {
            continue;
        }
        if (const char* v = std::getenv(k.info.env.c_str())) {
            env[k.info.env] = v;
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
    const table& t = the_table();
    if (auto unknown = unknown_keys(root, t)) {
        return std::move(*unknown);
    }

    config cfg;
    for (const key& k : t.keys) {
        const auto node = k.read ? root.at_path(k.info.path) : toml::node_view<toml::node>{};
        if (!node) {
            continue;
        }
        if (auto wrong = k.read(*node.node(), cfg)) {
            return k.info.path + ": " + *wrong;
        }
    }
    // The environment overrides the file; an empty variable counts as unset.
    std::vector<bool> from_env(t.keys.size(), false);
    for (std::size_t i = 0; i < t.keys.size(); ++i) {
        const key& k = t.keys[i];
        const auto it = k.read_env ? env.find(k.info.env) : env.end();
        if (it == env.end() || it->second.empty()) {
            continue;
        }
        if (auto wrong = k.read_env(it->second, cfg)) {
            return label(k, true) + ": " + *wrong;
        }
        from_env[i] = true;
    }
    for (std::size_t i = 0; i < t.keys.size(); ++i) {
        const key& k = t.keys[i];
        if (!k.check) {
            continue;
        }
        if (auto wrong = k.check(cfg)) {
            return label(k, from_env[i]) + ": " + *wrong;
        }
    }
    if (auto wrong = across_keys(cfg)) {
        return std::move(*wrong);
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
    const table& t = the_table();
    std::string out =
        "# effective configuration (" + std::string(c.live() ? "live" : "simulation") + " mode)\n";
    for (const auto& s : t.sections) {
        if (&s != &t.sections.front()) {
            out += "\n";
        }
        out += with_comment("[" + s.name + "]", s.doc);
        for (const key& k : t.keys) {
            if (k.section == s.name) {
                out += key_lines(k, c);
            }
        }
    }
    return out;
}

} // namespace companion::app
