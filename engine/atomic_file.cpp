// The crash-safe file writer: temporary in the same folder, write all, fsync, rename, fsync folder.
#include "engine/atomic_file.hpp"

#include <boost/system/system_error.hpp>
#include <boost/throw_exception.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <ostream>
#include <utility>

namespace companion::engine {
namespace {

std::atomic<std::uint64_t> temp_counter{0};

boost::system::error_code errno_code(int err) noexcept {
    return {err, boost::system::system_category()};
}

std::filesystem::path folder_of(const std::filesystem::path& p) {
    return p.has_parent_path() ? p.parent_path() : std::filesystem::path(".");
}

} // namespace

std::string file_error::message() const {
    return step + " " + path.string() + ": " + code.message();
}

bool file_error::disk_full() const noexcept {
    return code == boost::system::error_code(ENOSPC, boost::system::system_category()) ||
           code == boost::system::error_code(EDQUOT, boost::system::system_category());
}

std::ostream& operator<<(std::ostream& os, const file_error& e) {
    return os << e.message();
}

void throw_exception_from_error(const file_error& e, const boost::source_location& loc) {
    boost::throw_exception(boost::system::system_error(e.code, e.message()), loc);
}

file_result<atomic_file> atomic_file::create(std::filesystem::path destination) {
    const auto folder = folder_of(destination);
    const std::string prefix =
        "." + destination.filename().string() + ".tmp-" + std::to_string(::getpid()) + "-";
    // O_EXCL: a temporary left by a crashed process with the same pid is never reused; the next
    // number is tried instead.
    for (int tries = 0;; ++tries) {
        auto temp = folder / (prefix + std::to_string(++temp_counter));
        const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd >= 0) {
            return atomic_file(std::move(destination), std::move(temp), fd);
        }
        const int err = errno;
        if (err == EINTR || (err == EEXIST && tries < 16)) {
            continue;
        }
        return file_error{.step = "create", .path = std::move(temp), .code = errno_code(err)};
    }
}

atomic_file::atomic_file(std::filesystem::path destination, std::filesystem::path temp, int fd) noexcept
    : destination_(std::move(destination)), temp_(std::move(temp)), fd_(fd) {}

atomic_file::atomic_file(atomic_file&& other) noexcept
    : destination_(std::move(other.destination_)),
      temp_(std::move(other.temp_)),
      fd_(std::exchange(other.fd_, -1)),
      done_(std::exchange(other.done_, true)) {}

atomic_file& atomic_file::operator=(atomic_file&& other) noexcept {
    if (this != &other) {
        discard();
        destination_ = std::move(other.destination_);
        temp_ = std::move(other.temp_);
        fd_ = std::exchange(other.fd_, -1);
        done_ = std::exchange(other.done_, true);
    }
    return *this;
}

atomic_file::~atomic_file() {
    discard();
}

void atomic_file::discard() noexcept {
    if (fd_ >= 0) {
        ::close(fd_); // the file is being thrown away: a close error changes nothing
        fd_ = -1;
    }
    if (!done_) {
        ::unlink(temp_.c_str()); // best effort: a leftover is pruned with the media folder's orphans
        done_ = true;
    }
}

file_error atomic_file::fail(std::string step, int err) {
    discard();
    return {.step = std::move(step), .path = temp_, .code = errno_code(err)};
}

file_result<void> atomic_file::write(std::string_view bytes) {
    if (fd_ < 0) {
        return file_error{.step = "write", .path = temp_, .code = errno_code(EBADF)};
    }
    while (!bytes.empty()) {
        const ssize_t n = ::write(fd_, bytes.data(), bytes.size());
        if (n < 0) {
            const int err = errno;
            if (err == EINTR) {
                continue;
            }
            return fail("write", err);
        }
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return {};
}

file_result<void> atomic_file::commit() {
    if (fd_ < 0) {
        return file_error{.step = "commit", .path = temp_, .code = errno_code(EBADF)};
    }
    if (::fsync(fd_) != 0) {
        return fail("fsync", errno);
    }
    const int fd = std::exchange(fd_, -1);
    if (::close(fd) != 0) {
        return fail("close", errno);
    }
    if (::rename(temp_.c_str(), destination_.c_str()) != 0) {
        const int err = errno;
        discard();
        return file_error{.step = "rename", .path = destination_, .code = errno_code(err)};
    }
    done_ = true;
    // The rename is durable only once the folder's entry is on disk.
    const auto folder = folder_of(destination_);
    const int dir = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0) {
        return file_error{.step = "open folder", .path = folder, .code = errno_code(errno)};
    }
    const int synced = ::fsync(dir);
    const int err = errno;
    ::close(dir); // read-only descriptor: nothing to flush
    if (synced != 0) {
        return file_error{.step = "fsync folder", .path = folder, .code = errno_code(err)};
    }
    return {};
}

file_result<void> write_file_atomically(const std::filesystem::path& destination, std::string_view bytes) {
    auto file = atomic_file::create(destination);
    if (!file) {
        return file.error();
    }
    if (auto written = file->write(bytes); !written) {
        return written.error();
    }
    return file->commit();
}

} // namespace companion::engine
