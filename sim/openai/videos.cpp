// The OpenAI simulator's videos protocol: create (multipart or JSON), retrieve with a clock-driven
// life cycle, content download (optionally through a 302 to a "CDN" path on another host name).
#include "net/multipart.hpp"
#include "sim/media/data_uri.hpp"
#include "sim/media/mp4.hpp"
#include "sim/media/picture.hpp"
#include "sim/media/png.hpp"
#include "sim/openai/simulator.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <charconv>
#include <cstdio>

namespace companion::sim {
namespace {

std::string
video_error(std::string_view message, std::string_view type, std::optional<std::string_view> code) {
    boost::json::object e{{"message", message}, {"type", type}, {"param", nullptr}, {"code", nullptr}};
    if (code) {
        e["code"] = *code;
    }
    return boost::json::serialize(boost::json::object{{"error", std::move(e)}});
}

net::server_response video_not_found(std::string_view id) {
    return net::json_response(404,
                              video_error("Video with id '" + std::string(id) + "' not found.",
                                          "invalid_request_error",
                                          "not_found"));
}

net::server_response bad_request(std::string_view message,
                                 std::optional<std::string_view> code = std::nullopt) {
    return net::json_response(400, video_error(message, "invalid_request_error", code));
}

bool parse_size(std::string_view size, std::uint32_t& w, std::uint32_t& h) {
    const auto x = size.find('x');
    if (x == std::string_view::npos) {
        return false;
    }
    auto a = std::from_chars(size.data(), size.data() + x, w);
    auto b = std::from_chars(size.data() + x + 1, size.data() + size.size(), h);
    return a.ec == std::errc{} && b.ec == std::errc{} && a.ptr == size.data() + x &&
           b.ptr == size.data() + size.size();
}

std::string join(const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) {
        out += (out.empty() ? "'" : ", '") + s + "'";
    }
    return out;
}

engine::duration since(const engine::time_source& time, engine::time_point t) {
    return time.now() - t;
}

} // namespace

engine::awaitable<net::server_response> openai_simulator::handle_videos(net::server_request& req) {
    const std::string_view path = req.path();
    const auto method = req.msg.method();
    std::string_view rest = path.substr(std::string_view("/v1/videos").size());
    std::string fault_method;
    if (rest.empty() && method == net::http::verb::post) {
        fault_method = "videos.create";
    } else if (rest.size() > 1 && rest.ends_with("/content")) {
        fault_method = "videos.content";
    } else {
        fault_method = "videos.retrieve";
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
        auto out = net::json_response(
            429,
            video_error("Rate limit reached for videos per minute.", "requests", "rate_limit_exceeded"));
        out.msg.set("retry-after", std::to_string((ms + 999) / 1000));
        co_return out;
    }
    if (f && f->kind == fault_kind::server_error) {
        co_return net::json_response(f->status != 0 ? f->status : 500,
                                     video_error("The server had an error while processing your request.",
                                                 "server_error",
                                                 std::nullopt));
    }
    if (f && f->kind == fault_kind::custom && f->detail == "quota") {
        co_return net::json_response(
            429,
            video_error("You exceeded your current quota, please check your plan and billing details.",
                        "insufficient_quota",
                        "insufficient_quota"));
    }
    if (fault_method == "videos.create") {
        auto out = create_video(req);
        if (f && (f->kind == fault_kind::refusal || f->detail == "moderation_blocked") &&
            out.msg.result_int() == 200) {
            // The create was accepted; the output check fails the job later, as OpenAI's did.
            boost::system::error_code ec;
            auto v = boost::json::parse(out.msg.body(), ec);
            if (!ec) {
                jobs_.at(std::string(v.as_object().at("id").as_string())).refused = true;
            }
        }
        out.fault = r.fault;
        co_return out;
    }
    if (rest.size() <= 1) {
        co_return net::json_response(
            405,
            video_error("Method not allowed.", "invalid_request_error", std::nullopt));
    }
    rest.remove_prefix(1);
    if (rest.ends_with("/content")) {
        auto out = video_content(rest.substr(0, rest.size() - 8), req);
        out.fault = r.fault;
        co_return out;
    }
    if (method == net::http::verb::delete_) {
        auto gone = jobs_.find(rest);
        if (gone == jobs_.end()) {
            co_return net::json_response(
                404,
                video_error("Video not found.", "invalid_request_error", "not_found"));
        }
        jobs_.erase(gone);
        co_return net::json_response(
            200,
            boost::json::serialize(
                boost::json::object{{"id", rest}, {"object", "video.deleted"}, {"deleted", true}}));
    }
    auto out = retrieve_video(rest);
    out.fault = r.fault;
    co_return out;
}

