// Tests of app/config: the example file lists every key of the table with its default, the printer
// and the table agree (the printout reads back as the same configuration), the environment
// overrides the file, every kind of mistake is one line naming the key, and secrets stay redacted.
#include "app/config.hpp"

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <fstream>
#include <iterator>
#include <ostream>
#include <sstream>
#include <string>

using namespace companion::app;
using namespace std::chrono_literals;

namespace {

std::string error_of(std::string_view toml, const env_lookup& env = {}) {
    auto r = parse_config(toml, env);
    return r ? std::string{} : r.error();
}

/// A key's value as printed, "(unset)" for an unset optional key (BOOST_TEST prints strings).
std::string value_of(const config& cfg, const std::string& path) {
    return config_value(cfg, path).value_or("(unset)");
}

std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// The line that shows the key at `path` in a TOML text laid out as the example is: within its
/// [section], the line that starts "key = " (set) or "# key = " (commented out). Empty if none.
std::string line_of(const std::string& text, const std::string& path) {
    const auto dot = path.find('.');
    const std::string section = "[" + path.substr(0, dot) + "]";
    const std::string name = path.substr(dot + 1) + " = ";
    std::istringstream in(text);
    std::string current;
    for (std::string line; std::getline(in, line);) {
        if (line.starts_with("[")) {
            current = line.substr(0, line.find(']') + 1);
        } else if (current == section && (line.starts_with(name) || line.starts_with("# " + name))) {
            return line;
        }
    }
    return {};
}

/// Every key of the table set to a value other than its default (secrets and the credentials
/// path through the environment).
constexpr std::string_view every_key_changed = R"toml(
[telegram]
api_base_url = "https://tg.example/bot"
poll_timeout = "30s"
send_pacing = false
reply_outage = "5m"
video_outage = "3h"
mode = "webhook"
webhook_url = "https://bot.example.com/tg-hook"
webhook_listen = "0.0.0.0"
webhook_port = 8443
webhook_max_connections = 10
webhook_certificate = "/etc/companion/webhook.crt"
webhook_private_key = "/etc/companion/webhook.key"
[openai]
base_url = "http://127.0.0.1:8082/v1"
model = "llama-3"
token_field = "max_tokens"
max_tokens = 512
temperature = 0.7
timeout = "45s"
[gemini]
base_url = "http://127.0.0.1:8083"
image_model = "imagen-x"
timeout = "2m"
[video]
provider = "gemini-omni"
base_url = "http://127.0.0.1:8084"
model = "omni \"quoted\" \\ path\ttab"
allowed_seconds = [3, 5, 10]
size = "1080x1920"
requested_seconds = 6
offered_seconds = [6, 10]
price_cents_per_second = 12
reports_progress = false
poll_interval = "1500ms"
poll_timeout = "20m"
submit_outage = "2m"
download_outage = "30m"
flirty_probability = 0.25
debug_info = "all"
vertex_project = "project-1"
vertex_location = "europe-west4"
fal_image_field = "start_image_url"
fal_duration_field = "length"
fal_duration = "string_seconds"
fal_aspect_field = "aspect_ratio"
fal_aspect_ratio = "16:9"
fal_extra = '{"generate_audio": true}'
[limits]
selfies_per_day = 7
videos_per_day = 1
daily_spend_cap_cents = 500
chat_turns_per_minute = 10
selfies_per_minute = 2
[storage]
data_dir = "/var/lib/companion"
database = "bot.db"
synchronous = "full"
media_retention = "36h"
update_log_retention = "7d"
[bot]
personas = "personas.json"
locales = "locales"
admins = [42, 4242]
history_turns = 20
summary_every = 4
[chat]
stream = false
[payments]
enabled = true
packs = [{ credits = 1, stars = 50 }, { credits = 25, stars = 1000 }]
seconds_per_credit = 10
subscription_stars = 300
subscription_videos = 5
[checkins]
enabled = true
ask_after = "2d"
quiet_after = "36h"
per_week = 3
day_starts = 10
day_ends = 22
every = "30s"
retry_after = "2h"
[voice]
enabled = false
base_url = "http://127.0.0.1:9000/v1"
transcription_model = "whisper-large-v3"
speech_model = "tts-1-hd"
default_voice = "shimmer"
max_seconds = 120
max_spoken_chars = 800
[admin]
listen = "0.0.0.0"
port = 9100
max_connections = 16
[log]
level = "debug"
format = "json"
[http]
ca_file = "/etc/companion/ca.pem"
)toml";

