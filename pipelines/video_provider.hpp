// One interface for every video backend (design.md §5): the OpenAI videos protocol at a gateway,
// Gemini Omni through the Interactions API, and Veo on Vertex AI. The job manager drives jobs
// through it and never sees a wire format. Implementations are stateless per job: a job can be
// polled and downloaded after a restart from its persisted provider job id alone.
#pragma once

#include "engine/asio.hpp"
#include "engine/clock.hpp"
#include "engine/enum_text.hpp"

#include <boost/system/result.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace companion::net {
class http_client;
}

namespace companion::pipelines {

/// What a provider offers; all of it comes from configuration, never constants.
struct video_provider_info {
    std::string name;                 ///< "openai", "gemini-omni", "vertex-veo", "fal" (stored with each job)
    std::string model;                ///< the provider's model id
    std::vector<int> allowed_seconds; ///< lengths it accepts
    int width = 720;
    int height = 1280;
    int price_cents_per_second = 10;
    bool reports_progress = true; ///< false: progress shows stage and elapsed time only
    bool exact_size_frame = true; ///< the first frame must be exactly width x height
};

enum class video_error_kind {
    refused,         ///< content policy: the prompt or image was refused (not billed)
    model_gone,      ///< "model not found / no longer available": a configuration problem
    rate_limited,    ///< wait retry_after, then try again
    transient,       ///< 5xx, transport before the request was sent: try again later
    unknown_outcome, ///< a create whose outcome is unknown (sent, no answer): never resubmit
    bad_request,     ///< the request is wrong (size, length, image): do not retry
    auth,            ///< key or token refused: a configuration problem
    quota,           ///< out of credit / quota for the day
    expired,         ///< the result is gone (download too late)
    failed,          ///< the job ended failed for another reason
};
// clang-format off
BOOST_DESCRIBE_ENUM(video_error_kind, refused, model_gone, rate_limited, transient, unknown_outcome,
                    bad_request, auth, quota, expired, failed)
// clang-format on
using engine::operator<<; // to_string and printing of the described enums
using engine::to_string;

struct video_error {
    video_error_kind kind = video_error_kind::failed;
    std::string message; ///< redacted, safe to log and to show admins
    std::optional<std::chrono::milliseconds> retry_after{};
};

template <class T>
using video_result = boost::system::result<T, video_error>;

std::ostream& operator<<(std::ostream& os, const video_error& e);

[[noreturn]] void throw_exception_from_error(const video_error& e, const boost::source_location& loc);

struct video_submit {
    std::string prompt;
    std::string image;      ///< first frame bytes (already fitted when exact_size_frame)
    std::string image_mime; ///< image/jpeg, image/png
    int seconds = 4;        ///< one of allowed_seconds
};

struct video_poll {
    enum class state { queued, running, completed, failed, refused };
    BOOST_DESCRIBE_NESTED_ENUM(state, queued, running, completed, failed, refused)
    state status = state::queued;
    std::optional<int> progress{}; ///< 0-100 when the provider reports it
    std::string error{};           ///< for failed / refused: the provider's (redacted) reason
    /// What the provider billed for the job, in US dollars, when it reports it (OpenRouter's
    /// `usage.cost`); the spend cap then counts it instead of the configured price.
    std::optional<double> cost_usd{};
};

struct video_file {
    std::filesystem::path path;
    std::int64_t bytes = 0;
    std::string sha256;
    std::string mime = "video/mp4";
};

class video_provider {
public:
    virtual ~video_provider() = default;
    virtual const video_provider_info& info() const noexcept = 0;
    /// Creates the job and returns the provider's job id. The caller has committed the job as
    /// `submitting` before calling; an error of kind unknown_outcome means the job may exist.
    virtual engine::awaitable<video_result<std::string>> submit(video_submit request) = 0;
    virtual engine::awaitable<video_result<video_poll>> poll(std::string job_id) = 0;
    /// Downloads the finished video of `job_id` to `destination` (written atomically).
    virtual engine::awaitable<video_result<video_file>> download(std::string job_id,
                                                                 std::filesystem::path destination) = 0;
    /// Verifies, without creating a job (nothing is billed), that the provider answers with the
    /// configured key and serves the configured model. Returns what was verified, in a few words
    /// ("the model is listed"), or why not: auth, model_gone, quota, rate_limited or transient.
    virtual engine::awaitable<video_result<std::string>> check() = 0;
};

/// The requested length mapped to the nearest allowed one, ties to the shorter (cheaper). The one
/// place this rule lives: configuration notes, the job manager and every backend call it.
inline int effective_seconds(int requested, const std::vector<int>& allowed) {
    if (allowed.empty()) {
        return requested;
    }
    int best = allowed.front();
    for (const int s : allowed) {
        const int d = std::abs(s - requested);
        const int best_d = std::abs(best - requested);
        if (d < best_d || (d == best_d && s < best)) {
            best = s;
        }
    }
    return best;
}

/// The lengths a user may choose from: each wanted length mapped as above, ascending, without
/// repeats. Fewer than two distinct lengths is no choice at all: empty.
inline std::vector<int> offered_lengths(const std::vector<int>& wanted, const std::vector<int>& allowed) {
    std::vector<int> out;
    for (const int w : wanted) {
        out.push_back(effective_seconds(w, allowed));
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    if (out.size() < 2) {
        out.clear();
    }
    return out;
}

} // namespace companion::pipelines
