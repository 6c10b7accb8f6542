// One video's delivery to Telegram.
#include "pipelines/video_delivery.hpp"

#include "engine/log.hpp"
#include "pipelines/prompts.hpp"

#include <algorithm>
#include <fstream>
#include <iterator>

namespace companion::pipelines {

namespace {

std::optional<std::string> read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return std::nullopt;
    }
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

} // namespace

video_delivery::video_delivery(bot_services& svc, sender& out, video_delivery_config cfg)
    : svc_(svc), out_(out), cfg_(std::move(cfg)), content_(svc.db) {}

bool video_delivery::show_debug(std::int64_t user_id) const {
    switch (cfg_.debug) {
    case debug_info::off:
        return false;
    case debug_info::all:
        return true;
    case debug_info::admins:
        return std::find(cfg_.admins.begin(), cfg_.admins.end(), user_id) != cfg_.admins.end();
    }
    return false;
}

engine::awaitable<delivery>
video_delivery::deliver(const storage::video_job& job, std::string lang, video_file file, int seconds) {
    // Delivered already: done. Sent once with the outcome unknown: one more send is the accepted
    // duplicate (design.md §4). Twice: no more sends, and the user is told it may be lost.
    const auto earlier = content_.by_media_path(file.path.string());
    if (std::any_of(earlier.begin(), earlier.end(), [](const auto& e) {
            return e.telegram_file_id.has_value();
        })) {
        co_return delivery::sent;
    }
    if (earlier.size() >= 2) {
        engine::log().warn("video.delivery_uncertain", {{"job", job.id}, {"attempts", earlier.size()}});
        co_return delivery::uncertain;
    }
    // Up to 50 MB: read once, off the loop; the sender's retries reuse the bytes.
    auto read = [path = file.path.string()] { return read_file(path); };
    auto bytes = co_await svc_.offload.run(std::move(read));
    if (!bytes) {
        engine::log().error("video.file_unreadable", {{"job", job.id}, {"path", file.path.string()}});
        co_return delivery::failed;
    }
    storage::new_content row;
    row.user_id = job.user_id;
    row.persona_id = job.persona_id;
    row.kind = storage::content_kind::video;
    row.prompt = job.video_prompt.value_or("");
    row.media_path = file.path.string();
    row.size_bytes = file.bytes;
    row.sha256 = file.sha256;
    row.mime = file.mime;
    row.duration = std::chrono::seconds(seconds);
    row.created = svc_.time.wall();
    const auto content_id = content_.insert(row);

    tg::send_video_params params;
    params.chat_id = job.chat_id;
    params.video = tg::input_file::from_memory(file.path.filename().string(), file.mime, std::move(*bytes));
    params.caption = svc_.locales.text(lang, "video.success");
    params.width = cfg_.width;
    params.height = cfg_.height;
    params.duration = std::chrono::seconds(seconds);
    params.supports_streaming = true;
    auto sent = co_await out_.video(std::move(params));
    if (!sent) {
        co_return delivery::failed;
    }
    if (sent->video) {
        // Without the file_id a restart would think the video unsent and send it again.
        if (auto r = content_.set_telegram_file_id(content_id, sent->video->file_id); !r) {
            engine::log().error("video.file_id_not_stored",
                                {{"job", job.id}, {"error", r.error().message()}});
        }
    }
    if (show_debug(job.user_id)) {
        std::string debug =
            svc_.locales.text(lang,
                              "debug.info",
                              {{"selfie_prompt", truncate_chars(job.selfie_prompt.value_or(""), 300)},
                               {"video_prompt", truncate_chars(job.video_prompt.value_or(""), 300)}});
        if (auto shown = co_await out_.text(job.chat_id, std::move(debug)); !shown) {
            engine::log().info("video.debug_not_sent", {{"job", job.id}});
        }
    }
    co_return delivery::sent;
}

} // namespace companion::pipelines
