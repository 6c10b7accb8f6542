// The composition root.
#include "app/wiring.hpp"

#include "app/data_folder.hpp"
#include "engine/log.hpp"
#include "net/url.hpp"
#include "pipelines/providers/fal_queue.hpp"
#include "pipelines/providers/gemini_omni.hpp"
#include "pipelines/providers/openai_videos.hpp"
#include "pipelines/providers/openrouter_videos.hpp"
#include "pipelines/providers/vertex_veo.hpp"

#include <boost/asio/ssl/context.hpp>

#include <malloc.h>
#include <openssl/rand.h>

#include <filesystem>
#include <stdexcept>
#include <utility>

namespace companion::app {

namespace {

net::client_config http_config(const config& cfg, engine::offload_pool& offload, std::string name) {
    net::client_config c;
    c.tls.ca_file = cfg.http.ca_file;
    c.proxy = net::proxy_config::from_environment();
    c.offload = &offload;
    c.name = std::move(name);
    return c;
}

std::pair<int, int> video_size(const std::string& size) {
    const auto x = size.find('x');
    return {std::stoi(size.substr(0, x)), std::stoi(size.substr(x + 1))};
}

// The frame size, and the lengths and price the provider runs with (effective_video_terms: the
// operator's where set, else the provider's own).
template <class Settings>
void apply_terms(const video_settings& v, Settings& s) {
    const auto [width, height] = video_size(v.size);
    s.width = width;
    s.height = height;
    auto terms = effective_video_terms(v);
    s.allowed_seconds = std::move(terms.allowed_seconds);
    s.price_cents_per_second = terms.price_cents_per_second;
}

/// Every secret of the configuration, so no log line or error text shows it.
void register_secrets(const config& cfg) {
    for (const auto* secret : {&cfg.telegram.token,
                               &cfg.openai.api_key,
                               &cfg.gemini.api_key,
                               &cfg.video.api_key,
                               &cfg.video.fal_key,
                               &cfg.video.openrouter_key,
                               &cfg.voice.api_key}) {
        engine::secrets().add_secret(*secret);
    }
}

/// An aggregator's settings (fal, OpenRouter): its own base URL and model unless configured, the
/// key from VIDEO_API_KEY or the aggregator's own variable, the lengths, size and price.
template <class Settings>
Settings aggregator_settings(const video_settings& v) {
    Settings s;
    if (!v.base_url.empty()) {
        s.base_url = v.base_url;
    }
    s.api_key = v.provider_key();
    if (!v.model.empty()) {
        s.model = v.model;
    }
    apply_terms(v, s);
    return s;
}

/// 24 random bytes as 48 hex digits: within setWebhook's [A-Za-z0-9_-]{1,256}.
std::string random_webhook_secret() {
    unsigned char bytes[24];
    if (RAND_bytes(bytes, sizeof bytes) != 1) {
        throw std::runtime_error("webhook: no randomness for the secret token (set TELEGRAM_WEBHOOK_SECRET)");
    }
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    for (const unsigned char b : bytes) {
        out += hex[b >> 4];
        out += hex[b & 0xF];
    }
    return out;
}

pipelines::webhook_config make_webhook_config(const telegram_settings& t) {
    pipelines::webhook_config w;
    w.url = t.webhook_url;
    // The path Telegram posts to is the URL's (a proxy passes it through).
    const auto parts = net::parse_url(t.webhook_url);
    if (!parts) {
        throw std::runtime_error("telegram.webhook_url: " + parts.error().message());
    }
    w.path = parts->target.substr(0, parts->target.find('?'));
    w.listen = t.webhook_listen;
    w.port = t.webhook_port;
    w.max_connections = t.webhook_max_connections;
    w.secret_token = t.webhook_secret.empty() ? random_webhook_secret() : t.webhook_secret;
    engine::secrets().add_secret(w.secret_token);
    if (!t.webhook_certificate.empty()) {
        auto tls = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
        boost::system::error_code ec;
        tls->use_certificate_chain_file(t.webhook_certificate, ec);
        if (ec) {
            throw std::runtime_error("telegram.webhook_certificate: cannot use " + t.webhook_certificate +
                                     ": " + ec.message());
        }
        tls->use_private_key_file(t.webhook_private_key, asio::ssl::context::pem, ec);
        if (ec) {
            throw std::runtime_error("telegram.webhook_private_key: cannot use " + t.webhook_private_key +
                                     ": " + ec.message());
        }
        w.tls = std::move(tls);
    }
    return w;
}

/// The audio client: the chat server and its key unless [voice] names its own.
net::openai::audio_config audio_config(const config& cfg) {
    net::openai::audio_config a;
    a.base_url = cfg.voice.base_url.empty() ? cfg.openai.base_url : cfg.voice.base_url;
    a.api_key = cfg.voice.api_key.empty() ? cfg.openai.api_key : cfg.voice.api_key;
    a.transcription_model = cfg.voice.transcription_model;
    a.speech_model = cfg.voice.speech_model;
    return a;
}

} // namespace

pipelines::bot_config make_bot_config(const config& cfg) {
    pipelines::bot_config b;
    b.admins = cfg.bot.admins;
    b.selfies_per_day = cfg.limits.selfies_per_day;
    b.chat.history_turns = static_cast<std::size_t>(cfg.bot.history_turns);
    b.chat.summary_every = cfg.bot.summary_every;
    b.chat.stream = cfg.chat.stream;
    b.payments = cfg.payments;
    b.checkins = cfg.checkins;
    b.voice.max_seconds = cfg.voice.max_seconds;
    b.voice.default_voice = cfg.voice.default_voice;
    b.voice.max_spoken_chars = static_cast<std::size_t>(cfg.voice.max_spoken_chars);
    b.limits.chat_turns_per_minute = cfg.limits.chat_turns_per_minute;
    b.limits.selfies_per_minute = cfg.limits.selfies_per_minute;
    b.intake.poll_timeout = cfg.telegram.poll_timeout;
    b.sending.outage_budget = cfg.telegram.reply_outage;
    b.sending.video_outage_budget = cfg.telegram.video_outage;
    if (!cfg.telegram.send_pacing) {
        // Benchmarks against a simulator that does not enforce Telegram's limits: no pacing.
        b.sending.per_chat = {1e9, 1e9};
        b.sending.global = {1e9, 1e9};
    }
    auto& v = b.video;
    v.requested_seconds = cfg.video.requested_seconds;
    v.offered_seconds = cfg.video.offered_seconds;
    v.poll_interval = cfg.video.poll_interval;
    v.poll_timeout = cfg.video.poll_timeout;
    v.submit_budget = cfg.video.submit_outage;
    v.download_budget = cfg.video.download_outage;
    v.flirty_probability = cfg.video.flirty_probability;
    v.videos_per_day = cfg.limits.videos_per_day;
    v.daily_spend_cap_cents = cfg.limits.daily_spend_cap_cents;
    v.debug = cfg.video.debug_info;
    v.admins = cfg.bot.admins;
    if (cfg.telegram.webhook_mode) {
        b.webhook = make_webhook_config(cfg.telegram);
    }
    return b;
}

std::unique_ptr<pipelines::video_provider>
make_video_provider(const config& cfg, net::http_client& http, engine::offload_pool& offload) {
    switch (cfg.video.provider) {
    case video_provider_kind::openai_videos: {
        pipelines::openai_videos_settings s;
        s.base_url = cfg.video.base_url.empty() ? cfg.openai.base_url : cfg.video.base_url;
        // A gateway that serves both chat and videos takes one key, as it takes one base URL.
        s.api_key = cfg.video.api_key.empty() ? cfg.openai.api_key : cfg.video.api_key;
        s.model = cfg.video.model.empty() ? "sora-2" : cfg.video.model;
        apply_terms(cfg.video, s);
        s.reports_progress = cfg.video.reports_progress;
        return pipelines::make_openai_videos_provider(http, s);
    }
    case video_provider_kind::gemini_omni: {
        pipelines::gemini_omni_settings s;
        s.base_url = cfg.video.base_url.empty() ? cfg.gemini.base_url : cfg.video.base_url;
        s.api_key = cfg.video.api_key.empty() ? cfg.gemini.api_key : cfg.video.api_key;
        if (!cfg.video.model.empty()) {
            s.model = cfg.video.model;
        }
        apply_terms(cfg.video, s);
        return pipelines::make_gemini_omni_provider(http, s);
    }
    case video_provider_kind::vertex_veo: {
        pipelines::vertex_veo_settings s;
        s.project = cfg.video.vertex_project;
        s.location = cfg.video.vertex_location;
        if (!cfg.video.model.empty()) {
            s.model = cfg.video.model;
        }
        s.base_url = cfg.video.base_url;
        s.credentials_file = cfg.video.credentials_file;
        apply_terms(cfg.video, s);
        s.offload = &offload;
        return pipelines::make_vertex_veo_provider(http, s);
    }
    case video_provider_kind::fal: {
        auto s = aggregator_settings<pipelines::fal_queue_settings>(cfg.video);
        s.request = fal_template(cfg.video);
        return pipelines::make_fal_queue_provider(http, s);
    }
    case video_provider_kind::openrouter:
        return pipelines::make_openrouter_videos_provider(
            http,
            aggregator_settings<pipelines::openrouter_videos_settings>(cfg.video));
    case video_provider_kind::none:
        break;
    }
    return nullptr;
}

bot_app::bot_app(engine::executor ex,
                 const config& cfg,
                 pipelines::bot_config bot_cfg,
                 const pipelines::persona_catalog& personas,
                 const pipelines::locale_catalog& locales,
                 engine::offload_pool& offload,
                 wiring_options options)
    : http_(ex, http_config(cfg, offload, options.http_name)),
      telegram_(http_, cfg.telegram),
      llm_(http_, cfg.openai),
      images_(http_, cfg.gemini),
      voice_(http_, audio_config(cfg)),
      time_(options.time != nullptr ? *options.time : engine::system_time()),
      telegram_port_(pipelines::adapt(telegram_, health_, time_)),
      llm_port_(pipelines::adapt(llm_, health_, time_)),
      images_port_(pipelines::adapt(images_, health_, time_)),
      voice_port_(cfg.voice.enabled ? pipelines::adapt(voice_) : nullptr),
      video_(pipelines::adapt(make_video_provider(cfg, http_, offload), health_, time_)),
      own_random_(static_cast<std::uint64_t>(engine::system_time().now().time_since_epoch().count())) {
    register_secrets(cfg);
    // The data folder and its media are the bot's alone (0700); main's umask keeps the files 0600.
    const std::filesystem::path data_dir = cfg.storage.data_dir;
    const auto database_path = data_dir / cfg.storage.database;
    for (const auto& folder : {data_dir, database_path.parent_path(), data_dir / "media"}) {
        if (const auto failed = make_private_directory(folder)) {
            throw std::runtime_error("cannot create the folder " + folder.string() + ": " + failed.message());
        }
    }
    if (auto refused = refuse_empty_database(database_path)) {
        throw std::runtime_error(std::move(*refused));
    }
    // A lock held by another connection at start (a backup, an operator's sqlite3) is waited out
    // for a minute: nothing is served yet, and a start that failed at once would only be
    // restarted by the supervisor into the same lock.
    db_ = std::make_unique<storage::database>(storage::database_config{
        .path = database_path,
        .synchronous = cfg.storage.synchronous_full ? storage::synchronous_mode::full
                                                    : storage::synchronous_mode::normal,
        .open_busy_timeout = std::chrono::minutes(1)});
    media_ = std::make_unique<storage::media_store>(data_dir / "media");
    auto& time = time_;
    auto& random = options.random != nullptr ? *options.random : own_random_;
    bot_ = std::make_unique<pipelines::bot>(ex,
                                            pipelines::bot_services{*telegram_port_,
                                                                    *llm_port_,
                                                                    *images_port_,
                                                                    *db_,
                                                                    *media_,
                                                                    personas,
                                                                    locales,
                                                                    offload,
                                                                    time,
                                                                    random,
                                                                    video_.get(),
                                                                    voice_port_.get()},
                                            std::move(bot_cfg));
}

bot_app::~bot_app() = default;

namespace {

service_check judged(pipelines::service which,
                     std::string_view what,
                     std::string_view fix,
                     const net::api_result<void>& r) {
    service_check c{.which = which};
    if (r) {
        c.ok = true;
        c.line = std::string(what) + ": ok";
        return c;
    }
    const auto& e = r.error();
    using k = net::api_error_kind;
    c.fatal = e.kind == k::unauthorized || e.kind == k::quota_exhausted || e.kind == k::model_gone ||
              e.kind == k::not_found || e.kind == k::bad_request;
    c.line = std::string(what) +
             (c.fatal ? ": refused: " : ": not answering (the bot starts; it may come back): ") +
             e.message() + (c.fatal ? std::string("; check ") + std::string(fix) : std::string());
    return c;
}

service_check judged_video(const pipelines::video_provider_info& info,
                           const pipelines::video_result<std::string>& r) {
    service_check c{.which = pipelines::service::videos};
    const std::string what = "the video model (" + info.name + " " + info.model + ")";
    if (r) {
        c.ok = true;
        c.line = what + ": ok, " + *r;
        return c;
    }
    using k = pipelines::video_error_kind;
    const auto kind = r.error().kind;
    c.fatal = kind == k::auth || kind == k::quota || kind == k::model_gone || kind == k::bad_request;
    c.line =
        what + (c.fatal ? ": refused: " : ": not answering (the bot starts; it may come back): ") +
        std::string(pipelines::to_string(kind)) + ": " + r.error().message +
        (c.fatal ? "; check the provider's key (VIDEO_API_KEY, FAL_KEY, OPENROUTER_API_KEY) and [video] model"
                 : "");
    return c;
}

} // namespace

engine::awaitable<std::vector<service_check>>
check_configured_services(engine::executor ex, const config& cfg, engine::offload_pool& offload) {
    register_secrets(cfg);
    net::http_client http(ex, http_config(cfg, offload, "check"));
    std::vector<service_check> out;
    {
        net::telegram::client telegram(http, cfg.telegram);
        auto me = co_await telegram.get_me();
        service_check c{.which = pipelines::service::telegram};
        if (me) {
            c.ok = true;
            c.line = "Telegram (getMe): ok, @" + me->username;
        } else {
            const auto kind = me.error().kind;
            c.fatal = kind == net::api_error_kind::unauthorized || kind == net::api_error_kind::not_found;
            c.line = "Telegram (getMe): " + me.error().message() +
                     (c.fatal ? "; check TELEGRAM_BOT_TOKEN" : std::string());
        }
        out.push_back(std::move(c));
    }
    {
        net::openai::chat_client llm(http, cfg.openai);
        auto r = co_await llm.check_model();
        out.push_back(judged(pipelines::service::llm,
                             "the chat model (" + cfg.openai.model + ")",
                             "OPENAI_API_KEY and [openai] model",
                             r));
    }
    {
        net::gemini::image_client images(http, cfg.gemini);
        auto r = co_await images.check_model();
        out.push_back(judged(pipelines::service::images,
                             "the image model (" + cfg.gemini.model + ")",
                             "GEMINI_API_KEY and [gemini] model",
                             r));
    }
    if (auto video = make_video_provider(cfg, http, offload)) {
        auto r = co_await video->check();
        out.push_back(judged_video(video->info(), r));
    } else {
        out.push_back({.which = pipelines::service::videos,
                       .ok = true,
                       .fatal = false,
                       .line = "videos: no provider configured ([video] provider = \"none\")"});
    }
    http.close_idle();
    co_return out;
}

std::string check_table(const std::vector<service_check>& rows) {
    std::string out = "service    result   detail\n";
    for (const auto& r : rows) {
        std::string name(pipelines::to_string(r.which));
        name.resize(std::max<std::size_t>(name.size() + 1, 11), ' ');
        std::string verdict = r.ok ? "ok" : r.fatal ? "REFUSED" : "DOWN";
        verdict.resize(9, ' ');
        out += name + verdict + r.line + "\n";
    }
    return out;
}

engine::awaitable<std::vector<service_check>> bot_app::check_services() {
    std::vector<service_check> out;
    auto llm = co_await llm_.check_model();
    out.push_back(
        judged(pipelines::service::llm, "the chat model", "OPENAI_API_KEY and [openai] model", llm));
    auto images = co_await images_.check_model();
    out.push_back(
        judged(pipelines::service::images, "the image model", "GEMINI_API_KEY and [gemini] model", images));
    if (video_) {
        // The provider's own job-less check; its port records the answer in health().
        auto video = co_await video_->check();
        out.push_back(judged_video(video_->info(), video));
    }
    const auto now = time_.wall();
    std::vector<std::pair<pipelines::service, const net::api_result<void>*>> answered{
        {pipelines::service::llm, &llm},
        {pipelines::service::images, &images}};
    for (const auto& [which, r] : answered) {
        if (*r) {
            health_.record_ok(which, now);
        } else {
            health_.record_failure(which, pipelines::state_after(r->error()), r->error().message(), now);
        }
    }
    co_return out;
}

void configure_allocator() noexcept {
    ::mallopt(M_ARENA_MAX, 2);
}

} // namespace companion::app