net::server_response openai_simulator::create_video(net::server_request& req) {
    video_create c;
    std::string reference;
    const std::string content_type = req.header("content-type");
    if (auto boundary = net::multipart_boundary(content_type)) {
        auto parts = net::parse_multipart(req.msg.body(), *boundary);
        if (!parts) {
            return bad_request("Could not parse multipart form: " + parts.error().detail);
        }
        bool have_seconds = false;
        for (auto& p : *parts) {
            if (p.name == "prompt") {
                c.prompt = p.data;
            } else if (p.name == "model") {
                c.model = p.data;
            } else if (p.name == "seconds") {
                c.seconds = p.data;
                have_seconds = true;
            } else if (p.name == "size") {
                c.size = p.data;
            } else if (p.name == "input_reference") {
                reference = std::move(p.data);
                c.reference_mime = p.content_type;
            }
        }
        if (!have_seconds) {
            c.seconds = "4";
        }
    } else {
        boost::system::error_code ec;
        auto v = boost::json::parse(req.msg.body(), ec);
        if (ec || !v.is_object()) {
            return bad_request("We could not parse the JSON body of your request.");
        }
        const auto& o = v.as_object();
        if (const auto* p = o.if_contains("prompt"); p && p->is_string()) {
            c.prompt = std::string(p->as_string());
        }
        if (const auto* m = o.if_contains("model"); m && m->is_string()) {
            c.model = std::string(m->as_string());
        }
        if (const auto* s = o.if_contains("seconds")) {
            if (!s->is_string()) {
                return bad_request("Invalid type for 'seconds': expected one of " +
                                   join(cfg_.allowed_seconds) + ", but got a number instead.");
            }
            c.seconds = std::string(s->as_string());
        } else {
            c.seconds = "4";
        }
        if (const auto* s = o.if_contains("size"); s && s->is_string()) {
            c.size = std::string(s->as_string());
        }
        if (const auto* ir = o.if_contains("input_reference"); ir && ir->is_object()) {
            if (const auto* url = ir->as_object().if_contains("image_url"); url && url->is_string()) {
                auto uri = media::decode_data_uri(std::string_view(url->as_string()));
                if (!uri) {
                    return bad_request("input_reference.image_url must be a data: URL in this simulator.");
                }
                c.reference_mime = std::move(uri->mime);
                reference = std::move(uri->bytes);
            }
        }
    }
    if (c.model.empty()) {
        c.model = "sora-2";
    }
    if (c.size.empty()) {
        c.size = "720x1280";
    }
    if (c.prompt.empty()) {
        return bad_request("Missing required parameter: 'prompt'.", "missing_required_parameter");
    }
    if (!cfg_.video_models.empty() &&
        std::find(cfg_.video_models.begin(), cfg_.video_models.end(), c.model) == cfg_.video_models.end()) {
        return net::json_response(404,
                                  video_error("The model `" + c.model + "` does not exist.",
                                              "invalid_request_error",
                                              "model_not_found"));
    }
    if (std::find(cfg_.allowed_seconds.begin(), cfg_.allowed_seconds.end(), c.seconds) ==
        cfg_.allowed_seconds.end()) {
        return bad_request("Invalid value: '" + c.seconds +
                           "'. Supported values are: " + join(cfg_.allowed_seconds) + ".");
    }
    std::uint32_t w = 0;
    std::uint32_t h = 0;
    if (std::find(cfg_.allowed_sizes.begin(), cfg_.allowed_sizes.end(), c.size) == cfg_.allowed_sizes.end() ||
        !parse_size(c.size, w, h)) {
        return bad_request("Invalid value: '" + c.size +
                           "'. Supported values are: " + join(cfg_.allowed_sizes) + ".");
    }
    if (!c.reference_mime.empty() || !reference.empty()) {
        if (c.reference_mime != "image/jpeg" && c.reference_mime != "image/png" &&
            c.reference_mime != "image/webp") {
            return bad_request(
                "Invalid file format for input_reference. Supported formats: image/jpeg, image/png, "
                "image/webp.");
        }
        const auto dims = media::read_image_size(reference);
        if (!dims) {
            return bad_request("The input_reference image could not be decoded.");
        }
        if (dims->width != w || dims->height != h) {
            return bad_request("Inpaint image must match the requested width and height");
        }
    }
    char hex[17];
    std::snprintf(
        hex,
        sizeof hex,
        "%016llx",
        static_cast<unsigned long long>(media::seed_from_text(c.prompt + std::to_string(next_id_))));
    c.id = "video_sim" + std::to_string(next_id_++) + hex;
    job j;
    j.create = c;
    j.started = time().now();
    j.created_at =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    j.refused = c.prompt.find(cfg_.refusal_marker) != std::string::npos && !cfg_.refusal_marker.empty();
    creates_.push_back(c);
    auto [it, inserted] = jobs_.emplace(c.id, std::move(j));
    (void)inserted;
    return net::json_response(200, job_json(it->second));
}

