// The OpenRouter videos simulator: request checks per model, a clock-driven life cycle with the
// job's cost, content with an optional redirect to a "CDN" on another host name, the model lists,
// and OpenRouter's error shape.
#include "sim/openrouter/simulator.hpp"

#include "sim/media/data_uri.hpp"
#include "sim/media/mp4.hpp"
#include "sim/media/picture.hpp"
#include "sim/media/png.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>

namespace companion::sim {
namespace {

constexpr std::string_view api_prefix = "/api/v1";
constexpr std::string_view cdn_prefix = "/_cdn/openrouter/";

/// OpenRouter's error shape: the HTTP status repeated as a numeric code.
net::server_response error_answer(unsigned status, std::string_view message) {
    return net::json_response(
        status,
        boost::json::serialize(boost::json::object{
            {"error",
             boost::json::object{{"code", static_cast<std::int64_t>(status)}, {"message", message}}}}));
}

net::server_response bad_request(std::string_view message) {
    return error_answer(400, message);
}

template <class T>
bool listed(const std::vector<T>& list, const T& value) {
    return std::find(list.begin(), list.end(), value) != list.end();
}

template <class T>
std::string join(const std::vector<T>& list) {
    std::string out;
    for (const auto& v : list) {
        if constexpr (std::is_same_v<T, std::string>) {
            out += (out.empty() ? "" : ", ") + v;
        } else {
            out += (out.empty() ? "" : ", ") + std::to_string(v);
        }
    }
    return out;
}

/// The output size for "720p" and "9:16": the short side is the resolution's number.
std::optional<std::pair<std::uint32_t, std::uint32_t>> output_size(std::string_view resolution,
                                                                   std::string_view aspect) {
    if (!resolution.ends_with("p")) {
        return std::nullopt;
    }
    std::uint32_t short_side = 0;
    const auto r = std::from_chars(resolution.data(), resolution.data() + resolution.size() - 1, short_side);
    const auto colon = aspect.find(':');
    std::uint32_t a = 0;
    std::uint32_t b = 0;
    if (r.ec != std::errc{} || colon == std::string_view::npos || short_side < 16 || short_side > 2160) {
        return std::nullopt;
    }
    const auto pa = std::from_chars(aspect.data(), aspect.data() + colon, a);
    const auto pb = std::from_chars(aspect.data() + colon + 1, aspect.data() + aspect.size(), b);
    if (pa.ec != std::errc{} || pb.ec != std::errc{} || a == 0 || b == 0 || a > 64 || b > 64) {
        return std::nullopt;
    }
    const auto long_side = [&](std::uint32_t num, std::uint32_t den) {
        const auto v = static_cast<std::uint32_t>(std::lround(static_cast<double>(short_side) * num / den));
        return (v + 1) & ~1U; // even, as H.264 4:2:0 needs
    };
    const std::uint32_t even_short = short_side & ~1U;
    if (a < b) {
        return std::pair{even_short, long_side(b, a)};
    }
    return std::pair{long_side(a, b), even_short};
}

std::string make_id(std::int64_t unix_seconds, std::size_t n, std::string_view prompt) {
    static constexpr std::string_view alphabet =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    std::uint64_t seed = media::seed_from_text(std::string(prompt) + "#" + std::to_string(n));
    std::string tail;
    for (int i = 0; i < 20; ++i) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        tail += alphabet[(seed >> 33) % alphabet.size()];
    }
    return "gen-vid-" + std::to_string(unix_seconds) + "-" + tail;
}

} // namespace

