// The real companion-bot as a child process, for the reliability tests and the soak: started with
// a config file and an environment, killed (SIGKILL) or stopped (SIGTERM), restarted, and
// observed through /proc.
#pragma once

#include "engine/time.hpp"
#include "sim/suite.hpp"
#include "tests/common/files.hpp"
#include "tests/common/sanitizer_env.hpp"
#include "tests/common/sim_speed.hpp"
#include "tests/net/net_test_support.hpp"
#include "tests/net/test_certs.hpp"

#include <boost/asio/io_context.hpp>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace companion::test {

class bot_process {
public:
    bot_process(std::filesystem::path dir, std::vector<std::string> env)
        : dir_(std::move(dir)), env_(std::move(env)) {
        add_sanitizer_options(env_);
    }
    ~bot_process() { stop(SIGKILL); }
    bot_process(const bot_process&) = delete;
    bot_process& operator=(const bot_process&) = delete;

    void start() {
        ++starts_;
        // Everything the child needs is built before fork(): the test process has other threads,
        // and between fork() and execve() only async-signal-safe calls are allowed (a malloc
        // there can deadlock on a lock another thread held).
        const std::string log_path = (dir_ / "bot.log").string();
        const std::string config = (dir_ / "bot.toml").string();
        std::vector<char*> envp;
        for (auto& e : env_) {
            envp.push_back(e.data());
        }
        envp.push_back(nullptr);
        const char* argv[] = {COMPANION_BOT_PATH, "--config", config.c_str(), nullptr};
        pid_ = ::fork();
        if (pid_ == 0) {
            const int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
            ::dup2(log, STDOUT_FILENO);
            ::dup2(log, STDERR_FILENO);
            // Nothing else of the test's: its simulators' sockets would otherwise live on in the
            // bot (a listener it never accepts on, the far end of its own connections).
            ::close_range(3, ~0U, 0);
            ::execve(COMPANION_BOT_PATH, const_cast<char* const*>(argv), envp.data());
            ::_exit(127);
        }
    }

    /// Signals the process and waits for it (blocking: only for SIGKILL, which is immediate).
    void stop(int signal) {
        if (pid_ > 0) {
            ::kill(pid_, signal);
            int status = 0;
            ::waitpid(pid_, &status, 0);
            pid_ = -1;
        }
    }

    /// Signals the process and waits for it without blocking the loop (the simulators it talks
    /// to live on this loop and must keep answering while it shuts down).
    engine::awaitable<int> stop_async(int signal) {
        int status = 0;
        if (pid_ > 0) {
            ::kill(pid_, signal);
            while (::waitpid(pid_, &status, WNOHANG) == 0) {
                co_await engine::sleep(std::chrono::milliseconds(20));
            }
            pid_ = -1;
        }
        co_return status;
    }

    /// Waits up to `limit` for the process to end by itself; its wait status, or nullopt when it
    /// still runs (it is left running).
    engine::awaitable<std::optional<int>> wait_exit(engine::duration limit) {
        const auto until = engine::clock::now() + limit;
        while (pid_ > 0 && engine::clock::now() < until) {
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                co_return status;
            }
            co_await engine::sleep(std::chrono::milliseconds(20));
        }
        co_return std::nullopt;
    }

    int starts() const { return starts_; }
    pid_t pid() const { return pid_; }
    std::filesystem::path log_path() const { return dir_ / "bot.log"; }

    /// A field of /proc/<pid>/status in kB (VmRSS, VmHWM); 0 when not running.
    long status_kb(const std::string& field) const {
        std::ifstream in("/proc/" + std::to_string(pid_) + "/status");
        std::string line;
        while (std::getline(in, line)) {
            if (line.rfind(field + ":", 0) == 0) {
                return std::stol(line.substr(field.size() + 1));
            }
        }
        return 0;
    }

    /// Open file descriptors of the process.
    long open_fds() const {
        long n = 0;
        std::error_code ec;
        for (auto it = std::filesystem::directory_iterator("/proc/" + std::to_string(pid_) + "/fd", ec);
             !ec && it != std::filesystem::directory_iterator();
             it.increment(ec)) {
            ++n;
        }
        return n;
    }

private:
    std::filesystem::path dir_;
    std::vector<std::string> env_;
    pid_t pid_ = -1;
    int starts_ = 0;
};

/// The last `n` lines of a file, for failure messages.
inline std::vector<std::string> tail_lines(const std::filesystem::path& path, std::size_t n) {
    std::ifstream in(path);
    std::vector<std::string> lines;
    std::string line;
    while (std::getline(in, line)) {
        lines.push_back(line);
    }
    if (lines.size() > n) {
        lines.erase(lines.begin(), lines.end() - static_cast<std::ptrdiff_t>(n));
    }
    return lines;
}

