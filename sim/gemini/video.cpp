// The Gemini simulator's video APIs: Omni interactions, Veo operations (API key and Vertex) and
// the file download with its redirect hop.
#include "engine/time.hpp"
#include "net/gemini/base64.hpp"
#include "sim/gemini/detail/requests.hpp"
#include "sim/gemini/simulator.hpp"
#include "sim/media/mp4.hpp"
#include "sim/media/picture.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <charconv>

namespace companion::sim {

using namespace gemini_detail;

namespace {

// The Interactions layer reports its own validation errors with a string code.
net::server_response invalid_request(std::string_view message) {
    return net::json_response(400,
                              boost::json::serialize(boost::json::object{
                                  {"error", {{"code", "invalid_request"}, {"message", message}}}}));
}

bool parse_duration_string(std::string_view text, int& seconds) {
    if (text.size() < 2 || text.back() != 's') {
        return false;
    }
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size() - 1, seconds);
    return ec == std::errc{} && p == text.data() + text.size() - 1;
}

struct video_dims {
    std::uint32_t w = 0;
    std::uint32_t h = 0;
};

std::optional<video_dims> dims_for(std::string_view aspect, std::string_view resolution) {
    std::uint32_t short_side = 0;
    if (resolution == "360p") {
        short_side = 360;
    } else if (resolution == "720p") {
        short_side = 720;
    } else if (resolution == "1080p") {
        short_side = 1080;
    } else {
        return std::nullopt;
    }
    const std::uint32_t long_side = short_side * 16 / 9;
    if (aspect == "9:16") {
        return video_dims{short_side, long_side};
    }
    if (aspect == "16:9") {
        return video_dims{long_side, short_side};
    }
    return std::nullopt;
}

const boost::json::value* field(const boost::json::object& o, std::string_view key) {
    return o.if_contains(key);
}

std::string string_field(const boost::json::object& o, std::string_view key, std::string fallback = {}) {
    const auto* v = o.if_contains(key);
    return v && v->is_string() ? std::string(v->as_string()) : fallback;
}

} // namespace

std::string gemini_simulator::file_uri(const std::string& file_id) const {
    return server_.base_url() + "/v1beta/files/" + file_id + ":download?alt=media";
}

std::string gemini_simulator::new_file(const video_create& c) {
    const std::string id = "simfile" + std::to_string(next_id_++);
    files_[id] = stored_video{c.width, c.height, c.seconds, media::seed_from_text(c.prompt), {}};
    return id;
}

const std::string& gemini_simulator::video_bytes(const std::string& file_id) {
    auto& f = files_.at(file_id);
    if (f.bytes.empty()) {
        f.bytes = media::make_mp4({.width = f.width,
                                   .height = f.height,
                                   .seconds = std::chrono::seconds(f.seconds),
                                   .fps = cfg_.video_fps,
                                   .seed = f.seed});
    }
    return f.bytes;
}

engine::awaitable<net::server_response> gemini_simulator::handle_interactions(net::server_request& req) {
    const bool create = req.msg.method() == net::http::verb::post && req.path() == "/v1beta/interactions";
    net::server_response r;
    std::optional<fault> f;
    const auto denied = check_key(req);
    auto early = co_await begin(create ? "interactions.create" : "interactions.get", f, r, denied);
    if (early) {
        co_return std::move(*early);
    }
    net::server_response out;
    if (f && f->kind == fault_kind::rate_limited) {
        out = rate_limited(std::chrono::duration_cast<std::chrono::milliseconds>(f->delay), false);
    } else if (f && f->kind == fault_kind::server_error) {
        out = f->status == 503
                  ? error_response(503, "UNAVAILABLE", "The model is overloaded. Please try again later.")
                  : error_response(f->status != 0 ? f->status : 500,
                                   "INTERNAL",
                                   "An internal error has occurred.");
    } else if (create) {
        out = create_interaction(req, f ? &*f : nullptr);
    } else {
        std::string_view id = req.path().substr(std::string_view("/v1beta/interactions/").size());
        out = get_interaction(id);
    }
    out.fault = r.fault;
    co_return out;
}

