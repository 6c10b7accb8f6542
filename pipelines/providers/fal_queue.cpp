// fal's queue behind video_provider: the request built from the model's template, the queue
// ticket as the job id, COMPLETED read through the result fetch, and the output downloaded from
// fal's CDN without the key.
#include "pipelines/providers/fal_queue.hpp"

#include "net/fal/queue.hpp"
#include "net/gemini/base64.hpp"
#include "pipelines/providers/common.hpp"

#include <utility>

namespace companion::pipelines {
namespace {

using providers::call_stage;
using providers::to_video_error;

class fal_queue_provider final : public video_provider {
public:
    fal_queue_provider(net::http_client& http, fal_queue_settings s)
        : client_(http, client_config(s)), template_(s.request), info_(providers::info_from(s)) {
        info_.reports_progress = false; // the queue says IN_QUEUE / IN_PROGRESS, never how far
        info_.exact_size_frame = true;  // most models follow the image's aspect: give them 9:16
    }

    const video_provider_info& info() const noexcept override { return info_; }

    engine::awaitable<video_result<std::string>> submit(video_submit request) override {
        std::string image;
        if (!request.image.empty()) {
            image = "data:" + (request.image_mime.empty() ? std::string("image/jpeg") : request.image_mime) +
                    ";base64," + net::gemini::encode_base64(request.image);
        }
        const int seconds = effective_seconds(request.seconds, info_.allowed_seconds);
        auto body = net::fal::request_body(template_, request.prompt, image, seconds);
        if (!body) {
            co_return video_error{.kind = video_error_kind::bad_request,
                                  .message = "fal request template: " + body.error(),
                                  .retry_after = std::nullopt};
        }
        auto ticket = co_await client_.submit(info_.model, std::move(*body));
        if (!ticket) {
            co_return to_video_error(ticket.error(), call_stage::submit);
        }
        co_return net::fal::to_text(*ticket);
    }

    engine::awaitable<video_result<video_poll>> poll(std::string job_id) override {
        auto ticket = net::fal::ticket_from_text(job_id);
        if (!ticket) {
            co_return video_error{.kind = video_error_kind::failed,
                                  .message = ticket.error().message(),
                                  .retry_after = std::nullopt};
        }
        auto status = co_await client_.status(*ticket);
        if (!status) {
            co_return to_video_error(status.error(), call_stage::poll);
        }
        video_poll out;
        switch (status->state) {
        case net::fal::queue_state::in_queue:
            out.status = video_poll::state::queued;
            co_return out;
        case net::fal::queue_state::in_progress:
            out.status = video_poll::state::running;
            co_return out;
        case net::fal::queue_state::completed:
            break;
        }
        // COMPLETED is also how a failed job ends: only the result says which.
        auto result = co_await client_.output(*ticket);
        if (result) {
            out.status = video_poll::state::completed;
            out.progress = 100;
            co_return out;
        }
        const auto& e = result.error();
        using kind = net::api_error_kind;
        const bool job_failed =
            (e.kind == kind::bad_request || e.kind == kind::not_found || e.kind == kind::server) &&
            e.status != 502 && e.status != 503 && e.status != 504;
        if (!job_failed) {
            co_return to_video_error(e, call_stage::poll); // transport, 429, a gateway: poll again
        }
        const auto described = to_video_error(e, call_stage::poll);
        out.error = described.message;
        out.status = e.code == "content_policy_violation" ? video_poll::state::refused
                                                          : providers::failed_state(out.error);
        co_return out;
    }

    engine::awaitable<video_result<video_file>> download(std::string job_id,
                                                         std::filesystem::path destination) override {
        auto ticket = net::fal::ticket_from_text(job_id);
        if (!ticket) {
            co_return video_error{.kind = video_error_kind::failed,
                                  .message = ticket.error().message(),
                                  .retry_after = std::nullopt};
        }
        auto output = co_await client_.output(*ticket);
        if (!output) {
            co_return to_video_error(output.error(), call_stage::download);
        }
        providers::make_parent_folder(destination);
        auto got = co_await client_.download(*output, std::move(destination));
        if (!got) {
            co_return to_video_error(got.error(), call_stage::download);
        }
        co_return providers::to_video_file(std::move(*got), output->content_type);
    }

    engine::awaitable<video_result<std::string>> check() override {
        // fal has no job-less call for a model on the queue: the status of a request that cannot
        // exist, under the endpoint's owner/alias, shows the queue answers and takes the key.
        auto probed = co_await client_.probe(info_.model);
        if (!probed) {
            co_return to_video_error(probed.error(), call_stage::check);
        }
        co_return std::string("the queue takes the key; the model is checked by its first job");
    }

private:
    static net::fal::queue_config client_config(const fal_queue_settings& s) {
        net::fal::queue_config c;
        c.base_url = s.base_url;
        c.api_key = s.api_key;
        c.max_download_bytes = s.max_download_bytes;
        return c;
    }

    net::fal::queue_client client_;
    fal_request_template template_;
    video_provider_info info_;
};

} // namespace

std::unique_ptr<video_provider> make_fal_queue_provider(net::http_client& http, fal_queue_settings s) {
    return std::make_unique<fal_queue_provider>(http, std::move(s));
}

} // namespace companion::pipelines
