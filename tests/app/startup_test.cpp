// The companion-bot process at start-up, as an operator meets it: a configuration file without a
// token is refused with a non-zero exit and one line saying what is missing (it used to run the
// simulation inside the live data folder and exit 0); --simulate runs the simulation with that
// file but never in its data folder. Each run is the real binary with a controlled environment.
#include "tests/common/files.hpp"
#include "tests/common/temp_dir.hpp"

#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace {

struct run_result {
    int exit_code = -1;
    std::string output; ///< stdout and stderr together
};

// Runs companion-bot with `args` and only `env` (no token unless given), from `dir`; waits for it.
run_result
run_bot(const std::filesystem::path& dir, std::vector<std::string> args, std::vector<std::string> env) {
    const std::string out_path = (dir / "out.txt").string();
    std::vector<char*> argv{const_cast<char*>(COMPANION_BOT_PATH)};
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
        ::dup2(out, STDOUT_FILENO);
        ::dup2(out, STDERR_FILENO);
        if (::chdir(dir.c_str()) != 0) {
            ::_exit(126);
        }
        ::execve(COMPANION_BOT_PATH, argv.data(), envp.data());
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

} // namespace

BOOST_AUTO_TEST_SUITE(startup)

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
                           {"PATH=/usr/bin:/bin"});
    BOOST_TEST(r.exit_code == 0, r.output);
    BOOST_TEST(r.output.find("(simulation mode)") != std::string::npos, r.output);
    BOOST_TEST(r.output.find("data_dir = \"data/simulation\"") != std::string::npos, r.output);
    BOOST_TEST(r.output.find("live-data") == std::string::npos);
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

BOOST_AUTO_TEST_SUITE_END()