net::server_response gemini_simulator::create_interaction(const net::server_request& req, const fault* f) {
    boost::system::error_code ec;
    const auto v = boost::json::parse(req.msg.body(), ec);
    if (ec || !v.is_object()) {
        return invalid_request("The request body is not valid JSON.");
    }
    const auto& body = v.as_object();
    video_create c;
    c.api = "omni";
    c.model = string_field(body, "model");
    if (f && f->kind == fault_kind::custom && f->detail == "model_gone") {
        return gemini_detail::model_gone(c.model, "gemini-omni-1.1-flash");
    }
    if (auto bad = check_model(c.model, cfg_.omni_models)) {
        return std::move(*bad);
    }
    const auto* background = field(body, "background");
    if (background == nullptr || !background->is_bool() || !background->as_bool()) {
        return invalid_request("This simulator serves background interactions only: set background to true.");
    }
    const auto* input = field(body, "input");
    if (input != nullptr && input->is_string()) {
        c.prompt = std::string(input->as_string());
    } else if (input != nullptr && input->is_array()) {
        for (const auto& block : input->as_array()) {
            if (!block.is_object()) {
                continue;
            }
            const auto& b = block.as_object();
            const std::string type = string_field(b, "type");
            if (type == "text") {
                c.prompt += string_field(b, "text");
            } else if (type == "image") {
                const std::string mime = string_field(b, "mime_type");
                if (mime != "image/png" && mime != "image/jpeg" && mime != "image/webp") {
                    return invalid_request("Unsupported image mime_type: " + mime);
                }
                if (!net::gemini::decode_base64(string_field(b, "data"))) {
                    return invalid_request("Image data is not valid base64.");
                }
                c.with_image = true;
            }
        }
    }
    if (c.prompt.empty()) {
        return invalid_request("input must contain a text block.");
    }
    std::string aspect = "16:9";
    std::string resolution = "720p";
    std::string delivery = "uri";
    c.seconds = 8; // the model picks 3-10 s when no duration is given
    if (const auto* rf = field(body, "response_format"); rf && rf->is_object()) {
        const auto& o = rf->as_object();
        if (string_field(o, "type", "video") != "video") {
            return invalid_request("response_format.type must be video for this model.");
        }
        aspect = string_field(o, "aspect_ratio", aspect);
        resolution = string_field(o, "resolution", resolution);
        delivery = string_field(o, "delivery", delivery);
        if (const auto* d = o.if_contains("duration")) {
            if (!d->is_string() || !parse_duration_string(std::string_view(d->as_string()), c.seconds)) {
                return invalid_request("Invalid duration: expected a Duration string such as \"8s\".");
            }
            if (c.seconds < 3 || c.seconds > 10) {
                return invalid_request("duration must be between 3s and 10s.");
            }
        }
    }
    const auto dims = dims_for(aspect, resolution);
    if (!dims || (delivery != "uri" && delivery != "inline")) {
        return invalid_request("Unsupported aspect_ratio, resolution or delivery.");
    }
    c.width = dims->w;
    c.height = dims->h;
    if (f && f->kind == fault_kind::custom && f->detail == "safety_400") {
        return invalid_request("The request was blocked because it may violate our safety policy.");
    }
    c.id = "v1_sim" + std::to_string(next_id_++);
    video_job j;
    j.create = c;
    j.started = time().now();
    j.inline_delivery = delivery == "inline" || (f && f->detail == "inline");
    if ((f && f->kind == fault_kind::refusal) ||
        (!cfg_.block_marker.empty() && c.prompt.find(cfg_.block_marker) != std::string::npos)) {
        j.end = video_end::refused;
    } else if (f && f->detail == "failed") {
        j.end = video_end::failed;
    } else if (f && f->detail == "model_output_error") {
        j.end = video_end::model_output_error;
    } else {
        j.file_id = new_file(c);
    }
    creates_.push_back(c);
    jobs_.emplace(c.id, std::move(j));
    return net::json_response(200,
                              boost::json::serialize(boost::json::object{
                                  {"id", c.id},
                                  {"status", cfg_.queue_time.count() > 0 ? "queued" : "in_progress"},
                                  {"object", "interaction"},
                                  {"model", c.model}}));
}

