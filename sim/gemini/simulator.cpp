// The Gemini simulator's server, key checks, error shapes and image generation (the video APIs
// are in video.cpp).
#include "sim/gemini/simulator.hpp"

#include "engine/time.hpp"
#include "net/gemini/base64.hpp"
#include "sim/gemini/detail/requests.hpp"
#include "sim/media/picture.hpp"
#include "sim/media/png.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>

using namespace std::chrono_literals;

namespace companion::sim {
namespace gemini_detail {

std::string
google_error(unsigned code, std::string_view status, std::string_view message, boost::json::array details) {
    boost::json::object e{{"code", code}, {"message", message}, {"status", status}};
    if (!details.empty()) {
        e["details"] = std::move(details);
    }
    return boost::json::serialize(boost::json::object{{"error", std::move(e)}});
}

net::server_response
error_response(unsigned code, std::string_view status, std::string_view message, boost::json::array details) {
    return net::json_response(code, google_error(code, status, message, std::move(details)));
}

net::server_response rate_limited(std::chrono::milliseconds delay, bool per_day) {
    char text[32];
    if (delay.count() % 1000 == 0) {
        std::snprintf(text, sizeof text, "%llds", static_cast<long long>(delay.count() / 1000));
    } else {
        std::snprintf(text, sizeof text, "%.3fs", static_cast<double>(delay.count()) / 1000.0);
    }
    boost::json::array details{
        boost::json::object{
            {"@type", "type.googleapis.com/google.rpc.QuotaFailure"},
            {"violations",
             boost::json::array{boost::json::object{
                 {"quotaMetric", "generativelanguage.googleapis.com/generate_content_requests"},
                 {"quotaId",
                  per_day ? "GenerateRequestsPerDayPerProjectPerModel-FreeTier"
                          : "GenerateRequestsPerMinutePerProjectPerModel"},
                 {"quotaValue", "10"}}}}},
        boost::json::object{{"@type", "type.googleapis.com/google.rpc.RetryInfo"}, {"retryDelay", text}},
    };
    return error_response(429,
                          "RESOURCE_EXHAUSTED",
                          std::string("You exceeded your current quota, please check your plan and billing "
                                      "details. Please retry in ") +
                              text + ".",
                          std::move(details));
}

net::server_response model_gone(std::string_view model, std::string_view replacement) {
    return error_response(404,
                          "NOT_FOUND",
                          "This model models/" + std::string(model) +
                              " is no longer available. Please update your code to use models/" +
                              std::string(replacement) + " instead.");
}

} // namespace gemini_detail

using namespace gemini_detail;

namespace {

struct size_row {
    std::string_view aspect;
    std::uint32_t w25, h25; // gemini-2.5-flash-image
    std::uint32_t w3, h3;   // 3.x models at 1K
};

constexpr std::array<size_row, 10> size_table{{
    {"1:1", 1024, 1024, 1024, 1024},
    {"9:16", 768, 1344, 768, 1376},
    {"16:9", 1344, 768, 1376, 768},
    {"3:4", 864, 1184, 896, 1200},
    {"4:3", 1184, 864, 1200, 896},
    {"2:3", 832, 1248, 848, 1264},
    {"3:2", 1248, 832, 1264, 848},
    {"4:5", 896, 1152, 928, 1152},
    {"5:4", 1152, 896, 1152, 928},
    {"21:9", 1536, 672, 1584, 672},
}};

std::string upper(std::string_view s) {
    std::string out(s);
    for (auto& c : out) {
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    return out;
}

} // namespace

std::optional<gemini_image_size>
gemini_output_size(std::string_view model, std::string_view aspect_ratio, std::string_view image_size) {
    const bool legacy = model.starts_with("gemini-2.5");
    for (const auto& row : size_table) {
        if (row.aspect != aspect_ratio) {
            continue;
        }
        if (legacy) {
            if (!image_size.empty()) {
                return std::nullopt; // 2.5 Flash Image has one size
            }
            return gemini_image_size{row.w25, row.h25};
        }
        const bool lite = model.find("lite") != std::string_view::npos;
        if (image_size.empty() || image_size == "1K") {
            return gemini_image_size{row.w3, row.h3};
        }
        if (image_size == "512") {
            return gemini_image_size{row.w3 / 2, row.h3 / 2};
        }
        if (image_size == "2K" && !lite) {
            return gemini_image_size{row.w3 * 2, row.h3 * 2};
        }
        if (image_size == "4K" && !lite) {
            return gemini_image_size{row.w3 * 4, row.h3 * 4};
        }
        return std::nullopt;
    }
    return std::nullopt;
}

gemini_simulator::gemini_simulator(engine::executor ex, gemini_sim_config cfg)
    : provider_service(ex, cfg.server, cfg.time), cfg_(std::move(cfg)) {
    auto models = [this](net::server_request& req) { return handle_models(req); };
    server_.route_prefix("/v1beta/models/", models);
    server_.route_prefix("/v1/models/", models);
    server_.route_prefix("/v1/projects/", models);      // Vertex AI
    server_.route_prefix("/v1beta1/projects/", models); // Vertex AI, the SDK's version
    auto interactions = [this](net::server_request& req) { return handle_interactions(req); };
    server_.route_prefix("/v1beta/interactions", interactions);
    server_.route_prefix("/v1beta/files/", [this](net::server_request& req) { return handle_files(req); });
    server_.route_prefix("/_storage/", [this](net::server_request& req) { return handle_storage(req); });
}

std::string gemini_simulator::base_url() const {
    return server_.base_url();
}

std::optional<net::server_response> gemini_simulator::check_key(const net::server_request& req) const {
    std::string key = req.header("x-goog-api-key");
    if (key.empty()) {
        // ?key= works on Google too (clients should not use it: URLs end up in logs).
        const auto q = req.query();
        if (const auto at = q.find("key="); at != std::string_view::npos && (at == 0 || q[at - 1] == '&')) {
            key = std::string(q.substr(at + 4, q.find('&', at) - (at + 4)));
        }
    }
    if (key.empty()) {
        return error_response(
            403,
            "PERMISSION_DENIED",
            "Method doesn't allow unregistered callers (callers without established identity). "
            "Please use API Key or other form of API consumer identity to call this API.");
    }
    if (!cfg_.api_key.empty() && key != cfg_.api_key) {
        return error_response(
            400,
            "INVALID_ARGUMENT",
            "API key not valid. Please pass a valid API key.",
            boost::json::array{boost::json::object{{"@type", "type.googleapis.com/google.rpc.ErrorInfo"},
                                                   {"reason", "API_KEY_INVALID"},
                                                   {"domain", "googleapis.com"}}});
    }
    return std::nullopt;
}

std::optional<net::server_response> gemini_simulator::check_bearer(const net::server_request& req) const {
    const std::string auth = req.header("authorization");
    if (!auth.starts_with("Bearer ") || auth.size() <= 7 ||
        (!cfg_.vertex_token.empty() && auth != "Bearer " + cfg_.vertex_token)) {
        return error_response(
            401,
            "UNAUTHENTICATED",
            "Request had invalid authentication credentials. Expected OAuth 2 access token, "
            "login cookie or other valid authentication credential.");
    }
    return std::nullopt;
}

std::optional<net::server_response>
gemini_simulator::check_model(std::string_view model, const std::vector<std::string>& known) const {
    if (std::find(cfg_.retired_models.begin(), cfg_.retired_models.end(), model) !=
        cfg_.retired_models.end()) {
        return gemini_detail::model_gone(model,
                                         known.empty() ? std::string_view("gemini-3.1-flash-image")
                                                       : known.front());
    }
    if (!known.empty() && std::find(known.begin(), known.end(), model) == known.end()) {
        return error_response(
            404,
            "NOT_FOUND",
            "models/" + std::string(model) +
                " is not found for API version v1beta, or is not supported for this method.");
    }
    return std::nullopt;
}

std::optional<net::server_response> gemini_simulator::check_request(std::string_view model,
                                                                    const std::vector<std::string>& known,
                                                                    const net::server_request& req,
                                                                    boost::json::object& body) const {
    if (auto bad = check_model(model, known)) {
        return bad;
    }
    boost::system::error_code ec;
    auto v = boost::json::parse(req.msg.body(), ec);
    if (ec || !v.is_object()) {
        return error_response(400, "INVALID_ARGUMENT", "Invalid JSON payload received.");
    }
    body = std::move(v.as_object());
    return std::nullopt;
}

engine::awaitable<net::server_response> gemini_simulator::handle_models(net::server_request& req) {
    const std::string path(req.path());
    const bool vertex = path.find("/projects/") != std::string::npos;
    const auto at = path.find("/models/");
    std::string rest = path.substr(at + 8);
    std::string model = rest;
    std::string method;
    if (const auto colon = rest.find(':'); colon != std::string::npos) {
        model = rest.substr(0, colon);
        method = rest.substr(colon + 1);
    }
    const bool is_operation = rest.find("/operations/") != std::string::npos;
    std::string fault_name = is_operation ? "operations.get" : method;
    net::server_response r;
    std::optional<fault> f;
    const auto denied = vertex ? check_bearer(req) : check_key(req);
    auto early = co_await begin(fault_name, f, r, denied, cfg_.latency);
    if (early) {
        co_return std::move(*early);
    }
    if (f && f->kind == fault_kind::rate_limited) {
        auto out = rate_limited(std::chrono::duration_cast<std::chrono::milliseconds>(f->delay), false);
        out.fault = r.fault;
        co_return out;
    }
    if (f && f->kind == fault_kind::server_error) {
        const unsigned status = f->status != 0 ? f->status : 500;
        auto out =
            status == 503
                ? error_response(503, "UNAVAILABLE", "The model is overloaded. Please try again later.")
            : status == 504
                ? error_response(504,
                                 "DEADLINE_EXCEEDED",
                                 "Deadline expired before operation could complete.")
                : error_response(status, "INTERNAL", "An internal error has occurred. Please retry.");
        out.fault = r.fault;
        co_return out;
    }
    if (f && f->kind == fault_kind::custom && f->detail == "model_gone") {
        co_return gemini_detail::model_gone(model, "gemini-omni-1.1-flash");
    }
    net::server_response out;
    if (is_operation) {
        out = operation(vertex ? path.substr(path.find("projects/")) : "models/" + rest, vertex);
    } else if (method == "generateContent") {
        out = generate_image(model, req, f ? &*f : nullptr);
    } else if (method == "predictLongRunning") {
        out = predict(model, vertex, req, f ? &*f : nullptr);
    } else if (method == "fetchPredictOperation") {
        boost::system::error_code ec;
        auto v = boost::json::parse(req.msg.body(), ec);
        const boost::json::value* name = nullptr;
        if (!ec && v.is_object()) {
            name = v.as_object().if_contains("operationName");
        }
        if (name == nullptr || !name->is_string()) {
            out = error_response(400, "INVALID_ARGUMENT", "operationName is required.");
        } else {
            out = operation(std::string_view(name->as_string()), true);
        }
    } else if (method.empty() && req.msg.method() == net::http::verb::get) {
        // models.get: what a start-up check reads to see the key and the model are good.
        out = net::json_response(200,
                                 boost::json::serialize(boost::json::object{
                                     {"name", "models/" + model},
                                     {"displayName", model},
                                     {"supportedGenerationMethods",
                                      boost::json::array{"generateContent", "predictLongRunning"}}}));
    } else {
        out = error_response(404, "NOT_FOUND", "Method not found: " + method);
    }
    out.fault = r.fault;
    co_return out;
}

std::optional<std::string> face_of(std::string_view image_bytes) {
    auto text = media::read_png_text(image_bytes, "Comment");
    if (!text || !text->starts_with("face:") || text->size() == 5) {
        return std::nullopt;
    }
    return text->substr(5);
}

namespace {

std::string new_face(std::uint64_t seed) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    for (int shift = 60; shift >= 0; shift -= 4) {
        out.push_back(hex[(seed >> static_cast<unsigned>(shift)) & 0xFU]);
    }
    return out;
}

} // namespace

net::server_response
gemini_simulator::generate_image(std::string_view model, const net::server_request& req, const fault* f) {
    boost::json::object body;
    if (auto bad = check_request(model, cfg_.image_models, req, body)) {
        return std::move(*bad);
    }
    std::string prompt;
    std::vector<std::string> faces;
    if (const auto* contents = body.if_contains("contents"); contents && contents->is_array()) {
        for (const auto& c : contents->as_array()) {
            const auto* parts = c.is_object() ? c.as_object().if_contains("parts") : nullptr;
            if (parts == nullptr || !parts->is_array()) {
                continue;
            }
            for (const auto& p : parts->as_array()) {
                if (!p.is_object()) {
                    continue;
                }
                if (const auto* t = p.as_object().if_contains("text"); t && t->is_string()) {
                    prompt += t->as_string();
                }
                if (const auto* id = p.as_object().if_contains("inlineData"); id && id->is_object()) {
                    const auto* data = id->as_object().if_contains("data");
                    auto decoded = data != nullptr && data->is_string()
                                       ? net::gemini::decode_base64(std::string_view(data->as_string()))
                                       : std::nullopt;
                    if (!decoded) {
                        return error_response(400,
                                              "INVALID_ARGUMENT",
                                              "Invalid value at 'contents[0].parts[1].inline_data.data' "
                                              "(TYPE_BYTES), Base64 decoding failed.");
                    }
                    if (!media::read_image_size(*decoded)) {
                        return error_response(400,
                                              "INVALID_ARGUMENT",
                                              "Unable to process input image. Please retry or report in "
                                              "https://developers.generativeai.google/guide/troubleshooting");
                    }
                    faces.push_back(face_of(*decoded).value_or(""));
                }
            }
        }
    }
    if (prompt.empty()) {
        return error_response(400,
                              "INVALID_ARGUMENT",
                              "* GenerateContentRequest.contents: contents is not specified");
    }
    std::string aspect = "1:1";
    std::string image_size;
    if (const auto* gc = body.if_contains("generationConfig"); gc && gc->is_object()) {
        const boost::json::value* ic = gc->as_object().if_contains("imageConfig");
        if (ic == nullptr) {
            if (const auto* rf = gc->as_object().if_contains("responseFormat"); rf && rf->is_object()) {
                ic = rf->as_object().if_contains("image"); // the newer spelling
            }
        }
        if (ic != nullptr && ic->is_object()) {
            if (const auto* a = ic->as_object().if_contains("aspectRatio"); a && a->is_string()) {
                aspect = std::string(a->as_string());
            }
            if (const auto* s = ic->as_object().if_contains("imageSize"); s && s->is_string()) {
                image_size = std::string(s->as_string());
            }
        }
        if (const auto* mods = gc->as_object().if_contains("responseModalities"); mods && mods->is_array()) {
            bool image = false;
            for (const auto& m : mods->as_array()) {
                image = image || (m.is_string() && upper(std::string_view(m.as_string())) == "IMAGE");
            }
            if (!image) {
                return error_response(400,
                                      "INVALID_ARGUMENT",
                                      "This model only supports responses with IMAGE modality.");
            }
        }
    }
    const auto size = gemini_output_size(model, aspect, image_size);
    if (!size) {
        return error_response(400,
                              "INVALID_ARGUMENT",
                              "Unsupported aspect ratio or image size for models/" + std::string(model) +
                                  ": " + aspect + (image_size.empty() ? "" : " " + image_size));
    }
    image_prompts_.push_back(prompt);
    image_requests_.push_back(gemini_image_request{.prompt = prompt, .faces = faces});
    const std::string detail = f ? f->detail : std::string();
    if (f && f->kind == fault_kind::custom && detail == "per_day_quota") {
        return rate_limited(std::chrono::milliseconds(60'000), true);
    }
    if (f && f->kind == fault_kind::custom && detail == "wrapped_error") {
        return net::json_response(
            400,
            "[" + google_error(400, "INVALID_ARGUMENT", "Request contains an invalid argument.") + "]");
    }
    const std::string model_version(model);
    if ((f && f->kind == fault_kind::refusal) ||
        (!cfg_.block_marker.empty() && prompt.find(cfg_.block_marker) != std::string::npos)) {
        return net::json_response(200,
                                  boost::json::serialize(boost::json::object{
                                      {"promptFeedback", {{"blockReason", "PROHIBITED_CONTENT"}}},
                                      {"usageMetadata", {{"promptTokenCount", 41}, {"totalTokenCount", 41}}},
                                      {"modelVersion", model_version}}));
    }
    auto candidate = [&](boost::json::array parts, std::string_view finish) {
        boost::json::object cand{{"finishReason", finish}, {"index", 0}};
        if (!parts.empty()) {
            cand["content"] = boost::json::object{{"role", "model"}, {"parts", std::move(parts)}};
        }
        return net::json_response(
            200,
            boost::json::serialize(boost::json::object{
                {"candidates", boost::json::array{std::move(cand)}},
                {"usageMetadata",
                 {{"promptTokenCount", 38}, {"candidatesTokenCount", 1120}, {"totalTokenCount", 1158}}},
                {"modelVersion", model_version},
                {"responseId", "sim" + std::to_string(image_prompts_.size())}}));
    };
    if (f && f->kind == fault_kind::custom) {
        if (detail == "image_safety") {
            return candidate(boost::json::array{boost::json::object{{"text", "I can't create that image."}}},
                             "IMAGE_SAFETY");
        }
        if (detail == "text_only") {
            return candidate(boost::json::array{boost::json::object{
                                 {"text", "Here is a description instead of an image."}}},
                             "STOP");
        }
        if (detail == "no_image") {
            return candidate({}, "NO_IMAGE");
        }
        if (detail == "recitation") {
            return candidate({}, "IMAGE_RECITATION");
        }
    }
    const auto seed = media::seed_from_text(prompt);
    // The face of the first input image, or a new one: "same face" requests keep it.
    const std::string face = !faces.empty() && !faces.front().empty() ? faces.front() : new_face(seed);
    const std::string comment = "face:" + face;
    const std::string png = media::make_png(size->width, size->height, {.seed = seed, .comment = comment});
    boost::json::array parts;
    // Gemini 3 image models think first and may show an interim image: clients must skip it.
    if (!model.starts_with("gemini-2.5") && seed % 2 == 0) {
        parts.push_back(
            boost::json::object{{"text", "Planning the composition and the light."}, {"thought", true}});
        parts.push_back(boost::json::object{
            {"inlineData",
             {{"mimeType", "image/png"},
              {"data", net::gemini::encode_base64(media::make_png(64, 112, {.seed = seed + 1}))}}},
            {"thought", true}});
    }
    const auto text_place = (seed / 2) % 3; // before, after, or no text at all
    boost::json::object text_part{{"text", "Here is the picture you asked for."}};
    if (text_place == 0) {
        parts.push_back(text_part);
    }
    parts.push_back(boost::json::object{
        {"inlineData", {{"mimeType", "image/png"}, {"data", net::gemini::encode_base64(png)}}}});
    if (text_place == 1) {
        parts.push_back(text_part);
    }
    return candidate(std::move(parts), "STOP");
}

} // namespace companion::sim
