// Gemini image generation: request body, outcome classification, and the exchange.
#include "net/gemini/image.hpp"

#include "net/detail/client_support.hpp"
#include "net/gemini/base64.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <array>
#include <ostream>

namespace companion::net::gemini {
namespace {

bool one_of(std::string_view v, std::initializer_list<std::string_view> set) {
    for (auto s : set) {
        if (s == v) {
            return true;
        }
    }
    return false;
}

} // namespace

std::string build_image_body(const image_config& cfg, const image_request& req) {
    boost::json::array parts;
    parts.push_back(boost::json::object{{"text", req.prompt}});
    for (const auto& ref : req.references) {
        parts.push_back(boost::json::object{
            {"inlineData", {{"mimeType", ref.mime_type}, {"data", encode_base64(ref.bytes)}}}});
    }
    boost::json::object image_config{{"aspectRatio", cfg.aspect_ratio}};
    if (!cfg.image_size.empty()) {
        image_config["imageSize"] = cfg.image_size;
    }
    boost::json::object body{
        {"contents", boost::json::array{boost::json::object{{"role", "user"}, {"parts", std::move(parts)}}}},
        {"generationConfig",
         {{"responseModalities", boost::json::array{"IMAGE"}}, {"imageConfig", std::move(image_config)}}},
    };
    return boost::json::serialize(body);
}

result<image_result> parse_image_response(unsigned status, std::string_view body) {
    if (status < 200 || status >= 300) {
        return parse_error(status, body);
    }
    boost::system::error_code ec;
    const auto v = boost::json::parse(body, ec);
    if (ec || !v.is_object()) {
        return malformed(status, "generateContent body is not a JSON object");
    }
    const auto& o = v.as_object();
    image_result out;
    if (const auto* mv = o.if_contains("modelVersion"); mv && mv->is_string()) {
        out.model_version = std::string(mv->as_string());
    }
    if (const auto* pf = o.if_contains("promptFeedback"); pf && pf->is_object()) {
        if (const auto* br = pf->as_object().if_contains("blockReason"); br && br->is_string()) {
            out.outcome = image_outcome::prompt_blocked;
            out.reason = std::string(br->as_string());
            return out;
        }
    }
    const auto* candidates = o.if_contains("candidates");
    if (candidates == nullptr || !candidates->is_array() || candidates->as_array().empty() ||
        !candidates->as_array().front().is_object()) {
        out.outcome = image_outcome::no_image;
        out.reason = "NO_CANDIDATES";
        return out;
    }
    const auto& cand = candidates->as_array().front().as_object();
    std::string finish;
    if (const auto* fr = cand.if_contains("finishReason"); fr && fr->is_string()) {
        finish = std::string(fr->as_string());
    }
    const boost::json::object* last_image = nullptr;
    if (const auto* content = cand.if_contains("content"); content && content->is_object()) {
        if (const auto* parts = content->as_object().if_contains("parts"); parts && parts->is_array()) {
            for (const auto& p : parts->as_array()) {
                const auto* po = p.if_object();
                if (po == nullptr) {
                    continue;
                }
                // Gemini 3 image models think first; their interim parts are not the answer.
                if (const auto* th = po->if_contains("thought"); th && th->is_bool() && th->as_bool()) {
                    continue;
                }
                if (const auto* id = po->if_contains("inlineData"); id && id->is_object()) {
                    last_image = &id->as_object();
                } else if (const auto* t = po->if_contains("text"); t && t->is_string()) {
                    out.text += t->as_string();
                }
            }
        }
    }
    if (last_image != nullptr) {
        const auto* data = last_image->if_contains("data");
        const auto* mime = last_image->if_contains("mimeType");
        if (data == nullptr || !data->is_string()) {
            return malformed(status, "inlineData without data");
        }
        auto bytes = decode_base64(std::string_view(data->as_string()));
        if (!bytes || bytes->empty()) {
            return malformed(status, "inlineData.data is not base64");
        }
        out.outcome = image_outcome::image;
        out.image = inline_image{mime && mime->is_string() ? std::string(mime->as_string()) : "image/png",
                                 std::move(*bytes)};
        out.reason = finish;
        return out;
    }
    out.reason = finish.empty() ? "NO_IMAGE" : finish;
    if (one_of(finish,
               {"IMAGE_SAFETY",
                "IMAGE_PROHIBITED_CONTENT",
                "PROHIBITED_CONTENT",
                "SAFETY",
                "BLOCKLIST",
                "SPII"})) {
        out.outcome = image_outcome::output_blocked;
    } else if (one_of(finish, {"RECITATION", "IMAGE_RECITATION"})) {
        out.outcome = image_outcome::recitation;
    } else {
        out.outcome = image_outcome::no_image; // NO_IMAGE, IMAGE_OTHER, OTHER, text-only STOP, ...
    }
    return out;
}

image_client::image_client(net::http_client& http, image_config cfg) : http_(http), cfg_(std::move(cfg)) {
    cfg_.base_url = detail::client_base_url(std::move(cfg_.base_url), cfg_.api_key);
}

engine::awaitable<result<image_result>> image_client::generate(image_request req) {
    auto r = detail::api_request(http::verb::post,
                                 cfg_.base_url + "/" + cfg_.api_version + "/models/" + cfg_.model +
                                     ":generateContent",
                                 cfg_);
    r.headers.set(http::field::content_type, "application/json");
    r.headers.set("x-goog-api-key", cfg_.api_key);
    r.body = build_image_body(cfg_, req);
    auto sent = co_await http_.send(std::move(r));
    if (!sent) {
        co_return from_failure(sent.error());
    }
    co_return parse_image_response(sent->status, sent->body);
}

engine::awaitable<result<void>> image_client::check_model() {
    auto r = detail::api_request(http::verb::get,
                                 cfg_.base_url + "/" + cfg_.api_version + "/models/" + cfg_.model,
                                 cfg_);
    r.headers.set("x-goog-api-key", cfg_.api_key);
    auto sent = co_await http_.send(std::move(r));
    if (!sent) {
        co_return from_failure(sent.error());
    }
    if (sent->status >= 200 && sent->status < 300) {
        co_return result<void>{};
    }
    auto parsed = parse_image_response(sent->status, sent->body);
    if (!parsed) {
        co_return parsed.error();
    }
    co_return api_error{.kind = api_error_kind::malformed_response, .api = "gemini", .status = sent->status};
}

} // namespace companion::net::gemini
