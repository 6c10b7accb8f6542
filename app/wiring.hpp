// The composition root: from the configuration to a running bot, built once here for
// companion-bot, the end-to-end tests and the benchmarks, so the tests exercise the real wiring.
// The only place where app's configuration becomes the layers' own configs.
#pragma once

#include "app/config.hpp"
#include "engine/offload.hpp"
#include "engine/random.hpp"
#include "engine/time_source.hpp"
#include "net/gemini/image.hpp"
#include "net/http_client.hpp"
#include "net/openai/audio.hpp"
#include "net/openai/chat.hpp"
#include "net/telegram/client.hpp"
#include "pipelines/bot.hpp"
#include "storage/database.hpp"
#include "storage/media_store.hpp"

#include <memory>
#include <string>
#include <vector>

namespace companion::app {

/// The bot's config from the app's (limits, intervals, video, admins, webhook mode). Throws
/// std::runtime_error (one line naming the key) when webhook mode's certificate or key cannot be used.
pipelines::bot_config make_bot_config(const config& cfg);

/// The configured video provider on `http`, or nullptr when none is configured.
std::unique_ptr<pipelines::video_provider>
make_video_provider(const config& cfg, net::http_client& http, engine::offload_pool& offload);

struct wiring_options {
    engine::time_source* time = nullptr;     ///< nullptr: the system's time
    engine::random_source* random = nullptr; ///< nullptr: a generator seeded from the time
    std::string http_name = "bot";           ///< the HTTP client's metrics label
};

/// One service's answer to the start-up check.
struct service_check {
    pipelines::service which = pipelines::service::llm;
    bool ok = false;
    bool fatal = false; ///< the key or the model was refused: the bot must not start
    std::string line{}; ///< what an operator reads: the service, the outcome, what to fix
};

/// `companion-bot check`: every configured service asked with its key, creating nothing (no
/// message, no job, no database): Telegram's getMe, the chat and image models, and the video
/// provider's job-less check. One row per service, in that order.
engine::awaitable<std::vector<service_check>>
check_configured_services(engine::executor ex, const config& cfg, engine::offload_pool& offload);

/// The rows as a table for a terminal: service, verdict, what was checked or what to fix.
std::string check_table(const std::vector<service_check>& rows);

/// The process's allocator, set before anything allocates (companion-bot and the benches that
/// measure it): one loop thread plus the offload and libvips workers, and glibc would give each
/// thread its own malloc arena, where image buffers freed on one thread fragment them (the soak
/// showed the heap creeping by ~0.5 MB/s). Two arenas keep it flat at no measurable cost.
void configure_allocator() noexcept;

/// Everything the bot runs on, in the order it must be built and torn down: the HTTP client,
/// the API clients and their ports, the video provider, the database and the media folder, the
/// bot. Throws std::exception with a readable message when the database or the media folder
/// cannot be opened.
class bot_app {
public:
    bot_app(engine::executor ex,
            const config& cfg,
            pipelines::bot_config bot_cfg,
            const pipelines::persona_catalog& personas,
            const pipelines::locale_catalog& locales,
            engine::offload_pool& offload,
            wiring_options options = {});
    ~bot_app();
    bot_app(const bot_app&) = delete;
    bot_app& operator=(const bot_app&) = delete;

    pipelines::bot& bot() noexcept { return *bot_; }
    storage::database& db() noexcept { return *db_; }
    storage::media_store& media() noexcept { return *media_; }
    net::http_client& http() noexcept { return http_; }
    /// The start-up check of the chat and image models (Telegram's getMe is the bot's prepare()):
    /// each model is asked for with the configured key, and the answers are recorded in health().
    /// A refused key, quota or an unknown model is fatal; a server that does not answer is not
    /// (it may come back), but it is said.
    engine::awaitable<std::vector<service_check>> check_services();

    /// How Telegram, the models and the video provider last answered (for /healthz).
    const pipelines::service_health& health() const noexcept { return health_; }

private:
    net::http_client http_;
    net::telegram::client telegram_;
    net::openai::chat_client llm_;
    net::gemini::image_client images_;
    net::openai::audio_client voice_;
    engine::time_source& time_;
    pipelines::service_health health_;
    std::unique_ptr<pipelines::telegram_api> telegram_port_;
    std::unique_ptr<pipelines::chat_model> llm_port_;
    std::unique_ptr<pipelines::image_model> images_port_;
    std::unique_ptr<pipelines::voice_model> voice_port_; ///< nullptr: [voice] enabled = false
    std::unique_ptr<pipelines::video_provider> video_;
    std::unique_ptr<storage::database> db_;
    std::unique_ptr<storage::media_store> media_;
    engine::xorshift_random own_random_;
    std::unique_ptr<pipelines::bot> bot_;
};

} // namespace companion::app
