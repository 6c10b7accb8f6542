// A child process with its stdin and stdout (stderr merged) on pipes: the test writes lines to it
// and reads its output as it comes. For the process-level tests of companion-bot (the terminal
// chat, start-up refusals, a second instance).
#pragma once

#include "tests/common/sanitizer_env.hpp"

#include <boost/test/unit_test.hpp>

#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace companion::test {

struct piped_process_options {
    std::filesystem::path binary;
    std::vector<std::string> args{};
    std::filesystem::path working_dir;
    /// The child's umask; nullopt keeps the test's.
    std::optional<mode_t> umask{};
};

class piped_process {
public:
    explicit piped_process(piped_process_options o) {
        int in[2];
        int out[2];
        BOOST_TEST_REQUIRE(::pipe(in) == 0);
        BOOST_TEST_REQUIRE(::pipe(out) == 0);
        // Everything the child needs is built before fork(): between fork() and execve() only
        // async-signal-safe calls are allowed.
        const std::string binary = o.binary.string();
        std::vector<char*> argv{const_cast<char*>(binary.c_str())};
        for (auto& a : o.args) {
            argv.push_back(a.data());
        }
        argv.push_back(nullptr);
        std::vector<std::string> env{"PATH=/usr/bin:/bin"};
        add_sanitizer_options(env);
        std::vector<char*> envp;
        for (auto& e : env) {
            envp.push_back(e.data());
        }
        envp.push_back(nullptr);
        pid_ = ::fork();
        if (pid_ == 0) {
            ::dup2(in[0], STDIN_FILENO);
            ::dup2(out[1], STDOUT_FILENO);
            ::dup2(out[1], STDERR_FILENO);
            ::close(in[1]);
            ::close(out[0]);
            if (::chdir(o.working_dir.c_str()) != 0) {
                ::_exit(126);
            }
            if (o.umask) {
                ::umask(*o.umask);
            }
            ::execve(binary.c_str(), argv.data(), envp.data());
            ::_exit(127);
        }
        ::close(in[0]);
        ::close(out[1]);
        to_ = in[1];
        from_ = out[0];
    }
    ~piped_process() {
        close_input();
        if (pid_ > 0 && !exited_) {
            ::kill(pid_, SIGKILL);
            int status = 0;
            ::waitpid(pid_, &status, 0);
        }
        ::close(from_);
    }
    piped_process(const piped_process&) = delete;
    piped_process& operator=(const piped_process&) = delete;

    pid_t pid() const noexcept { return pid_; }

    void write_line(const std::string& line) {
        const std::string text = line + "\n";
        BOOST_TEST_REQUIRE(::write(to_, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
    }

    void close_input() {
        if (to_ >= 0) {
            ::close(to_);
            to_ = -1;
        }
    }

    /// Reads until the output (from `from` on) contains `what`; false at the end of output or after
    /// a generous limit, so a broken build fails instead of hanging (not a timing assertion).
    bool wait_for(const std::string& what, std::size_t from = 0) {
        const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(120);
        while (output_.find(what, std::min(from, output_.size())) == std::string::npos) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                until - std::chrono::steady_clock::now());
            if (left.count() <= 0 || !read_some(static_cast<int>(left.count()))) {
                return false;
            }
        }
        return true;
    }

    /// Ends its input, reads to the end of output and returns the exit code (-1: a signal).
    int finish() {
        close_input();
        while (read_some(120'000)) {
        }
        int status = 0;
        ::waitpid(pid_, &status, 0);
        exited_ = true;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }

    const std::string& output() const noexcept { return output_; }

private:
    bool read_some(int timeout_ms) {
        pollfd p{from_, POLLIN, 0};
        if (::poll(&p, 1, timeout_ms) <= 0) {
            return false;
        }
        char buffer[4096];
        const auto n = ::read(from_, buffer, sizeof buffer);
        if (n <= 0) {
            return false;
        }
        output_.append(buffer, static_cast<std::size_t>(n));
        return true;
    }

    pid_t pid_ = -1;
    int to_ = -1;
    int from_ = -1;
    bool exited_ = false;
    std::string output_;
};

} // namespace companion::test