const env_lookup every_secret{{"TELEGRAM_BOT_TOKEN", "123456:tg-secret-token"},
                              {"TELEGRAM_WEBHOOK_SECRET", "webhook-secret_0123"},
                              {"OPENAI_API_KEY", "sk-openai-secret"},
                              {"GEMINI_API_KEY", "gemini-secret"},
                              {"VIDEO_API_KEY", "video-secret"},
                              {"FAL_KEY", "fal-id:fal-secret"},
                              {"OPENROUTER_API_KEY", "sk-or-v1-secret"},
                              {"VOICE_API_KEY", "voice-secret-key"},
                              {"GOOGLE_APPLICATION_CREDENTIALS", "/etc/companion/vertex.json"},
                              {"COMPANION_ADMIN_TOKEN", "admin-secret-token"}};

/// A configuration mistake and the start of the one-line error it must give.
struct mistake {
    std::string toml;
    env_lookup env;
    std::string error_starts_with;
};

std::ostream& operator<<(std::ostream& os, const mistake& m) {
    return os << "{" << m.toml << "} -> " << m.error_starts_with;
}

const mistake mistakes[] = {
    {"[vidoe]\n", {}, "[vidoe]: unknown section (did you mean [video]?)"},
    {"[video]\nflirty = 1\n", {}, "video.flirty: unknown key (did you mean flirty_probability?)"},
    {"[video]\nprovider = \"fal\"\nfal_extra = \"[1]\"\n",
     {},
     "video.fal_extra: extra fields must be a JSON object"},
    {"[video]\nprovider = \"fal\"\nfal_extra = '{\"prompt\": \"x\"}'\n",
     {},
     "video.fal_extra: extra fields set 'prompt', which the template writes itself"},
    {"[video]\nprovider = \"fal\"\n",
     {{"TELEGRAM_BOT_TOKEN", "123456:tg-secret-token"}},
     "video.provider: \"fal\" needs FAL_KEY (or VIDEO_API_KEY)"},
    {"[video]\nprovider = \"openrouter\"\n",
     {{"TELEGRAM_BOT_TOKEN", "123456:tg-secret-token"}},
     "video.provider: \"openrouter\" needs OPENROUTER_API_KEY (or VIDEO_API_KEY)"},
    {"poll_timeout = 5\n", {}, "poll_timeout: unknown key (keys go under a [section])"},
    {"[telegram]\ntoken = \"1:x\"\n",
     {},
     "telegram.token: unknown key; secrets come from the environment (TELEGRAM_BOT_TOKEN)"},
    {"[video]\ncredentials_file = \"a.json\"\n",
     {},
     "video.credentials_file: unknown key; it comes from the environment (GOOGLE_APPLICATION_CREDENTIALS)"},
    {"[video]\npoll_interval = \"10m\"\n", {}, "video.poll_interval: must be between 500ms and 5m"},
    {"[storage]\nmedia_retention = \"90m\"\n", {}, "storage.media_retention: must be a multiple of 1h"},
    {"[storage]\nupdate_log_retention = \"12h\"\n", {}, "storage.update_log_retention: must be between 1d"},
    {"[video]\nflirty_probability = nan\n", {}, "video.flirty_probability: must be between 0.0 and 1.0"},
    {"[bot]\nadmins = [42, 0]\n", {}, "bot.admins: every value must be between 1 and"},
    {"[payments]\npacks = [3, 150]\n", {}, "payments.packs: expected an array of tables like {credits = 3"},
    {"[payments]\npacks = [{credits = 3}]\n",
     {},
     "payments.packs: every pack needs integer credits and stars"},
    {"[payments]\npacks = [{credits = 3, stars = 150, price = 2}]\n",
     {},
     "payments.packs: a pack has credits and stars only, not price"},
    {"[payments]\npacks = [{credits = 0, stars = 150}]\n",
     {},
     "payments.packs: a pack's credits must be between 1"},
    {"[payments]\npacks = [{credits = 3, stars = 20000}]\n",
     {},
     "payments.packs: a pack's stars must be between 1"},
    {"[payments]\npacks = [{credits = 3, stars = 150}, {credits = 3, stars = 100}]\n",
     {},
     "payments.packs: two packs of 3 credits"},
    {"[storage]\nsynchronous = \"off\"\n", {}, "storage.synchronous: must be one of \"normal\", \"full\""},
    {"[checkins]\nday_starts = 21\nday_ends = 9\n",
     {},
     "checkins.day_ends: must be later than checkins.day_starts"},
    {"[checkins]\nper_week = 0\n", {}, "checkins.per_week: must be between 1"},
    {"[payments]\nsubscription_stars = 20000\n",
     {},
     "payments.subscription_stars: must be between 0 and 10000"},
    {"[checkins]\nquiet_after = \"0s\"\n", {}, "checkins.quiet_after: must be between"},
    {"[payments]\nenabled = true\npacks = []\n",
     {},
     "payments.packs: payments are enabled but no pack is sold"},
    {"", {{"COMPANION_LOG_LEVEL", "loud"}}, "log.level (from COMPANION_LOG_LEVEL): must be one of \"trace\""},
    {"", {{"OPENAI_BASE_URL", "ftp://x"}}, "openai.base_url (from OPENAI_BASE_URL): must start with http://"},
    {"[video]\nbase_url = \"example.com\"\n", {}, "video.base_url: must start with http://"},
    {"[video]\npoll_interval = \"soon\"\n", {}, "video.poll_interval: expected a duration"},
    {"[video]\nprovider = \"sora\"\n", {}, "video.provider: must be one of"},
    {"[video]\nprovider = 3\n", {}, "video.provider"},
    {"[video]\nflirty_probability = 1.5\n", {}, "video.flirty_probability: must be between"},
    {"[limits]\nvideos_per_day = \"3\"\n", {}, "limits.videos_per_day: expected an integer"},
    {"[openai]\nbase_url = \"api.openai.com\"\n", {}, "openai.base_url"},
    {"[video]\nallowed_seconds = [0]\n", {}, "video.allowed_seconds: every value must be between 1 and 60"},
    {"[video]\nsize = \"big\"\n", {}, "video.size"},
    {"[video]\nsize = \"0x0\"\n", {}, "video.size: each side must be between 16 and 4096 pixels"},
    {"[video]\nsize = \"99999999999x1280\"\n", {}, "video.size: each side must be between 16 and 4096"},
    {"[video]\nsize = \"720x1280x3\"\n", {}, "video.size: expected WIDTHxHEIGHT"},
    {"[video]\nsize = \"-720x1280\"\n", {}, "video.size: expected WIDTHxHEIGHT"},
    {"[video]\npoll_interval = \"4m\"\npoll_timeout = \"1m\"\n", {}, "video.poll_timeout"},
    {"", {{"TELEGRAM_BOT_TOKEN", "nocolon"}}, "TELEGRAM_BOT_TOKEN"},
    {"[log]\nformat = \"xml\"\n", {}, "log.format"},
    {"[video\n", {}, "config:1:"},
    // Issue 15, finding 10: numbers that are not finite, integers that do not fit, empty paths,
    // secrets in the file, and an admin endpoint open beyond loopback without a token.
    {"[openai]\ntemperature = nan\n", {}, "openai.temperature: must be between 0.0 and 2.0"},
    {"[openai]\ntemperature = inf\n", {}, "openai.temperature: must be between 0.0 and 2.0"},
    {"[openai]\ntemperature = -inf\n", {}, "openai.temperature: must be between 0.0 and 2.0"},
    {"[video]\nflirty_probability = +inf\n", {}, "video.flirty_probability: must be between 0.0 and 1.0"},
    {"[video]\nflirty_probability = -nan\n", {}, "video.flirty_probability: must be between 0.0 and 1.0"},
    {"[video]\nallowed_seconds = [4294967300]\n",
     {},
     "video.allowed_seconds: every value must be between 1 and 60"},
    {"[video]\nallowed_seconds = [4, -4294967292]\n",
     {},
     "video.allowed_seconds: every value must be between"},
    {"[video]\nrequested_seconds = 4294967301\n", {}, "video.requested_seconds: must be between 1 and 60"},
    {"[openai]\nmax_tokens = 4294967696\n", {}, "openai.max_tokens: must be between 16 and 100000"},
    {"[limits]\nvideos_per_day = 9223372036854775807\n",
     {},
     "limits.videos_per_day: must be between 0 and 100000"},
    {"[admin]\nport = 65536\n", {}, "admin.port: must be between 0 and 65535"},
    {"[admin]\nport = -1\n", {}, "admin.port: must be between 0 and 65535"},
    {"[admin]\nmax_connections = 0\n", {}, "admin.max_connections: must be between 1 and 10000"},
    {"[storage]\ndata_dir = \"\"\n", {}, "storage.data_dir: must not be empty"},
    {"[storage]\ndatabase = \"\"\n", {}, "storage.database: must not be empty"},
    {"[bot]\npersonas = \"\"\n", {}, "bot.personas: must not be empty"},
    {"[bot]\nlocales = \"\"\n", {}, "bot.locales: must not be empty"},
    {"[telegram]\napi_key = \"1:x\"\n",
     {},
     "telegram.api_key: unknown key; secrets come from the environment (TELEGRAM_BOT_TOKEN, "
     "TELEGRAM_WEBHOOK_SECRET), not the file"},
    {"[telegram]\nwebhook_url = \"http://bot.example.com/hook\"\n",
     {},
     "telegram.webhook_url: must be an https:// URL (Telegram delivers to HTTPS only)"},
    {"[telegram]\nmode = \"webhook\"\n",
     {{"TELEGRAM_BOT_TOKEN", "123456:tg-secret-token"}},
     "telegram.webhook_url: webhook mode needs the public https:// URL"},
    {"[telegram]\nwebhook_certificate = \"/etc/cert.pem\"\n",
     {},
     "telegram.webhook_certificate: the bot's own TLS needs both"},
    {"", {{"TELEGRAM_WEBHOOK_SECRET", "has spaces"}}, "TELEGRAM_WEBHOOK_SECRET: only A-Z, a-z, 0-9, _ and -"},
    {"[telegram]\nbot_token = \"1:x\"\n",
     {},
     "telegram.bot_token: unknown key; secrets come from the environment (TELEGRAM_BOT_TOKEN, "
     "TELEGRAM_WEBHOOK_SECRET)"},
    {"[openai]\ntoken = \"sk-x\"\n",
     {},
     "openai.token: unknown key; secrets come from the environment (OPENAI_API_KEY)"},
    {"[gemini]\nkey = \"x\"\n",
     {},
     "gemini.key: unknown key; secrets come from the environment (GEMINI_API_KEY)"},
    {"[video]\nSecret = \"x\"\n",
     {},
     "video.Secret: unknown key; secrets come from the environment (VIDEO_API_KEY, FAL_KEY, "
     "OPENROUTER_API_KEY)"},
    {"[admin]\ntoken = \"x\"\n",
     {},
     "admin.token: unknown key; secrets come from the environment (COMPANION_ADMIN_TOKEN)"},
    {"[storage]\npassword = \"x\"\n",
     {},
     "storage.password: unknown key; secrets come from the environment (TELEGRAM_BOT_TOKEN, "
     "TELEGRAM_WEBHOOK_SECRET, OPENAI_API_KEY, "
     "GEMINI_API_KEY, VIDEO_API_KEY, FAL_KEY, OPENROUTER_API_KEY, VOICE_API_KEY, COMPANION_ADMIN_TOKEN), not "
     "the file"},
    {"token = \"1:x\"\n", {}, "token: unknown key; secrets come from the environment (TELEGRAM_BOT_TOKEN, "},
    {"[openai]\nmax_token = 5\n", {}, "openai.max_token: unknown key (did you mean max_tokens?)"},
    {"[admin]\nlisten = \"0.0.0.0\"\nport = 9100\n",
     {},
     "admin.listen: \"0.0.0.0\" is beyond loopback, where anyone who reaches the port"},
    {"[admin]\nlisten = \"::\"\nport = 9100\n", {}, "admin.listen: \"::\" is beyond loopback"},
    {"[admin]\nlisten = \"10.1.2.3\"\nport = 9100\n", {}, "admin.listen: \"10.1.2.3\" is beyond loopback"},
    {"[admin]\nlisten = \"localhost\"\n", {}, "admin.listen: expected an IP address"},
};