std::string openai_simulator::job_json(const job& j) const {
    const auto elapsed = since(time(), j.started);
    boost::json::object o{
        {"id", j.create.id},
        {"object", "video"},
        {"model", j.create.model},
        {"created_at", j.created_at},
        {"completed_at", nullptr},
        {"expires_at", nullptr},
        {"prompt", j.create.prompt},
        {"seconds", j.create.seconds},
        {"size", j.create.size},
        {"remixed_from_video_id", nullptr},
        {"error", nullptr},
    };
    const auto render_end = cfg_.queue_time + cfg_.render_time;
    if (elapsed < cfg_.queue_time) {
        o["status"] = "queued";
        o["progress"] = 0;
    } else if (elapsed < render_end) {
        const double share = std::chrono::duration<double>(elapsed - cfg_.queue_time).count() /
                             std::chrono::duration<double>(cfg_.render_time).count();
        o["status"] = "in_progress";
        o["progress"] = 1 + static_cast<int>(share * 98);
    } else if (j.refused) {
        o["status"] = "failed";
        o["progress"] = 0;
        o["error"] = {{"code", "moderation_blocked"},
                      {"message", "Your request was blocked by our moderation system."}};
    } else {
        const auto done_at =
            j.created_at + std::chrono::duration_cast<std::chrono::seconds>(render_end).count();
        o["status"] = "completed";
        o["progress"] = 100;
        o["completed_at"] = done_at;
        o["expires_at"] = done_at + std::chrono::duration_cast<std::chrono::seconds>(cfg_.expiry).count();
    }
    return boost::json::serialize(o);
}

net::server_response openai_simulator::retrieve_video(std::string_view id) {
    auto it = jobs_.find(id);
    if (it == jobs_.end()) {
        return video_not_found(id);
    }
    return net::json_response(200, job_json(it->second));
}

net::server_response openai_simulator::video_content(std::string_view id, net::server_request& req) {
    auto it = jobs_.find(id);
    if (it == jobs_.end()) {
        return video_not_found(id);
    }
    job& j = it->second;
    const auto elapsed = since(time(), j.started);
    const auto render_end = cfg_.queue_time + cfg_.render_time;
    if (elapsed < render_end || j.refused) {
        return bad_request(j.refused ? "Video generation failed; there is no content to download."
                                     : "Video is not ready yet. Wait until its status is 'completed'.",
                           "video_not_ready");
    }
    if (elapsed > render_end + cfg_.expiry) {
        return net::json_response(
            404,
            video_error("The video content has expired.", "invalid_request_error", "expired"));
    }
    if (cfg_.content_redirect && req.path().substr(0, 5) != "/_cdn") {
        net::server_response out = net::text_response(302, "");
        out.msg.set(net::http::field::location,
                    "http://" + cfg_.redirect_host + ":" + std::to_string(server_.port()) + "/_cdn/videos/" +
                        std::string(id) + ".mp4?sig=sim");
        return out;
    }
    if (j.content.empty()) {
        std::uint32_t w = 0;
        std::uint32_t h = 0;
        parse_size(j.create.size, w, h);
        int seconds = 4;
        std::from_chars(j.create.seconds.data(), j.create.seconds.data() + j.create.seconds.size(), seconds);
        j.content = media::make_mp4({.width = w,
                                     .height = h,
                                     .seconds = std::chrono::seconds(seconds),
                                     .fps = cfg_.video_fps,
                                     .seed = media::seed_from_text(j.create.prompt)});
    }
    return net::text_response(200, j.content, "video/mp4");
}

engine::awaitable<net::server_response> openai_simulator::handle_cdn(net::server_request& req) {
    ++cdn_requests_;
    if (!req.header("authorization").empty()) {
        ++cdn_with_auth_;
    }
    std::string_view path = req.path();
    constexpr std::string_view prefix = "/_cdn/videos/";
    if (path.substr(0, prefix.size()) != prefix || !path.ends_with(".mp4")) {
        co_return net::json_response(404, video_error("Not found.", "invalid_request_error", std::nullopt));
    }
    path.remove_prefix(prefix.size());
    path.remove_suffix(4);
    co_return video_content(path, req);
}

} // namespace companion::sim
