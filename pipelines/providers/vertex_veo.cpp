// Veo on Vertex behind video_provider: the operation name is the job id; polls and the download
// both use `:fetchPredictOperation`, whose done answer carries the MP4 as base64.
#include "pipelines/providers/vertex_veo.hpp"

#include "net/gemini/veo.hpp"
#include "pipelines/providers/common.hpp"
#include "pipelines/providers/google_auth.hpp"

#include <utility>

namespace companion::pipelines {
namespace {

namespace g = net::gemini;
using providers::call_stage;
using providers::mentions_refusal;
using providers::to_video_error;

std::string join(const std::vector<std::string>& parts) {
    std::string out;
    for (const auto& p : parts) {
        out += (out.empty() ? "" : "; ") + p;
    }
    return out;
}

std::string failure_of(const g::veo_operation& op) {
    std::string out = op.error_message;
    if (op.error_code) {
        out = "code " + std::to_string(*op.error_code) + ": " + out;
    }
    return out;
}

class vertex_veo_provider final : public video_provider {
public:
    vertex_veo_provider(net::http_client& http, vertex_veo_settings s)
        : http_(http), authorization_(std::move(s.authorization)), offload_(s.offload) {
        std::string project = s.project;
        if (!authorization_) {
            auto account = s.credentials_file.empty()
                               ? video_result<providers::service_account>(
                                     video_error{.kind = video_error_kind::auth,
                                                 .message = "no service-account key file "
                                                            "(GOOGLE_APPLICATION_CREDENTIALS) is configured",
                                                 .retry_after = std::nullopt})
                               : providers::load_service_account(s.credentials_file);
            if (account) {
                if (project.empty()) {
                    project = account->project_id;
                }
                providers::service_account_token_config tc;
                tc.account = std::move(*account);
                tc.token_uri = s.token_uri;
                tokens_ = std::make_shared<providers::service_account_token_source>(http, std::move(tc));
            } else {
                tokens_ = std::make_shared<providers::service_account_token_source>(http, account.error());
            }
            authorization_ = [tokens = tokens_] { return tokens->authorization(); };
        }
        base_.flavour = g::veo_flavour::vertex;
        base_.base_url = s.base_url.empty() ? "https://" + s.location + "-aiplatform.googleapis.com"
                                            : std::move(s.base_url);
        base_.api_version = s.api_version;
        base_.vertex_model_path =
            "projects/" + project + "/locations/" + s.location + "/publishers/google/models/";
        base_.model = s.model;
        base_.aspect_ratio = s.aspect_ratio;
        base_.resolution = s.resolution;
        base_.person_generation = s.person_generation;
        base_.allowed_seconds = s.allowed_seconds;
        negative_prompt_ = s.negative_prompt;

        info_ = providers::info_from(s);
        info_.reports_progress = false;
        info_.exact_size_frame = false;
    }

    const video_provider_info& info() const noexcept override { return info_; }

    engine::awaitable<video_result<std::string>> submit(video_submit request) override {
        g::veo_create_request req;
        req.prompt = std::move(request.prompt);
        req.duration = std::chrono::seconds(effective_seconds(request.seconds, info_.allowed_seconds));
        req.negative_prompt = negative_prompt_;
        if (!request.image.empty()) {
            req.first_frame = g::inline_image{.mime_type = std::move(request.image_mime),
                                              .bytes = std::move(request.image)};
        }
        for (int attempt = 0;; ++attempt) {
            auto c = co_await client();
            if (!c) {
                co_return c.error();
            }
            auto copy = req;
            auto created = co_await (*c)->create(std::move(copy));
            if (created) {
                co_return std::move(*created);
            }
            // A 401 was not accepted, so one retry with a fresh token cannot make a second job.
            if (attempt == 0 && retry_with_fresh_token(created.error())) {
                continue;
            }
            co_return to_video_error(created.error(), call_stage::submit);
        }
    }

