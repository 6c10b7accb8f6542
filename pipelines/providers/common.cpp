// Error mapping, in-memory videos written through storage's media writer, and refusal wording
// shared by the video backends.
#include "pipelines/providers/common.hpp"

#include "engine/log.hpp"
#include "engine/offload.hpp"
#include "storage/media_store.hpp"

#include <boost/algorithm/string/case_conv.hpp>

namespace companion::pipelines::providers {
namespace {

// "HTTP 400 INVALID_ARGUMENT: <text>": Google's status word, else the provider's code, unless the
// text already names it.
std::string describe(const net::api_error& e) {
    std::string out = e.detail;
    const std::string& word = e.google_status.empty() ? e.code : e.google_status;
    if (!word.empty() && word != std::to_string(e.status) && out.find(word) == std::string::npos) {
        out = word + ": " + out;
    }
    if (e.status != 0) {
        out = "HTTP " + std::to_string(e.status) + " " + out;
    }
    return engine::secrets().redact(out); // the detail is redacted already, the code and status word not
}

bool expired_status(unsigned status) {
    return status == 404 || status == 410;
}

} // namespace

video_error to_video_error(const net::api_error& e, call_stage at) {
    using kind = net::api_error_kind;
    video_error out;
    out.message = describe(e);
    switch (e.kind) {
    case kind::rate_limited:
        out.kind = video_error_kind::rate_limited;
        out.retry_after = e.retry_after;
        break;
    case kind::quota_exhausted:
        out.kind = video_error_kind::quota;
        break;
    case kind::unauthorized:
    case kind::forbidden:
        out.kind = video_error_kind::auth;
        break;
    case kind::not_found:
        out.kind = at == call_stage::submit || at == call_stage::check ? video_error_kind::model_gone
                   : at == call_stage::download                        ? video_error_kind::expired
                                                                       : video_error_kind::failed;
        break;
    case kind::model_gone:
        out.kind = video_error_kind::model_gone;
        break;
    case kind::server:
        if (at == call_stage::download && expired_status(e.status)) {
            out.kind = video_error_kind::expired;
        } else if (at == call_stage::submit && (e.status == 502 || e.status == 504)) {
            out.kind =
                video_error_kind::unknown_outcome; // DEADLINE_EXCEEDED, a gateway timeout: it may exist
        } else {
            out.kind = video_error_kind::transient;
            out.retry_after = e.retry_after;
        }
        break;
    case kind::transport:
        out.kind = at == call_stage::submit && e.outcome_unknown() ? video_error_kind::unknown_outcome
                                                                   : video_error_kind::transient;
        break;
    case kind::malformed_response:
        // A 2xx to a create that cannot be read still made a job.
        out.kind = at == call_stage::submit ? video_error_kind::unknown_outcome : video_error_kind::transient;
        break;
    default: // bad_request, context_length, too_large, and the kinds only Telegram answers
        if (mentions_refusal(e.code) || mentions_refusal(e.detail) || mentions_refusal(e.reason)) {
            out.kind = video_error_kind::refused;
        } else if (at == call_stage::download && expired_status(e.status)) {
            out.kind = video_error_kind::expired;
        } else {
            out.kind = video_error_kind::bad_request;
        }
        break;
    }
    return out;
}

video_poll::state failed_state(std::string_view reason) {
    return mentions_refusal(reason) ? video_poll::state::refused : video_poll::state::failed;
}

void make_parent_folder(const std::filesystem::path& destination) {
    if (destination.has_parent_path()) {
        std::error_code ec;
        std::filesystem::create_directories(destination.parent_path(), ec);
    }
}

video_file to_video_file(net::download_result got, std::string mime) {
    if (!mime.starts_with("video/")) {
        mime = got.content_type.starts_with("video/") ? got.content_type.substr(0, got.content_type.find(';'))
                                                      : std::string("video/mp4");
    }
    video_file out;
    out.path = std::move(got.path);
    out.bytes = static_cast<std::int64_t>(got.bytes);
    out.sha256 = std::move(got.sha256_hex);
    out.mime = std::move(mime);
    return out;
}

video_result<video_file>
write_video_file(const std::filesystem::path& destination, std::string_view bytes, std::string mime) {
    auto stored = storage::write_media_file(destination, bytes);
    if (!stored) {
        // storage logged the step and the errno text; a full disk or an I/O error may pass.
        return video_error{.kind = video_error_kind::transient,
                           .message = "cannot write " + destination.filename().string() + ": " +
                                      stored.error().message(),
                           .retry_after = std::nullopt};
    }
    video_file out;
    out.path = std::move(stored->path);
    out.bytes = stored->size_bytes;
    out.sha256 = std::move(stored->sha256);
    out.mime = mime.empty() ? std::string("video/mp4") : std::move(mime);
    return out;
}

engine::awaitable<video_result<video_file>> write_video_file_async(std::filesystem::path destination,
                                                                   std::string bytes,
                                                                   std::string mime,
                                                                   engine::offload_pool* offload) {
    if (offload == nullptr) {
        co_return write_video_file(destination, bytes, std::move(mime));
    }
    auto job = [&destination, &bytes, &mime] {
        return write_video_file(destination, bytes, std::move(mime));
    };
    auto written = co_await offload->run(std::move(job));
    co_return written;
}

bool mentions_refusal(std::string_view text) {
    const std::string lower = boost::algorithm::to_lower_copy(std::string(text));
    for (const std::string_view word :
         {"moderation", "safety", "policy", "policies", "blocked", "content_filter"}) {
        if (lower.find(word) != std::string::npos) {
            return true;
        }
    }
    return false;
}

} // namespace companion::pipelines::providers
