// companion-sim as a separate process, as the benchmarks and other bots run it: SIGTERM while a
// client holds a getUpdates long poll (or has just abandoned one, or idles on a keep-alive
// connection) ends the process with exit code 0, and a held poll is answered with an empty result
// instead of a cut connection. Plain blocking sockets: the simulator is the only loop here.
#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <ostream>
#include <sstream>
#include <string>
#include <thread>

namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

const std::string token = "123456789:AAHfake-token_for_tests_0123456789abcdef";

// A connected loopback socket with a receive timeout, closed on destruction.
class connection {
public:
    explicit connection(std::uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
        BOOST_TEST_REQUIRE(fd_ >= 0);
        timeval tv{.tv_sec = 20, .tv_usec = 0}; // a bound for a broken simulator, not a timing check
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(port);
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        BOOST_TEST_REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    }
    ~connection() { close(); }
    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;

    void send_get(const std::string& target) {
        const std::string req = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
        BOOST_TEST_REQUIRE(::send(fd_, req.data(), req.size(), MSG_NOSIGNAL) ==
                           static_cast<ssize_t>(req.size()));
    }

    /// Everything until the server closes the connection or one full response (by Content-Length)
    /// has arrived.
    std::string read_response() {
        std::string in;
        char buf[4096];
        for (;;) {
            const auto n = ::recv(fd_, buf, sizeof buf, 0);
            if (n <= 0) {
                return in;
            }
            in.append(buf, static_cast<std::size_t>(n));
            const auto header_end = in.find("\r\n\r\n");
            const auto length_at = in.find("Content-Length: ");
            if (header_end != std::string::npos && length_at != std::string::npos && length_at < header_end) {
                const auto length = std::stoul(in.substr(length_at + 16));
                if (in.size() >= header_end + 4 + length) {
                    return in;
                }
            }
        }
    }

    void close() {
        if (fd_ >= 0) {
            ::close(fd_);
            fd_ = -1;
        }
    }

private:
    int fd_;
};

std::string body_of(const std::string& response) {
    const auto at = response.find("\r\n\r\n");
    return at == std::string::npos ? std::string{} : response.substr(at + 4);
}

// companion-sim started with ephemeral ports; its stderr goes to a file the test reads after.
class sim_process {
public:
    sim_process() {
        log_ = fs::temp_directory_path() / ("companion-sim-test-" + std::to_string(::getpid()) + ".log");
        int out[2];
        BOOST_TEST_REQUIRE(::pipe(out) == 0);
        const std::string log_path = log_.string();
        const char* argv[] = {COMPANION_SIM_PATH, nullptr};
        pid_ = ::fork();
        BOOST_TEST_REQUIRE(pid_ >= 0);
        if (pid_ == 0) {
            const int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            ::dup2(out[1], STDOUT_FILENO);
            ::dup2(log, STDERR_FILENO);
            ::close(out[0]);
            ::execv(COMPANION_SIM_PATH, const_cast<char* const*>(argv));
            ::_exit(127);
        }
        ::close(out[1]);
        // The first line names the Telegram simulator: "telegram http://127.0.0.1:PORT".
        std::string line;
        char c = 0;
        while (::read(out[0], &c, 1) == 1 && c != '\n') {
            line.push_back(c);
        }
        ::close(out[0]);
        const auto colon = line.rfind(':');
        BOOST_TEST_REQUIRE((line.starts_with("telegram http://127.0.0.1:") && colon != std::string::npos),
                           "companion-sim printed: " << line);
        port_ = static_cast<std::uint16_t>(std::stoul(line.substr(colon + 1)));
    }

    ~sim_process() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
        std::error_code ignored;
        fs::remove(log_, ignored);
    }

    std::uint16_t port() const { return port_; }

    /// The simulator's count of held getUpdates, read from its control API.
    int held_polls() const {
        connection c(port_);
        c.send_get("/_sim/counters");
        const auto body = body_of(c.read_response());
        const auto at = body.find("\"current_pollers\":");
        return at == std::string::npos ? -1 : std::stoi(body.substr(at + 18));
    }

    /// Waits until the simulator holds `n` polls (it answers the control API at once; the loop
    /// only covers the request still on its way).
    bool wait_for_held_polls(int n) const {
        for (int i = 0; i < 1000; ++i) {
            if (held_polls() == n) {
                return true;
            }
            std::this_thread::sleep_for(5ms);
        }
        return false;
    }

    /// SIGTERM, then the exit status (nullopt if it did not end within a generous bound).
    std::optional<int> terminate() {
        ::kill(pid_, SIGTERM);
        for (int i = 0; i < 2000; ++i) {
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                return status;
            }
            std::this_thread::sleep_for(10ms);
        }
        return std::nullopt;
    }

    std::string log() const {
        std::ifstream in(log_);
        std::stringstream s;
        s << in.rdbuf();
        return s.str();
    }

private:
    fs::path log_;
    pid_t pid_ = -1;
    std::uint16_t port_ = 0;
};

enum class client_state { holds_poll, abandoned_poll, idle_keep_alive, none };

std::ostream& operator<<(std::ostream& os, client_state s) {
    switch (s) {
    case client_state::holds_poll:
        return os << "holds_poll";
    case client_state::abandoned_poll:
        return os << "abandoned_poll";
    case client_state::idle_keep_alive:
        return os << "idle_keep_alive";
    case client_state::none:
        return os << "none";
    }
    return os;
}

} // namespace

BOOST_AUTO_TEST_SUITE(companion_sim_process)

BOOST_DATA_TEST_CASE(sigterm_ends_companion_sim_with_exit_code_0_whatever_its_clients_do,
                     boost::unit_test::data::make({client_state::holds_poll,
                                                   client_state::abandoned_poll,
                                                   client_state::idle_keep_alive,
                                                   client_state::none}),
                     state) {
    sim_process sim;
    connection client(sim.port());
    switch (state) {
    case client_state::holds_poll:
    case client_state::abandoned_poll:
        client.send_get("/bot" + token + "/getUpdates?timeout=30");
        BOOST_TEST_REQUIRE(sim.wait_for_held_polls(1));
        if (state == client_state::abandoned_poll) {
            client.close();
        }
        break;
    case client_state::idle_keep_alive: {
        client.send_get("/bot" + token + "/getMe");
        BOOST_TEST(client.read_response().starts_with("HTTP/1.1 200"));
        break;
    }
    case client_state::none:
        client.close();
        break;
    }

    const auto status = sim.terminate();
    BOOST_TEST_REQUIRE(status.has_value(), "companion-sim did not end after SIGTERM");
    BOOST_TEST(WIFEXITED(*status), "ended by signal " << (WIFSIGNALED(*status) ? WTERMSIG(*status) : 0));
    BOOST_TEST((WIFEXITED(*status) && WEXITSTATUS(*status) == 0));
    if (state == client_state::holds_poll) {
        const auto answer = client.read_response();
        BOOST_TEST(answer.starts_with("HTTP/1.1 200"), "the held poll got: " << answer);
        BOOST_TEST(body_of(answer) == R"({"ok":true,"result":[]})");
    }
    const auto log = sim.log();
    BOOST_TEST(log.find("destroyed_with_children") == std::string::npos, log);
    BOOST_TEST(log.find("grace_expired") == std::string::npos, log);
}

BOOST_AUTO_TEST_SUITE_END()
