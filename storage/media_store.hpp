// Media files (selfies, videos) under the data directory, written crash-safely: to a temporary
// name, fsynced, renamed, and the directory fsynced, so a file either exists whole under its
// final name or not at all (design.md §4). Rows about them live in generated_content.
//
// This is the media writer every layer above storage uses (the store's named writes, and
// `write_media_file` for a path a provider was given); both are built on the engine's one
// crash-safe writer, engine/atomic_file.hpp (which also carries net's streamed downloads, as net
// may not use storage).
//
// Every call blocks on the disk (fsync): run it on the engine's offload pool, never on the loop.
// The store holds no mutable state, so calls from several pool threads are safe.
#pragma once

#include "storage/time.hpp"

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace companion::storage {

struct stored_media {
    std::filesystem::path path{};
    std::int64_t size_bytes = 0;
    std::string sha256{}; ///< lowercase hex
};

class media_store {
public:
    /// Creates `directory` if needed; throws storage::error (cannot_open) if it cannot.
    explicit media_store(std::filesystem::path directory);

    const std::filesystem::path& directory() const noexcept { return directory_; }

    /// Writes `bytes` as `<stem>-<sha256 prefix>.<extension>` (the stem is reduced to
    /// [A-Za-z0-9_-]). Errors: errc::disk_full (ENOSPC, EDQUOT) or errc::io, with the reason
    /// logged; no temporary file is left behind.
    boost::system::result<stored_media>
    write(std::string_view stem, std::string_view extension, std::string_view bytes) const;

    /// Deletes a file; one that is already gone is not an error.
    boost::system::error_code remove(const std::filesystem::path& path) const;

    /// The regular files directly in the directory last written before `cutoff`, temporaries
    /// included (a crash leaves them behind). errc::io when the directory cannot be read.
    boost::system::result<std::vector<std::filesystem::path>> written_before(timestamp cutoff) const;

    /// Deletes `path` unless it was written at or after `cutoff`: a file rewritten since it was
    /// chosen (the same bytes stored again) stays. Returns whether it is gone (a file already
    /// gone counts as gone).
    boost::system::result<bool> remove_if_written_before(const std::filesystem::path& path,
                                                         timestamp cutoff) const;

private:
    std::filesystem::path directory_;
};

/// Lowercase hex SHA-256 of `bytes`.
std::string sha256_hex(std::string_view bytes);

/// Writes `bytes` crash-safely to `path` (its folder is created when missing), replacing a file
/// already there whole. Errors: errc::disk_full (ENOSPC, EDQUOT) or errc::io, with the step and
/// the errno text logged; no temporary file is left behind. Blocks on the disk: offload it.
boost::system::result<stored_media> write_media_file(const std::filesystem::path& path,
                                                     std::string_view bytes);

} // namespace companion::storage
