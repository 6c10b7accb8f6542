// The fal queue simulator: schema checks per model, a clock-driven life cycle, results and errors
// in fal's shapes, cancellation and a CDN on another host name.
#include "sim/fal/simulator.hpp"

#include "sim/media/data_uri.hpp"
#include "sim/media/mp4.hpp"
#include "sim/media/picture.hpp"
#include "sim/media/png.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <ctime>

namespace companion::sim {
namespace {

net::server_response detail_text(unsigned status, std::string_view text) {
    return net::json_response(status, boost::json::serialize(boost::json::object{{"detail", text}}));
}

/// FastAPI's validation shape: {"detail": [{"loc": ["body", field], "msg", "type"}]}.
net::server_response validation(std::string_view field, std::string_view msg, std::string_view type) {
    boost::json::object entry{{"loc", boost::json::array{"body", field}}, {"msg", msg}, {"type", type}};
    return net::json_response(
        422,
        boost::json::serialize(boost::json::object{{"detail", boost::json::array{entry}}}));
}

net::server_response flagged(std::string_view field) {
    boost::json::object entry{
        {"loc", boost::json::array{"body", field}},
        {"msg",
         "The content could not be processed because it contained material flagged by a content checker."},
        {"type", "content_policy_violation"},
        {"url", "https://docs.fal.ai/errors#content_policy_violation"}};
    return net::json_response(
        422,
        boost::json::serialize(boost::json::object{{"detail", boost::json::array{entry}}}));
}

std::string permitted(const fal_sim_model& m) {
    std::string out;
    for (int s : m.allowed_seconds) {
        const std::string v = m.duration_type == "number"           ? std::to_string(s)
                              : m.duration_type == "string_seconds" ? "'" + std::to_string(s) + "s'"
                                                                    : "'" + std::to_string(s) + "'";
        out += (out.empty() ? "" : ", ") + v;
    }
    return out;
}

/// The duration as the model's schema wants it, else nullopt.
std::optional<int> read_duration(const fal_sim_model& m, const boost::json::value& v) {
    int n = 0;
    if (m.duration_type == "number") {
        if (!v.is_int64() && !v.is_uint64()) {
            return std::nullopt;
        }
        n = static_cast<int>(v.to_number<std::int64_t>());
    } else {
        if (!v.is_string()) {
            return std::nullopt;
        }
        std::string_view s = v.as_string();
        if (m.duration_type == "string_seconds") {
            if (!s.ends_with("s")) {
                return std::nullopt;
            }
            s.remove_suffix(1);
        }
        const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
        if (ec != std::errc{} || p != s.data() + s.size()) {
            return std::nullopt;
        }
    }
    if (std::find(m.allowed_seconds.begin(), m.allowed_seconds.end(), n) == m.allowed_seconds.end()) {
        return std::nullopt;
    }
    return n;
}

/// fal's log timestamps: ISO 8601 in UTC with microseconds ("2026-11-30T12:00:00.250000").
std::string iso_time(engine::wall_time t) {
    const auto ms = t.time_since_epoch().count();
    const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char text[40];
    const auto n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
    std::snprintf(text + n, sizeof text - n, ".%03lld000", static_cast<long long>(ms % 1000));
    return text;
}

/// fal names the request on every queue answer about it (the SDK reads this header for the
/// `requestId` of a result and of an error).
void name_request(net::server_response& r, std::string_view request_id) {
    r.msg.set("x-fal-request-id", request_id);
}

} // namespace

std::vector<fal_sim_model> default_fal_models() {
    return {
        {.endpoint = "fal-ai/kling-video/v3/standard/image-to-video",
         .image_field = "image_url",
         .duration_type = "string",
         .allowed_seconds = {3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
         .aspect_field = {}},
        {.endpoint = "minimax/h3/image-to-video",
         .image_field = "image_url",
         .duration_type = "number",
         .allowed_seconds = {5, 6, 10},
         .aspect_field = {}},
        {.endpoint = "fal-ai/veo3.1/fast/image-to-video",
         .image_field = "image_url",
         .duration_type = "string_seconds",
         .allowed_seconds = {4, 6, 8},
         .aspect_field = "aspect_ratio"},
        {.endpoint = "google/gemini-omni-flash/image-to-video",
         .image_field = "image_url",
         .duration_type = "number",
         .allowed_seconds = {3, 4, 5, 6, 7, 8, 9, 10},
         .aspect_field = "aspect_ratio"},
        {.endpoint = "wan/v2.6/image-to-video",
         .image_field = "image_url",
         .duration_type = "string",
         .allowed_seconds = {5, 10, 15},
         .aspect_field = {}},
    };
}

fal_simulator::fal_simulator(engine::executor ex, fal_sim_config cfg)
    : provider_service(ex, cfg.server, cfg.time), cfg_(std::move(cfg)) {
    server_.fallback([this](net::server_request& req) { return handle(req); });
}

std::string fal_simulator::base_url() const {
    return server_.base_url();
}

bool fal_simulator::completed(const job& j) const {
    return time().now() - j.started >= cfg_.queue_time + cfg_.render_time;
}

std::string fal_simulator::request_url(const job& j) const {
    return server_.base_url() + j.alias_path + "/requests/" + j.create.request_id;
}

std::string fal_simulator::cdn_url(const job& j) const {
    return "http://" + cfg_.cdn_host + ":" + std::to_string(server_.port()) + "/_cdn/fal/" +
           j.create.request_id + ".mp4";
}

engine::awaitable<net::server_response> fal_simulator::handle(net::server_request& req) {
    const std::string path(req.path());
    const auto method = req.msg.method();
    if (path.starts_with("/_cdn/fal/")) {
        net::server_response r;
        std::optional<fault> f;
        auto early = co_await begin("cdn", f, r, std::nullopt);
        if (early) {
            co_return std::move(*early);
        }
        std::string_view id = std::string_view(path).substr(10);
        if (!id.ends_with(".mp4")) {
            co_return detail_text(404, "Not Found");
        }
        id.remove_suffix(4);
        auto out = cdn(id, req);
        out.fault = r.fault;
        co_return out;
    }
    // Which queue call this is: .../requests/{id}[/status|/cancel], else a submit.
    std::string fault_method = "queue.submit";
    std::string id;
    bool is_status = false;
    bool is_cancel = false;
    if (const auto at = path.find("/requests/"); at != std::string::npos) {
        std::string_view rest = std::string_view(path).substr(at + 10);
        if (rest.ends_with("/status")) {
            rest.remove_suffix(7);
            is_status = true;
            fault_method = "queue.status";
        } else if (rest.ends_with("/status/stream")) {
            co_return detail_text(405, "Streaming status is not simulated; poll the status URL.");
        } else if (rest.ends_with("/cancel")) {
            rest.remove_suffix(7);
            is_cancel = true;
            fault_method = "queue.cancel";
        } else {
            fault_method = "queue.result";
        }
        id = std::string(rest);
    }
    std::optional<net::server_response> denied;
    if (!cfg_.api_key.empty() && req.header("authorization") != "Key " + cfg_.api_key) {
        // fal does not echo the key either.
        denied = detail_text(401, "No user found for Key ID and Secret");
    }
    net::server_response r;
    std::optional<fault> f;
    auto early = co_await begin(fault_method, f, r, denied);
    if (early) {
        co_return std::move(*early);
    }
    if (f && f->kind == fault_kind::rate_limited) {
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(f->delay).count();
        auto out = detail_text(429, "Too many requests: the concurrent request limit was reached.");
        out.msg.set("retry-after", std::to_string((ms + 999) / 1000));
        co_return out;
    }
    if (f && f->kind == fault_kind::server_error) {
        co_return detail_text(f->status != 0 ? f->status : 500, "Internal Server Error");
    }
    if (f && f->kind == fault_kind::custom && f->detail == "locked") {
        co_return detail_text(
            403,
            "User is locked. Reason: Exhausted balance. Top up your balance at fal.ai/dashboard/billing.");
    }
    if (fault_method == "queue.submit") {
        if (method != net::http::verb::post) {
            co_return detail_text(405, "Method Not Allowed");
        }
        const std::string endpoint = path.size() > 1 ? path.substr(1) : std::string();
        const auto model = std::find_if(cfg_.models.begin(), cfg_.models.end(), [&](const fal_sim_model& m) {
            return m.endpoint == endpoint;
        });
        if (model == cfg_.models.end() || (f && f->kind == fault_kind::custom && f->detail == "model_gone")) {
            co_return detail_text(404, "Application '" + endpoint + "' not found");
        }
        if (f && f->kind == fault_kind::refusal && f->detail == "at_submit") {
            co_return flagged(model->image_field);
        }
        std::string new_id;
        auto out = submit(*model, req, new_id);
        if (!new_id.empty()) {
            name_request(out, new_id);
        }
        if (!new_id.empty() && f) {
            job& j = jobs_.at(new_id);
            if (f->kind == fault_kind::refusal) {
                j.end = ending::flagged_image;
            } else if (f->kind == fault_kind::custom && f->detail == "failed") {
                j.end = ending::failed;
            } else if (f->kind == fault_kind::custom && f->detail == "expired") {
                j.expire_at_once = true;
            }
        }
        out.fault = r.fault;
        co_return out;
    }
    auto it = jobs_.find(id);
    if (it == jobs_.end() || path.find(it->second.alias_path + "/requests/") != 0) {
        co_return detail_text(404, "Request not found");
    }
    net::server_response out;
    if (is_status) {
        out = status(it->second, req.target().find("logs=1") != std::string_view::npos);
    } else if (is_cancel) {
        if (method != net::http::verb::put) {
            co_return detail_text(405, "Method Not Allowed");
        }
        out = cancel(it->second);
    } else {
        out = result(it->second);
    }
    name_request(out, it->second.create.request_id);
    out.fault = r.fault;
    co_return out;
}

net::server_response
fal_simulator::submit(const fal_sim_model& model, net::server_request& req, std::string& id_out) {
    boost::system::error_code ec;
    auto v = boost::json::parse(req.msg.body(), ec);
    if (ec || !v.is_object()) {
        return validation("body", "value is not a valid dict", "type_error.dict");
    }
    const auto& o = v.as_object();
    video_create c;
    const auto* prompt = o.if_contains("prompt");
    if (prompt == nullptr || !prompt->is_string() || prompt->as_string().empty()) {
        return validation("prompt", "field required", "value_error.missing");
    }
    c.prompt = std::string(prompt->as_string());
    const auto* image = o.if_contains(model.image_field);
    if (image == nullptr || !image->is_string()) {
        return validation(model.image_field, "field required", "value_error.missing");
    }
    std::uint32_t width = 720;
    std::uint32_t height = 1280;
    const std::string_view image_text = image->as_string();
    if (image_text.starts_with("data:")) {
        auto uri = media::decode_data_uri(image_text);
        const auto dims = uri ? media::read_image_size(uri->bytes) : std::nullopt;
        if (uri) {
            c.image_mime = uri->mime;
        }
        if (!dims) {
            return validation(model.image_field,
                              "Could not decode the image in the data URI.",
                              "image_load_error");
        }
        width = dims->width & ~1U;
        height = dims->height & ~1U;
    } else if (!image_text.starts_with("https://") && !image_text.starts_with("http://")) {
        return validation(model.image_field, "Input should be a valid URL or data URI.", "url_parsing");
    }
    int seconds = model.allowed_seconds.empty() ? 5 : model.allowed_seconds.front();
    if (const auto* d = o.if_contains("duration")) {
        c.duration = boost::json::serialize(*d);
        auto n = read_duration(model, *d);
        if (!n) {
            return validation("duration",
                              "unexpected value; permitted: " + permitted(model),
                              "value_error.const");
        }
        seconds = *n;
    }
    if (!model.aspect_field.empty()) {
        if (const auto* a = o.if_contains(model.aspect_field)) {
            if (!a->is_string() ||
                (a->as_string() != "9:16" && a->as_string() != "16:9" && a->as_string() != "1:1")) {
                return validation(model.aspect_field,
                                  "unexpected value; permitted: '16:9', '9:16', '1:1'",
                                  "value_error.const");
            }
        }
    }
    char hex[9];
    std::snprintf(hex,
                  sizeof hex,
                  "%08llx",
                  static_cast<unsigned long long>(media::seed_from_text(c.prompt + std::to_string(next_id_)) &
                                                  0xffffffffULL));
    c.request_id = std::string(hex) + "-sim0-4fa1-" + std::to_string(1000 + next_id_++);
    c.endpoint = model.endpoint;
    c.body = req.msg.body();
    job j;
    j.create = c;
    const auto second_slash = model.endpoint.find('/', model.endpoint.find('/') + 1);
    j.alias_path = "/" + model.endpoint.substr(0, second_slash);
    j.started = time().now();
    j.width = width;
    j.height = height;
    j.seconds = seconds;
    if (!cfg_.refusal_marker.empty() && c.prompt.find(cfg_.refusal_marker) != std::string::npos) {
        j.end = ending::flagged_prompt;
    }
    creates_.push_back(c);
    id_out = c.request_id;
    auto [it, inserted] = jobs_.emplace(c.request_id, std::move(j));
    if (!inserted) {
        return detail_text(500, "request id collision");
    }
    // The submit answer is the request's first status (the SDK types it InQueueQueueStatus).
    const std::string url = request_url(it->second);
    return net::json_response(200,
                              boost::json::serialize(boost::json::object{{"status", "IN_QUEUE"},
                                                                         {"request_id", c.request_id},
                                                                         {"response_url", url},
                                                                         {"status_url", url + "/status"},
                                                                         {"cancel_url", url + "/cancel"},
                                                                         {"queue_position", 0}}));
}

net::server_response fal_simulator::status(job& j, bool logs) {
    ++status_requests_;
    const auto elapsed = time().now() - j.started;
    // Every status names the request and its three URLs, as the submit answer did.
    const std::string url = request_url(j);
    boost::json::object o{{"request_id", j.create.request_id},
                          {"response_url", url},
                          {"status_url", url + "/status"},
                          {"cancel_url", url + "/cancel"}};
    if (j.cancelled || completed(j)) {
        o["status"] = "COMPLETED";
        o["logs"] = logs ? boost::json::value(boost::json::array{}) : boost::json::value(nullptr);
        o["metrics"] = {{"inference_time", std::chrono::duration<double>(cfg_.render_time).count()}};
        return net::json_response(200, boost::json::serialize(o));
    }
    if (elapsed < cfg_.queue_time) {
        o["status"] = "IN_QUEUE";
        o["queue_position"] = 0;
    } else {
        o["status"] = "IN_PROGRESS";
        boost::json::object line{{"message", "rendering"},
                                 {"level", "INFO"},
                                 {"source", "USER"},
                                 {"timestamp", iso_time(time().wall())}};
        o["logs"] =
            logs ? boost::json::value(boost::json::array{std::move(line)}) : boost::json::value(nullptr);
    }
    return net::json_response(202, boost::json::serialize(o));
}

net::server_response fal_simulator::result(job& j) {
    ++result_requests_;
    if (j.cancelled) {
        return detail_text(400, "Request was cancelled");
    }
    if (!completed(j)) {
        return detail_text(400, "Request is still in progress");
    }
    switch (j.end) {
    case ending::flagged_prompt:
        return flagged("prompt");
    case ending::flagged_image:
        return flagged("image_url");
    case ending::failed:
        return detail_text(500, "Internal error during inference. The request was not billed.");
    case ending::video:
        break;
    }
    boost::json::object video{{"url", cdn_url(j)},
                              {"content_type", "video/mp4"},
                              {"file_name", "output.mp4"},
                              {"file_size", nullptr}};
    if (!j.content.empty()) {
        video["file_size"] = j.content.size();
    }
    return net::json_response(200,
                              boost::json::serialize(boost::json::object{
                                  {"video", std::move(video)},
                                  {"seed", media::seed_from_text(j.create.prompt) % 100000}}));
}

net::server_response fal_simulator::cancel(job& j) {
    if (j.cancelled || completed(j)) {
        return net::json_response(400, R"({"status":"ALREADY_COMPLETED"})");
    }
    ++cancels_;
    j.cancelled = true;
    return net::json_response(202, R"({"status":"CANCELLATION_REQUESTED"})");
}

net::server_response fal_simulator::cdn(std::string_view id, net::server_request& req) {
    ++cdn_requests_;
    if (!req.header("authorization").empty()) {
        ++cdn_with_auth_;
    }
    auto it = jobs_.find(id);
    if (it == jobs_.end() || it->second.end != ending::video || it->second.cancelled ||
        !completed(it->second)) {
        return detail_text(404, "Not Found");
    }
    job& j = it->second;
    const auto done_at = j.started + cfg_.queue_time + cfg_.render_time;
    if (j.expire_at_once || time().now() - done_at > cfg_.expiry) {
        return net::text_response(403,
                                  "<?xml version=\"1.0\"?><Error><Code>AccessDenied</Code><Message>Request "
                                  "has expired</Message></Error>",
                                  "application/xml");
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

} // namespace companion::sim
