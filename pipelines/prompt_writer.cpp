// Prompt writing through the chat model, with the templates as the fallback.
#include "pipelines/prompt_writer.hpp"

#include "engine/log.hpp"
#include "pipelines/prompts.hpp"

#include <boost/json/parse.hpp>

namespace companion::pipelines {

namespace json = boost::json;
namespace oa = net::openai;

engine::awaitable<std::string> write_selfie_prompt(chat_model& llm, const persona& p, std::string moment) {
    oa::chat_request req;
    req.messages.push_back(
        {oa::role::user, selfie_prompt_instruction(p, moment) + R"( Answer as JSON: {"prompt": "..."}.)"});
    oa::json_schema_format format;
    format.name = "photo_prompt";
    format.strict = true;
    format.schema = json::object{{"type", "object"},
                                 {"additionalProperties", false},
                                 {"required", json::array{"prompt"}},
                                 {"properties", json::object{{"prompt", json::object{{"type", "string"}}}}}};
    req.format = std::move(format);
    auto written = co_await llm.complete(std::move(req));
    if (!written) {
        engine::log().warn("selfie.prompt_llm_failed", {{"error", written.error().message()}});
    } else if (written->content) {
        boost::system::error_code ec;
        auto v = json::parse(*written->content, ec);
        const auto* text = !ec && v.is_object() ? v.as_object().if_contains("prompt") : nullptr;
        // A chatty or empty answer is not a photo prompt.
        if (text != nullptr && text->is_string() && text->as_string().size() > 20) {
            co_return sanitize_user_text(std::string_view(text->as_string()), 1500);
        }
    }
    co_return template_selfie_prompt(p, moment);
}

engine::awaitable<std::string> write_video_prompt(chat_model& llm,
                                                  const persona& p,
                                                  std::string selfie_prompt,
                                                  bool flirty,
                                                  std::chrono::seconds clip) {
    oa::chat_request req;
    req.messages.push_back(
        {oa::role::system,
         "You write prompts for image-to-video models. Answer only with the JSON object asked for."});
    req.messages.push_back({oa::role::user, video_prompt_instruction(p, selfie_prompt, flirty, clip)});
    boost::system::error_code ec;
    auto schema = json::parse(video_prompt_schema(), ec);
    if (!ec && schema.is_object()) {
        oa::json_schema_format format;
        format.name = "video_prompt";
        format.strict = true;
        format.schema = schema.as_object();
        req.format = std::move(format);
    }
    auto r = co_await llm.complete(std::move(req));
    if (!r) {
        engine::log().warn("video.prompt_llm_failed", {{"error", r.error().message()}});
    } else if (r->content) {
        if (auto vp = parse_video_prompt(*r->content)) {
            if (auto problem = validate_video_prompt(*vp); !problem) {
                co_return vp->render();
            } else {
                engine::log().info("video.prompt_invalid", {{"reason", *problem}});
            }
        }
    }
    co_return template_video_prompt(p, selfie_prompt, flirty, clip).render();
}

} // namespace companion::pipelines