    engine::awaitable<video_result<video_poll>> poll(std::string job_id) override {
        auto op = co_await fetch(std::move(job_id), call_stage::poll);
        if (!op) {
            co_return op.error();
        }
        video_poll out;
        switch (op->state) {
        case g::veo_state::running:
            out.status = video_poll::state::running;
            break;
        case g::veo_state::video:
            out.status = video_poll::state::completed;
            break;
        case g::veo_state::filtered:
            out.status = video_poll::state::refused;
            out.error = op->rai_filtered_reasons.empty() ? std::string("filtered by the safety checks")
                                                         : join(op->rai_filtered_reasons);
            break;
        case g::veo_state::failed:
            out.error = failure_of(*op);
            out.status = providers::failed_state(out.error);
            break;
        }
        co_return out;
    }

    engine::awaitable<video_result<video_file>> download(std::string job_id,
                                                         std::filesystem::path destination) override {
        auto op = co_await fetch(std::move(job_id), call_stage::download);
        if (!op) {
            co_return op.error();
        }
        video_error e;
        switch (op->state) {
        case g::veo_state::video:
            break;
        case g::veo_state::running:
            e.kind = video_error_kind::transient;
            e.message = "the operation is still running";
            co_return e;
        case g::veo_state::filtered:
            e.kind = video_error_kind::refused;
            e.message = join(op->rai_filtered_reasons);
            co_return e;
        case g::veo_state::failed:
            e.message = failure_of(*op);
            e.kind = mentions_refusal(e.message) ? video_error_kind::refused : video_error_kind::failed;
            co_return e;
        }
        g::veo_sample sample = std::move(op->samples.front());
        if (!sample.bytes) {
            // Only a storageUri request answers with gcsUri; this provider never sends one.
            e.kind = video_error_kind::failed;
            e.message = "the operation answered a storage URI instead of inline bytes";
            co_return e;
        }
        auto written = co_await providers::write_video_file_async(std::move(destination),
                                                                  std::move(*sample.bytes),
                                                                  std::move(sample.mime_type),
                                                                  offload_);
        co_return written;
    }

    engine::awaitable<video_result<std::string>> check() override {
        // The service account's token exchange: the key file, its account and the token endpoint.
        // Vertex has no cheap job-less call that names a publisher model, so the model is checked
        // by the first job (a 404 there is model_gone).
        auto token = co_await authorization_();
        if (!token) {
            co_return token.error();
        }
        co_return std::string(
            "the service account was granted a token; the model is checked by its first job");
    }

private:
    /// The client for the current token (rebuilt when the token changes). Shared, so a call in
    /// flight keeps its client while another call swaps in a new one.
    engine::awaitable<video_result<std::shared_ptr<g::veo_client>>> client() {
        auto auth = co_await authorization_();
        if (!auth) {
            co_return auth.error();
        }
        if (!client_ || client_authorization_ != *auth) {
            auto cfg = base_;
            cfg.authorization = *auth;
            client_ = std::make_shared<g::veo_client>(http_, std::move(cfg));
            client_authorization_ = std::move(*auth);
        }
        co_return client_;
    }

    bool retry_with_fresh_token(const net::api_error& e) {
        if (e.kind != net::api_error_kind::unauthorized || e.status != 401 || !tokens_) {
            return false;
        }
        tokens_->invalidate();
        return true;
    }

    engine::awaitable<video_result<g::veo_operation>> fetch(std::string name, call_stage at) {
        for (int attempt = 0;; ++attempt) {
            auto c = co_await client();
            if (!c) {
                co_return c.error();
            }
            auto op = co_await (*c)->poll(name);
            if (op) {
                co_return std::move(*op);
            }
            if (attempt == 0 && retry_with_fresh_token(op.error())) {
                continue;
            }
            co_return to_video_error(op.error(), at);
        }
    }

    net::http_client& http_;
    authorization_source authorization_;
    std::shared_ptr<providers::service_account_token_source> tokens_{};
    engine::offload_pool* offload_;
    g::veo_config base_{};
    std::string negative_prompt_{};
    std::shared_ptr<g::veo_client> client_{};
    std::string client_authorization_{};
    video_provider_info info_;
};

} // namespace

std::unique_ptr<video_provider> make_vertex_veo_provider(net::http_client& http, vertex_veo_settings s) {
    return std::make_unique<vertex_veo_provider>(http, std::move(s));
}

} // namespace companion::pipelines
