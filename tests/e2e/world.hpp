// The whole bot wired to in-process simulators and a fresh database, for end-to-end tests.
#pragma once

#include "engine/time.hpp"
#include "net/http_client.hpp"
#include "pipelines/bot.hpp"
#include "pipelines/providers/gemini_omni.hpp"
#include "pipelines/providers/openai_videos.hpp"
#include "sim/suite.hpp"
#include "storage/users.hpp"
#include "tests/net/net_test_support.hpp"
#include "tests/net/test_certs.hpp"

#include <boost/test/unit_test.hpp>

#include <functional>
#include <map>
#include <memory>
#include <string>

namespace companion::test {

using namespace std::chrono_literals;
using engine::awaitable;
using item = sim::sent_item;

enum class video_backend { none, openai, omni };

namespace tg = net::telegram;

// The whole bot wired to in-process simulators and a fresh database.
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
    std::unique_ptr<net::http_client> http;
    std::unique_ptr<tg::client> telegram;
    std::unique_ptr<net::openai::chat_client> llm;
    std::unique_ptr<net::gemini::image_client> images;
    std::unique_ptr<storage::database> db;
    std::unique_ptr<storage::media_store> media;
    std::unique_ptr<pipelines::bot> bot;
    std::unique_ptr<engine::task_group> running;
    std::unique_ptr<pipelines::video_provider> video;
    pipelines::bot_config cfg;
    bool rate_limits = false;
    video_backend backend = video_backend::none;
    sim::suite_config sim_cfg{};

    world() {
        cfg.poll_timeout = 1s;
        cfg.sending.per_chat = {50.0, 20.0}; // tests care about behaviour, not Telegram's pace
        cfg.sending.global = {500.0, 100.0};
        cfg.sending.base_backoff = 20ms;
        cfg.selfies_per_minute = 1000; // the abuse tests set the real limits
        cfg.actions_per_minute = 10000;
        cfg.chat_turns_per_minute = 10000;
        cfg.drain_grace = 1s;
        cfg.video.poll_interval = 50ms;
        cfg.video.progress_every = 100ms;
        cfg.video.action_every = 100ms;
        cfg.video.flirty_probability = 0.0;
        cfg.video.videos_per_day = 100;
        cfg.video.daily_spend_cap_cents = 1000000;
        sim_cfg.openai.queue_time = 20ms;
        sim_cfg.openai.render_time = 150ms;
        sim_cfg.openai.video_fps = 4;
        sim_cfg.gemini.queue_time = 20ms;
        sim_cfg.gemini.render_time = 150ms;
        sim_cfg.gemini.video_fps = 4;
    }

    void start_sims() {
        sim::suite_config sc = sim_cfg;
        sc.telegram.token = sim::suite::token();
        sc.telegram.enforce_rate_limits = rate_limits;
        sims = std::make_unique<sim::suite>(ex, sc);
        BOOST_TEST_REQUIRE(sims->start().has_value());
    }

    void start_bot() {
        http = std::make_unique<net::http_client>(ex, net::client_config{.name = "e2e"});
        tg::client_config tc;
        tc.base_url = sims->telegram().base_url();
        tc.token = sim::suite::token();
        tc.poll_timeout = cfg.poll_timeout;
        tc.request_timeouts.response_header = 10s;
        telegram = std::make_unique<tg::client>(*http, tc);
        net::openai::chat_config lc;
        lc.base_url = sims->openai().base_url();
        lc.api_key = "sk-e2e-secret-key-0001";
        llm = std::make_unique<net::openai::chat_client>(*http, lc);
        net::gemini::image_config ic;
        ic.base_url = sims->gemini().base_url();
        ic.api_key = "gemini-e2e-secret-0002";
        images = std::make_unique<net::gemini::image_client>(*http, ic);
        if (!db) {
            db = std::make_unique<storage::database>(storage::database_config{.path = dir.path / "bot.db"});
            media = std::make_unique<storage::media_store>(dir.path / "media");
        }
        if (backend == video_backend::openai) {
            pipelines::openai_videos_settings vs;
            vs.base_url = sims->openai().base_url();
            vs.api_key = "sk-video-e2e-secret-0003";
            vs.model = "sora-2";
            video = pipelines::make_openai_videos_provider(*http, vs);
        } else if (backend == video_backend::omni) {
            pipelines::gemini_omni_settings os;
            os.base_url = sims->gemini().base_url();
            os.api_key = "gemini-e2e-secret-0002";
            video = pipelines::make_gemini_omni_provider(*http, os);
        }
        bot = std::make_unique<pipelines::bot>(ex,
                                               pipelines::bot_services{*telegram,
                                                                       *llm,
                                                                       *images,
                                                                       *db,
                                                                       *media,
                                                                       personas,
                                                                       locales,
                                                                       offload,
                                                                       video.get()},
                                               cfg);
        running = std::make_unique<engine::task_group>(ex, engine::task_group::config{.name = "e2e"});
        (void)running->spawn(bot->run());
    }

    awaitable<void> stop_bot() {
        running->cancel();
        co_await running->join();
        bot.reset();
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
    awaitable<std::optional<item>>
    next(std::int64_t chat, std::function<bool(const item&)> pred, engine::duration timeout = 10s) {
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

    void users_confirm_adult(std::int64_t user) {
        storage::user_repository users(*db);
        auto r = users.set_adult_confirmed(user, true);
        BOOST_TEST(r.has_value());
    }

    std::map<std::int64_t, std::size_t> seen_;
};

// The bot stores what follows a send after Telegram answers: give it a moment.
inline awaitable<bool> eventually(std::function<bool()> pred, engine::duration timeout = 3s) {
    const auto until = engine::clock::now() + timeout;
    while (!pred()) {
        if (engine::clock::now() > until) {
            co_return false;
        }
        co_await engine::sleep(10ms);
    }
    co_return true;
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
