// The whole bot wired to in-process simulators and a fresh database, for end-to-end tests.
#pragma once

#include "app/wiring.hpp"
#include "engine/time.hpp"
#include "pipelines/bot.hpp"
#include "sim/suite.hpp"
#include "storage/users.hpp"
#include "tests/common/sim_speed.hpp"
#include "tests/common/video_offer.hpp"
#include "tests/net/net_test_support.hpp"
#include "tests/net/test_certs.hpp"

#include <boost/test/unit_test.hpp>

#include <functional>
#include <map>
#include <memory>
#include <string>

namespace companion::test {

using engine::awaitable;
using item = sim::sent_item;

enum class video_backend { none, openai, omni, fal, openrouter };

namespace tg = net::telegram;

// The whole bot, wired by app/wiring exactly as companion-bot wires it, against in-process
// simulators and a fresh database. `db` is a second connection the test inspects the database
// through (as an operator's sqlite3 would); it is opened before the bot when a test prepares rows.
struct world {
    boost::asio::io_context ioc{1};
    engine::executor ex = ioc.get_executor();
    log_capture logs;
    temp_dir dir;
    engine::offload_pool offload{1};
    pipelines::persona_catalog personas =
        *pipelines::persona_catalog::load(COMPANION_DATA_DIR "/personas.json");
    pipelines::locale_catalog locales = *pipelines::locale_catalog::load(COMPANION_DATA_DIR "/locales");
    std::unique_ptr<sim::suite> sims;
    std::unique_ptr<storage::database> db;
    std::unique_ptr<storage::media_store> media;
    std::unique_ptr<app::bot_app> app;
    pipelines::bot* bot = nullptr;
    std::unique_ptr<engine::task_group> running;
    pipelines::bot_config cfg;
    bool rate_limits = false;
    video_backend backend = video_backend::none;
    std::string fal_model = "fal-ai/kling-video/v3/standard/image-to-video";
    std::string openrouter_model = "alibaba/wan-2.6";
    sim::suite_config sim_cfg{};

    world() {
        cfg.intake.poll_timeout = std::chrono::seconds{1};
        cfg.sending.per_chat = {50.0, 20.0}; // tests care about behaviour, not Telegram's pace
        cfg.sending.global = {500.0, 100.0};
        cfg.sending.base_backoff = std::chrono::milliseconds{20};
        cfg.limits.selfies_per_minute = 1000; // the abuse tests set the real limits
        cfg.limits.actions_per_minute = 10000;
        cfg.limits.chat_turns_per_minute = 10000;
        cfg.drain_grace = std::chrono::seconds{1};
        cfg.video.poll_interval = std::chrono::milliseconds{50};
        cfg.video.progress_every = std::chrono::milliseconds{100};
        cfg.video.action_every = std::chrono::milliseconds{100};
        cfg.video.flirty_probability = 0.0;
        cfg.video.videos_per_day = 100;
        cfg.video.daily_spend_cap_cents = 1000000;
        sim_cfg = quick_videos(std::chrono::milliseconds{20}, std::chrono::milliseconds{150});
    }

    void start_sims() {
        sim::suite_config sc = sim_cfg;
        sc.telegram.token = sim::suite::token();
        sc.telegram.enforce_rate_limits = rate_limits;
        sims = std::make_unique<sim::suite>(ex, sc);
        BOOST_TEST_REQUIRE(sims->start().has_value());
    }

    /// The app configuration companion-bot would read, pointed at the simulators.
    app::config app_config() const {
        app::config c;
        c.telegram.token = sim::suite::token();
        c.telegram.base_url = sims->telegram().base_url();
        c.telegram.poll_timeout = std::chrono::duration_cast<std::chrono::seconds>(cfg.intake.poll_timeout);
        c.openai.base_url = sims->openai().base_url();
        c.openai.api_key = "sk-e2e-secret-key-0001";
        c.gemini.base_url = sims->gemini().base_url();
        c.gemini.api_key = "gemini-e2e-secret-0002";
        if (backend == video_backend::openai) {
            c.video.provider = app::video_provider_kind::openai_videos;
            c.video.base_url = sims->openai().base_url();
            c.video.api_key = "sk-video-e2e-secret-0003";
            c.video.model = "sora-2";
        } else if (backend == video_backend::omni) {
            c.video.provider = app::video_provider_kind::gemini_omni;
            c.video.allowed_seconds = {3, 4, 5, 6, 7, 8, 9, 10};
        } else if (backend == video_backend::fal) {
            c.video.provider = app::video_provider_kind::fal;
            c.video.base_url = sims->fal().base_url();
            c.video.fal_key = "fal-e2e-id:fal-e2e-secret-0004";
            c.video.model = fal_model;
        } else if (backend == video_backend::openrouter) {
            c.video.provider = app::video_provider_kind::openrouter;
            c.video.base_url = sims->openrouter().base_url();
            c.video.openrouter_key = "sk-or-v1-e2e-secret-0005";
            c.video.model = openrouter_model;
            c.video.allowed_seconds = {5, 10}; // Wan 2.6 through OpenRouter: the seed's 5 s
        }
        c.storage.data_dir = dir.path.string();
        c.storage.database = "bot.db";
        return c;
    }

