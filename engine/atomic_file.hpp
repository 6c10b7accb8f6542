// The one crash-safe file writer (design.md §4): bytes go to a temporary file in the
// destination's own folder (written whole, EINTR retried), which is fsynced, renamed over the
// destination, and the folder fsynced; so after a crash the destination holds its old content or
// all of the new, never a part. A writer that is not committed removes its temporary.
//
// Why it lives in the engine: storage (the media store) and net (http_client streams a download
// to its file) both write files under the media folder, and they are siblings above the engine
// (design.md §2): net may not include storage. So the primitive sits in the lowest layer both use;
// storage's media writer (names, SHA-256, its error codes) is built on it and is what the
// pipelines call; net streams downloads through `atomic_file`. No other code does temp + fsync +
// rename.
//
// Every call blocks on the disk (fsync of a large file can take a second): run `write` of large
// buffers and `commit` on the engine's offload pool, never on the loop. One writer is used by one
// thread at a time; distinct writers are independent (temporary names are unique per process).
#pragma once

#include <boost/assert/source_location.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <filesystem>
#include <iosfwd>
#include <string>
#include <string_view>

namespace companion::engine {

/// Why a crash-safe write failed: the step, the file it concerned and the errno (as a system
/// error code, so `code.message()` is the errno text).
struct file_error {
    std::string step{}; ///< "create", "write", "fsync", "close", "rename", "fsync folder", "open folder"
    std::filesystem::path path{};
    boost::system::error_code code{};

    /// "write /data/media/.v.mp4.tmp-12-3: No space left on device"
    std::string message() const;
    /// ENOSPC or EDQUOT: the disk (or the user's quota) is full.
    bool disk_full() const noexcept;
};

std::ostream& operator<<(std::ostream& os, const file_error& e);

/// Lets `file_result<T>::value()` throw: a boost::system::system_error with the code and message.
[[noreturn]] void throw_exception_from_error(const file_error& e, const boost::source_location& loc);

template <class T = void>
using file_result = boost::system::result<T, file_error>;

class atomic_file {
public:
    /// Creates a new temporary file (`.<name>.tmp-<pid>-<n>`, mode 0644) in `destination`'s
    /// folder, which must exist. Errors: step "create" (a missing or read-only folder, ...).
    static file_result<atomic_file> create(std::filesystem::path destination);

    atomic_file(atomic_file&& other) noexcept;
    atomic_file& operator=(atomic_file&& other) noexcept;
    atomic_file(const atomic_file&) = delete;
    atomic_file& operator=(const atomic_file&) = delete;
    /// Closes and removes the temporary unless `commit` renamed it.
    ~atomic_file();

    /// Appends all of `bytes`. After an error the writer is spent: the temporary is removed and
    /// every later call fails.
    [[nodiscard]] file_result<void> write(std::string_view bytes);

    /// fsync, close, rename over the destination, fsync of the folder; once. On an error before
    /// the rename the temporary is removed and the destination is untouched; an error of the
    /// folder's fsync ("open folder", "fsync folder") comes after the rename: the new file is in
    /// place but may not survive a power loss.
    [[nodiscard]] file_result<void> commit();

    const std::filesystem::path& destination() const noexcept { return destination_; }
    const std::filesystem::path& temp_path() const noexcept { return temp_; }

private:
    atomic_file(std::filesystem::path destination, std::filesystem::path temp, int fd) noexcept;
    file_error fail(std::string step, int err);
    void discard() noexcept;

    std::filesystem::path destination_;
    std::filesystem::path temp_;
    int fd_ = -1;
    bool done_ = false; ///< renamed, or failed and removed
};

/// Writes `bytes` to `destination` through an `atomic_file`. Blocks on the disk.
[[nodiscard]] file_result<void> write_file_atomically(const std::filesystem::path& destination,
                                                      std::string_view bytes);

} // namespace companion::engine
