// Gemini Omni behind video_provider: a background interaction from the first frame and the
// prompt, polled by id; the video comes from the `uri` (key only to the API host) or from inline
// base64 `data`, written crash-safely here.
#include "pipelines/providers/gemini_omni.hpp"

#include "net/gemini/image.hpp"
#include "net/gemini/omni.hpp"
#include "pipelines/providers/common.hpp"

#include <utility>

namespace companion::pipelines {
namespace {

namespace g = net::gemini;
using providers::call_stage;
using providers::mentions_refusal;
using providers::to_video_error;

std::string reason_of(const g::omni_interaction& i) {
    if (i.error) {
        return i.error->code.empty() ? i.error->message : i.error->code + ": " + i.error->message;
    }
    return i.text;
}

class gemini_omni_provider final : public video_provider {
public:
    gemini_omni_provider(net::http_client& http, gemini_omni_settings s)
        : http_(http),
          client_(http, client_config(s)),
          first_frame_tag_(s.first_frame_tag),
          offload_(s.offload),
          info_(providers::info_from(s)) {
        info_.reports_progress = false;
        info_.exact_size_frame = false; // any 9:16 image: the model frames it
    }

    const video_provider_info& info() const noexcept override { return info_; }

    engine::awaitable<video_result<std::string>> submit(video_submit request) override {
        g::omni_create_request req;
        req.duration = std::chrono::seconds(effective_seconds(request.seconds, info_.allowed_seconds));
        if (!request.image.empty()) {
            req.first_frame = g::inline_image{.mime_type = std::move(request.image_mime),
                                              .bytes = std::move(request.image)};
            if (!first_frame_tag_.empty() && request.prompt.find(first_frame_tag_) == std::string::npos) {
                request.prompt = first_frame_tag_ + " " + request.prompt;
            }
        }
        req.prompt = std::move(request.prompt);
        auto created = co_await client_.create(std::move(req));
        if (!created) {
            co_return to_video_error(created.error(), call_stage::submit);
        }
        co_return std::move(created->id);
    }

    engine::awaitable<video_result<video_poll>> poll(std::string job_id) override {
        auto polled = co_await client_.poll(std::move(job_id));
        if (!polled) {
            co_return to_video_error(polled.error(), call_stage::poll);
        }
        video_poll out;
        switch (polled->state) {
        case g::omni_state::running:
            out.status =
                polled->raw_status == "queued" ? video_poll::state::queued : video_poll::state::running;
            break;
        case g::omni_state::completed:
            out.status = video_poll::state::completed;
            break;
        case g::omni_state::blocked:
            out.status = video_poll::state::refused;
            out.error = polled->text.empty() ? std::string("completed without a video") : polled->text;
            break;
        case g::omni_state::failed: {
            out.error = reason_of(*polled);
            out.status = providers::failed_state(out.error);
            break;
        }
        }
        co_return out;
    }

    engine::awaitable<video_result<video_file>> download(std::string job_id,
                                                         std::filesystem::path destination) override {
        // The video block is only in the interaction itself: poll once more for it.
        auto polled = co_await client_.poll(std::move(job_id));
        if (!polled) {
            co_return to_video_error(polled.error(), call_stage::download);
        }
        if (polled->state != g::omni_state::completed || !polled->video) {
            co_return not_downloadable(*polled);
        }
        g::omni_video video = std::move(*polled->video);
        if (video.bytes) {
            auto written = co_await providers::write_video_file_async(std::move(destination),
                                                                      std::move(*video.bytes),
                                                                      std::move(video.mime_type),
                                                                      offload_);
            co_return written;
        }
        providers::make_parent_folder(destination);
        auto got = co_await client_.download(std::move(*video.uri), std::move(destination));
        if (!got) {
            co_return to_video_error(got.error(), call_stage::download);
        }
        co_return providers::to_video_file(std::move(*got), std::move(video.mime_type));
    }

    engine::awaitable<video_result<std::string>> check() override {
        // The model's own entry (models.get), as for the image model: nothing is created.
        g::image_config c;
        c.base_url = client_.config().base_url;
        c.api_version = client_.config().api_version;
        c.api_key = client_.config().api_key;
        c.model = client_.config().model;
        g::image_client models(http_, std::move(c));
        auto known = co_await models.check_model();
        if (!known) {
            co_return to_video_error(known.error(), call_stage::check);
        }
        co_return std::string("the API knows the model");
    }

private:
    static g::omni_config client_config(const gemini_omni_settings& s) {
        g::omni_config c;
        c.base_url = s.base_url;
        c.api_version = s.api_version;
        c.api_key = s.api_key;
        c.model = s.model;
        c.aspect_ratio = s.aspect_ratio;
        c.resolution = s.resolution;
        c.delivery = s.delivery;
        c.max_download_bytes = s.max_download_bytes;
        return c;
    }

    static video_error not_downloadable(const g::omni_interaction& i) {
        video_error e;
        switch (i.state) {
        case g::omni_state::running:
            e.kind = video_error_kind::transient;
            e.message = "the interaction is still " + i.raw_status;
            break;
        case g::omni_state::blocked:
            e.kind = video_error_kind::refused;
            e.message = i.text.empty() ? std::string("completed without a video") : i.text;
            break;
        case g::omni_state::completed:
        case g::omni_state::failed:
            e.message = reason_of(i);
            e.kind = mentions_refusal(e.message) ? video_error_kind::refused : video_error_kind::failed;
            break;
        }
        return e;
    }

    net::http_client& http_;
    g::omni_client client_;
    std::string first_frame_tag_;
    engine::offload_pool* offload_;
    video_provider_info info_;
};

} // namespace

std::unique_ptr<video_provider> make_gemini_omni_provider(net::http_client& http, gemini_omni_settings s) {
    return std::make_unique<gemini_omni_provider>(http, std::move(s));
}

} // namespace companion::pipelines
