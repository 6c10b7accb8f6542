// Crash test for video jobs (issue 9): the real companion-bot process, pointed at simulators that
// live in this test process, is killed with SIGKILL at random moments while users ask for
// videos, and restarted each time. Afterwards every user got their video or was told it failed
// or was lost, no job was created twice at the provider, and the database is intact.
#include "engine/task_group.hpp"
#include "engine/time.hpp"
#include "pipelines/locale.hpp"
#include "sim/suite.hpp"
#include "storage/database.hpp"
#include "tests/net/net_test_support.hpp"
#include "tests/net/test_certs.hpp"
#include "tests/reliability/bot_process.hpp"

#include <boost/test/unit_test.hpp>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <random>
#include <set>

using namespace companion;
using namespace std::chrono_literals;
using engine::awaitable;
using item = sim::sent_item;

namespace {

using test::bot_process;

struct crash_world {
    boost::asio::io_context ioc{1};
    engine::executor ex = ioc.get_executor();
    test::log_capture logs;
    test::temp_dir dir;
};

bool terminal_message(const item& i, const std::vector<std::string>& endings) {
    if (i.what == item::kind::video) {
        return true;
    }
    if (i.what != item::kind::text) {
        return false;
    }
    for (const auto& e : endings) {
        if (i.text == e) {
            return true;
        }
    }
    return false;
}

} // namespace

BOOST_AUTO_TEST_SUITE(crash_suite)

