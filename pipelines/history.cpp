// The gallery: /videos, /selfies, and their buttons.
#include "pipelines/history.hpp"

#include "engine/log.hpp"

#include <chrono>
#include <cstdio>

namespace companion::pipelines {

namespace {

// dd.mm.yyyy in Turkish and Russian, yyyy-mm-dd in English (UTC: the bot knows no time zone).
std::string date_in(std::string_view lang, storage::timestamp t) {
    const std::chrono::year_month_day d{storage::utc_day(t)};
    const int y = static_cast<int>(d.year());
    const unsigned m = static_cast<unsigned>(d.month());
    const unsigned day = static_cast<unsigned>(d.day());
    char out[16];
    if (lang == "en") {
        std::snprintf(out, sizeof out, "%04d-%02u-%02u", y, m, day);
    } else {
        std::snprintf(out, sizeof out, "%02u.%02u.%04d", day, m, y);
    }
    return out;
}

} // namespace

resend_plan plan_resend(const std::optional<storage::content>& row, std::int64_t user_id) {
    if (!row || row->user_id != user_id || !row->telegram_file_id || row->telegram_file_id->empty()) {
        return {};
    }
    return {.what = row->kind == storage::content_kind::video ? resend_plan::kind::video
                                                              : resend_plan::kind::photo,
            .file_id = *row->telegram_file_id};
}

std::string gallery_label(const storage::content& row,
                          std::string_view lang,
                          const locale_catalog& locales,
                          const persona_catalog& personas) {
    const persona* p = personas.find(row.persona_id);
    std::string name = p != nullptr ? p->name_in(lang) : row.persona_id; // a persona since removed
    std::string date = date_in(lang, row.created);
    if (row.kind == storage::content_kind::video) {
        const auto seconds =
            std::chrono::round<std::chrono::seconds>(row.duration.value_or(std::chrono::milliseconds{0}));
        return locales.text(lang,
                            "history.video_button",
                            {{"persona", std::move(name)},
                             {"date", std::move(date)},
                             {"seconds", std::to_string(seconds.count())}});
    }
    return locales.text(lang,
                        "history.selfie_button",
                        {{"persona", std::move(name)}, {"date", std::move(date)}});
}

std::string gallery_data(std::int64_t id) {
    return "h:" + std::to_string(id);
}

media_history::media_history(bot_services& svc, sender& out) : svc_(svc), out_(out), content_(svc.db) {}

engine::awaitable<void> media_history::list(const user_context& c, storage::content_kind kind) {
    const auto& l = svc_.locales;
    const bool videos = kind == storage::content_kind::video;
    const auto rows = content_.delivered(c.user_id, kind, shown);
    std::optional<boost::json::value> markup;
    std::string text;
    if (rows.empty()) {
        text = l.text(c.lang, videos ? "history.no_videos" : "history.no_selfies");
    } else {
        tg::inline_keyboard kb;
        for (const auto& row : rows) {
            kb.row().button(gallery_label(row, c.lang, l, svc_.personas), gallery_data(row.id));
        }
        if (auto built = kb.build()) {
            markup = *built;
        } else {
            engine::log().warn("history.keyboard_invalid",
                               {{"user", c.user_id}, {"error", built.error().what}});
        }
        text = l.text(c.lang, videos ? "history.videos" : "history.selfies");
    }
    auto sent = co_await out_.text(c.chat_id, std::move(text), std::move(markup));
    if (!sent) {
        engine::log().info("history.list_not_sent",
                           {{"user", c.user_id}, {"reason", to_string(sent.error().reason)}});
    }
}

engine::awaitable<void>
media_history::resend(const user_context& c, const std::string& callback_id, std::int64_t id) {
    const auto plan = plan_resend(content_.get(id), c.user_id);
    if (plan.what == resend_plan::kind::refuse) {
        co_await out_.answer(callback_id, svc_.locales.text(c.lang, "button.expired"));
        co_return;
    }
    co_await out_.answer(callback_id);
    send_result<tg::message> sent = send_failure{send_failure_reason::empty, {}};
    if (plan.what == resend_plan::kind::video) {
        tg::send_video_params p;
        p.chat_id = c.chat_id;
        p.video = tg::input_file::by_id(plan.file_id);
        sent = co_await out_.video(std::move(p));
    } else {
        tg::send_photo_params p;
        p.chat_id = c.chat_id;
        p.photo = tg::input_file::by_id(plan.file_id);
        sent = co_await out_.photo(std::move(p));
    }
    if (sent) {
        co_return;
    }
    // Telegram no longer knows the file (or the send gave up): say so rather than nothing.
    engine::log().warn("history.resend_failed",
                       {{"user", c.user_id}, {"content", id}, {"reason", to_string(sent.error().reason)}});
    if (sent.error().reason != send_failure_reason::blocked) {
        auto sorry = co_await out_.text(c.chat_id, svc_.locales.text(c.lang, "history.gone"));
        if (!sorry) {
            engine::log().info("history.gone_not_sent", {{"user", c.user_id}});
        }
    }
}

} // namespace companion::pipelines
