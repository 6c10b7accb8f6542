// Crash-safe media writes: temp file, fsync, rename, directory fsync.
#include "storage/media_store.hpp"

#include "engine/log.hpp"
#include "storage/error.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>

namespace companion::storage {
namespace {

std::atomic<std::uint64_t> temp_counter{0};

errc from_errno(int err) noexcept {
    return (err == ENOSPC || err == EDQUOT) ? errc::disk_full : errc::io;
}

boost::system::error_code fail(int err, std::string_view step, const std::filesystem::path& path) {
    engine::log().warn("storage.media_write_failed",
                       {{"step", step}, {"path", path.string()}, {"error", std::strerror(err)}});
    return make_error_code(from_errno(err));
}

std::string sanitize(std::string_view stem) {
    std::string out;
    for (char c : stem) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                        c == '_' || c == '-';
        out.push_back(ok ? c : '_');
        if (out.size() == 64) {
            break;
        }
    }
    return out.empty() ? "media" : out;
}

/// When `st` was last written, in the storage layer's time.
timestamp written_at(const struct stat& st) noexcept {
    return from_unix_ms(static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1'000'000);
}

bool write_all(int fd, std::string_view bytes) {
    while (!bytes.empty()) {
        const ssize_t n = ::write(fd, bytes.data(), bytes.size());
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return false;
        }
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

} // namespace

std::string sha256_hex(std::string_view bytes) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int len = 0;
    if (EVP_Digest(bytes.data(), bytes.size(), digest.data(), &len, EVP_sha256(), nullptr) != 1) {
        throw std::runtime_error("EVP_Digest(sha256) failed");
    }
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(len * 2U);
    for (unsigned int i = 0; i < len; ++i) {
        out.push_back(hex[digest[i] >> 4]);
        out.push_back(hex[digest[i] & 0x0F]);
    }
    return out;
}

media_store::media_store(std::filesystem::path directory) : directory_(std::move(directory)) {
    std::error_code ec;
    std::filesystem::create_directories(directory_, ec);
    if (ec) {
        throw error(errc::cannot_open,
                    "cannot create media directory " + directory_.string() + ": " + ec.message());
    }
}

boost::system::result<stored_media>
media_store::write(std::string_view stem, std::string_view extension, std::string_view bytes) const {
    stored_media out;
    out.sha256 = sha256_hex(bytes);
    out.size_bytes = static_cast<std::int64_t>(bytes.size());
    const std::string name = sanitize(stem) + "-" + out.sha256.substr(0, 16) + "." + sanitize(extension);
    out.path = directory_ / name;
    const std::filesystem::path temp = directory_ / ("." + name + ".tmp-" + std::to_string(::getpid()) + "-" +
                                                     std::to_string(++temp_counter));

    const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        return fail(errno, "open", temp);
    }
    if (!write_all(fd, bytes) || ::fsync(fd) != 0) {
        const int err = errno;
        ::close(fd);
        ::unlink(temp.c_str());
        return fail(err, "write", temp);
    }
    if (::close(fd) != 0) {
        const int err = errno;
        ::unlink(temp.c_str());
        return fail(err, "close", temp);
    }
    if (::rename(temp.c_str(), out.path.c_str()) != 0) {
        const int err = errno;
        ::unlink(temp.c_str());
        return fail(err, "rename", out.path);
    }
    // The rename is durable only once the directory entry is on disk.
    const int dir = ::open(directory_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0) {
        return fail(errno, "open directory", directory_);
    }
    const int synced = ::fsync(dir);
    const int err = errno;
    ::close(dir);
    if (synced != 0) {
        return fail(err, "fsync directory", directory_);
    }
    return out;
}

boost::system::error_code media_store::remove(const std::filesystem::path& path) const {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
        const int err = errno;
        engine::log().warn("storage.media_remove_failed",
                           {{"path", path.string()}, {"error", std::strerror(err)}});
        return make_error_code(from_errno(err));
    }
    return {};
}

boost::system::result<std::vector<std::filesystem::path>>
media_store::written_before(timestamp cutoff) const {
    std::error_code ec;
    std::filesystem::directory_iterator it(directory_, ec);
    std::vector<std::filesystem::path> out;
    for (; !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
        struct stat st {};
        // lstat: a symlink someone put here is not ours to follow; a file gone meanwhile is skipped.
        if (::lstat(it->path().c_str(), &st) == 0 && S_ISREG(st.st_mode) && written_at(st) < cutoff) {
            out.push_back(it->path());
        }
    }
    if (ec) {
        engine::log().warn("storage.media_list_failed",
                           {{"path", directory_.string()}, {"error", ec.message()}});
        return make_error_code(errc::io);
    }
    return out;
}

boost::system::result<bool> media_store::remove_if_written_before(const std::filesystem::path& path,
                                                                  timestamp cutoff) const {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
        if (errno == ENOENT) {
            return true;
        }
        const int err = errno;
        engine::log().warn("storage.media_remove_failed",
                           {{"path", path.string()}, {"error", std::strerror(err)}});
        // result<bool> from a bare error_code would be ambiguous (bool converts from it).
        return {boost::system::in_place_error, make_error_code(from_errno(err))};
    }
    if (written_at(st) >= cutoff) {
        return false;
    }
    if (auto ec = remove(path)) {
        return {boost::system::in_place_error, ec};
    }
    return true;
}

} // namespace companion::storage