/// A configuration that must be accepted.
struct accepted {
    std::string toml;
    env_lookup env;
};

std::ostream& operator<<(std::ostream& os, const accepted& a) {
    return os << "{" << a.toml << "}";
}

const accepted accepted_cases[] = {
    {"[admin]\nlisten = \"127.0.0.1\"\nport = 9100\n", {}},
    {"[admin]\nlisten = \"127.0.0.2\"\nport = 9100\n", {}},
    {"[admin]\nlisten = \"::1\"\nport = 9100\n", {}},
    {"[admin]\nlisten = \"::ffff:127.0.0.1\"\nport = 9100\n", {}},
    {"[admin]\nlisten = \"0.0.0.0\"\nport = 0\n", {}}, // off: nothing listens
    {"[admin]\nlisten = \"0.0.0.0\"\nport = 9100\n", {{"COMPANION_ADMIN_TOKEN", "t0ken"}}},
    {"[video]\nallowed_seconds = [60]\nrequested_seconds = 60\n", {}},
    {"[openai]\ntemperature = 2.0\n", {}},
    {"[openai]\nmax_tokens = 16\ntoken_field = \"max_tokens\"\n", {}},
};

} // namespace

BOOST_AUTO_TEST_SUITE(config_suite)

BOOST_AUTO_TEST_CASE(example_file_documents_exactly_the_defaults) {
    auto from_file = load_config(COMPANION_SOURCE_DIR "/data/companion.example.toml", {});
    BOOST_TEST_REQUIRE(from_file.has_value(), (from_file ? "" : from_file.error()));
    auto defaults = parse_config("", {});
    BOOST_TEST_REQUIRE(defaults.has_value());
    BOOST_TEST(print_config(*from_file) == print_config(*defaults));
    BOOST_TEST(!defaults->live());
    BOOST_TEST((defaults->video.poll_interval == 5s));
    BOOST_TEST((defaults->video.poll_timeout == 10min));
    BOOST_TEST(defaults->video.flirty_probability == 0.5);
}

