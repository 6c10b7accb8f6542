// OpenRouter's videos API: the create body, the readers of its answers, and the exchanges.
#include "net/openai/openrouter_videos.hpp"

#include "net/detail/client_support.hpp"
#include "net/url.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <cmath>
#include <utility>

namespace companion::net::openai {
namespace {

constexpr std::string_view api_name = "openrouter";

bool contains(std::string_view text, std::string_view word) {
    return text.find(word) != std::string_view::npos;
}

api_error
malformed_answer(unsigned status, std::string_view what, const boost::beast::http::fields& headers) {
    auto e = malformed(status, what, headers);
    e.api = std::string(api_name);
    return e;
}

api_error transport_failure(const net::failure& f) {
    return net::transport_error(api_name, {}, f);
}

std::optional<boost::json::object> json_object(std::string_view body) {
    boost::system::error_code ec;
    auto v = boost::json::parse(body, ec);
    if (ec || !v.is_object()) {
        return std::nullopt;
    }
    return std::move(v.as_object());
}

std::optional<openrouter_video_status> status_from_word(std::string_view word) {
    static constexpr std::pair<std::string_view, openrouter_video_status> words[] = {
        {"pending", openrouter_video_status::pending},
        {"in_progress", openrouter_video_status::in_progress},
        {"completed", openrouter_video_status::completed},
        {"failed", openrouter_video_status::failed},
        {"cancelled", openrouter_video_status::cancelled},
        {"expired", openrouter_video_status::expired},
    };
    for (const auto& [w, s] : words) {
        if (w == word) {
            return s;
        }
    }
    return std::nullopt;
}

/// `usage.cost`: a non-negative number (or a string holding one); anything else is no report.
std::optional<double> read_cost(const boost::json::object& o) {
    const auto* usage = o.if_contains("usage");
    if (usage == nullptr || !usage->is_object()) {
        return std::nullopt;
    }
    const auto* cost = usage->as_object().if_contains("cost");
    if (cost == nullptr) {
        return std::nullopt;
    }
    if (cost->is_string()) {
        return detail::parse_non_negative(std::string_view(cost->as_string()));
    }
    if (!cost->is_number()) {
        return std::nullopt;
    }
    boost::system::error_code ec;
    const double d = cost->to_number<double>(ec);
    if (ec || !std::isfinite(d) || d < 0) {
        return std::nullopt;
    }
    return d;
}

/// The job's error: a string in OpenRouter's schema; an object {code, message} accepted too.
std::string read_job_error(const boost::json::value* e) {
    if (e == nullptr || e->is_null()) {
        return {};
    }
    if (e->is_object()) {
        const auto& o = e->as_object();
        const auto code = detail::json_text(o.if_contains("code"));
        const auto message = detail::json_text(o.if_contains("message"));
        return net::redacted_text(code.empty() ? message : code + ": " + message);
    }
    return net::redacted_text(detail::json_text(e));
}

std::vector<std::string> string_list(const boost::json::value* v, std::size_t max = 64) {
    std::vector<std::string> out;
    if (v == nullptr || !v->is_array()) {
        return out;
    }
    for (const auto& item : v->as_array()) {
        if (item.is_string() && out.size() < max) {
            out.emplace_back(item.as_string());
        }
    }
    return out;
}

} // namespace

bool valid_video_id(std::string_view id) noexcept {
    if (id.empty() || id.size() > 200 || id == "." || id == "..") {
        return false;
    }
    return std::all_of(id.begin(), id.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
               c == '_' || c == '.';
    });
}

