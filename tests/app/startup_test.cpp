// The companion-bot process at start-up, as an operator meets it: a configuration file without a
// token is refused with a non-zero exit and one line saying what is missing (it used to run the
// simulation inside the live data folder and exit 0); --simulate runs the simulation with that
// file but never in its data folder; a second bot on a data folder in use exits 2 naming the
// first one's pid (issue 15, finding 7); and what a bot creates is its own: folders 0700, the
// database, its WAL and the lock 0600, under an open umask (finding 9). Each run is the real
// binary with a controlled environment.
#include "tests/common/files.hpp"
#include "tests/common/piped_process.hpp"
#include "tests/common/sanitizer_env.hpp"
#include "tests/common/temp_dir.hpp"

#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <ios>
#include <string>
#include <vector>

namespace {

struct run_result {
    int exit_code = -1;
    std::string output; ///< stdout and stderr together
};

// Runs `binary` with `args` and only `env` (no token unless given), from `cwd` (default: `dir`,
// which receives its output); waits for it.
run_result run_bot(const std::filesystem::path& dir,
                   std::vector<std::string> args,
                   std::vector<std::string> env,
                   const std::filesystem::path& cwd = {},
                   const std::string& binary = COMPANION_BOT_PATH) {
    companion::test::add_sanitizer_options(env);
    const std::string out_path = (dir / "out.txt").string();
    const std::string work = (cwd.empty() ? dir : cwd).string();
    std::vector<char*> argv{const_cast<char*>(binary.c_str())};
    for (auto& a : args) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    std::vector<char*> envp;
    for (auto& e : env) {
        envp.push_back(e.data());
    }
    envp.push_back(nullptr);
    const pid_t pid = ::fork();
    if (pid == 0) {
        const int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        const int in = ::open("/dev/null", O_RDONLY);
        ::dup2(in, STDIN_FILENO); // a terminal chat started by mistake ends at once
        ::dup2(out, STDOUT_FILENO);
        ::dup2(out, STDERR_FILENO);
        if (::chdir(work.c_str()) != 0) {
            ::_exit(126);
        }
        ::execve(binary.c_str(), argv.data(), envp.data());
        ::_exit(127);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, companion::test::read_file(out_path)};
}

// A live deployment's configuration: its own data folder.
std::filesystem::path write_live_config(const std::filesystem::path& dir) {
    const auto path = dir / "live.toml";
    std::ofstream(path) << "[storage]\ndata_dir = \"" << (dir / "live-data").string() << "\"\n"
                        << "[bot]\npersonas = \"" COMPANION_SOURCE_DIR "/data/personas.json\"\n"
                        << "locales = \"" COMPANION_SOURCE_DIR "/data/locales\"\n";
    return path;
}

// A bot that keeps running: the simulation's terminal chat, its input a pipe the test holds open,
// its output read as it comes; under umask 022, so what it creates private is its own doing.
struct running_bot : companion::test::piped_process {
    running_bot(const std::filesystem::path& dir, std::vector<std::string> args)
        : piped_process({.binary = COMPANION_BOT_PATH,
                         .args = std::move(args),
                         .working_dir = dir,
                         .umask = mode_t{022}}) {}
};

unsigned mode_of(const std::filesystem::path& p) {
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0) {
        return 07777; // no such file: every bit a test would refuse
    }
    return st.st_mode & 0777;
}

} // namespace

BOOST_AUTO_TEST_SUITE(startup)

