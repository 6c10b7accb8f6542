// Gemini Omni via the Interactions API: request body, interaction parsing, exchanges.
#include "net/gemini/omni.hpp"

#include "engine/log.hpp"
#include "net/detail/client_support.hpp"
#include "net/gemini/base64.hpp"
#include "net/gemini/detail/download.hpp"
#include "net/url.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <ostream>

namespace companion::net::gemini {
namespace {

bool has(std::string_view text, std::string_view word) {
    return text.find(word) != std::string_view::npos;
}

omni_job_error error_of(const boost::json::object& o) {
    return {.code = detail::json_text(o.if_contains("code")),
            .message = engine::secrets().redact(detail::json_text(o.if_contains("message")))};
}

} // namespace

std::string build_omni_body(const omni_config& cfg, const omni_create_request& req) {
    boost::json::array input;
    if (req.first_frame) {
        input.push_back(boost::json::object{{"type", "image"},
                                            {"data", encode_base64(req.first_frame->bytes)},
                                            {"mime_type", req.first_frame->mime_type}});
    }
    input.push_back(boost::json::object{{"type", "text"}, {"text", req.prompt}});
    boost::json::object body{
        {"model", cfg.model},
        {"background", true},
        {"input", std::move(input)},
        {"response_format",
         {{"type", "video"},
          {"aspect_ratio", cfg.aspect_ratio},
          {"resolution", cfg.resolution},
          {"duration", std::to_string(req.duration.count()) + "s"}, // a Duration string; 8 gives 400
          {"delivery", cfg.delivery}}},
    };
    if (req.first_frame) {
        body["generation_config"] = {{"video_config", {{"task", "image_to_video"}}}};
    }
    return boost::json::serialize(body);
}

result<omni_interaction> parse_interaction(unsigned status, std::string_view body) {
    if (status < 200 || status >= 300) {
        return parse_error(status, body);
    }
    boost::system::error_code ec;
    const auto v = boost::json::parse(body, ec);
    if (ec || !v.is_object()) {
        return malformed(status, "interaction is not a JSON object");
    }
    const auto& o = v.as_object();
    omni_interaction out;
    out.id = detail::json_text(o.if_contains("id"));
    out.raw_status = detail::json_text(o.if_contains("status"));
    if (out.id.empty() || out.raw_status.empty()) {
        return malformed(status, "interaction without id or status");
    }
    std::optional<omni_job_error> step_error;
    if (const auto* steps = o.if_contains("steps"); steps && steps->is_array()) {
        for (const auto& s : steps->as_array()) {
            const auto* so = s.if_object();
            if (so == nullptr || detail::json_text(so->if_contains("type")) != "model_output") {
                continue;
            }
            if (const auto* e = so->if_contains("error"); e && e->is_object()) {
                step_error = error_of(e->as_object());
            }
            const auto* content = so->if_contains("content");
            if (content == nullptr || !content->is_array()) {
                continue;
            }
            for (const auto& block : content->as_array()) {
                const auto* bo = block.if_object();
                if (bo == nullptr) {
                    continue;
                }
                const std::string type = detail::json_text(bo->if_contains("type"));
                if (type == "text") {
                    out.text += detail::json_text(bo->if_contains("text"));
                } else if (type == "video") {
                    omni_video video;
                    if (auto mime = detail::json_text(bo->if_contains("mime_type")); !mime.empty()) {
                        video.mime_type = mime;
                    }
                    if (auto uri = detail::json_text(bo->if_contains("uri")); !uri.empty()) {
                        video.uri = uri;
                    }
                    if (auto data = detail::json_text(bo->if_contains("data")); !data.empty()) {
                        auto bytes = decode_base64(data);
                        if (!bytes) {
                            return malformed(status, "video data is not base64");
                        }
                        video.bytes = std::move(*bytes);
                    }
                    if (video.uri || video.bytes) {
                        out.video = std::move(video);
                    }
                }
            }
        }
    }
    const std::string& s = out.raw_status;
    if (s == "queued" || s == "in_progress") {
        out.state = omni_state::running;
    } else if (s == "completed") {
        out.state = out.video ? omni_state::completed : omni_state::blocked;
    } else if (s == "failed" || s == "cancelled" || s == "incomplete" || s == "budget_exceeded" ||
               s == "requires_action" || s == "requires_continuation" || has(s, "fail") || has(s, "error") ||
               has(s, "cancel") || has(s, "expire")) {
        out.state = omni_state::failed;
    } else {
        out.state = omni_state::running; // an unknown word: keep polling until the caller's deadline
    }
    if (out.state == omni_state::failed) {
        if (const auto* errors = o.if_contains("errors"); errors && errors->is_array() &&
                                                          !errors->as_array().empty() &&
                                                          errors->as_array().front().is_object()) {
            out.error = error_of(errors->as_array().front().as_object());
        } else if (const auto* e = o.if_contains("error"); e && e->is_object()) {
            out.error = error_of(e->as_object());
        } else if (step_error) {
            out.error = step_error;
        } else {
            out.error = omni_job_error{.code = s, .message = {}};
        }
    }
    return out;
}

omni_client::omni_client(net::http_client& http, omni_config cfg) : http_(http), cfg_(std::move(cfg)) {
    cfg_.base_url = detail::client_base_url(std::move(cfg_.base_url), cfg_.api_key);
}

net::request omni_client::make_request(http::verb method, std::string url) const {
    auto r = detail::api_request(method, std::move(url), cfg_);
    r.headers.set("x-goog-api-key", cfg_.api_key);
    r.headers.set(http::field::content_type, "application/json");
    return r;
}

engine::awaitable<result<omni_interaction>> omni_client::create(omni_create_request req) {
    auto r = make_request(http::verb::post, cfg_.base_url + "/" + cfg_.api_version + "/interactions");
    r.body = build_omni_body(cfg_, req);
    auto sent = co_await http_.send(std::move(r));
    if (!sent) {
        co_return from_failure(sent.error());
    }
    co_return parse_interaction(sent->status, sent->body);
}

engine::awaitable<result<omni_interaction>> omni_client::poll(std::string id) {
    auto r = make_request(http::verb::get,
                          cfg_.base_url + "/" + cfg_.api_version + "/interactions/" + net::url_encode(id));
    r.headers.erase(http::field::content_type);
    auto sent = co_await http_.send(std::move(r));
    if (!sent) {
        co_return from_failure(sent.error());
    }
    co_return parse_interaction(sent->status, sent->body);
}

engine::awaitable<result<net::download_result>> omni_client::download(std::string uri,
                                                                      std::filesystem::path path) {
    const auto how = file_download_for(cfg_);
    auto got = co_await download_file(http_, how, std::move(uri), std::move(path));
    co_return got;
}

} // namespace companion::net::gemini
