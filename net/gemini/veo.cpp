// Veo operations: request body, operation parsing for both flavours, exchanges.
#include "net/gemini/veo.hpp"

#include "engine/log.hpp"
#include "net/detail/client_support.hpp"
#include "net/gemini/base64.hpp"
#include "net/gemini/detail/download.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <ostream>

namespace companion::net::gemini {

std::string build_veo_body(const veo_config& cfg, const veo_create_request& req) {
    boost::json::object instance{{"prompt", req.prompt}};
    if (req.first_frame) {
        // What the SDK sends; the REST samples' inlineData is reportedly refused by some models.
        instance["image"] = {{"bytesBase64Encoded", encode_base64(req.first_frame->bytes)},
                             {"mimeType", req.first_frame->mime_type}};
    }
    boost::json::object parameters{
        {"aspectRatio", cfg.aspect_ratio},
        {"durationSeconds", req.duration.count()}, // an integer: the docs' strings are not what the SDK sends
        {"resolution", cfg.resolution},
        {"personGeneration", cfg.person_generation},
        {"sampleCount", 1},
    };
    if (!req.negative_prompt.empty()) {
        parameters["negativePrompt"] = req.negative_prompt;
    }
    return boost::json::serialize(boost::json::object{{"instances", boost::json::array{std::move(instance)}},
                                                      {"parameters", std::move(parameters)}});
}

result<veo_operation> parse_operation(unsigned status, std::string_view body) {
    if (status < 200 || status >= 300) {
        return parse_error(status, body);
    }
    boost::system::error_code ec;
    const auto v = boost::json::parse(body, ec);
    if (ec || !v.is_object()) {
        return malformed(status, "operation is not a JSON object");
    }
    const auto& o = v.as_object();
    veo_operation out;
    out.name = detail::json_text(o.if_contains("name"));
    if (out.name.empty()) {
        return malformed(status, "operation without a name");
    }
    const auto* done = o.if_contains("done");
    if (done == nullptr || !done->is_bool() || !done->as_bool()) {
        return out; // proto3 JSON omits `done: false`
    }
    if (const auto* e = o.if_contains("error"); e && e->is_object()) {
        out.state = veo_state::failed;
        if (const auto* c = e->as_object().if_contains("code"); c && (c->is_int64() || c->is_uint64())) {
            out.error_code = c->to_number<std::int64_t>();
        }
        out.error_message =
            engine::secrets().redact(detail::json_text(e->as_object().if_contains("message")));
        return out;
    }
    const auto* resp = o.if_contains("response");
    if (resp == nullptr || !resp->is_object()) {
        return malformed(status, "done operation without response or error");
    }
    // Gemini API nests the result in generateVideoResponse; Vertex puts it at the top.
    const boost::json::object* r = &resp->as_object();
    if (const auto* gvr = r->if_contains("generateVideoResponse"); gvr && gvr->is_object()) {
        r = &gvr->as_object();
    }
    if (const auto* n = r->if_contains("raiMediaFilteredCount"); n && n->is_int64()) {
        out.rai_filtered_count = static_cast<int>(n->as_int64());
    }
    if (const auto* reasons = r->if_contains("raiMediaFilteredReasons"); reasons && reasons->is_array()) {
        for (const auto& reason : reasons->as_array()) {
            if (reason.is_string()) {
                out.rai_filtered_reasons.emplace_back(reason.as_string());
            }
        }
    }
    if (const auto* samples = r->if_contains("generatedSamples"); samples && samples->is_array()) {
        for (const auto& s : samples->as_array()) {
            const auto* video = s.is_object() ? s.as_object().if_contains("video") : nullptr;
            if (video == nullptr || !video->is_object()) {
                continue;
            }
            veo_sample sample;
            if (auto uri = detail::json_text(video->as_object().if_contains("uri")); !uri.empty()) {
                sample.uri = uri;
            }
            if (auto enc = detail::json_text(video->as_object().if_contains("encodedVideo")); !enc.empty()) {
                sample.bytes = decode_base64(enc);
            }
            if (auto mime = detail::json_text(video->as_object().if_contains("encoding")); !mime.empty()) {
                sample.mime_type = mime;
            }
            if (sample.uri || sample.bytes) {
                out.samples.push_back(std::move(sample));
            }
        }
    }
    if (const auto* videos = r->if_contains("videos"); videos && videos->is_array()) {
        for (const auto& vid : videos->as_array()) {
            if (!vid.is_object()) {
                continue;
            }
            const auto& vo = vid.as_object();
            veo_sample sample;
            if (auto b64 = detail::json_text(vo.if_contains("bytesBase64Encoded")); !b64.empty()) {
                sample.bytes = decode_base64(b64);
                if (!sample.bytes) {
                    return malformed(status, "video bytes are not base64");
                }
            }
            if (auto gcs = detail::json_text(vo.if_contains("gcsUri")); !gcs.empty()) {
                sample.uri = gcs;
            }
            if (auto mime = detail::json_text(vo.if_contains("mimeType")); !mime.empty()) {
                sample.mime_type = mime;
            }
            if (sample.uri || sample.bytes) {
                out.samples.push_back(std::move(sample));
            }
        }
    }
    if (!out.samples.empty()) {
        out.state = veo_state::video;
    } else {
        out.state = veo_state::filtered; // no samples: a safety block (with or without reasons)
    }
    return out;
}

veo_client::veo_client(net::http_client& http, veo_config cfg) : http_(http), cfg_(std::move(cfg)) {
    cfg_.base_url = detail::client_base_url(std::move(cfg_.base_url), cfg_.api_key);
    if (cfg_.authorization.size() > 7) {
        engine::secrets().add_secret(cfg_.authorization.substr(cfg_.authorization.find(' ') + 1));
    }
}

net::request veo_client::make_request(http::verb method, std::string url) const {
    auto r = detail::api_request(method, std::move(url), cfg_);
    if (cfg_.flavour == veo_flavour::vertex) {
        r.headers.set(http::field::authorization, cfg_.authorization);
    } else {
        r.headers.set("x-goog-api-key", cfg_.api_key);
    }
    r.headers.set(http::field::content_type, "application/json");
    return r;
}

std::string veo_client::model_url(std::string_view method) const {
    const std::string path =
        cfg_.flavour == veo_flavour::vertex ? cfg_.vertex_model_path : std::string("models/");
    return cfg_.base_url + "/" + cfg_.api_version + "/" + path + cfg_.model + ":" + std::string(method);
}

engine::awaitable<result<std::string>> veo_client::create(veo_create_request req) {
    const int seconds = static_cast<int>(req.duration.count());
    if (!detail::allowed(cfg_.allowed_seconds, seconds)) {
        co_return net::invalid_request("gemini",
                                       {},
                                       "durationSeconds " + std::to_string(seconds) +
                                           " is not allowed by this provider's configuration");
    }
    auto r = make_request(http::verb::post, model_url("predictLongRunning"));
    r.body = build_veo_body(cfg_, req);
    auto sent = co_await http_.send(std::move(r));
    if (!sent) {
        co_return from_failure(sent.error());
    }
    auto op = parse_operation(sent->status, sent->body);
    if (!op) {
        co_return op.error();
    }
    co_return std::move(op->name);
}

engine::awaitable<result<veo_operation>> veo_client::poll(std::string operation_name) {
    net::request r;
    if (cfg_.flavour == veo_flavour::vertex) {
        r = make_request(http::verb::post, model_url("fetchPredictOperation"));
        r.body = boost::json::serialize(boost::json::object{{"operationName", operation_name}});
        r.replayable = net::replay::safe; // a read, even though it is a POST
    } else {
        r = make_request(http::verb::get, cfg_.base_url + "/" + cfg_.api_version + "/" + operation_name);
        r.headers.erase(http::field::content_type);
    }
    auto sent = co_await http_.send(std::move(r));
    if (!sent) {
        co_return from_failure(sent.error());
    }
    co_return parse_operation(sent->status, sent->body);
}

engine::awaitable<result<net::download_result>> veo_client::download(std::string uri,
                                                                     std::filesystem::path path) {
    const auto how = file_download_for(cfg_);
    auto got = co_await download_file(http_, how, std::move(uri), std::move(path));
    co_return got;
}

} // namespace companion::net::gemini