BOOST_AUTO_TEST_CASE(a_second_bot_on_a_data_folder_in_use_exits_2_naming_the_first_ones_pid) {
    companion::test::temp_dir dir;
    const auto config = write_live_config(dir.path);
    const auto data = dir.path / "shared-data";
    running_bot first(dir.path, {"--config", config.string(), "--simulate", "--data-dir", data.string()});
    // The terminal chat's first answer: the first bot runs, its folder locked.
    BOOST_TEST_REQUIRE(first.wait_for("👤 You: /start"), first.output());

    const auto second = run_bot(dir.path,
                                {"--config", config.string(), "--simulate", "--data-dir", data.string()},
                                {"PATH=/usr/bin:/bin"});
    BOOST_TEST(second.exit_code == 2, second.output);
    const std::string expected = "companion-bot: the data folder " + data.string() +
                                 " is in use by another companion-bot (pid " + std::to_string(first.pid()) +
                                 ")";
    BOOST_TEST(second.output.find(expected) != std::string::npos, second.output);
    // One line, and nothing of a run: no transcript, no log.
    BOOST_TEST(std::count(second.output.begin(), second.output.end(), '\n') == 1, second.output);

    BOOST_TEST(first.finish() == 0, first.output());
    // The first one's end let go of the folder: the next bot runs there.
    const auto third = run_bot(dir.path,
                               {"--config", config.string(), "--simulate", "--data-dir", data.string()},
                               {"PATH=/usr/bin:/bin"});
    BOOST_TEST(third.output.find("in use by another companion-bot") == std::string::npos, third.output);
}

BOOST_AUTO_TEST_CASE(what_a_bot_creates_is_private_under_an_open_umask) {
    companion::test::temp_dir dir;
    const auto config = write_live_config(dir.path);
    const auto data = dir.path / "new" / "data";
    running_bot bot(dir.path, {"--config", config.string(), "--simulate", "--data-dir", data.string()});
    BOOST_TEST_REQUIRE(bot.wait_for("👤 You: /start"), bot.output());
    // Checked while it runs: the WAL and its index exist only then.
    BOOST_TEST(mode_of(dir.path / "new") == 0700U);
    BOOST_TEST(mode_of(data) == 0700U);
    BOOST_TEST(mode_of(data / "media") == 0700U);
    for (const char* file : {"companion.db", "companion.db-wal", "companion.db-shm", "companion.lock"}) {
        BOOST_TEST_CONTEXT(file) {
            const auto mode = mode_of(data / file);
            BOOST_TEST(mode != 07777U, "missing");
            BOOST_TEST((mode & 0077U) == 0U, "mode " << std::oct << mode);
        }
    }
    BOOST_TEST(bot.finish() == 0, bot.output());
}

BOOST_AUTO_TEST_CASE(a_config_file_without_a_token_is_refused_and_touches_no_data) {
    companion::test::temp_dir dir;
    const auto config = write_live_config(dir.path);
    const auto r = run_bot(dir.path, {"--config", config.string()}, {"PATH=/usr/bin:/bin"});
    BOOST_TEST(r.exit_code == 2);
    BOOST_TEST(r.output.find("TELEGRAM_BOT_TOKEN is not set") != std::string::npos, r.output);
    BOOST_TEST(r.output.find("--simulate") != std::string::npos);
    BOOST_TEST(!std::filesystem::exists(dir.path / "live-data"));
    BOOST_TEST(!std::filesystem::exists(dir.path / "data"));
}

BOOST_AUTO_TEST_CASE(simulate_runs_with_the_file_but_never_in_its_data_folder) {
    companion::test::temp_dir dir;
    const auto config = write_live_config(dir.path);
    const auto r = run_bot(dir.path,
                           {"--config", config.string(), "--simulate", "--print-config"},
                           {"PATH=/usr/bin:/bin", "HOME=" + dir.path.string()});
    BOOST_TEST(r.exit_code == 0, r.output);
    BOOST_TEST(r.output.find("(simulation mode)") != std::string::npos, r.output);
    // The user's state folder, not the working directory (issue 23).
    const auto state = dir.path / ".local" / "state" / "companion" / "simulation";
    BOOST_TEST(r.output.find("data_dir = \"" + state.string() + "\"") != std::string::npos, r.output);
    BOOST_TEST(r.output.find("live-data") == std::string::npos);
}

