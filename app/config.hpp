// The bot's configuration: a TOML file with documented defaults (data/companion.example.toml),
// overridden by environment variables for secrets, base URLs and the proxy (design.md §5).
// One table of keys (config.cpp) drives reading, the unknown-key check, validation and
// --print-config, so a key is declared once. Invalid configuration is one clear error line
// naming the key, before anything starts.
#pragma once

#include "net/gemini/image.hpp"
#include "net/openai/chat.hpp"
#include "net/telegram/client.hpp"
#include "pipelines/checkins.hpp"
#include "pipelines/payments.hpp"
#include "pipelines/providers/fal_queue.hpp"
#include "pipelines/video_delivery.hpp"

#include <boost/system/result.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace companion::app {

enum class video_provider_kind { none, openai_videos, gemini_omni, vertex_veo, fal, openrouter };

/// The Telegram client's own configuration (token from TELEGRAM_BOT_TOKEN, base_url from
/// TELEGRAM_API_BASE_URL, poll_timeout), plus how the bot paces its sends.
struct telegram_settings : net::telegram::client_config {
    /// Paces sends at Telegram's documented limits (1/s per chat, 30/s overall). Off only for
    /// benchmarks against a simulator that does not enforce them.
    bool send_pacing = true;
    /// How long a reply's sends outlast a Telegram outage before it is given up (its update
    /// stays unprocessed meanwhile), and a rendered video's, which has cost money.
    std::chrono::milliseconds reply_outage = std::chrono::minutes{8};
    std::chrono::milliseconds video_outage = std::chrono::hours{2};
    /// Webhook mode (issue 23): Telegram POSTs updates to webhook_url, which reaches this
    /// process's server at webhook_listen:webhook_port (behind a TLS proxy, or with its own
    /// certificate). Off: long polling.
    bool webhook_mode = false;
    std::string webhook_url{};
    std::string webhook_listen = "127.0.0.1";
    std::uint16_t webhook_port = 8080;
    int webhook_max_connections = 40;
    std::string webhook_certificate{}; ///< PEM chain; with webhook_private_key: the bot's own TLS
    std::string webhook_private_key{};
    std::string webhook_secret{}; ///< TELEGRAM_WEBHOOK_SECRET (secret); empty: a random one per start
};

struct video_settings {
    video_provider_kind provider = video_provider_kind::none;
    std::string api_key;                ///< VIDEO_API_KEY (secret; Gemini Omni falls back to GEMINI_API_KEY)
    std::string base_url;               ///< VIDEO_BASE_URL
    std::string model;                  ///< provider's model id (never a constant in code)
    std::vector<int> allowed_seconds{}; ///< empty: the provider's own lengths
    std::string size = "720x1280";
    int requested_seconds = 5; ///< the seed's 5 s, mapped to the nearest allowed length
    /// The lengths the video offer lets the user choose, each mapped to the nearest allowed one;
    /// fewer than two distinct lengths: no choice (requested_seconds).
    std::vector<int> offered_seconds{5, 10};
    std::optional<int> price_cents_per_second{}; ///< unset: the provider's own price
    bool reports_progress = true;
    std::chrono::milliseconds poll_interval = std::chrono::seconds{5};
    std::chrono::milliseconds poll_timeout = std::chrono::minutes{10};
    /// How long a create, and a download of a rendered video, outlast a provider outage.
    std::chrono::milliseconds submit_outage = std::chrono::minutes{5};
    std::chrono::milliseconds download_outage = std::chrono::minutes{15};
    double flirty_probability = 0.5;
    pipelines::debug_info debug_info = pipelines::debug_info::admins;
    std::string credentials_file; ///< GOOGLE_APPLICATION_CREDENTIALS (Vertex)
    std::string vertex_project;
    std::string vertex_location = "us-central1";
    std::string fal_key;        ///< FAL_KEY (secret): fal's key when VIDEO_API_KEY is unset
    std::string openrouter_key; ///< OPENROUTER_API_KEY (secret): OpenRouter's, likewise
    /// fal: the model's request template (contracts/video-aggregators.md §1 lists each model's).
    std::string fal_image_field = "image_url";
    std::string fal_duration_field = "duration";
    pipelines::fal_duration_format fal_duration = pipelines::fal_duration_format::string;
    std::string fal_aspect_field{}; ///< empty: the model follows the image's aspect
    std::string fal_aspect_ratio = "9:16";
    std::string fal_extra{}; ///< a JSON object merged into every request
    /// The key the configured provider uses: VIDEO_API_KEY, else the provider's own variable.
    const std::string& provider_key() const noexcept;
};

struct limits_settings {
    int selfies_per_day = 20;
    int videos_per_day = 3;
    int daily_spend_cap_cents = 2000;
    int chat_turns_per_minute = 20;
    int selfies_per_minute = 3;
};

struct storage_settings {
    std::string data_dir = "data/run";
    std::string database = "companion.db"; ///< relative to data_dir
    bool synchronous_full = false;
    std::chrono::hours media_retention = std::chrono::days{30};
    /// How long processed update ids are remembered. Longer than the 24 h Telegram keeps an
    /// unconfirmed update, so a replay is always recognised.
    std::chrono::hours update_log_retention = std::chrono::days{3};
};

struct bot_settings {
    /// Empty: the share folder's (app/share_folder.hpp), filled in at start.
    std::string personas;
    std::string locales;
    std::vector<std::int64_t> admins{};
    int history_turns = 12; ///< recent turns the LLM sees
    int summary_every = 8;  ///< turns between summary refreshes
};

