// The OpenAI videos protocol behind video_provider: create with the first frame as
// input_reference, retrieve with the gateway's status words normalized, content download.
#include "pipelines/providers/openai_videos.hpp"

#include "net/openai/chat.hpp"
#include "pipelines/providers/common.hpp"

#include <utility>

namespace companion::pipelines {
namespace {

namespace oa = net::openai;
using providers::call_stage;
using providers::to_video_error;

class openai_videos_provider final : public video_provider {
public:
    openai_videos_provider(net::http_client& http, openai_videos_settings s)
        : http_(http),
          check_config_(check_config(s)),
          client_(http, client_config(s)),
          size_(std::to_string(s.width) + "x" + std::to_string(s.height)),
          info_(providers::info_from(s)) {
        info_.reports_progress = s.reports_progress;
        info_.exact_size_frame = true; // input_reference must be exactly `size` pixels
    }

    const video_provider_info& info() const noexcept override { return info_; }

    engine::awaitable<video_result<std::string>> submit(video_submit request) override {
        oa::create_video_request req;
        req.prompt = std::move(request.prompt);
        req.seconds = std::chrono::seconds(effective_seconds(request.seconds, info_.allowed_seconds));
        req.size = size_;
        if (!request.image.empty()) {
            oa::reference_image ref;
            ref.mime_type = request.image_mime;
            ref.bytes = std::move(request.image);
            ref.filename = request.image_mime == "image/png"    ? "first-frame.png"
                           : request.image_mime == "image/webp" ? "first-frame.webp"
                                                                : "first-frame.jpg";
            req.reference = std::move(ref);
        }
        auto created = co_await client_.create(std::move(req));
        if (!created) {
            co_return to_video_error(created.error(), call_stage::submit);
        }
        co_return std::move(created->id);
    }

    engine::awaitable<video_result<video_poll>> poll(std::string job_id) override {
        auto job = co_await client_.retrieve(std::move(job_id));
        if (!job) {
            co_return to_video_error(job.error(), call_stage::poll);
        }
        video_poll out;
        out.progress = job->progress;
        switch (job->status) {
        case oa::video_status::queued:
            out.status = video_poll::state::queued;
            break;
        case oa::video_status::in_progress:
            out.status = video_poll::state::running;
            break;
        case oa::video_status::completed:
            out.status = video_poll::state::completed;
            out.progress = 100;
            break;
        case oa::video_status::failed: {
            const auto err = job->error.value_or(oa::video_job_error{});
            out.error = err.code.empty() ? err.message : err.code + ": " + err.message;
            out.status = providers::failed_state(out.error);
            break;
        }
        }
        co_return out;
    }

    engine::awaitable<video_result<video_file>> download(std::string job_id,
                                                         std::filesystem::path destination) override {
        providers::make_parent_folder(destination);
        auto got = co_await client_.download(std::move(job_id), std::move(destination));
        if (!got) {
            co_return to_video_error(got.error(), call_stage::download);
        }
        co_return providers::to_video_file(std::move(*got));
    }

    engine::awaitable<video_result<std::string>> check() override {
        // The gateway's model list (GET /models), as for the chat model: nothing is created.
        oa::chat_client models(http_, check_config_);
        auto listed = co_await models.check_model();
        if (!listed) {
            co_return to_video_error(listed.error(), call_stage::check);
        }
        co_return std::string("the gateway lists the model");
    }

private:
    static oa::chat_config check_config(const openai_videos_settings& s) {
        oa::chat_config c;
        c.base_url = s.base_url;
        c.api_key = s.api_key;
        c.model = s.model;
        return c;
    }

    static oa::videos_config client_config(const openai_videos_settings& s) {
        oa::videos_config c;
        c.base_url = s.base_url;
        c.api_key = s.api_key;
        c.auth = s.auth;
        c.model = s.model;
        c.allowed_seconds = s.allowed_seconds;
        c.allowed_sizes = {std::to_string(s.width) + "x" + std::to_string(s.height)};
        c.max_download_bytes = s.max_download_bytes;
        return c;
    }

    net::http_client& http_;
    oa::chat_config check_config_;
    oa::videos_client client_;
    std::string size_;
    video_provider_info info_;
};

} // namespace

std::unique_ptr<video_provider> make_openai_videos_provider(net::http_client& http,
                                                            openai_videos_settings s) {
    return std::make_unique<openai_videos_provider>(http, std::move(s));
}

} // namespace companion::pipelines
