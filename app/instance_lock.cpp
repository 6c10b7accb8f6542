// The lock file: open, flock without waiting, then the pid written for the next one to name.
#include "app/instance_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace companion::app {

namespace {

/// The pid the holder wrote, or "" while it has not written it yet (it writes right after it
/// locks) or when the file holds something else.
std::string holder_pid(int fd) {
    char text[32] = {};
    const auto n = ::pread(fd, text, sizeof text - 1, 0);
    if (n <= 0) {
        return {};
    }
    std::string pid(text, static_cast<std::size_t>(n));
    while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) {
        pid.pop_back();
    }
    if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos) {
        return {};
    }
    return pid;
}

} // namespace

boost::system::result<instance_lock, std::string>
instance_lock::acquire(const std::filesystem::path& data_dir) {
    auto path = data_dir / file_name;
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        return "cannot open the lock file " + path.string() + ": " + std::strerror(errno);
    }
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        const int error = errno;
        std::string message;
        if (error == EWOULDBLOCK) {
            const auto pid = holder_pid(fd);
            message = "the data folder " + data_dir.string() + " is in use by another companion-bot (" +
                      (pid.empty() ? std::string("pid unknown") : "pid " + pid) +
                      "); stop it first, or give this one its own data folder";
        } else {
            message = "cannot lock " + path.string() + ": " + std::strerror(error);
        }
        ::close(fd);
        return message;
    }
    // Locked: the pid is for the next instance's message; the lock, not the text, is the truth,
    // so a full disk that refuses the pid does not refuse the lock (the next one says "pid unknown").
    const std::string pid = std::to_string(::getpid()) + "\n";
    const bool written = ::ftruncate(fd, 0) == 0 &&
                         ::pwrite(fd, pid.data(), pid.size(), 0) == static_cast<ssize_t>(pid.size());
    return instance_lock(fd, std::move(path), written);
}

instance_lock::instance_lock(instance_lock&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), path_(std::move(other.path_)), pid_written_(other.pid_written_) {}

instance_lock& instance_lock::operator=(instance_lock&& other) noexcept {
    if (this != &other) {
        release();
        fd_ = std::exchange(other.fd_, -1);
        path_ = std::move(other.path_);
        pid_written_ = other.pid_written_;
    }
    return *this;
}

instance_lock::~instance_lock() {
    release();
}

void instance_lock::release() noexcept {
    if (fd_ >= 0) {
        // Closing the only descriptor of the description releases the flock.
        ::close(fd_);
        fd_ = -1;
    }
}

} // namespace companion::app