/// How replies reach the user.
struct chat_settings {
    /// Private-chat replies stream as a growing draft with a stop button (personas and users can
    /// turn it off); false: every reply arrives whole after the typing action.
    bool stream = true;
};

/// Voice notes heard and replies spoken (issue 22): any OpenAI-compatible /v1/audio server (a
/// local whisper or TTS server works too).
struct voice_settings {
    bool enabled = true;
    std::string base_url; ///< VOICE_BASE_URL; empty: the chat server's
    std::string api_key;  ///< VOICE_API_KEY; empty: OPENAI_API_KEY
    std::string transcription_model = "whisper-1";
    std::string speech_model = "gpt-4o-mini-tts";
    std::string default_voice = "nova"; ///< for a persona without her own "voice"
    int max_seconds = 300;              ///< longer voice notes are declined
    int max_spoken_chars = 1500;        ///< longer replies go as text
};

struct admin_settings {
    std::string token; ///< COMPANION_ADMIN_TOKEN (secret): when set, requests need it as a bearer token
    std::string listen = "127.0.0.1";
    std::uint16_t port = 0; ///< 0: off (the default in live mode)
    /// Connections served at once; one more is closed as soon as it is accepted (idle connections
    /// once exhausted the bot's file descriptors).
    int max_connections = 64;
};

struct log_settings {
    std::string level = "info";
    std::string format = "text"; ///< text | json
};

struct http_settings {
    std::string ca_file; ///< CA bundle trusted instead of the system store; empty: the system store
};

struct config {
    telegram_settings telegram;
    /// The chat client's own configuration (OPENAI_API_KEY, OPENAI_BASE_URL); 400 output tokens.
    net::openai::chat_config openai{.max_output_tokens = 400, .response_timeout = std::chrono::seconds{60}};
    /// The selfie image client's own configuration (GEMINI_API_KEY, GEMINI_BASE_URL).
    net::gemini::image_config gemini{.response_timeout = std::chrono::seconds{90}};
    video_settings video;
    limits_settings limits;
    storage_settings storage;
    bot_settings bot;
    chat_settings chat;
    voice_settings voice;
    /// Video credits sold for Telegram Stars: off by default; the packs are ready to turn on.
    pipelines::payments_config payments{
        .enabled = false,
        .packs = {{.credits = 3, .stars = 150}, {.credits = 10, .stars = 450}},
        .seconds_per_credit = 5};
    /// She writes first to users who asked for it: off by default.
    pipelines::checkins_config checkins{};
    admin_settings admin;
    log_settings log;
    http_settings http;

    /// Live mode when a bot token is configured; otherwise the built-in simulation.
    bool live() const noexcept { return !telegram.token.empty(); }
};

/// The lengths and price the configured video provider runs with: what the operator set, else
/// what the provider declares (OpenAI videos 4/8/12 s at 10 cents/s, Gemini Omni 3-10 s at 10,
/// Vertex Veo 4/6/8 s at 15, fal 5/10 s at 10, OpenRouter 4/6/8 s at 10); nothing without a provider.
struct video_terms {
    std::vector<int> allowed_seconds{};
    int price_cents_per_second = 0;
};
video_terms effective_video_terms(const video_settings& v);

/// fal's request template from the `fal_*` keys.
pipelines::fal_request_template fal_template(const video_settings& v);

/// Environment lookup (injected for tests).
using env_lookup = std::map<std::string, std::string>;
/// The process environment's variables this program reads (every `env` of config_keys()).
env_lookup process_environment();

/// One row of the configuration table, for tests and documentation.
struct key_info {
    std::string path;      ///< "video.poll_interval": section, dot, key
    std::string env;       ///< the environment variable that overrides it, or empty
    std::string doc;       ///< one line, printed beside the key by --print-config
    bool file = true;      ///< false: read only from `env` (a secret, or a credentials path)
    bool secret = false;   ///< printed as "[REDACTED]", never its value
    bool optional = false; ///< no default: absent until set (shown commented out)
};

/// Every key, in the order --print-config prints them.
const std::vector<key_info>& config_keys();

/// The value of the key at `path` in `cfg` as TOML text ("\"5s\"", "[4, 8, 12]"), secrets redacted;
/// nullopt for an unset optional key or an unknown path.
std::optional<std::string> config_value(const config& cfg, std::string_view path);

/// Parses TOML text (may be empty: all defaults), then applies `env`. Error: one line naming the
/// key and the problem, e.g. "video.poll_interval: expected a duration like \"5s\"".
boost::system::result<config, std::string>
parse_config(std::string_view toml_text, const env_lookup& env, std::string_view source = "config");

/// Reads `path` (a missing file is an error) and parses it.
boost::system::result<config, std::string> load_config(const std::string& path, const env_lookup& env);

/// The effective configuration as TOML, each key with its doc as a comment; secrets shown as
/// "[REDACTED]" (or "" when unset). The text reads back as the same configuration.
std::string print_config(const config& cfg);

/// Parses "250ms", "5s", "10m", "2h", "30d" or a bare number of seconds.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

/// Whether `address` (an IP address) is a loopback one: 127.0.0.0/8, ::1, or ::ffff:127.x.y.z.
/// False for anything else, an unparsable text included.
bool is_loopback(std::string_view address);

} // namespace companion::app