BOOST_FIXTURE_TEST_CASE(sigkill_at_random_moments_loses_no_job_and_pays_for_none_twice, crash_world) {
    const int users_n = std::getenv("CRASH_USERS") ? std::atoi(std::getenv("CRASH_USERS")) : 20;
    const int kills = std::getenv("CRASH_KILLS") ? std::atoi(std::getenv("CRASH_KILLS")) : 30;
    const int rounds = std::getenv("CRASH_ROUNDS") ? std::atoi(std::getenv("CRASH_ROUNDS")) : 1;
    sim::suite_config sc;
    sc.telegram.token = sim::suite::token();
    sc.telegram.enforce_rate_limits = false;
    sc.openai.render_time = 1500ms;
    sc.openai.queue_time = 100ms;
    sc.openai.video_fps = 4;
    sim::suite sims(ex, sc);
    BOOST_TEST_REQUIRE(sims.start().has_value());

    {
        std::ofstream toml(dir.path / "bot.toml");
        toml << "[telegram]\npoll_timeout = \"1s\"\n"
             << "[video]\nprovider = \"openai\"\nmodel = \"sora-2\"\npoll_interval = \"500ms\"\npoll_timeout "
                "= \"3m\"\n"
             << "debug_info = \"off\"\n"
             << "[limits]\nselfies_per_day = 100\nvideos_per_day = 100\ndaily_spend_cap_cents = 1000000\n"
             << "[storage]\ndata_dir = \"" << (dir.path / "data").string() << "\"\n"
             << "[bot]\npersonas = \"" COMPANION_SOURCE_DIR
                "/data/personas.json\"\nlocales = \"" COMPANION_SOURCE_DIR "/data/locales\"\n"
             << "[log]\nlevel = \"warn\"\n";
    }
    bot_process bot(dir.path,
                    {"TELEGRAM_BOT_TOKEN=" + sim::suite::token(),
                     "TELEGRAM_API_BASE_URL=" + sims.telegram().base_url(),
                     "OPENAI_BASE_URL=" + sims.openai().base_url(),
                     "OPENAI_API_KEY=sk-crash-test",
                     "GEMINI_BASE_URL=" + sims.gemini().base_url(),
                     "GEMINI_API_KEY=gemini-crash-test",
                     "VIDEO_BASE_URL=" + sims.openai().base_url(),
                     "VIDEO_API_KEY=sk-video-crash-test"});
    auto locales = *pipelines::locale_catalog::load(COMPANION_SOURCE_DIR "/data/locales");
    const std::vector<std::string> endings{locales.text("en", "video.lost"),
                                           locales.text("en", "video.failed"),
                                           locales.text("en", "video.refused"),
                                           locales.text("en", "video.timeout")};
    std::vector<std::int64_t> users;
    int finished = 0;
    std::size_t videos_received = 0;

    test::run_test(
        ioc,
        [&]() -> awaitable<void> {
            auto& t = sims.telegram();
            bot.start();
            // Every user picks a persona and takes a selfie while the bot runs undisturbed.
            for (int i = 0; i < users_n; ++i) {
                const auto u = t.add_user({.first_name = "U" + std::to_string(i), .language_code = "en"});
                users.push_back(u);
                t.user_sends_text(u, "/start");
                auto menu = co_await t.wait_for(
                    u,
                    [](const item& x) { return x.reply_markup.find("p:") != std::string::npos; },
                    30s);
                BOOST_TEST_REQUIRE(menu.has_value());
                t.user_presses_button(u, menu->message_id, "p:emma");
                t.user_sends_text(u, "/selfie");
            }
            for (auto u : users) {
                auto photo = co_await t.wait_for(
                    u,
                    [](const item& x) { return x.what == item::kind::photo; },
                    30s);
                BOOST_TEST_REQUIRE(photo.has_value());
            }
            // Everyone asks for a video from the last selfie; the bot is killed and restarted at
            // random moments meanwhile.
            BOOST_TEST_MESSAGE("selfies done");
            // Each user asks for `rounds` videos from the last selfie, one after the other; the
            // bot is killed and restarted at random moments meanwhile.
            engine::task_group pressers(ex);
            std::map<std::int64_t, int> done_rounds;
            for (auto u : users) {
                auto one_user = [](sim::telegram_simulator& tg,
                                   std::int64_t user,
                                   int how_many,
                                   const std::vector<std::string>& ends,
                                   int& done) -> awaitable<void> {
                    std::size_t seen = tg.sent_to(user).size();
                    for (int r = 0; r < how_many; ++r) {
                        // A restart may still be finishing the last job (a kill between
                        // sendVideo and its commit): then /video gets "still being made", so ask
                        // again until the offer comes.
                        std::optional<item> offer;
                        for (int attempt = 0; attempt < 20 && !offer; ++attempt) {
                            tg.user_sends_text(user, "/video");
                            offer = co_await tg.wait_for(
                                user,
                                [](const item& x) {
                                    return x.reply_markup.find("vid:") != std::string::npos;
                                },
                                15s,
                                seen);
                        }
                        if (!offer) {
                            co_return;
                        }
                        seen = tg.sent_to(user).size();
                        tg.user_presses_button(user, offer->message_id, "vid:last");
                        auto end = co_await tg.wait_for(
                            user,
                            [&](const item& x) { return terminal_message(x, ends); },
                            300s,
                            seen);
                        if (!end) {
                            co_return;
                        }
                        seen = tg.sent_to(user).size();
                        ++done;
                    }
                };
                auto task = one_user(t, u, rounds, endings, done_rounds[u]);
                (void)pressers.spawn(std::move(task));
            }
            std::mt19937 rng(12345);
            std::uniform_int_distribution<int> pause_ms(150, 900);
            for (int k = 0; k < kills; ++k) {
                co_await engine::sleep(std::chrono::milliseconds(pause_ms(rng)));
                bot.stop(SIGKILL);
                bot.start();
            }
            BOOST_TEST_MESSAGE("kills done");
            co_await pressers.join();
            // The last run finishes every job.
            for (auto u : users) {
                BOOST_TEST(done_rounds[u] == rounds);
                if (done_rounds[u] == rounds) {
                    ++finished;
                } else {
                    for (const auto& x : t.sent_to(u)) {
                        BOOST_TEST_MESSAGE("user " << u << " got " << sim::to_string(x.what) << ": "
                                                   << x.text);
                    }
                    for (const auto& line : test::tail_lines(bot.log_path(), 30)) {
                        BOOST_TEST_MESSAGE("bot.log: " << line);
                    }
                    break;
                }
            }
            co_await engine::sleep(1s);
            const int status = co_await bot.stop_async(SIGTERM);
            BOOST_TEST(WIFEXITED(status)); // a clean, graceful exit
            for (auto u : users) {
                std::size_t videos = 0;
                for (const auto& x : t.sent_to(u)) {
                    videos += x.what == item::kind::video ? 1U : 0U;
                }
                videos_received += videos;
                // A duplicate is possible only if a kill fell between sendVideo and its commit.
                BOOST_TEST(videos <= static_cast<std::size_t>(2 * rounds));
            }
            co_await sims.stop();
        }(),
        std::chrono::seconds(240 + kills * 2 + rounds * 120));

    BOOST_TEST(finished == users_n);
    BOOST_TEST(bot.starts() == kills + 1);
    // The database: intact, every job terminal, and never two creates for one job.
    SQLite::Database db((dir.path / "data" / "companion.db").string(), SQLite::OPEN_READONLY);
    BOOST_TEST(db.execAndGet("PRAGMA integrity_check").getString() == "ok");
    BOOST_TEST(db.execAndGet("SELECT count(*) FROM video_jobs WHERE state NOT IN "
                             "('delivered','failed','refused','submit_unknown')")
                   .getInt() == 0);
    const int jobs = db.execAndGet("SELECT count(*) FROM video_jobs").getInt();
    const int with_id =
        db.execAndGet("SELECT count(*) FROM video_jobs WHERE provider_job_id IS NOT NULL").getInt();
    const int unknown =
        db.execAndGet("SELECT count(*) FROM video_jobs WHERE state = 'submit_unknown'").getInt();
    const int delivered = db.execAndGet("SELECT count(*) FROM video_jobs WHERE state = 'delivered'").getInt();
    BOOST_TEST(jobs == users_n * rounds);
    std::set<std::string> created;
    for (const auto& c : sims.openai().video_creates()) {
        BOOST_TEST(created.insert(c.id).second);
    }
    SQLite::Statement ids(db, "SELECT provider_job_id FROM video_jobs WHERE provider_job_id IS NOT NULL");
    while (ids.executeStep()) {
        BOOST_TEST(created.count(ids.getColumn(0).getString()) == 1U); // each stored id was created once
    }
    // Creates whose answer was lost to a kill belong to submit_unknown jobs; no job created twice.
    BOOST_TEST(static_cast<int>(created.size()) <= with_id + unknown);
    const std::string summary_line =
        "crash test: " + std::to_string(jobs) + " jobs, " + std::to_string(delivered) + " delivered, " +
        std::to_string(unknown) + " submit_unknown, " + std::to_string(created.size()) + " creates, " +
        std::to_string(videos_received) + " videos received, " + std::to_string(kills) + " kills";
    std::printf("%s\n", summary_line.c_str());
    BOOST_TEST_MESSAGE("crash test: " << jobs << " jobs, " << delivered << " delivered, " << unknown
                                      << " submit_unknown, " << created.size() << " creates, "
                                      << videos_received << " videos received, " << kills << " kills");
}

BOOST_AUTO_TEST_SUITE_END()