    void open_db() {
        if (!db) {
            db = std::make_unique<storage::database>(storage::database_config{.path = dir.path / "bot.db"});
            media = std::make_unique<storage::media_store>(dir.path / "media");
        }
    }

    void start_bot() {
        open_db();
        app = std::make_unique<app::bot_app>(ex,
                                             app_config(),
                                             cfg,
                                             personas,
                                             locales,
                                             offload,
                                             app::wiring_options{.http_name = "e2e"});
        bot = &app->bot();
        running = std::make_unique<engine::task_group>(ex, engine::task_group::config{.name = "e2e"});
        BOOST_TEST_REQUIRE(running->spawn(bot->run()));
    }

    awaitable<void> stop_bot() {
        running->cancel();
        co_await running->join();
        bot = nullptr;
        app.reset();
    }

    awaitable<void> start() {
        start_sims();
        start_bot();
        const bool ok = co_await bot->prepare();
        BOOST_TEST_REQUIRE(ok);
    }

    awaitable<void> finish() {
        co_await stop_bot();
        co_await sims->stop();
    }

    // Waits for the next bot output in `chat` after what the test has seen so far.
    awaitable<std::optional<item>> next(std::int64_t chat,
                                        std::function<bool(const item&)> pred,
                                        engine::duration timeout = std::chrono::seconds{10}) {
        auto& seen = seen_[chat];
        auto r = co_await sims->telegram().wait_for(chat, std::move(pred), timeout, seen);
        seen = sims->telegram().sent_to(chat).size();
        co_return r;
    }

    std::int64_t bot_message_with(std::int64_t chat, std::string_view markup_part) {
        std::int64_t id = 0;
        for (const auto& i : sims->telegram().sent_to(chat)) {
            if (i.reply_markup.find(markup_part) != std::string::npos) {
                id = i.message_id;
            }
        }
        return id;
    }

    /// The video offer after a /video (or the button), answering the 18+ question with `adult`
    /// when it comes first.
    awaitable<std::optional<item>> video_offer(std::int64_t user, bool adult = true) {
        auto first = co_await next(user, [](const item& i) { return offers_video(i) || asks_adult(i); });
        if (!first || offers_video(*first)) {
            co_return first;
        }
        sims->telegram().user_presses_button(user, first->message_id, adult ? "adult:yes" : "adult:no");
        auto offer = co_await next(user, offers_video);
        co_return offer;
    }

    void users_confirm_adult(std::int64_t user) {
        storage::user_repository users(*db);
        auto r = users.set_adult_answer(user, true);
        BOOST_TEST(r.has_value());
    }

    std::map<std::int64_t, std::size_t> seen_;
};

// The bot stores what follows a send after Telegram answers: give it a moment.
inline awaitable<bool> eventually(std::function<bool()> pred,
                                  engine::duration timeout = std::chrono::seconds{3}) {
    const auto until = engine::clock::now() + timeout;
    while (!pred()) {
        if (engine::clock::now() > until) {
            co_return false;
        }
        co_await engine::sleep(std::chrono::milliseconds{10});
    }
    co_return true;
}

/// Waits until the bot has finished `n` updates since it started (a positive signal to wait on
/// before checking that something did not happen, instead of sleeping and hoping).
inline awaitable<bool>
processed(world& w, std::uint64_t n, engine::duration timeout = std::chrono::seconds{20}) {
    co_return co_await eventually([&] { return w.bot->stats().updates_processed >= n; }, timeout);
}

inline bool text(const item& i) {
    return i.what == item::kind::text;
}

// Takes a user through /start and a persona.
inline awaitable<void> onboard(world& w, std::int64_t user, const std::string& persona) {
    auto& tg_sim = w.sims->telegram();
    tg_sim.user_sends_text(user, "/start");
    auto menu = co_await w.next(user, [](const item& i) {
        return text(i) && i.reply_markup.find("p:") != std::string::npos;
    });
    BOOST_TEST_REQUIRE(menu.has_value());
    tg_sim.user_presses_button(user, menu->message_id, "p:" + persona);
    auto greeting = co_await w.next(user, [](const item& i) { return text(i) && i.reply_markup.empty(); });
    BOOST_TEST_REQUIRE(greeting.has_value());
}

} // namespace companion::test