// Issue 23: the bot used to read data/personas.json relative to the working directory, so it ran
// only from the repository's root.
BOOST_AUTO_TEST_CASE(from_the_root_folder_a_built_binary_finds_its_source_trees_data) {
    companion::test::temp_dir dir;
    const auto r =
        run_bot(dir.path, {"--print-config"}, {"PATH=/usr/bin:/bin", "HOME=" + dir.path.string()}, "/");
    BOOST_TEST(r.exit_code == 0, r.output);
    BOOST_TEST(r.output.find("personas = \"" COMPANION_SOURCE_DIR "/data/personas.json\"") !=
                   std::string::npos,
               r.output);
    BOOST_TEST(r.output.find("locales = \"" COMPANION_SOURCE_DIR "/data/locales\"") != std::string::npos,
               r.output);
}

BOOST_AUTO_TEST_CASE(a_copy_in_a_prefix_finds_the_data_beside_it_from_any_folder) {
    companion::test::temp_dir dir;
    const auto prefix = dir.path / "opt" / "companion";
    std::filesystem::create_directories(prefix / "bin");
    std::filesystem::create_directories(prefix / "share" / "companion");
    const auto copy = prefix / "bin" / "companion-bot";
    std::filesystem::copy_file(COMPANION_BOT_PATH, copy);
    std::filesystem::permissions(copy, std::filesystem::perms::owner_all);
    std::filesystem::copy_file(COMPANION_SOURCE_DIR "/data/personas.json",
                               prefix / "share" / "companion" / "personas.json");
    std::filesystem::copy(COMPANION_SOURCE_DIR "/data/locales", prefix / "share" / "companion" / "locales");
    const auto r = run_bot(dir.path,
                           {"--print-config"},
                           {"PATH=/usr/bin:/bin", "HOME=" + dir.path.string()},
                           "/",
                           copy.string());
    BOOST_TEST(r.exit_code == 0, r.output);
    const auto share = (prefix / "bin" / ".." / "share" / "companion").lexically_normal();
    BOOST_TEST(r.output.find("personas = \"" + (share / "personas.json").string() + "\"") !=
                   std::string::npos,
               r.output);
    // --help names the folder it found and the example configuration in it.
    const auto help = run_bot(dir.path, {"--help"}, {"PATH=/usr/bin:/bin"}, "/", copy.string());
    BOOST_TEST(help.exit_code == 0, help.output);
    BOOST_TEST(help.output.find("Data folder: " + share.string()) != std::string::npos, help.output);
    BOOST_TEST(help.output.find((share / "companion.example.toml").string()) != std::string::npos,
               help.output);
}

BOOST_AUTO_TEST_CASE(a_share_dir_without_the_data_is_one_line_naming_it) {
    companion::test::temp_dir dir;
    const auto nowhere = dir.path / "nowhere";
    const auto r = run_bot(dir.path,
                           {"--share-dir", nowhere.string(), "--print-config"},
                           {"PATH=/usr/bin:/bin", "HOME=" + dir.path.string()});
    BOOST_TEST(r.exit_code == 2, r.output);
    BOOST_TEST(r.output.find("companion-bot: no data folder (personas.json and locales/) in " +
                             nowhere.string() + ";") != std::string::npos,
               r.output);
    BOOST_TEST(std::count(r.output.begin(), r.output.end(), '\n') == 1, r.output);
    // The environment names it as well.
    const auto from_env = run_bot(
        dir.path,
        {"--print-config"},
        {"PATH=/usr/bin:/bin", "HOME=" + dir.path.string(), "COMPANION_SHARE_DIR=" + nowhere.string()});
    BOOST_TEST(from_env.exit_code == 2, from_env.output);
    BOOST_TEST(from_env.output.find(nowhere.string()) != std::string::npos, from_env.output);
}

