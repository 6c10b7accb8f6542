// The selfie pipeline (design.md §1): the LLM writes the photo prompt, the image model renders it
// (one retry with the plain template after a refusal) with her reference portrait as an input
// image so every selfie shows the same woman, the picture is fitted to Telegram's photo
// limits and stored off the loop, recorded, and sent. Both the /selfie command and "new video"
// jobs use it; quotas and rate limits are the caller's.
#pragma once

#include "engine/asio.hpp"
#include "pipelines/portrait.hpp"
#include "pipelines/sender.hpp"
#include "pipelines/services.hpp"
#include "storage/generated_content.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace companion::pipelines {

/// Who tells the user that a selfie could not be made: the pipeline (/selfie), or the caller,
/// whose own message covers it (a new video's job says once that the video was not made).
enum class selfie_notice { tell_user, by_caller };

/// A selfie, or why there is none: `refused` when the image model declined the picture (its
/// choice), otherwise something of ours failed (the model, the file, Telegram).
struct selfie_attempt {
    std::optional<selfie_ref> selfie;
    bool refused = false;
};

class selfie_pipeline {
public:
    /// `svc` and `out` must outlive the pipeline.
    selfie_pipeline(bot_services& svc, sender& out);

    /// Makes, stores and sends a new selfie of `p`, the chat showing "sending a photo…" while it
    /// is made. With `tell_user`, a selfie that could not be made is explained to the user
    /// (refused, or the camera "is not working"), unless they blocked the bot.
    engine::awaitable<selfie_attempt> make(std::int64_t user_id,
                                           std::int64_t chat_id,
                                           const persona& p,
                                           std::string lang,
                                           selfie_notice notice = selfie_notice::tell_user);

    std::uint64_t made() const noexcept { return made_; }
    /// Her reference portraits (kept under the media folder's `portraits/`).
    portrait_book& portraits() noexcept { return portraits_; }

private:
    struct rendered;
    /// The prompt, the picture and its file on disk: the slow part, shown as a chat action.
    engine::awaitable<rendered> render(std::int64_t user_id, const persona& p, engine::wall_time now);
    engine::awaitable<void> tell(std::int64_t chat_id, const std::string& lang, std::string_view key);

    bot_services& svc_;
    sender& out_;
    storage::generated_content_repository content_;
    portrait_book portraits_;
    std::uint64_t made_ = 0;
};

/// The part of the day in Istanbul and Moscow (UTC+3) for a photo's light: "late night",
/// "morning", "afternoon" or "evening".
std::string moment_of_day(engine::wall_time now);

} // namespace companion::pipelines