result<std::string> create_body(const openrouter_video_request& req) {
    if (req.model.empty()) {
        return net::invalid_request(api_name, {}, "no video model configured");
    }
    if (req.prompt.empty()) {
        return net::invalid_request(api_name, {}, "the video prompt is empty");
    }
    if (req.duration.count() < 1) {
        return net::invalid_request(api_name, {}, "the video duration is below one second");
    }
    boost::json::object body{
        {"model", req.model},
        {"prompt", req.prompt},
        {"duration", req.duration.count()}, // a number: 5, never "5"
    };
    if (!req.resolution.empty()) {
        body["resolution"] = req.resolution;
    }
    if (!req.aspect_ratio.empty()) {
        body["aspect_ratio"] = req.aspect_ratio;
    }
    if (!req.first_frame_url.empty()) {
        boost::json::object frame{{"type", "image_url"},
                                  {"image_url", boost::json::object{{"url", req.first_frame_url}}},
                                  {"frame_type", "first_frame"}};
        body["frame_images"] = boost::json::array{std::move(frame)};
    }
    if (req.generate_audio) {
        body["generate_audio"] = *req.generate_audio;
    }
    return boost::json::serialize(body);
}

api_error
parse_openrouter_error(unsigned status, std::string_view body, const boost::beast::http::fields& headers) {
    auto e = parse_error(status, body, headers);
    e.api = std::string(api_name);
    // OpenRouter refuses flagged input with a 403 ("Your chosen model requires moderation and your
    // input was flagged"): a refusal of this request, not a key problem.
    if (e.kind == api_error_kind::unauthorized && e.status == 403 &&
        (contains(e.detail, "moderation") || contains(e.detail, "flagged"))) {
        e.kind = api_error_kind::bad_request;
        e.code = "moderation";
    }
    return e;
}

result<openrouter_video>
parse_video(unsigned status, std::string_view body, const boost::beast::http::fields& headers) {
    if (status < 200 || status >= 300) {
        return parse_openrouter_error(status, body, headers);
    }
    const auto o = json_object(body);
    if (!o) {
        return malformed_answer(status, "video answer is not a JSON object", headers);
    }
    const auto* err = o->if_contains("error");
    if (err != nullptr && err->is_object() && !o->contains("id")) {
        return parse_openrouter_error(status, body, headers); // an error reported inside a 200
    }
    openrouter_video v;
    v.id = detail::json_text(o->if_contains("id"));
    v.raw_status = detail::json_text(o->if_contains("status"));
    if (v.id.empty() || v.raw_status.empty()) {
        return malformed_answer(status, "video answer without id or status", headers);
    }
    const auto word = status_from_word(v.raw_status);
    if (!word) {
        return malformed_answer(status,
                                "unknown video status '" + net::redacted_text(v.raw_status, 40) + "'",
                                headers);
    }
    v.status = *word;
    v.polling_url = detail::json_text(o->if_contains("polling_url"));
    v.unsigned_urls = string_list(o->if_contains("unsigned_urls"));
    v.expires_at = detail::json_int(o->if_contains("expires_at"));
    v.error = read_job_error(err);
    v.cost_usd = read_cost(*o);
    return v;
}

result<std::vector<openrouter_video_model>>
parse_video_models(unsigned status, std::string_view body, const boost::beast::http::fields& headers) {
    if (status < 200 || status >= 300) {
        return parse_openrouter_error(status, body, headers);
    }
    const auto o = json_object(body);
    const auto* data = o ? o->if_contains("data") : nullptr;
    if (data == nullptr || !data->is_array()) {
        return malformed_answer(status, "model list without a data array", headers);
    }
    std::vector<openrouter_video_model> out;
    for (const auto& entry : data->as_array()) {
        if (!entry.is_object()) {
            continue;
        }
        const auto& e = entry.as_object();
        openrouter_video_model m;
        m.id = detail::json_text(e.if_contains("id"));
        if (m.id.empty()) {
            continue;
        }
        m.name = detail::json_text(e.if_contains("name"));
        if (const auto* d = e.if_contains("supported_durations"); d && d->is_array()) {
            for (const auto& n : d->as_array()) {
                if (auto s = detail::json_int(&n); s && *s > 0 && *s <= 3600) {
                    m.supported_durations.push_back(static_cast<int>(*s));
                }
            }
        }
        m.supported_resolutions = string_list(e.if_contains("supported_resolutions"));
        m.supported_aspect_ratios = string_list(e.if_contains("supported_aspect_ratios"));
        m.supported_frame_images = string_list(e.if_contains("supported_frame_images"));
        const auto* audio = e.if_contains("generate_audio");
        m.generate_audio = audio != nullptr && audio->is_bool() && audio->as_bool();
        out.push_back(std::move(m));
    }
    return out;
}