net::server_response gemini_simulator::get_interaction(std::string_view id) {
    auto it = jobs_.find(id);
    if (it == jobs_.end() || it->second.create.api != "omni") {
        return error_response(400, "INVALID_ARGUMENT", "Invalid interaction name: " + std::string(id));
    }
    const video_job& j = it->second;
    const auto elapsed = time().now() - j.started;
    boost::json::object o{{"id", j.create.id}, {"object", "interaction"}, {"model", j.create.model}};
    if (elapsed < cfg_.queue_time) {
        o["status"] = "queued";
    } else if (elapsed < cfg_.queue_time + cfg_.render_time) {
        o["status"] = "in_progress";
    } else {
        boost::json::array steps{boost::json::object{{"type", "user_input"}},
                                 boost::json::object{{"type", "thought"}, {"signature", "sim-signature"}}};
        switch (j.end) {
        case video_end::video: {
            boost::json::object video{{"type", "video"}, {"mime_type", "video/mp4"}};
            if (j.inline_delivery || cfg_.omni_inline_on_poll) {
                video["data"] = net::gemini::encode_base64(video_bytes(j.file_id));
            } else {
                video["uri"] = file_uri(j.file_id);
            }
            steps.push_back(
                boost::json::object{{"type", "model_output"}, {"content", boost::json::array{video}}});
            o["status"] = "completed";
            o["usage"] = {{"output_tokens_by_modality",
                           boost::json::array{boost::json::object{{"modality", "video"},
                                                                  {"tokens", 5792 * j.create.seconds}}}}};
            break;
        }
        case video_end::refused:
            steps.push_back(boost::json::object{
                {"type", "model_output"},
                {"content",
                 boost::json::array{
                     boost::json::object{{"type", "text"}, {"text", "I can't create that video."}}}}});
            o["status"] = "completed";
            break;
        case video_end::failed:
            o["status"] = "failed";
            o["errors"] = boost::json::array{
                boost::json::object{{"code", "generativelanguage.googleapis.com/video_generation_failed"},
                                    {"message", "Video generation failed. Please try again later."}}};
            break;
        default:
            steps.push_back(boost::json::object{
                {"type", "model_output"},
                {"error", {{"code", 13}, {"message", "Internal error while generating the video."}}}});
            o["status"] = "failed";
            break;
        }
        o["steps"] = std::move(steps);
    }
    return net::json_response(200, boost::json::serialize(o));
}

net::server_response gemini_simulator::predict(std::string_view model,
                                               bool vertex,
                                               const net::server_request& req,
                                               const fault* f) {
    boost::json::object body;
    if (auto bad = check_request(model, cfg_.veo_models, req, body)) {
        return std::move(*bad);
    }
    const auto* instances = field(body, "instances");
    if (instances == nullptr || !instances->is_array() || instances->as_array().empty() ||
        !instances->as_array().front().is_object()) {
        return error_response(400, "INVALID_ARGUMENT", "instances is required.");
    }
    const auto& inst = instances->as_array().front().as_object();
    video_create c;
    c.api = "veo";
    c.model = std::string(model);
    c.prompt = string_field(inst, "prompt");
    if (const auto* img = inst.if_contains("image"); img && img->is_object()) {
        const auto& io = img->as_object();
        std::string data = string_field(io, "bytesBase64Encoded"); // what the SDK sends
        if (data.empty()) {
            if (const auto* inl = io.if_contains("inlineData"); inl && inl->is_object()) {
                data = string_field(inl->as_object(), "data"); // what the REST samples show
            }
        }
        if (data.empty() || !net::gemini::decode_base64(data)) {
            return error_response(400, "INVALID_ARGUMENT", "Image bytes are missing or not valid base64.");
        }
        c.with_image = true;
    }
    if (c.prompt.empty() && !c.with_image) {
        return error_response(400, "INVALID_ARGUMENT", "A prompt or an image is required.");
    }
    std::string aspect = "16:9";
    std::string resolution = "720p";
    std::string person = "allow_adult";
    c.seconds = 8;
    if (const auto* p = field(body, "parameters"); p && p->is_object()) {
        const auto& po = p->as_object();
        aspect = string_field(po, "aspectRatio", aspect);
        resolution = string_field(po, "resolution", resolution);
        person = string_field(po, "personGeneration", person);
        if (const auto* d = po.if_contains("durationSeconds")) {
            if (d->is_int64()) {
                c.seconds = static_cast<int>(d->as_int64());
            } else if (d->is_string()) {
                std::from_chars(d->as_string().data(),
                                d->as_string().data() + d->as_string().size(),
                                c.seconds);
            } else {
                c.seconds = 0;
            }
        }
    }
    if (c.seconds != 4 && c.seconds != 6 && c.seconds != 8) {
        return error_response(400, "INVALID_ARGUMENT", "durationSeconds must be 4, 6 or 8 for this model.");
    }
    if (resolution != "720p" && c.seconds != 8) {
        return error_response(400, "INVALID_ARGUMENT", "1080p output requires durationSeconds 8.");
    }
    if (c.with_image && person == "allow_all") {
        return error_response(
            400,
            "INVALID_ARGUMENT",
            "personGeneration allow_all is not supported for image-to-video; use allow_adult.");
    }
    const auto dims = dims_for(aspect, resolution);
    if (!dims) {
        return error_response(400, "INVALID_ARGUMENT", "Unsupported aspectRatio or resolution.");
    }
    c.width = dims->w;
    c.height = dims->h;
    const std::string prefix =
        vertex ? std::string(req.path().substr(req.path().find("projects/"),
                                               req.path().find(':') - req.path().find("projects/")))
               : "models/" + c.model;
    c.id = prefix + "/operations/simop" + std::to_string(next_id_++);
    video_job j;
    j.create = c;
    j.started = time().now();
    j.vertex = vertex;
    if ((f && f->kind == fault_kind::refusal) ||
        (!cfg_.block_marker.empty() && c.prompt.find(cfg_.block_marker) != std::string::npos)) {
        j.end = video_end::refused;
    } else if (f && f->detail == "operation_error") {
        j.end = video_end::operation_error;
    } else if (f && f->detail == "never_finishes") {
        j.end = video_end::never;
    } else {
        j.file_id = new_file(c);
    }
    creates_.push_back(c);
    jobs_.emplace(c.id, std::move(j));
    return net::json_response(200, boost::json::serialize(boost::json::object{{"name", c.id}}));
}

