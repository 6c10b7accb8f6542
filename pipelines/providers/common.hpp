// What the video backends share: writing a video held in memory (inline base64 results) to its
// destination crash-safely with its SHA-256, and the words that mark a provider's answer as a
// content-policy refusal.
#pragma once

#include "engine/asio.hpp"
#include "pipelines/video_provider.hpp"

#include <filesystem>
#include <string>
#include <string_view>

namespace companion::engine {
class offload_pool;
}

namespace companion::pipelines::providers {

/// Lowercase hex SHA-256 (OpenSSL EVP).
std::string sha256_hex(std::string_view bytes);

/// Writes `bytes` to `<destination>.part-<random>`, fsyncs it, renames it to `destination` and
/// fsyncs the directory, so the file exists whole or not at all. Blocks on the disk: the async
/// form runs it on `offload` when given (else inline). Errors: transient (disk full, I/O), with
/// the reason; no temporary file is left behind.
video_result<video_file>
write_video_file(const std::filesystem::path& destination, std::string_view bytes, std::string mime);
engine::awaitable<video_result<video_file>> write_video_file_async(std::filesystem::path destination,
                                                                   std::string bytes,
                                                                   std::string mime,
                                                                   engine::offload_pool* offload);

/// Whether a provider's error code or message says the content was refused (moderation, safety,
/// policy, blocked), case-insensitively.
bool mentions_refusal(std::string_view text);

} // namespace companion::pipelines::providers