std::vector<openrouter_sim_model> default_openrouter_models() {
    return {
        {.id = "google/veo-3.1",
         .name = "Google: Veo 3.1",
         .durations = {4, 6, 8},
         .resolutions = {"720p", "1080p"},
         .aspect_ratios = {"16:9", "9:16"},
         .generate_audio = true},
        {.id = "alibaba/wan-2.6",
         .name = "Alibaba: Wan 2.6",
         .durations = {5, 10, 15},
         .resolutions = {"720p", "1080p"},
         .aspect_ratios = {"16:9", "9:16", "1:1"},
         .generate_audio = true},
        {.id = "alibaba/wan-2.7",
         .name = "Alibaba: Wan 2.7",
         .durations = {5, 10, 15},
         .resolutions = {"720p", "1080p"},
         .aspect_ratios = {"16:9", "9:16", "1:1"},
         .generate_audio = true},
        {.id = "bytedance/seedance-2.0",
         .name = "ByteDance: Seedance 2.0",
         .durations = {4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
         .resolutions = {"480p", "720p", "1080p"},
         .aspect_ratios = {"16:9", "9:16", "1:1"},
         .generate_audio = true},
        {.id = "bytedance/seedance-1.5-pro",
         .name = "ByteDance: Seedance 1.5 Pro",
         .durations = {4, 5, 6, 7, 8, 9, 10, 11, 12},
         .resolutions = {"480p", "720p", "1080p"},
         .aspect_ratios = {"16:9", "9:16", "1:1"},
         .generate_audio = true},
    };
}

openrouter_simulator::openrouter_simulator(engine::executor ex, openrouter_sim_config cfg)
    : provider_service(ex, cfg.server, cfg.time), cfg_(std::move(cfg)) {
    server_.route_prefix(std::string(api_prefix) + "/videos",
                         [this](net::server_request& req) { return handle(req); });
    server_.route_prefix(std::string(api_prefix) + "/models",
                         [this](net::server_request& req) { return handle(req); });
    server_.route_prefix(std::string(cdn_prefix),
                         [this](net::server_request& req) { return handle_cdn(req); });
}

std::string openrouter_simulator::base_url() const {
    return server_.base_url() + std::string(api_prefix);
}

std::optional<net::server_response> openrouter_simulator::check_key(const net::server_request& req) const {
    if (cfg_.api_key.empty() || req.header("authorization") == "Bearer " + cfg_.api_key) {
        return std::nullopt;
    }
    // OpenRouter's text for a missing or unknown key; the key itself is never echoed.
    return error_answer(401,
                        req.header("authorization").empty() ? "No auth credentials found"
                                                            : "User not found.");
}

engine::awaitable<net::server_response> openrouter_simulator::handle(net::server_request& req) {
    const std::string path(req.path().substr(api_prefix.size()));
    const auto method = req.msg.method();
    // Which call this is: /models, /videos/models, POST /videos, /videos/{id}[/content].
    std::string fault_method;
    std::string id;
    if (path == "/models" || path == "/videos/models") {
        fault_method = "models";
    } else if (path == "/videos") {
        fault_method = "videos.create";
    } else if (path.starts_with("/videos/")) {
        std::string_view rest = std::string_view(path).substr(8);
        if (rest.ends_with("/content")) {
            rest.remove_suffix(8);
            fault_method = "videos.content";
        } else {
            fault_method = "videos.retrieve";
        }
        id = std::string(rest);
    } else {
        co_return error_answer(404, "Not Found");
    }
    net::server_response r;
    std::optional<fault> f;
    const auto denied = check_key(req);
    auto early = co_await begin(fault_method, f, r, denied);
    if (early) {
        co_return std::move(*early);
    }
    if (f && f->kind == fault_kind::rate_limited) {
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(f->delay).count();
        auto out =
            error_answer(429, "Rate limit exceeded: too many video generation requests. Try again later.");
        out.msg.set("retry-after", std::to_string((ms + 999) / 1000));
        co_return out;
    }
    if (f && f->kind == fault_kind::server_error) {
        co_return error_answer(f->status != 0 ? f->status : 500, "Internal Server Error");
    }
    if (f && f->kind == fault_kind::custom && f->detail == "quota") {
        co_return error_answer(402,
                               "Insufficient credits. This account never purchased credits. Add more using "
                               "https://openrouter.ai/settings/credits");
    }
    net::server_response out;
    if (fault_method == "models") {
        if (method != net::http::verb::get) {
            co_return error_answer(405, "Method Not Allowed");
        }
        out = path == "/models" ? model_list() : video_models();
    } else if (fault_method == "videos.create") {
        if (method != net::http::verb::post) {
            co_return error_answer(405, "Method Not Allowed");
        }
        if (f && f->kind == fault_kind::custom && f->detail == "model_gone") {
            co_return error_answer(404, "Model not found or no longer available for video generation");
        }
        if (f && f->kind == fault_kind::refusal && f->detail == "at_submit") {
            // OpenRouter's moderation refusal of an input [S]: a 403 naming the reasons.
            boost::json::object e{
                {"code", 403},
                {"message", "Your chosen model requires moderation and your input was flagged"},
                {"metadata",
                 boost::json::object{{"reasons", boost::json::array{"sexual"}},
                                     {"flagged_input", "..."},
                                     {"provider_name", "simulated"},
                                     {"model_slug", "video"}}}};
            co_return net::json_response(
                403,
                boost::json::serialize(boost::json::object{{"error", std::move(e)}}));
        }
        std::string new_id;
        out = create(req, new_id);
        if (!new_id.empty() && f) {
            job& j = jobs_.at(new_id);
            if (f->kind == fault_kind::refusal) {
                j.end = ending::refused;
            } else if (f->kind == fault_kind::custom && f->detail == "failed") {
                j.end = ending::failed;
            } else if (f->kind == fault_kind::custom && f->detail == "expired") {
                j.end = ending::expired;
            } else if (f->kind == fault_kind::custom && f->detail == "cancelled") {
                j.end = ending::cancelled;
            }
        }
    } else if (fault_method == "videos.content") {
        out = content(id, req, false);
    } else {
        if (method != net::http::verb::get) {
            co_return error_answer(405, "Method Not Allowed");
        }
        out = retrieve(id);
    }
    out.fault = r.fault;
    co_return out;
}

engine::awaitable<net::server_response> openrouter_simulator::handle_cdn(net::server_request& req) {
    ++cdn_requests_;
    if (!req.header("authorization").empty()) {
        ++cdn_with_auth_;
    }
    net::server_response r;
    std::optional<fault> f;
    auto early = co_await begin("cdn", f, r, std::nullopt);
    if (early) {
        co_return std::move(*early);
    }
    std::string_view id = req.path().substr(cdn_prefix.size());
    if (!id.ends_with(".mp4")) {
        co_return error_answer(404, "Not Found");
    }
    id.remove_suffix(4);
    auto out = content(id, req, true);
    out.fault = r.fault;
    co_return out;
}

net::server_response openrouter_simulator::create(net::server_request& req, std::string& id_out) {
    boost::system::error_code ec;
    auto v = boost::json::parse(req.msg.body(), ec);
    if (ec || !v.is_object()) {
        return bad_request("Invalid JSON body");
    }
    const auto& o = v.as_object();
    video_create c;
    const auto* model_field = o.if_contains("model");
    if (model_field == nullptr || !model_field->is_string() || model_field->as_string().empty()) {
        return bad_request("model: Required");
    }
    c.model = std::string(model_field->as_string());
    const auto model = std::find_if(cfg_.models.begin(),
                                    cfg_.models.end(),
                                    [&](const openrouter_sim_model& m) { return m.id == c.model; });
    if (model == cfg_.models.end()) {
        return error_answer(404, "Model " + c.model + " not found or does not support video generation");
    }
    const auto* prompt = o.if_contains("prompt");
    if (prompt == nullptr || !prompt->is_string() || prompt->as_string().empty()) {
        return bad_request("prompt: Required");
    }
    c.prompt = std::string(prompt->as_string());
    int seconds = model->durations.empty() ? 5 : model->durations.front();
    if (const auto* d = o.if_contains("duration")) {
        c.duration = boost::json::serialize(*d);
        if (!d->is_int64() && !d->is_uint64()) {
            return bad_request("duration: Expected number, received " +
                               std::string(d->is_string() ? "string" : "another type"));
        }
        const auto n = d->to_number<std::int64_t>();
        if (n < 1 || n > 3600 || !listed(model->durations, static_cast<int>(n))) {
            return bad_request("duration " + std::to_string(n) + " is not supported by " + model->id +
                               "; supported durations: " + join(model->durations));
        }
        seconds = static_cast<int>(n);
    }
    c.resolution = "720p";
    if (const auto* res = o.if_contains("resolution")) {
        if (!res->is_string() || !listed(model->resolutions, std::string(res->as_string()))) {
            return bad_request("resolution is not supported by " + model->id +
                               "; supported resolutions: " + join(model->resolutions));
        }
        c.resolution = std::string(res->as_string());
    }
    c.aspect_ratio = "16:9";
    if (const auto* ar = o.if_contains("aspect_ratio")) {
        if (!ar->is_string() || !listed(model->aspect_ratios, std::string(ar->as_string()))) {
            return bad_request("aspect_ratio is not supported by " + model->id +
                               "; supported aspect ratios: " + join(model->aspect_ratios));
        }
        c.aspect_ratio = std::string(ar->as_string());
    }
    if (const auto* audio = o.if_contains("generate_audio")) {
        if (!audio->is_bool()) {
            return bad_request("generate_audio: Expected boolean");
        }
        if (audio->as_bool() && !model->generate_audio) {
            return bad_request(model->id + " cannot generate audio");
        }
        c.generate_audio = audio->as_bool();
    }
    if (const auto* frames = o.if_contains("frame_images")) {
        if (!frames->is_array() || frames->as_array().size() > 2) {
            return bad_request("frame_images: Expected an array of at most two frame images");
        }
        for (const auto& frame : frames->as_array()) {
            const auto* fo = frame.if_object();
            const auto* type = fo ? fo->if_contains("type") : nullptr;
            const auto* image = fo ? fo->if_contains("image_url") : nullptr;
            const auto* url = image && image->is_object() ? image->as_object().if_contains("url") : nullptr;
            const auto* frame_type = fo ? fo->if_contains("frame_type") : nullptr;
            if (type == nullptr || !type->is_string() || type->as_string() != "image_url" || url == nullptr ||
                !url->is_string() || frame_type == nullptr || !frame_type->is_string() ||
                (frame_type->as_string() != "first_frame" && frame_type->as_string() != "last_frame")) {
                return bad_request("frame_images: each entry needs type \"image_url\", image_url.url and "
                                   "frame_type \"first_frame\" or \"last_frame\"");
            }
            const std::string_view text = url->as_string();
            if (text.starts_with("data:")) {
                auto uri = media::decode_data_uri(text);
                if (uri && uri->bytes.size() > cfg_.max_frame_bytes) {
                    return error_answer(413,
                                        "frame image is larger than " + std::to_string(cfg_.max_frame_bytes) +
                                            " bytes");
                }
                if (!uri || !media::read_image_size(uri->bytes)) {
                    return bad_request("frame_images: the image in the data URI could not be decoded");
                }
                if (frame_type->as_string() == "first_frame") {
                    c.frame_mime = uri->mime;
                }
            } else if (!text.starts_with("https://") && !text.starts_with("http://")) {
                return bad_request("frame_images: image_url.url must be a URL or a data URI");
            }
        }
    }
    const auto size = output_size(c.resolution, c.aspect_ratio);
    if (!size) {
        return bad_request("resolution and aspect_ratio do not give a video size");
    }
    const std::int64_t unix_now =
        std::chrono::duration_cast<std::chrono::seconds>(time().wall().time_since_epoch()).count();
    c.id = make_id(unix_now, next_id_++, c.prompt);
    job j;
    j.create = c;
    j.started = time().now();
    j.created_unix = unix_now;
    j.width = size->first;
    j.height = size->second;
    j.seconds = seconds;
    if (!cfg_.refusal_marker.empty() && c.prompt.find(cfg_.refusal_marker) != std::string::npos) {
        j.end = ending::refused;
    }
    creates_.push_back(c);
    auto [it, inserted] = jobs_.emplace(c.id, std::move(j));
    if (!inserted) {
        return error_answer(500, "video id collision");
    }
    id_out = c.id;
    // 202 Accepted, as OpenRouter answers a create (the SDK matches the job only on 202).
    return net::json_response(202, job_json(it->second));
}

openrouter_simulator::phase openrouter_simulator::phase_of(const job& j) const {
    const auto elapsed = time().now() - j.started;
    const auto render_end = cfg_.queue_time + cfg_.render_time;
    if (elapsed < cfg_.queue_time) {
        return phase::pending;
    }
    if (elapsed < render_end) {
        return phase::in_progress;
    }
    switch (j.end) {
    case ending::refused:
    case ending::failed:
        return phase::failed;
    case ending::cancelled:
        return phase::cancelled;
    case ending::expired:
        return phase::expired;
    case ending::video:
        break;
    }
    return elapsed - render_end > cfg_.expiry ? phase::expired : phase::completed;
}

std::string openrouter_simulator::job_json(const job& j) const {
    boost::json::object o{{"id", j.create.id}, {"polling_url", base_url() + "/videos/" + j.create.id}};
    const auto done_unix =
        j.created_unix +
        std::chrono::duration_cast<std::chrono::seconds>(cfg_.queue_time + cfg_.render_time).count();
    switch (phase_of(j)) {
    case phase::pending:
        o["status"] = "pending";
        break;
    case phase::in_progress:
        o["status"] = "in_progress";
        break;
    case phase::completed:
        o["status"] = "completed";
        o["generation_id"] = j.create.id;
        o["unsigned_urls"] = boost::json::array{base_url() + "/videos/" + j.create.id + "/content?index=0"};
        o["expires_at"] = done_unix + std::chrono::duration_cast<std::chrono::seconds>(cfg_.expiry).count();
        o["usage"] = {{"cost", cfg_.cost_per_second_usd * j.seconds}, {"is_byok", false}};
        break;
    case phase::failed:
        o["status"] = "failed";
        o["error"] =
            j.end == ending::refused
                ? "Content moderation: the provider's safety system flagged the request (content policy)."
                : "Provider returned error: the video could not be generated. You were not charged.";
        break;
    case phase::cancelled:
        o["status"] = "cancelled";
        break;
    case phase::expired:
        o["status"] = "expired";
        break;
    }
    return boost::json::serialize(o);
}

net::server_response openrouter_simulator::retrieve(std::string_view id) {
    ++retrieve_requests_;
    auto it = jobs_.find(id);
    if (it == jobs_.end()) {
        return error_answer(404, "Video generation job not found");
    }
    return net::json_response(200, job_json(it->second));
}

net::server_response
openrouter_simulator::content(std::string_view id, net::server_request& req, bool via_cdn) {
    if (!via_cdn) {
        ++content_requests_;
    }
    auto it = jobs_.find(id);
    if (it == jobs_.end()) {
        return error_answer(404, "Video generation job not found");
    }
    job& j = it->second;
    const auto now_phase = phase_of(j);
    if (now_phase == phase::expired) {
        return error_answer(410, "The video has expired and is no longer available");
    }
    if (now_phase != phase::completed) {
        return bad_request("The video generation job is not completed; there is no content to download");
    }
    const std::string_view query = req.query();
    if (!via_cdn && !query.empty() && query != "index=0") {
        return error_answer(404, "No output at that index");
    }
    if (cfg_.content_redirect && !via_cdn) {
        net::server_response out = net::text_response(302, "");
        out.msg.set(net::http::field::location,
                    "http://" + cfg_.redirect_host + ":" + std::to_string(server_.port()) +
                        std::string(cdn_prefix) + j.create.id + ".mp4");
        return out;
    }
    if (j.content.empty()) {
        j.content = media::make_mp4({.width = j.width,
                                     .height = j.height,
                                     .seconds = std::chrono::seconds(j.seconds),
                                     .fps = cfg_.video_fps,
                                     .seed = media::seed_from_text(j.create.prompt)});
    }
    return net::text_response(200, j.content, "video/mp4");
}

net::server_response openrouter_simulator::video_models() const {
    boost::json::array data;
    for (const auto& m : cfg_.models) {
        boost::json::array durations;
        for (int d : m.durations) {
            durations.push_back(d);
        }
        boost::json::array resolutions(m.resolutions.begin(), m.resolutions.end());
        boost::json::array aspects(m.aspect_ratios.begin(), m.aspect_ratios.end());
        data.push_back(boost::json::object{{"id", m.id},
                                           {"canonical_slug", m.id},
                                           {"name", m.name},
                                           {"created", 1772323200},
                                           {"allowed_passthrough_parameters", boost::json::array{}},
                                           {"creativity", nullptr},
                                           {"generate_audio", m.generate_audio},
                                           {"seed", true},
                                           {"supported_aspect_ratios", std::move(aspects)},
                                           {"supported_durations", std::move(durations)},
                                           {"supported_frame_images", boost::json::array{"first_frame"}},
                                           {"supported_resolutions", std::move(resolutions)},
                                           {"supported_sizes", nullptr},
                                           {"upscale_factor", nullptr}});
    }
    return net::json_response(200, boost::json::serialize(boost::json::object{{"data", std::move(data)}}));
}

net::server_response openrouter_simulator::model_list() const {
    boost::json::array data;
    for (const auto& m : cfg_.models) {
        data.push_back(boost::json::object{
            {"id", m.id},
            {"canonical_slug", m.id},
            {"name", m.name},
            {"created", 1772323200},
            {"architecture",
             boost::json::object{{"modality", "text+image->video"},
                                 {"input_modalities", boost::json::array{"text", "image"}},
                                 {"output_modalities", boost::json::array{"video"}}}}});
    }
    return net::json_response(200, boost::json::serialize(boost::json::object{{"data", std::move(data)}}));
}

} // namespace companion::sim
