// The selfie pipeline.
#include "pipelines/selfie.hpp"

#include "engine/log.hpp"
#include "pipelines/media.hpp"
#include "pipelines/prompt_writer.hpp"
#include "pipelines/prompts.hpp"
#include "storage/media_store.hpp"

namespace companion::pipelines {

namespace gm = net::gemini;

std::string moment_of_day(engine::wall_time now) {
    const auto secs = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
    const auto hour = (secs / 3600 + 3) % 24; // Istanbul and Moscow are UTC+3
    if (hour < 6) {
        return "late night";
    }
    if (hour < 12) {
        return "morning";
    }
    if (hour < 18) {
        return "afternoon";
    }
    return "evening";
}

namespace {

std::string extension_for(std::string_view mime) {
    return mime == "image/jpeg" ? "jpg" : mime == "image/webp" ? "webp" : "png";
}

} // namespace

selfie_pipeline::selfie_pipeline(bot_services& svc, sender& out)
    : svc_(svc), out_(out), content_(svc.db), portraits_(svc, svc.media.directory() / "portraits") {}

engine::awaitable<void>
selfie_pipeline::tell(std::int64_t chat_id, const std::string& lang, std::string_view key) {
    auto sent = co_await out_.text(chat_id, svc_.locales.text(lang, key));
    if (!sent) {
        // Nothing more to do: the sender logged why, and a user who blocked the bot is marked.
        engine::log().info("selfie.notice_not_sent",
                           {{"chat", chat_id}, {"reason", to_string(sent.error().reason)}});
    }
}

struct selfie_pipeline::rendered {
    std::string prompt;
    std::string mime;
    std::string bytes;
    std::optional<storage::stored_media> stored;
    bool refused = false;
};

engine::awaitable<selfie_pipeline::rendered>
selfie_pipeline::render(std::int64_t user_id, const persona& p, engine::wall_time now) {
    rendered out;
    const std::string moment = moment_of_day(now);
    out.prompt = co_await write_selfie_prompt(svc_.llm, p, moment);
    // Her face: nullopt when same face is off or the portrait is not to be had now (the selfie is
    // then drawn from her description, as a portrait failure must not cost the user the selfie).
    const auto portrait = co_await portraits_.of(p);

    // One retry: with the plain template after a refusal, as is after "no image".
    std::optional<gm::inline_image> image;
    for (int attempt = 0; attempt < 2 && !image; ++attempt) {
        gm::image_request req;
        req.prompt = out.prompt;
        if (portrait) {
            req.prompt += "\n\n" + same_face_instruction();
            req.references.push_back(*portrait);
        }
        auto r = co_await svc_.images.generate(std::move(req));
        if (!r) {
            engine::log().warn("selfie.image_failed", {{"user", user_id}, {"error", r.error().message()}});
            out.refused = false; // ours to explain, whatever the first attempt said
            break;
        }
        if (r->outcome == gm::image_outcome::image && r->image) {
            image = std::move(r->image);
            break;
        }
        engine::log().info(
            "selfie.image_refused",
            {{"user", user_id}, {"outcome", std::string(gm::to_string(r->outcome))}, {"reason", r->reason}});
        out.refused = true;
        if (r->outcome != gm::image_outcome::no_image) {
            out.prompt = template_selfie_prompt(p, moment);
        }
    }
    if (!image) {
        co_return out;
    }
    out.refused = false;
    // Over Telegram's photo limits (a 4K PNG can pass 10 MB): scale and re-encode, off the loop.
    auto fit_job = [bytes = std::move(image->bytes), mime = image->mime_type] {
        return fit_photo(bytes, mime);
    };
    auto fitted = co_await svc_.offload.run(std::move(fit_job));
    if (!fitted) {
        engine::log().warn("selfie.unusable_image", {{"user", user_id}, {"reason", fitted.error()}});
        co_return out;
    }
    out.mime = fitted->mime;
    const std::string ext = extension_for(out.mime);
    // Writing and fsyncing the file is I/O that can take milliseconds: off the loop.
    auto& media = svc_.media;
    auto write_file = [&media, stem = "selfie-" + std::to_string(user_id), ext, bytes = fitted->bytes] {
        return media.write(stem, ext, bytes);
    };
    auto stored = co_await svc_.offload.run(std::move(write_file));
    if (stored) {
        out.stored = std::move(*stored);
        out.bytes = std::move(fitted->bytes);
    }
    co_return out;
}

engine::awaitable<selfie_attempt> selfie_pipeline::make(std::int64_t user_id,
                                                        std::int64_t chat_id,
                                                        const persona& p,
                                                        std::string lang,
                                                        selfie_notice notice) {
    const auto now = svc_.time.wall();
    ++made_;
    auto made = co_await out_.acting(chat_id, tg::chat_action::upload_photo, render(user_id, p, now));
    const bool tell_user = notice == selfie_notice::tell_user;
    if (!made.stored) {
        // A refusal is the model's choice; anything else is ours ("the camera is not working").
        if (tell_user) {
            co_await tell(chat_id, lang, made.refused ? "selfie.refused" : "selfie.failed");
        }
        co_return selfie_attempt{std::nullopt, made.refused};
    }
    const auto& stored = *made.stored;
    const std::string& mime = made.mime;
    const std::string ext = extension_for(mime);
    storage::new_content row;
    row.user_id = user_id;
    row.persona_id = p.id;
    row.kind = storage::content_kind::selfie;
    row.prompt = made.prompt;
    row.media_path = stored.path.string();
    row.size_bytes = stored.size_bytes;
    row.sha256 = stored.sha256;
    row.mime = mime;
    row.created = now;
    const auto content_id = content_.insert(row);

    tg::send_photo_params params;
    params.chat_id = chat_id;
    params.photo = tg::input_file::from_memory("selfie." + ext, mime, std::move(made.bytes));
    params.caption = svc_.locales.text(lang, "selfie.caption", {{"name", p.name_in(lang)}});
    auto sent = co_await out_.photo(std::move(params));
    if (sent) {
        if (const auto* largest = sent->largest_photo()) {
            // Without the file_id a re-send uploads again; the selfie itself is stored either way.
            if (auto r = content_.set_telegram_file_id(content_id, largest->file_id); !r) {
                engine::log().warn("selfie.file_id_not_stored",
                                   {{"content", content_id}, {"error", r.error().message()}});
            }
        }
    } else if (sent.error().reason != send_failure_reason::blocked && tell_user) {
        // Telegram would not take the photo after every retry: say so, rather than nothing. (A
        // video's job goes on: the selfie is stored and becomes the first frame.)
        co_await tell(chat_id, lang, "selfie.failed");
    }
    co_return selfie_attempt{selfie_ref{content_id, made.prompt, stored.path.string()}, false};
}

} // namespace companion::pipelines
