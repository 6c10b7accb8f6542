// Media files: names, checksums and pruning; the crash-safe write itself is engine::atomic_file.
#include "storage/media_store.hpp"

#include "engine/atomic_file.hpp"
#include "engine/log.hpp"
#include "storage/error.hpp"

#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>

namespace companion::storage {
namespace {

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

boost::system::result<stored_media>
write_whole(const std::filesystem::path& path, std::string_view bytes, std::string digest) {
    if (auto written = engine::write_file_atomically(path, bytes); !written) {
        const auto& e = written.error();
        engine::log().warn("storage.media_write_failed",
                           {{"step", e.step}, {"path", e.path.string()}, {"error", e.code.message()}});
        return make_error_code(e.disk_full() ? errc::disk_full : errc::io);
    }
    stored_media out;
    out.path = path;
    out.size_bytes = static_cast<std::int64_t>(bytes.size());
    out.sha256 = std::move(digest);
    return out;
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

boost::system::result<stored_media> write_media_file(const std::filesystem::path& path,
                                                     std::string_view bytes) {
    if (path.has_parent_path()) {
        std::error_code ec;
        std::filesystem::create_directories(path.parent_path(), ec);
        if (ec) {
            return fail(ec.value(), "create folder", path.parent_path());
        }
    }
    return write_whole(path, bytes, sha256_hex(bytes));
}

boost::system::result<stored_media>
media_store::write(std::string_view stem, std::string_view extension, std::string_view bytes) const {
    std::string digest = sha256_hex(bytes);
    const std::string name = sanitize(stem) + "-" + digest.substr(0, 16) + "." + sanitize(extension);
    return write_whole(directory_ / name, bytes, std::move(digest));
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