net::server_response gemini_simulator::operation(std::string_view name, bool vertex) {
    ++operation_polls_;
    auto it = jobs_.find(name);
    if (it == jobs_.end() || it->second.create.api != "veo") {
        return error_response(404, "NOT_FOUND", "Operation " + std::string(name) + " not found.");
    }
    video_job& j = it->second;
    ++j.polls;
    boost::json::object o{{"name", j.create.id}};
    const bool finished = j.end != video_end::never && j.polls > cfg_.veo_polls_before_done &&
                          time().now() - j.started >= cfg_.render_time;
    if (!finished) {
        return net::json_response(200, boost::json::serialize(o)); // proto3 omits done: false
    }
    o["done"] = true;
    if (j.end == video_end::operation_error) {
        o["error"] = {{"code", 13}, {"message", "Video generation failed due to an internal error."}};
        return net::json_response(200, boost::json::serialize(o));
    }
    boost::json::object resp;
    if (vertex) {
        resp["@type"] = "type.googleapis.com/cloud.ai.large_models.vision.GenerateVideoResponse";
        if (j.end == video_end::refused) {
            resp["raiMediaFilteredCount"] = 1;
            resp["raiMediaFilteredReasons"] =
                boost::json::array{"The video could not be generated because it may violate our policies."};
        } else {
            resp["raiMediaFilteredCount"] = 0;
            resp["videos"] = boost::json::array{boost::json::object{
                {"bytesBase64Encoded", net::gemini::encode_base64(video_bytes(j.file_id))},
                {"mimeType", "video/mp4"}}};
        }
    } else {
        resp["@type"] = "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse";
        boost::json::object gvr;
        if (j.end == video_end::refused) {
            gvr["raiMediaFilteredCount"] = 1;
            gvr["raiMediaFilteredReasons"] =
                boost::json::array{"The video could not be generated because it may violate our policies."};
        } else {
            gvr["generatedSamples"] =
                boost::json::array{boost::json::object{{"video", {{"uri", file_uri(j.file_id)}}}}};
        }
        resp["generateVideoResponse"] = std::move(gvr);
    }
    o["response"] = std::move(resp);
    return net::json_response(200, boost::json::serialize(o));
}

engine::awaitable<net::server_response> gemini_simulator::handle_files(net::server_request& req) {
    net::server_response r;
    std::optional<fault> f;
    const auto denied = check_key(req);
    auto early = co_await begin("files.download", f, r, denied);
    if (early) {
        co_return std::move(*early);
    }
    if (f && f->kind == fault_kind::server_error) {
        co_return error_response(f->status != 0 ? f->status : 500,
                                 "INTERNAL",
                                 "An internal error has occurred.");
    }
    std::string_view rest = req.path().substr(std::string_view("/v1beta/files/").size());
    const auto colon = rest.find(':');
    const std::string id(rest.substr(0, colon));
    if (colon == std::string_view::npos || rest.substr(colon) != ":download" || !files_.contains(id)) {
        co_return error_response(404, "NOT_FOUND", "File " + id + " was not found.");
    }
    if (cfg_.download_redirect) {
        net::server_response out = net::text_response(302, "");
        out.msg.set(net::http::field::location,
                    "http://" + cfg_.redirect_host + ":" + std::to_string(server_.port()) + "/_storage/" +
                        id + ".mp4?signature=sim");
        co_return out;
    }
    net::server_response out = net::text_response(200, video_bytes(id), "video/mp4");
    out.fault = r.fault;
    co_return out;
}

engine::awaitable<net::server_response> gemini_simulator::handle_storage(net::server_request& req) {
    ++storage_requests_;
    if (!req.header("x-goog-api-key").empty() || !req.header("authorization").empty()) {
        ++storage_with_key_;
    }
    std::string_view rest = req.path().substr(std::string_view("/_storage/").size());
    if (!rest.ends_with(".mp4")) {
        co_return net::text_response(404, "not found");
    }
    const std::string id(rest.substr(0, rest.size() - 4));
    if (!files_.contains(id)) {
        co_return net::text_response(404, "not found");
    }
    co_return net::text_response(200, video_bytes(id), "video/mp4");
}

} // namespace companion::sim