openrouter_videos_client::openrouter_videos_client(net::http_client& http, openrouter_videos_config cfg)
    : http_(http), cfg_(std::move(cfg)) {
    cfg_.base_url = detail::client_base_url(std::move(cfg_.base_url), cfg_.api_key);
}

net::request openrouter_videos_client::make_request(http::verb method, std::string url) const {
    auto r = detail::api_request(method, std::move(url), cfg_);
    if (!cfg_.api_key.empty()) {
        r.headers.set(http::field::authorization, "Bearer " + cfg_.api_key);
    }
    r.headers.set(http::field::accept, "application/json");
    return r;
}

engine::awaitable<result<openrouter_video>> openrouter_videos_client::create(openrouter_video_request req) {
    auto body = create_body(req);
    if (!body) {
        co_return body.error();
    }
    auto r = make_request(http::verb::post, cfg_.base_url + "/videos");
    r.headers.set(http::field::content_type, "application/json");
    r.body = std::move(*body);
    r.replayable = net::replay::unsafe;
    auto sent = co_await http_.send(std::move(r));
    if (!sent) {
        co_return transport_failure(sent.error());
    }
    co_return parse_video(sent->status, sent->body, sent->headers);
}

engine::awaitable<result<openrouter_video>> openrouter_videos_client::retrieve(std::string id) {
    if (!valid_video_id(id)) {
        co_return net::invalid_request(api_name, {}, "the video id is not an OpenRouter job id");
    }
    auto r = make_request(http::verb::get, cfg_.base_url + "/videos/" + net::url_encode(id));
    auto sent = co_await http_.send(std::move(r));
    if (!sent) {
        co_return transport_failure(sent.error());
    }
    co_return parse_video(sent->status, sent->body, sent->headers);
}

engine::awaitable<result<net::download_result>>
openrouter_videos_client::download(std::string id, std::filesystem::path path) {
    if (!valid_video_id(id)) {
        co_return net::invalid_request(api_name, {}, "the video id is not an OpenRouter job id");
    }
    net::download_request d;
    d.url = cfg_.base_url + "/videos/" + net::url_encode(id) + "/content?index=0";
    auto base = make_request(http::verb::get, d.url);
    d.headers = base.headers; // http_client drops Authorization when a redirect changes host
    d.headers.set(http::field::accept, "video/mp4, application/json");
    d.path = std::move(path);
    d.max_bytes = cfg_.max_download_bytes;
    d.timeouts = detail::call_timeouts(cfg_.connect_timeout, cfg_.response_timeout, cfg_.download_timeout);
    auto got = co_await http_.download(std::move(d));
    if (!got) {
        const auto& f = got.error();
        if (f.code == net::errc::http_status && f.status != 0) {
            co_return parse_openrouter_error(f.status, f.body, {}); // 404/410: gone; 400: not ready
        }
        co_return transport_failure(f);
    }
    co_return std::move(*got);
}

engine::awaitable<result<std::vector<openrouter_video_model>>> openrouter_videos_client::list_video_models() {
    auto r = make_request(http::verb::get, cfg_.base_url + "/videos/models");
    auto sent = co_await http_.send(std::move(r));
    if (!sent) {
        co_return transport_failure(sent.error());
    }
    co_return parse_video_models(sent->status, sent->body, sent->headers);
}

} // namespace companion::net::openai