BOOST_AUTO_TEST_CASE(a_token_with_simulate_is_ignored_for_the_simulators_own) {
    companion::test::temp_dir dir;
    const auto r = run_bot(dir.path,
                           {"--simulate", "--print-config"},
                           {"PATH=/usr/bin:/bin", "TELEGRAM_BOT_TOKEN=123456:AAHsecret-token-never-printed"});
    BOOST_TEST(r.exit_code == 0, r.output);
    BOOST_TEST(r.output.find("(simulation mode)") != std::string::npos, r.output);
    BOOST_TEST(r.output.find("AAHsecret") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(an_admin_endpoint_beyond_loopback_without_a_token_is_refused_with_exit_2) {
    companion::test::temp_dir dir;
    const auto config = dir.path / "open-admin.toml";
    std::ofstream(config) << "[admin]\nlisten = \"0.0.0.0\"\nport = 9100\n";
    const auto r = run_bot(dir.path,
                           {"--config", config.string()},
                           {"PATH=/usr/bin:/bin", "TELEGRAM_BOT_TOKEN=123456:never-used"});
    BOOST_TEST(r.exit_code == 2, r.output);
    BOOST_TEST(r.output.find("configuration error: admin.listen: \"0.0.0.0\" is beyond loopback") !=
                   std::string::npos,
               r.output);
    BOOST_TEST(r.output.find("COMPANION_ADMIN_TOKEN") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(an_empty_database_in_a_used_data_folder_is_refused_before_anything_is_called) {
    companion::test::temp_dir dir;
    const auto config = write_live_config(dir.path);
    const auto data = dir.path / "live-data";
    std::filesystem::create_directories(data / "media");
    std::ofstream(data / "companion.db").flush();
    // Telegram is never asked: the data folder is checked first.
    const auto r = run_bot(dir.path,
                           {"--config", config.string()},
                           {"PATH=/usr/bin:/bin",
                            "TELEGRAM_BOT_TOKEN=123456:never-used",
                            "TELEGRAM_API_BASE_URL=http://127.0.0.1:9"});
    BOOST_TEST(r.exit_code == 2, r.output);
    BOOST_TEST(r.output.find("companion-bot: storage.database: " + (data / "companion.db").string() +
                             " is an empty file (0 bytes)") != std::string::npos,
               r.output);
    BOOST_TEST(std::filesystem::file_size(data / "companion.db") == 0U); // left as it was
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(check_command)

BOOST_AUTO_TEST_CASE(check_asks_every_simulated_service_and_prints_a_table) {
    companion::test::temp_dir dir;
    const auto r = run_bot(dir.path, {"check"}, {"PATH=/usr/bin:/bin", "HOME=" + dir.path.string()});
    BOOST_TEST(r.exit_code == 0, r.output);
    BOOST_TEST(r.output.find("simulation") != std::string::npos, r.output);
    for (const std::string row : {"telegram   ok", "llm        ok", "images     ok", "videos     ok"}) {
        BOOST_TEST(r.output.find(row) != std::string::npos, row << "\n" << r.output);
    }
    BOOST_TEST(r.output.find("fal fal-ai/kling-video/v3/standard/image-to-video") != std::string::npos,
               r.output);
    // Nothing was created: no data folder, no state folder.
    BOOST_TEST(!std::filesystem::exists(dir.path / ".local"));
}

BOOST_AUTO_TEST_CASE(check_refuses_a_model_the_provider_does_not_serve_with_exit_1) {
    companion::test::temp_dir dir;
    const auto config = dir.path / "or.toml";
    std::ofstream(config) << "[video]\nprovider = \"openrouter\"\nmodel = \"openai/sora-2\"\n";
    const auto r = run_bot(dir.path,
                           {"check", "--config", config.string(), "--simulate"},
                           {"PATH=/usr/bin:/bin", "HOME=" + dir.path.string()});
    BOOST_TEST(r.exit_code == 1, r.output);
    BOOST_TEST(r.output.find("videos     REFUSED") != std::string::npos, r.output);
    BOOST_TEST(r.output.find("openai/sora-2") != std::string::npos, r.output);
    BOOST_TEST(r.output.find("telegram   ok") != std::string::npos, r.output); // the others still answer
}

BOOST_AUTO_TEST_SUITE_END()
