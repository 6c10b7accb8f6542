// OpenRouter's videos API behind video_provider: the first frame as a data URI in frame_images,
// OpenRouter's status words onto the interface's states, the reported cost passed on, and the
// content downloaded (through a redirect without the key).
#include "pipelines/providers/openrouter_videos.hpp"

#include "net/gemini/base64.hpp"
#include "net/openai/openrouter_videos.hpp"
#include "pipelines/providers/common.hpp"

#include <algorithm>
#include <utility>

namespace companion::pipelines {
namespace {

namespace oa = net::openai;
using providers::call_stage;
using providers::to_video_error;

class openrouter_videos_provider final : public video_provider {
public:
    openrouter_videos_provider(net::http_client& http, openrouter_videos_settings s)
        : client_(http, client_config(s)),
          resolution_(std::move(s.resolution)),
          aspect_ratio_(std::move(s.aspect_ratio)),
          generate_audio_(s.generate_audio),
          info_(providers::info_from(s)) {
        info_.reports_progress = false; // pending / in_progress, never how far
        // aspect_ratio is sent, but a model that animates the first frame looks best when the
        // frame already has the output's shape.
        info_.exact_size_frame = true;
    }

    const video_provider_info& info() const noexcept override { return info_; }

    engine::awaitable<video_result<std::string>> submit(video_submit request) override {
        oa::openrouter_video_request req;
        req.model = info_.model;
        req.prompt = std::move(request.prompt);
        req.duration = std::chrono::seconds(effective_seconds(request.seconds, info_.allowed_seconds));
        req.resolution = resolution_;
        req.aspect_ratio = aspect_ratio_;
        req.generate_audio = generate_audio_;
        if (!request.image.empty()) {
            req.first_frame_url =
                "data:" + (request.image_mime.empty() ? std::string("image/jpeg") : request.image_mime) +
                ";base64," + net::gemini::encode_base64(request.image);
        }
        auto created = co_await client_.create(std::move(req));
        if (!created) {
            co_return to_video_error(created.error(), call_stage::submit);
        }
        co_return std::move(created->id);
    }

    engine::awaitable<video_result<video_poll>> poll(std::string job_id) override {
        if (!oa::valid_video_id(job_id)) {
            co_return video_error{.kind = video_error_kind::failed,
                                  .message = "the stored job id is not an OpenRouter video id",
                                  .retry_after = std::nullopt};
        }
        auto job = co_await client_.retrieve(std::move(job_id));
        if (!job) {
            co_return to_video_error(job.error(), call_stage::poll);
        }
        co_return to_poll(*job);
    }

    engine::awaitable<video_result<video_file>> download(std::string job_id,
                                                         std::filesystem::path destination) override {
        if (!oa::valid_video_id(job_id)) {
            co_return video_error{.kind = video_error_kind::failed,
                                  .message = "the stored job id is not an OpenRouter video id",
                                  .retry_after = std::nullopt};
        }
        providers::make_parent_folder(destination);
        auto got = co_await client_.download(std::move(job_id), std::move(destination));
        if (!got) {
            co_return to_video_error(got.error(), call_stage::download);
        }
        co_return providers::to_video_file(std::move(*got));
    }

    engine::awaitable<video_result<std::string>> check() override {
        // The video model list: the key is accepted, the model is served and takes our lengths.
        auto models = co_await client_.list_video_models();
        if (!models) {
            co_return to_video_error(models.error(), call_stage::check);
        }
        const auto it =
            std::find_if(models->begin(), models->end(), [&](const oa::openrouter_video_model& m) {
                return m.id == info_.model;
            });
        if (it == models->end()) {
            co_return video_error{.kind = video_error_kind::model_gone,
                                  .message = "OpenRouter lists no video model \"" + info_.model + "\"",
                                  .retry_after = std::nullopt};
        }
        const int seconds = effective_seconds(5, info_.allowed_seconds);
        if (!it->supported_durations.empty() &&
            std::find(it->supported_durations.begin(), it->supported_durations.end(), seconds) ==
                it->supported_durations.end()) {
            co_return video_error{.kind = video_error_kind::bad_request,
                                  .message = "\"" + info_.model + "\" does not take " +
                                             std::to_string(seconds) +
                                             " s; set [video] allowed_seconds to lengths it lists",
                                  .retry_after = std::nullopt};
        }
        co_return "the model is listed and takes " + std::to_string(seconds) + " s";
    }

private:
    static video_poll to_poll(const oa::openrouter_video& job) {
        using status = oa::openrouter_video_status;
        video_poll out;
        switch (job.status) {
        case status::pending:
            out.status = video_poll::state::queued;
            break;
        case status::in_progress:
            out.status = video_poll::state::running;
            break;
        case status::completed:
            out.status = video_poll::state::completed;
            out.progress = 100;
            out.cost_usd = job.cost_usd;
            break;
        case status::failed:
            out.error = job.error.empty() ? std::string("the job failed without a reason") : job.error;
            out.status = providers::failed_state(out.error);
            break;
        case status::cancelled:
            out.status = video_poll::state::failed;
            out.error = "the job was cancelled at OpenRouter" + (job.error.empty() ? "" : ": " + job.error);
            break;
        case status::expired:
            out.status = video_poll::state::failed;
            out.error = "the job expired at OpenRouter before it was downloaded" +
                        (job.error.empty() ? "" : ": " + job.error);
            break;
        }
        return out;
    }

    static oa::openrouter_videos_config client_config(const openrouter_videos_settings& s) {
        oa::openrouter_videos_config c;
        c.base_url = s.base_url;
        c.api_key = s.api_key;
        c.max_download_bytes = s.max_download_bytes;
        return c;
    }

    oa::openrouter_videos_client client_;
    std::string resolution_;
    std::string aspect_ratio_;
    std::optional<bool> generate_audio_;
    video_provider_info info_;
};

} // namespace

std::unique_ptr<video_provider> make_openrouter_videos_provider(net::http_client& http,
                                                                openrouter_videos_settings s) {
    return std::make_unique<openrouter_videos_provider>(http, std::move(s));
}

} // namespace companion::pipelines