/// The API keys a test's bot gets (distinct per test, so a leak names its test).
struct bot_keys {
    std::string openai;
    std::string gemini;
    std::string video;
    explicit bot_keys(const std::string& test)
        : openai("sk-" + test + "-openai-7311"),
          gemini("gm-" + test + "-gemini-7312"),
          video("sk-" + test + "-video-7313") {}
    std::vector<std::string> all() const { return {sim::suite::token(), openai, gemini, video}; }
};

/// The environment pointing the bot at `sims` (secrets and base URLs, as in production).
inline std::vector<std::string> bot_env(sim::suite& sims, const bot_keys& keys) {
    return {"TELEGRAM_BOT_TOKEN=" + sim::suite::token(),
            "TELEGRAM_API_BASE_URL=" + sims.telegram().base_url(),
            "OPENAI_BASE_URL=" + sims.openai().base_url(),
            "OPENAI_API_KEY=" + keys.openai,
            "GEMINI_BASE_URL=" + sims.gemini().base_url(),
            "GEMINI_API_KEY=" + keys.gemini,
            "VIDEO_BASE_URL=" + sims.openai().base_url(),
            "VIDEO_API_KEY=" + keys.video};
}

/// Writes dir/bot.toml: `sections` (TOML) plus the data directory and the shipped personas and
/// locales.
inline void write_bot_config(const std::filesystem::path& dir, const std::string& sections) {
    std::ofstream toml(dir / "bot.toml");
    toml << sections << "\n[storage]\ndata_dir = \"" << (dir / "data").string() << "\"\n"
         << "[bot]\npersonas = \"" COMPANION_SOURCE_DIR
            "/data/personas.json\"\nlocales = \"" COMPANION_SOURCE_DIR "/data/locales\"\n";
}

/// True when none of `secrets` (nor the token's secret half) occurs in `text`.
inline bool free_of_secrets(const std::string& text, const std::vector<std::string>& secrets) {
    for (const auto& s : secrets) {
        if (text.find(s) != std::string::npos) {
            return false;
        }
        if (const auto colon = s.find(':');
            colon != std::string::npos && text.find(s.substr(colon + 1)) != std::string::npos) {
            return false;
        }
    }
    return true;
}

/// Adds `n` English-speaking users named `prefix`0, `prefix`1, ..., each sending /start at once,
/// then picks Emma for each from the persona menu (waiting up to `wait` per user); with `greeted`
/// it also waits for each greeting. Returns them in order.
inline engine::awaitable<std::vector<std::int64_t>> onboard_users(sim::telegram_simulator& t,
                                                                  int n,
                                                                  std::string prefix,
                                                                  engine::duration wait,
                                                                  bool greeted = false) {
    using item = sim::sent_item;
    std::vector<std::int64_t> users;
    for (int i = 0; i < n; ++i) {
        const auto u = t.add_user({.first_name = prefix + std::to_string(i), .language_code = "en"});
        users.push_back(u);
        t.user_sends_text(u, "/start");
    }
    for (auto u : users) {
        auto menu = co_await t.wait_for(
            u,
            [](const item& x) { return x.reply_markup.find("p:") != std::string::npos; },
            wait);
        BOOST_TEST_REQUIRE(menu.has_value());
        t.user_presses_button(u, menu->message_id, "p:emma");
    }
    for (std::size_t i = 0; greeted && i < users.size(); ++i) {
        auto greeting = co_await t.wait_for(
            users[i],
            [](const item& x) { return x.what == item::kind::text && x.reply_markup.empty(); },
            wait);
        BOOST_TEST_REQUIRE(greeting.has_value());
    }
    co_return users;
}

/// The simulators for a bot-process test: the bot's token, Telegram's flood control when
/// `rate_limits`, and OpenAI videos queued for `queue` then rendered for `render` at 4 fps (small
/// files).
inline sim::suite_config process_sims(bool rate_limits,
                                      engine::duration render = std::chrono::seconds{3},
                                      engine::duration queue = std::chrono::milliseconds{200}) {
    auto sc = quick_videos(queue, render);
    sc.telegram.token = sim::suite::token();
    sc.telegram.enforce_rate_limits = rate_limits;
    return sc;
}

/// An integer from the environment (the long forms of the tests), else `fallback`.
inline int env_int(const char* name, int fallback) {
    const char* v = std::getenv(name);
    return v != nullptr ? std::atoi(v) : fallback;
}

/// The test's own loop (the simulators live on it), its log capture and a scratch directory.
struct process_world {
    boost::asio::io_context ioc{1};
    engine::executor ex = ioc.get_executor();
    log_capture logs;
    temp_dir dir;
};

} // namespace companion::test
