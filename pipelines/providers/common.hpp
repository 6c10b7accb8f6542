// What the video backends share: their clients' API errors onto the video interface's kinds, the
// info their settings give, downloaded files as the interface's, writing a video held in memory
// (inline base64 results) to its destination crash-safely with its SHA-256, and the words that
// mark a provider's answer as a content-policy refusal.
#pragma once

#include "engine/asio.hpp"
#include "net/api_error.hpp"
#include "net/http_client.hpp"
#include "pipelines/video_provider.hpp"

#include <filesystem>
#include <string>
#include <string_view>

namespace companion::engine {
class offload_pool;
}

namespace companion::pipelines::providers {

/// The stage of a job a provider call belongs to: what an error means depends on it. `check` is
/// the job-less check of the key and the model (video_provider::check).
enum class call_stage { submit, poll, download, check };

/// A client's error onto the video interface's kinds. A create whose answer was lost may have
/// made a billed job: a transport failure after the write, an unreadable 2xx, or a 502/504 (a
/// gateway or front end that timed out on its upstream) on submit is unknown_outcome. A 4xx whose
/// code or text mentions safety or policy is refused. not_found is model_gone on submit, failed
/// on poll and expired on download (so is a 404/410 download). The message names the HTTP status
/// and the provider's status word or code; it is redacted like the client's error.
video_error to_video_error(const net::api_error& e, call_stage at);

/// What a provider's settings say about it (name, model, lengths, size, price); the capability
/// flags are the provider's to set.
template <class Settings>
video_provider_info info_from(const Settings& s) {
    video_provider_info info;
    info.name = s.name;
    info.model = s.model;
    info.allowed_seconds = s.allowed_seconds;
    info.width = s.width;
    info.height = s.height;
    info.price_cents_per_second = s.price_cents_per_second;
    return info;
}

/// A job that ended without a video: refused when its reason mentions safety or policy.
video_poll::state failed_state(std::string_view reason);

/// Creates the folder a download into `destination` writes to (errors surface as the download's).
void make_parent_folder(const std::filesystem::path& destination);

/// A finished download as the interface's file, of type `mime`. Without a `video/` type given, the
/// response's Content-Type when it is a video type (parameters dropped), else video/mp4.
video_file to_video_file(net::download_result got, std::string mime = {});

/// Writes `bytes` to `destination` through storage's crash-safe media writer
/// (storage::write_media_file), so the file exists whole or not at all, with its SHA-256. Blocks
/// on the disk: the async form runs it on `offload` when given (else inline). Errors: transient
/// (disk full, I/O), the reason logged by storage; no temporary file is left behind.
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
