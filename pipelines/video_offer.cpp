// Offering videos and admitting requests.
#include "pipelines/video_offer.hpp"

#include "engine/log.hpp"
#include "pipelines/prompts.hpp"
#include "storage/error.hpp"

#include <algorithm>
#include <stdexcept>
#include <tuple>

namespace companion::pipelines {

video_offer::video_offer(bot_services& svc, sender& out, video_jobs* jobs, payments* pay)
    : svc_(svc),
      out_(out),
      jobs_(jobs),
      pay_(pay),
      repo_(svc.db),
      credits_(svc.db),
      content_(svc.db),
      quotas_(svc.db) {}

int video_offer::videos_today(std::int64_t user_id) {
    // The free ones, and the subscription's daily allowance while it runs (paid: it counts even
    // once the subscription is no longer sold).
    return jobs_->config().videos_per_day + credits_.daily_allowance(user_id, svc_.time.wall());
}

int video_offer::price_in_credits(int seconds) const {
    return pay_ != nullptr && pay_->enabled() ? credits_for(pay_->config(), seconds) : 0;
}

std::optional<std::string> video_offer::busy_text(std::int64_t user_id, std::string_view lang) {
    if (auto in_flight = repo_.in_flight_for(user_id)) {
        const auto elapsed =
            std::chrono::duration_cast<std::chrono::seconds>(svc_.time.wall() - in_flight->created);
        return svc_.locales.text(lang,
                                 "video.in_progress",
                                 {{"elapsed", svc_.locales.elapsed(lang, elapsed)}});
    }
    return std::nullopt;
}

std::string video_offer::status_text(std::int64_t user_id, std::string_view lang) {
    const auto& l = svc_.locales;
    const auto in_flight = available() ? repo_.in_flight_for(user_id) : std::nullopt;
    if (!in_flight) {
        return l.text(lang, available() ? "video.status_none" : "video.unavailable");
    }
    const auto elapsed =
        std::chrono::duration_cast<std::chrono::seconds>(svc_.time.wall() - in_flight->created);
    return l.text(lang,
                  "video.status",
                  {{"seconds", std::to_string(in_flight->seconds.value_or(jobs_->effective_seconds()))},
                   {"elapsed", l.elapsed(lang, elapsed)}});
}

engine::awaitable<void>
video_offer::say(std::int64_t chat_id, std::string text, std::optional<boost::json::value> markup) {
    auto sent = co_await out_.text(chat_id, std::move(text), std::move(markup));
    if (!sent) {
        engine::log().info("video.offer_not_sent",
                           {{"chat", chat_id}, {"reason", to_string(sent.error().reason)}});
    }
}

bool video_offer::used_up(std::int64_t user_id) {
    const auto today = storage::utc_day(svc_.time.wall());
    if (quotas_.used(user_id, storage::quota_kind::video, today) < videos_today(user_id)) {
        return false;
    }
    const auto& lengths = jobs_->offered_seconds();
    const int shortest =
        lengths.empty() ? jobs_->effective_seconds() : *std::min_element(lengths.begin(), lengths.end());
    const int price = price_in_credits(shortest);
    return price == 0 || credits_.balance(user_id) < price;
}

engine::awaitable<void> video_offer::ask_adult(const user_context& c) {
    const auto& l = svc_.locales;
    tg::inline_keyboard kb;
    kb.button(l.text(c.lang, "adult.yes"), "adult:yes").button(l.text(c.lang, "adult.no"), "adult:no");
    std::optional<boost::json::value> markup;
    if (auto built = kb.build()) {
        markup = *built;
    }
    co_await say(c.chat_id, l.text(c.lang, "adult.ask"), std::move(markup));
}

engine::awaitable<void> video_offer::offer(const user_context& c) {
    const auto& l = svc_.locales;
    tg::inline_keyboard kb;
    const auto& lengths = jobs_->offered_seconds();
    if (lengths.empty()) {
        kb.button(l.text(c.lang, "video.from_last"), "vid:last")
            .row()
            .button(l.text(c.lang, "video.new"), "vid:new");
    } else {
        // A row per mode, a button per length: "📸➡️🎬 Video from my last selfie · 10 s".
        for (const auto& [mode, key, data] :
             {std::tuple{0, "video.from_last", "vid:last:"}, std::tuple{1, "video.new", "vid:new:"}}) {
            if (mode == 1) {
                kb.row();
            }
            for (const int seconds : lengths) {
                kb.button(l.text(c.lang, key) + " · " + length_text(c.lang, seconds),
                          data + std::to_string(seconds));
            }
        }
    }
    std::optional<boost::json::value> markup;
    if (auto built = kb.build()) {
        markup = *built;
    }
    std::string text = l.text(c.lang, "video.choose");
    if (price_in_credits(jobs_->effective_seconds()) > 0) {
        // Credits are sold: what today's free videos and the bought ones leave.
        const auto today = storage::utc_day(svc_.time.wall());
        const auto used = quotas_.used(c.user_id, storage::quota_kind::video, today);
        const auto free = std::max<std::int64_t>(0, videos_today(c.user_id) - used);
        text += "\n" + l.text(c.lang,
                              "pay.offer_balance",
                              {{"free", std::to_string(free)},
                               {"credits", std::to_string(credits_.balance(c.user_id))}});
    }
    co_await say(c.chat_id, std::move(text), std::move(markup));
}

engine::awaitable<std::optional<std::pair<sent_message, bool>>>
video_offer::progress_message(const user_context& c, storage::video_mode mode) {
    const auto line = svc_.locales.text(c.lang, "video.generating");
    if (mode == storage::video_mode::from_last_selfie) {
        // The first frame is a selfie Telegram has: it is shown again by its file_id (no upload)
        // with the progress as its caption, so the wait has something to look at. A "new video"
        // needs no copy: its selfie arrives as its own photo right under the progress line.
        const auto last = content_.last_selfie(c.user_id, c.p->id);
        if (last && last->telegram_file_id) {
            tg::send_photo_params p;
            p.chat_id = c.chat_id;
            p.photo = tg::input_file::by_id(*last->telegram_file_id);
            p.caption = line;
            auto photo = co_await out_.photo(std::move(p));
            if (photo) {
                co_return std::pair{sent_message::of(*photo), true};
            }
            // Refused (a file_id gone stale) or undeliverable: the line alone, as before.
            engine::log().info("video.preview_not_shown",
                               {{"chat", c.chat_id}, {"reason", to_string(photo.error().reason)}});
        }
    }
    auto text = co_await out_.text(c.chat_id, line);
    if (!text) {
        co_return std::nullopt; // the job runs on; its ending message is owed all the same
    }
    co_return std::pair{*text, false};
}

std::string video_offer::length_text(std::string_view lang, int seconds) const {
    return svc_.locales.text(lang, "video.length", {{"seconds", std::to_string(seconds)}});
}

engine::awaitable<void>
video_offer::request(const user_context& c, storage::video_mode mode, std::optional<int> seconds) {
    const auto& l = svc_.locales;
    const auto& lengths = jobs_->offered_seconds();
    if (seconds && std::find(lengths.begin(), lengths.end(), *seconds) == lengths.end()) {
        // A length this bot no longer offers (the configuration changed since the button was
        // sent), or a forged one: nothing is charged.
        engine::log().info("video.length_refused", {{"user", c.user_id}, {"seconds", *seconds}});
        co_await say(c.chat_id, l.text(c.lang, "button.expired"));
        co_return;
    }
    const int clip = seconds.value_or(jobs_->effective_seconds());
    if (mode == storage::video_mode::from_last_selfie && !content_.last_selfie(c.user_id, c.p->id)) {
        co_await say(c.chat_id, l.text(c.lang, "video.no_selfie"));
        co_return;
    }
    const auto now = svc_.time.wall();
    const auto today = storage::utc_day(now);
    const auto& cfg = jobs_->config();
    // Money before work: every limit a paid call would meet is checked before the first one (a
    // "new video" renders a selfie, an LLM and an image call, before the video's spend is
    // reserved), so presses past a limit cost nothing.
    // The free quota first; once it is used up, credits bought with Stars pay (taken with the
    // job's row below, and given back if the video is not delivered).
    int paid_credits = 0;
    if (!quotas_.try_consume(c.user_id, storage::quota_kind::video, today, videos_today(c.user_id))) {
        const int price = price_in_credits(clip);
        if (price > 0 && credits_.balance(c.user_id) >= price) {
            paid_credits = price;
        } else if (price > 0) {
            co_await pay_->used_up(c); // the balance and the packs
            co_return;
        } else {
            co_await say(c.chat_id, l.text(c.lang, "quota.videos"));
            co_return;
        }
    }
    // What was taken for this request goes back when it stops before its job exists.
    auto give_back_quota = [&] {
        if (paid_credits == 0) {
            quotas_.refund(c.user_id, storage::quota_kind::video, today);
        }
    };
    if (quotas_.spent_total(today) + jobs_->create_cents(clip) > cfg.daily_spend_cap_cents) {
        give_back_quota();
        co_await say(c.chat_id, l.text(c.lang, "quota.spend"));
        co_return;
    }
    const bool makes_selfie = mode == storage::video_mode::new_video;
    if (makes_selfie &&
        !quotas_.try_consume(c.user_id, storage::quota_kind::selfie, today, cfg.selfies_per_day)) {
        give_back_quota();
        co_await say(c.chat_id, l.text(c.lang, "quota.selfies"));
        co_return;
    }
    storage::new_video_job job;
    job.user_id = c.user_id;
    job.chat_id = c.chat_id;
    job.persona_id = c.p->id;
    job.provider = jobs_->provider_info().name;
    job.mode = mode;
    job.flirty = choose_flirty(cfg.flirty_probability, c.user.adult_confirmed, svc_.random.uniform());
    job.created = now;
    job.seconds = seconds; // none: the configured length, as the job machine reads it
    // The job and the credits it is paid with commit together: a crash leaves both or neither.
    const auto id = svc_.db.in_transaction([&] {
        auto created = repo_.create(job);
        if (created && paid_credits > 0 && !credits_.try_spend(c.user_id, *created, paid_credits)) {
            // The balance was read on this chat's queue a moment ago; only a concurrent spend
            // elsewhere could change it. Nothing commits.
            throw std::runtime_error("video credits changed while a video was requested");
        }
        return created;
    });
    if (paid_credits > 0 && id) {
        engine::log().info("video.paid_with_credits",
                           {{"user", c.user_id}, {"job", *id}, {"credits", paid_credits}});
    }
    if (!id) {
        // One in flight already (a racing request won, or the press came before the busy check
        // could see it): the schema kept one; this one is not charged.
        give_back_quota();
        if (makes_selfie) {
            quotas_.refund(c.user_id, storage::quota_kind::selfie, today);
        }
        auto busy = busy_text(c.user_id, c.lang);
        co_await say(c.chat_id, busy.value_or(l.text(c.lang, "error.generic")));
        co_return;
    }
    jobs_->count_request();
    // The progress message: the seed's "generating" line, edited in place from now on.
    auto sent = co_await progress_message(c, mode);
    if (sent) {
        if (auto r = repo_.set_progress_message(*id, sent->first.message_id, svc_.time.wall(), sent->second);
            !r) {
            engine::log().warn("video.progress_message_not_stored",
                               {{"job", *id}, {"error", r.error().message()}});
        }
    }
    if (!jobs_->start(*id, c.lang)) {
        engine::log().info("video.start_deferred", {{"job", *id}}); // stopping: resumes at the next start
    }
}

} // namespace companion::pipelines
