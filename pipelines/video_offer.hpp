// The video offer and its admission (design.md §4 "Limits"): the one-time 18+ question (yes or
// no), the two modes; a chosen mode is admitted only with a selfie to animate (from the last selfie), within
// the daily quota, and when the user has no video in flight. "One job in flight" is read in one
// place (busy_text) and enforced by the schema's unique index when two requests race.
#pragma once

#include "engine/asio.hpp"
#include "pipelines/payments.hpp"
#include "pipelines/sender.hpp"
#include "pipelines/services.hpp"
#include "pipelines/video_jobs.hpp"
#include "storage/credits.hpp"
#include "storage/generated_content.hpp"
#include "storage/quotas.hpp"
#include "storage/video_jobs.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace companion::pipelines {

class video_offer {
public:
    /// `jobs` may be null: videos are not configured; `pay` may be null: no credits are sold.
    /// The others must outlive the offer.
    video_offer(bot_services& svc, sender& out, video_jobs* jobs, payments* pay = nullptr);

    bool available() const noexcept { return jobs_ != nullptr; }

    /// The localized "still being made (elapsed)" line when `user_id` has a video in flight.
    std::optional<std::string> busy_text(std::int64_t user_id, std::string_view lang);

    /// The user's /status: the video in flight with its length and how long it has taken, or
    /// that none is being made.
    std::string status_text(std::int64_t user_id, std::string_view lang);

    /// True when the user has made today's free videos already and has no credits for the
    /// shortest clip (the offer would lead nowhere).
    bool used_up(std::int64_t user_id);

    /// The 18+ question, with yes and no: asked once, before the first offer.
    engine::awaitable<void> ask_adult(const user_context& c);

    /// The mode buttons.
    engine::awaitable<void> offer(const user_context& c);

    /// Admits `mode` for the user and starts the job, a clip of `seconds` (one of the offered
    /// lengths; none: the configured length); every refusal is a localized message.
    engine::awaitable<void>
    request(const user_context& c, storage::video_mode mode, std::optional<int> seconds = std::nullopt);

    /// "10 s" in the user's language.
    std::string length_text(std::string_view lang, int seconds) const;

private:
    /// Sends the job's progress message: the first frame's photo with the line as its caption
    /// (`second` true) when the video animates a selfie Telegram has, else the line as text.
    engine::awaitable<std::optional<std::pair<sent_message, bool>>>
    progress_message(const user_context& c, storage::video_mode mode);

    engine::awaitable<void>
    say(std::int64_t chat_id, std::string text, std::optional<boost::json::value> markup = {});

    bot_services& svc_;
    sender& out_;
    /// The credits a clip of `seconds` costs once the free videos are used up; 0: none are sold.
    int price_in_credits(int seconds) const;
    /// The videos the user may make today before credits pay: the free quota and their
    /// subscription's allowance.
    int videos_today(std::int64_t user_id);

    video_jobs* jobs_;
    payments* pay_;
    storage::video_job_repository repo_;
    storage::credit_repository credits_;
    storage::generated_content_repository content_;
    storage::quota_repository quotas_;
};

} // namespace companion::pipelines
