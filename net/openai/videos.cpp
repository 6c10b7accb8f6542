// The OpenAI videos protocol: status normalization, video object parsing and the exchanges.
#include "net/openai/videos.hpp"

#include "engine/log.hpp"
#include "net/detail/client_support.hpp"
#include "net/detail/json_fields.hpp"
#include "net/multipart.hpp"
#include "net/url.hpp"

#include <boost/algorithm/string/case_conv.hpp>

#include <algorithm>
#include <ostream>

namespace companion::net::openai {
namespace {

bool has(std::string_view text, std::string_view word) {
    return text.find(word) != std::string_view::npos;
}

} // namespace

video_status normalize_video_status(std::string_view word) noexcept {
    const std::string w = boost::algorithm::to_lower_copy(std::string(word));
    if (w == "queued") {
        return video_status::queued;
    }
    if (w == "completed" || w == "succeeded" || w == "success") {
        return video_status::completed;
    }
    if (has(w, "fail") || has(w, "error") || has(w, "cancel") || has(w, "expire")) {
        return video_status::failed;
    }
    return video_status::in_progress; // in_progress, submitted, processing, pending, and the unknown
}

result<video_job>
parse_video_job(unsigned status, std::string_view body, const boost::beast::http::fields& headers) {
    if (status < 200 || status >= 300) {
        return parse_error(status, body, headers);
    }
    // Polled thousands of times a minute: the fields are read from a streamed parse, no DOM.
    video_job j;
    std::string task_id;
    bool has_id = false;
    bool error_object = false;
    video_job_error err;
    const auto field = [&](std::string_view parent, std::string_view key, const detail::json_scalar& v) {
        if (parent.empty()) {
            if (key == "id") {
                has_id = true;
                j.id = v.as_text();
            } else if (key == "task_id") {
                task_id = v.as_text(); // some gateways
            } else if (key == "status") {
                j.raw_status = v.as_text();
            } else if (key == "progress") {
                j.progress.reset();
                if (auto n = v.as_int()) {
                    j.progress = static_cast<int>(std::clamp<std::int64_t>(*n, 0, 100));
                }
            } else if (key == "model") {
                j.model = v.as_text();
            } else if (key == "seconds") {
                j.seconds = v.as_text();
            } else if (key == "size") {
                j.size = v.as_text();
            } else if (key == "created_at") {
                j.created_at = v.as_int();
            } else if (key == "completed_at") {
                j.completed_at = v.as_int();
            } else if (key == "expires_at") {
                j.expires_at = v.as_int();
            } else if (key == "error") {
                error_object = v.type == detail::json_scalar::kind::object; // the last one counts
                err = {};
            }
        } else if (parent == "error") {
            if (key == "code") {
                err.code = v.as_text();
            } else if (key == "message") {
                err.message = v.as_text();
            }
        }
    };
    if (detail::read_json_fields(body, field)) {
        return malformed(status, "video object is not a JSON object", headers);
    }
    if (error_object && !has_id) {
        return parse_error(status >= 400 ? status : 502, body, headers); // an error inside a 200
    }
    if (j.id.empty()) {
        j.id = std::move(task_id);
    }
    if (j.id.empty() || j.raw_status.empty()) {
        return malformed(status, "video object without id or status", headers);
    }
    j.status = normalize_video_status(j.raw_status);
    if (error_object) {
        err.message = engine::secrets().redact(err.message);
        j.error = std::move(err);
    }
    if (j.status == video_status::failed && !j.error) {
        j.error = video_job_error{.code = boost::algorithm::to_lower_copy(std::string(j.raw_status)),
                                  .message = {}};
    }
    return j;
}

videos_client::videos_client(net::http_client& http, videos_config cfg) : http_(http), cfg_(std::move(cfg)) {
    cfg_.base_url = detail::client_base_url(std::move(cfg_.base_url), cfg_.api_key);
}

net::request videos_client::make_request(http::verb method, std::string url) const {
    auto r = detail::api_request(method, std::move(url), cfg_);
    if (!cfg_.api_key.empty()) {
        r.headers.set(http::field::authorization,
                      cfg_.auth == authorization_style::bearer ? "Bearer " + cfg_.api_key : cfg_.api_key);
    }
    r.headers.set(http::field::accept, "application/json");
    return r;
}

engine::awaitable<result<video_job>> videos_client::create(create_video_request req) {
    const int seconds = static_cast<int>(req.seconds.count());
    if (!detail::allowed(cfg_.allowed_seconds, seconds)) {
        co_return net::invalid_request("openai",
                                       {},
                                       "seconds " + std::to_string(seconds) +
                                           " is not allowed by this provider's configuration");
    }
    if (!detail::allowed(cfg_.allowed_sizes, req.size)) {
        co_return net::invalid_request("openai",
                                       {},
                                       "size " + req.size +
                                           " is not allowed by this provider's configuration");
    }
    net::multipart_form form;
    form.field("model", req.model.empty() ? cfg_.model : req.model);
    form.field("prompt", req.prompt);
    form.field("seconds", std::to_string(seconds)); // a string on the wire: "8", never 8
    form.field("size", req.size);
    if (req.reference) {
        form.file("input_reference",
                  req.reference->filename,
                  req.reference->mime_type,
                  std::move(req.reference->bytes));
    }
    auto r = make_request(http::verb::post, cfg_.base_url + "/videos");
    r.headers.set(http::field::content_type, form.content_type());
    r.body = form.take_body();
    auto sent = co_await http_.send(std::move(r));
    if (!sent) {
        co_return from_failure(sent.error());
    }
    co_return parse_video_job(sent->status, sent->body, sent->headers);
}

engine::awaitable<result<video_job>> videos_client::retrieve(std::string id) {
    auto r = make_request(http::verb::get, cfg_.base_url + "/videos/" + net::url_encode(id));
    auto sent = co_await http_.send(std::move(r));
    if (!sent) {
        co_return from_failure(sent.error());
    }
    co_return parse_video_job(sent->status, sent->body, sent->headers);
}

engine::awaitable<result<net::download_result>> videos_client::download(std::string id,
                                                                        std::filesystem::path path) {
    net::download_request d;
    d.url = cfg_.base_url + "/videos/" + net::url_encode(id) + "/content";
    auto base = make_request(http::verb::get, d.url);
    d.headers = base.headers;
    d.headers.set(http::field::accept, "video/mp4, application/json");
    d.path = std::move(path);
    d.max_bytes = cfg_.max_download_bytes;
    auto t = *base.timeouts;
    t.body = cfg_.download_timeout;
    d.timeouts = t;
    auto got = co_await http_.download(std::move(d));
    if (!got) {
        const auto& f = got.error();
        if (f.code == net::errc::http_status && f.status != 0) {
            co_return parse_error(f.status, f.body, {}); // e.g. 400 "not ready", 404 expired
        }
        co_return from_failure(f);
    }
    co_return std::move(*got);
}

} // namespace companion::net::openai