BOOST_AUTO_TEST_CASE(environment_overrides_the_file_and_enables_live_mode) {
    env_lookup env{{"TELEGRAM_BOT_TOKEN", "123456:ABCdefGHIjklMNOpqrSTUvwxYZ0123456789"},
                   {"OPENAI_BASE_URL", "http://127.0.0.1:8082/v1"},
                   {"OPENAI_API_KEY", "sk-test-key-123456"},
                   {"COMPANION_LOG_LEVEL", "debug"}};
    auto c = parse_config("[openai]\nbase_url = \"https://openrouter.ai/api/v1\"\n", env);
    BOOST_TEST_REQUIRE(c.has_value(), (c ? "" : c.error()));
    BOOST_TEST(c->live());
    BOOST_TEST(c->openai.base_url == "http://127.0.0.1:8082/v1");
    BOOST_TEST(c->log.level == "debug");
    const auto printed = print_config(*c);
    BOOST_TEST(printed.find("sk-test-key") == std::string::npos);
    BOOST_TEST(printed.find("ABCdefGHI") == std::string::npos);
    BOOST_TEST(printed.find("[REDACTED]") != std::string::npos);
    BOOST_TEST(printed.find("live mode") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(example_file_shows_every_key_of_the_table_with_its_default_and_doc) {
    const std::string example = read_text(COMPANION_SOURCE_DIR "/data/companion.example.toml");
    BOOST_TEST_REQUIRE(!example.empty());
    auto defaults = parse_config("", {});
    BOOST_TEST_REQUIRE(defaults.has_value());
    const std::string printed = print_config(*defaults);
    for (const auto& key : config_keys()) {
        BOOST_TEST_CONTEXT(key.path) {
            const std::string expected = line_of(printed, key.path);
            BOOST_TEST_REQUIRE(!expected.empty());
            // The same line: the default value, the doc, and where the environment overrides it.
            BOOST_TEST(line_of(example, key.path) == expected);
        }
    }
}

BOOST_AUTO_TEST_CASE(printed_configuration_reads_back_as_the_same_for_every_key) {
    auto changed = parse_config(every_key_changed, every_secret);
    BOOST_TEST_REQUIRE(changed.has_value(), (changed ? "" : changed.error()));
    auto defaults = parse_config("", {});
    BOOST_TEST_REQUIRE(defaults.has_value());
    const std::string printed = print_config(*changed);
    auto reread = parse_config(printed, every_secret, "printed");
    BOOST_TEST_REQUIRE(reread.has_value(), (reread ? "" : reread.error()));
    for (const auto& key : config_keys()) {
        BOOST_TEST_CONTEXT(key.path) {
            // Every key is exercised: a key added to the table must be added above too.
            BOOST_TEST(value_of(*changed, key.path) != value_of(*defaults, key.path));
            BOOST_TEST(!line_of(printed, key.path).empty());
            BOOST_TEST(value_of(*reread, key.path) == value_of(*changed, key.path));
        }
    }
    BOOST_TEST(!config_value(*changed, "video.no_such_key").has_value());
    for (const auto& [name, value] : every_secret) {
        const bool is_path = name == "GOOGLE_APPLICATION_CREDENTIALS";
        BOOST_TEST((printed.find(value) != std::string::npos) == is_path, name);
    }
    BOOST_TEST(printed.find("# effective: 5 s") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(secrets_come_only_from_the_environment) {
    int secrets = 0;
    for (const auto& key : config_keys()) {
        BOOST_TEST_CONTEXT(key.path) {
            BOOST_TEST(!key.doc.empty());
            if (key.secret) {
                ++secrets;
                BOOST_TEST(!key.file);
                BOOST_TEST(!key.env.empty());
            }
        }
    }
    BOOST_TEST(secrets == 9);
}

BOOST_DATA_TEST_CASE(each_mistake_is_one_line_that_names_its_key_and_the_fix,
                     boost::unit_test::data::make(mistakes),
                     m) {
    const std::string error = error_of(m.toml, m.env);
    BOOST_TEST(error.starts_with(m.error_starts_with), error);
    BOOST_TEST(error.find('\n') == std::string::npos);
}

BOOST_DATA_TEST_CASE(sound_configurations_are_accepted, boost::unit_test::data::make(accepted_cases), a) {
    const std::string error = error_of(a.toml, a.env);
    BOOST_TEST(error.empty(), error);
}

BOOST_AUTO_TEST_CASE(the_admin_token_comes_from_the_environment_and_is_never_printed) {
    auto c = parse_config("[admin]\nlisten = \"0.0.0.0\"\nport = 9100\n",
                          {{"COMPANION_ADMIN_TOKEN", "admin-secret-token"}});
    BOOST_TEST_REQUIRE(c.has_value(), (c ? "" : c.error()));
    BOOST_TEST(c->admin.token == "admin-secret-token");
    BOOST_TEST(c->admin.max_connections == 64);
    BOOST_TEST(print_config(*c).find("admin-secret-token") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(loopback_is_127_8_and_the_ipv6_loopback_only) {
    for (const char* yes : {"127.0.0.1", "127.255.0.9", "::1", "::ffff:127.0.0.1"}) {
        BOOST_TEST(is_loopback(yes), yes);
    }
    for (const char* no : {"0.0.0.0", "::", "10.0.0.1", "192.168.1.2", "::ffff:10.0.0.1", "localhost", ""}) {
        BOOST_TEST(!is_loopback(no), no);
    }
}

BOOST_AUTO_TEST_CASE(durations_parse_in_every_unit) {
    BOOST_TEST((parse_duration("250ms").value() == 250ms));
    BOOST_TEST((parse_duration("5s").value() == 5s));
    BOOST_TEST((parse_duration("7").value() == 7s));
    BOOST_TEST((parse_duration("10m").value() == 10min));
    BOOST_TEST((parse_duration("2h").value() == 2h));
    BOOST_TEST((parse_duration("30d").value() == std::chrono::hours(720)));
    BOOST_TEST(!parse_duration("5x").has_value());
    BOOST_TEST(!parse_duration("").has_value());
}

BOOST_AUTO_TEST_CASE(each_provider_runs_with_its_own_lengths_and_price_unless_the_operator_sets_them) {
    video_settings v;
    BOOST_TEST(effective_video_terms(v).allowed_seconds.empty()); // no provider, no terms
    v.provider = video_provider_kind::openai_videos;
    BOOST_TEST(effective_video_terms(v).allowed_seconds == (std::vector<int>{4, 8, 12}));
    BOOST_TEST(effective_video_terms(v).price_cents_per_second == 10);
    // Omni takes the seed's 5 s itself; Veo is never offered 12 s and is budgeted at its price.
    v.provider = video_provider_kind::gemini_omni;
    BOOST_TEST(companion::pipelines::effective_seconds(5, effective_video_terms(v).allowed_seconds) == 5);
    v.provider = video_provider_kind::vertex_veo;
    BOOST_TEST(effective_video_terms(v).allowed_seconds == (std::vector<int>{4, 6, 8}));
    BOOST_TEST(effective_video_terms(v).price_cents_per_second == 15);
    // fal's default template model (Kling v3) takes the seed's 5 s exactly.
    v.provider = video_provider_kind::fal;
    BOOST_TEST(companion::pipelines::effective_seconds(5, effective_video_terms(v).allowed_seconds) == 5);
    // What the operator sets wins.
    v.allowed_seconds = {6};
    v.price_cents_per_second = 40;
    BOOST_TEST(effective_video_terms(v).allowed_seconds == (std::vector<int>{6}));
    BOOST_TEST(effective_video_terms(v).price_cents_per_second == 40);
}

BOOST_AUTO_TEST_SUITE_END()
