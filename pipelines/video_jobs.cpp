// The video job manager: requests, the per-job state machine driver, progress, delivery.
#include "pipelines/video_jobs.hpp"

#include "engine/log.hpp"
#include "engine/offload.hpp"
#include "engine/retry.hpp"
#include "engine/time.hpp"
#include "pipelines/media.hpp"
#include "pipelines/prompts.hpp"
#include "storage/error.hpp"

#include <boost/json/parse.hpp>

#include <algorithm>
#include <fstream>
#include <iterator>

namespace companion::pipelines {

namespace tg = net::telegram;
using storage::job_state;
using namespace std::chrono_literals;

namespace {

storage::timestamp wall_now() {
    return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

std::string elapsed_text(storage::timestamp since) {
    const auto s = std::chrono::duration_cast<std::chrono::seconds>(wall_now() - since).count();
    if (s < 60) {
        return std::to_string(std::max<long long>(s, 0)) + "s";
    }
    return std::to_string(s / 60) + "m " + std::to_string(s % 60) + "s";
}

std::optional<std::string> read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return std::nullopt;
    }
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

} // namespace

struct video_jobs::progress {
    std::optional<std::int64_t> message_id;
    std::string last_text;
    engine::time_point last_edit{};
    engine::time_point last_action{};
};

// One job's driver state across steps. The row is read again after every transition; between
// polls of a running job nothing changes, so it stays in memory (no read, no commit per poll).
struct video_jobs::job_run {
    storage::video_job job;
    std::string lang;
    progress pr;
    engine::retry_schedule backoff{{.max_attempts = 1 << 30, .base_delay = 500ms, .max_delay = 60s}};
    int submit_failures = 0;
    int poll_failures = 0;
    int download_failures = 0;
    engine::duration pause{}; ///< set by a step: how long to wait before the next
};

video_jobs::video_jobs(engine::executor ex, video_jobs_services services, video_jobs_config cfg)
    : ex_(ex),
      svc_(std::move(services)),
      cfg_(std::move(cfg)),
      seconds_(pipelines::effective_seconds(cfg_.requested_seconds, svc_.provider.info().allowed_seconds)),
      jobs_(ex, engine::task_group::config{.name = "video_jobs"}),
      repo_(svc_.db),
      content_(svc_.db),
      quotas_(svc_.db),
      users_(svc_.db) {
    engine::log().info("video.provider",
                       {{"provider", svc_.provider.info().name},
                        {"model", svc_.provider.info().model},
                        {"requested_seconds", cfg_.requested_seconds},
                        {"effective_seconds", seconds_}});
}

video_jobs::~video_jobs() = default;

bool video_jobs::show_debug(std::int64_t user_id) const {
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

engine::awaitable<void> video_jobs::resume() {
    const auto now = wall_now();
    // Jobs cut off while submitting end submit_unknown; their refunds commit with that change.
    svc_.db.in_transaction([&] {
        for (const auto& job : repo_.recover_after_crash(now)) {
            ++stats_.submit_unknown;
            quotas_.refund(job.user_id, storage::quota_kind::video, storage::utc_day(job.created));
            engine::log().warn("video.submit_unknown", {{"job", job.id}, {"user", job.user_id}});
        }
    });
    // Every ended job whose user was not told yet (those just recovered, and any whose message a
    // crash cut off) is told now.
    for (const auto& job : repo_.pending_notices()) {
        const auto user = users_.get(job.user_id);
        const std::string lang = user ? user->language : "en";
        engine::log().info("video.notice_pending", {{"job", job.id}, {"notice", job.notice.value_or("")}});
        (void)jobs_.spawn(notify(job.id, job.chat_id, lang, job.notice.value_or("video.failed")));
    }
    for (const auto& job : repo_.unfinished()) {
        const auto user = users_.get(job.user_id);
        const std::string lang = user ? user->language : "en";
        engine::log().info("video.resume",
                           {{"job", job.id}, {"state", std::string(storage::to_string(job.state))}});
        (void)jobs_.spawn(run(job.id, lang));
    }
    co_return;
}

engine::awaitable<void>
video_jobs::notify(std::int64_t job_id, std::int64_t chat_id, std::string lang, std::string message_key) {
    std::string text = svc_.locales.text(lang, message_key);
    const auto sent = co_await svc_.out.text(chat_id, std::move(text));
    // A stop in the middle leaves the notice for the next start; a send that failed for good
    // (the user blocked the bot) is not tried again at every start.
    const auto cs = co_await asio::this_coro::cancellation_state;
    if (!sent && cs.cancelled() != asio::cancellation_type::none) {
        co_return;
    }
    repo_.clear_notice(job_id);
}

std::optional<std::string> video_jobs::busy_text(std::int64_t user_id, std::string_view lang) {
    if (auto in_flight = repo_.in_flight_for(user_id)) {
        return svc_.locales.text(lang, "video.in_progress", {{"elapsed", elapsed_text(in_flight->created)}});
    }
    return std::nullopt;
}

engine::awaitable<void> video_jobs::request(std::int64_t user_id,
                                            std::int64_t chat_id,
                                            std::string persona_id,
                                            std::string lang,
                                            storage::video_mode mode,
                                            bool adult_confirmed) {
    const auto& l = svc_.locales;
    if (auto busy = busy_text(user_id, lang)) {
        co_await svc_.out.text(chat_id, std::move(*busy));
        co_return;
    }
    if (mode == storage::video_mode::from_last_selfie && !content_.last_selfie(user_id, persona_id)) {
        std::string none = l.text(lang, "video.no_selfie");
        co_await svc_.out.text(chat_id, std::move(none));
        co_return;
    }
    const auto now = wall_now();
    const auto today = storage::utc_day(now);
    if (!quotas_.try_consume(user_id, storage::quota_kind::video, today, cfg_.videos_per_day)) {
        std::string quota = l.text(lang, "quota.videos");
        co_await svc_.out.text(chat_id, std::move(quota));
        co_return;
    }
    rng_ ^= rng_ >> 12;
    rng_ ^= rng_ << 25;
    rng_ ^= rng_ >> 27;
    const double draw = static_cast<double>((rng_ * 0x2545F4914F6CDD1DULL) >> 11) / 9007199254740992.0;
    storage::new_video_job job;
    job.user_id = user_id;
    job.chat_id = chat_id;
    job.persona_id = persona_id;
    job.provider = svc_.provider.info().name;
    job.mode = mode;
    job.flirty = choose_flirty(cfg_.flirty_probability, adult_confirmed, draw);
    job.created = now;
    auto id = repo_.create(job);
    if (!id) {
        // Lost a race with another request of the same user: the schema kept one.
        quotas_.refund(user_id, storage::quota_kind::video, today);
        std::string busy = l.text(lang, "video.in_progress", {{"elapsed", "0s"}});
        co_await svc_.out.text(chat_id, std::move(busy));
        co_return;
    }
    ++stats_.requested;
    // The progress message: the seed's "generating" line, edited in place from now on.
    std::string first = l.text(lang, "video.generating");
    auto sent = co_await svc_.out.text(chat_id, std::move(first));
    if (sent) {
        auto r = repo_.set_progress_message(*id, sent->message_id, wall_now());
        (void)r;
    }
    (void)jobs_.spawn(run(*id, lang));
}

engine::awaitable<void> video_jobs::report(progress& pr,
                                           const storage::video_job& job,
                                           std::string_view stage,
                                           std::optional<int> percent) {
    const auto now = engine::clock::now();
    if (now - pr.last_action >= cfg_.action_every) {
        pr.last_action = now;
        co_await svc_.out.action(job.chat_id, tg::chat_action::upload_video);
    }
    if (!pr.message_id || now - pr.last_edit < cfg_.progress_every) {
        co_return;
    }
    const auto user = users_.get(job.user_id);
    const std::string lang = user ? user->language : "en";
    const std::string stage_text = svc_.locales.text(lang, "video.stage." + std::string(stage));
    std::string text =
        percent ? svc_.locales.text(lang,
                                    "video.progress_percent",
                                    {{"stage", stage_text},
                                     {"percent", std::to_string(*percent)},
                                     {"elapsed", elapsed_text(job.created)}})
                : svc_.locales.text(lang,
                                    "video.progress",
                                    {{"stage", stage_text}, {"elapsed", elapsed_text(job.created)}});
    if (text == pr.last_text) {
        co_return;
    }
    pr.last_text = text;
    pr.last_edit = now;
    tg::edit_message_text_params params;
    params.chat_id = job.chat_id;
    params.message_id = *pr.message_id;
    params.text = std::move(text);
    (void)co_await svc_.out.edit(std::move(params));
}

engine::awaitable<std::optional<std::string>>
video_jobs::write_video_prompt(const persona& p, const std::string& selfie_prompt, bool flirty) {
    net::openai::chat_request req;
    req.messages.push_back(
        {net::openai::role::system,
         "You write prompts for image-to-video models. Answer only with the JSON object asked for."});
    req.messages.push_back(
        {net::openai::role::user,
         video_prompt_instruction(p, selfie_prompt, flirty, std::chrono::seconds(seconds_))});
    net::openai::json_schema_format format;
    format.name = "video_prompt";
    format.strict = true;
    boost::system::error_code ec;
    auto schema = boost::json::parse(video_prompt_schema(), ec);
    if (!ec && schema.is_object()) {
        format.schema = schema.as_object();
        req.format = std::move(format);
    }
    auto r = co_await svc_.llm.complete(std::move(req));
    if (r && r->content) {
        if (auto vp = parse_video_prompt(*r->content)) {
            if (auto problem = validate_video_prompt(*vp); !problem) {
                co_return vp->render();
            } else {
                engine::log().info("video.prompt_invalid", {{"reason", *problem}});
            }
        }
    } else if (!r) {
        engine::log().warn("video.prompt_llm_failed", {{"error", r.error().message}});
    }
    // An LLM outage or a bad answer never stops a video: the template takes over.
    co_return template_video_prompt(p, selfie_prompt, flirty, std::chrono::seconds(seconds_)).render();
}

std::string video_jobs::clean_retry_prompt(const persona& p, const storage::video_job& job) const {
    const auto clip = std::chrono::seconds(seconds_);
    return without_flirty_elements(p,
                                   template_video_prompt(p, job.selfie_prompt.value_or(""), false, clip),
                                   clip)
        .render();
}

engine::awaitable<void> video_jobs::finish_failed(const storage::video_job& job,
                                                  job_state terminal,
                                                  std::string lang,
                                                  std::string message_key,
                                                  std::string error) {
    storage::job_fields f;
    f.error = error;
    f.notice = message_key;
    // The end, the refund (the user pays for delivered videos only) and the message still owed
    // commit together: a crash before the message is sent repeats it at the next start.
    const bool moved = svc_.db.in_transaction([&] {
        auto r = repo_.transition(job.id, job.state, terminal, f, wall_now());
        if (!r) {
            engine::log().error("video.transition_failed", {{"job", job.id}, {"error", r.error().message()}});
            return false;
        }
        quotas_.refund(job.user_id, storage::quota_kind::video, storage::utc_day(job.created));
        return true;
    });
    if (terminal == job_state::refused) {
        ++stats_.refused;
    } else {
        ++stats_.failed;
    }
    engine::log().warn(
        "video.ended",
        {{"job", job.id}, {"state", std::string(storage::to_string(terminal))}, {"error", error}});
    if (moved) {
        co_await notify(job.id, job.chat_id, std::move(lang), std::move(message_key));
    } else {
        std::string text = svc_.locales.text(lang, message_key);
        co_await svc_.out.text(job.chat_id, std::move(text));
    }
}

engine::awaitable<video_jobs::delivery>
video_jobs::deliver(storage::video_job job, std::string lang, video_file file) {
    const auto& info = svc_.provider.info();
    // A previous run may have sent this video and died before recording it (its row is written
    // before each send). Delivered already: done. Sent once with the outcome unknown: one more
    // send is the accepted duplicate (design.md §4). Twice: no more sends, and the user is told
    // it may be lost (and not charged).
    const auto earlier = content_.by_media_path(file.path.string());
    for (const auto& e : earlier) {
        if (e.telegram_file_id) {
            co_return delivery::sent;
        }
    }
    if (earlier.size() >= 2) {
        engine::log().warn("video.delivery_uncertain", {{"job", job.id}, {"attempts", earlier.size()}});
        co_return delivery::uncertain;
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
    row.duration = std::chrono::seconds(seconds_);
    row.created = wall_now();
    const auto content_id = content_.insert(row);

    tg::send_video_params params;
    params.chat_id = job.chat_id;
    params.video = tg::input_file::from_disk(file.path, file.mime);
    params.caption = svc_.locales.text(lang, "video.success");
    params.width = info.width;
    params.height = info.height;
    params.duration = std::chrono::seconds(seconds_);
    params.supports_streaming = true;
    auto sent = co_await svc_.out.video(std::move(params));
    if (!sent) {
        co_return delivery::failed;
    }
    if (sent->video) {
        auto r = content_.set_telegram_file_id(content_id, sent->video->file_id);
        (void)r;
    }
    if (show_debug(job.user_id)) {
        std::string debug =
            svc_.locales.text(lang,
                              "debug.info",
                              {{"selfie_prompt", truncate_chars(job.selfie_prompt.value_or(""), 300)},
                               {"video_prompt", truncate_chars(job.video_prompt.value_or(""), 300)}});
        co_await svc_.out.text(job.chat_id, std::move(debug));
    }
    co_return delivery::sent;
}

engine::awaitable<void> video_jobs::run(std::int64_t job_id, std::string lang) {
    // Between steps only this small frame and the sleep's stay alive (thousands of jobs sleep
    // between polls); a step's larger frame lives only while it works.
    job_run jr;
    jr.lang = std::move(lang);
    bool reload = true;
    for (;;) {
        if (reload && !load(job_id, jr)) {
            co_return;
        }
        jr.pause = engine::duration::zero();
        const next_step next = co_await step(jr);
        if (next == next_step::done) {
            co_return;
        }
        if (jr.pause > engine::duration::zero()) {
            co_await engine::sleep(jr.pause);
        }
        reload = next == next_step::reload;
    }
}

bool video_jobs::load(std::int64_t job_id, job_run& jr) {
    auto loaded = repo_.get(job_id);
    if (!loaded) {
        return false;
    }
    jr.job = std::move(*loaded);
    return true;
}

engine::awaitable<video_jobs::next_step> video_jobs::step(job_run& jr) {
    auto& job = jr.job;
    auto& pr = jr.pr;
    auto& backoff = jr.backoff;
    auto& submit_failures = jr.submit_failures;
    auto& poll_failures = jr.poll_failures;
    auto& download_failures = jr.download_failures;
    const std::string& lang = jr.lang;
    const auto& info = svc_.provider.info();
    pr.message_id = job.progress_message_id;
    const persona* p = svc_.personas.find(job.persona_id);
    if (p == nullptr) {
        co_await finish_failed(job, job_state::failed, lang, "video.failed", "persona no longer exists");
        co_return next_step::done;
    }
    const auto now = wall_now();
    switch (job.state) {
    case job_state::requested: {
        auto r = repo_.transition(job.id, job.state, job_state::prompting, {}, now);
        (void)r;
        co_return next_step::reload;
    }
    case job_state::prompting: {
        co_await report(pr, job, "prompting", std::nullopt);
        if (job.mode == storage::video_mode::from_last_selfie || job.image_content_id) {
            std::optional<std::string> selfie_prompt = job.selfie_prompt;
            std::optional<std::string> image_path = job.image_path;
            std::optional<std::int64_t> image_id = job.image_content_id;
            if (!image_path) {
                const auto last = content_.last_selfie(job.user_id, job.persona_id);
                if (!last) {
                    co_await finish_failed(job, job_state::failed, lang, "video.no_selfie", "no selfie");
                    co_return next_step::done;
                }
                selfie_prompt = last->prompt;
                image_path = last->media_path;
                image_id = last->id;
            }
            auto video_prompt = co_await write_video_prompt(*p, selfie_prompt.value_or(""), job.flirty);
            storage::job_fields f;
            f.selfie_prompt = selfie_prompt;
            f.image_path = image_path;
            f.image_content_id = image_id;
            f.video_prompt = video_prompt;
            auto r = repo_.transition(job.id, job.state, job_state::submitting, f, wall_now());
            if (!r) {
                engine::log().error("video.transition_failed",
                                    {{"job", job.id}, {"error", r.error().message()}});
                co_return next_step::done;
            }
        } else {
            auto r = repo_.transition(job.id, job.state, job_state::rendering_image, {}, now);
            (void)r;
        }
        co_return next_step::reload;
    }
    case job_state::rendering_image: {
        co_await report(pr, job, "rendering_image", std::nullopt);
        auto selfie = co_await svc_.make_selfie(job.user_id, job.chat_id, job.persona_id, lang);
        if (!selfie) {
            co_await finish_failed(job,
                                   job_state::failed,
                                   lang,
                                   "video.failed",
                                   "the selfie could not be made");
            co_return next_step::done;
        }
        auto video_prompt = co_await write_video_prompt(*p, selfie->prompt, job.flirty);
        storage::job_fields f;
        f.selfie_prompt = selfie->prompt;
        f.image_path = selfie->path;
        f.image_content_id = selfie->content_id;
        f.video_prompt = video_prompt;
        auto r = repo_.transition(job.id, job.state, job_state::submitting, f, wall_now());
        if (!r) {
            engine::log().error("video.transition_failed", {{"job", job.id}, {"error", r.error().message()}});
            co_return next_step::done;
        }
        co_return next_step::reload;
    }
    case job_state::submitting: {
        co_await report(pr, job, "submitting", std::nullopt);
        // The job is committed as submitting: from here a crash means submit_unknown.
        auto image = read_file(job.image_path.value_or(""));
        if (!image) {
            co_await finish_failed(job,
                                   job_state::failed,
                                   lang,
                                   "video.failed",
                                   "the first frame is missing");
            co_return next_step::done;
        }
        std::string frame = std::move(*image);
        std::string mime = "image/png";
        if (info.exact_size_frame) {
            const int w = info.width;
            const int h = info.height;
            auto fit_job = [frame, w, h] { return fit_frame(frame, w, h); };
            auto fitted = co_await svc_.offload.run(std::move(fit_job));
            if (!fitted) {
                co_await finish_failed(job, job_state::failed, lang, "video.failed", fitted.error());
                co_return next_step::done;
            }
            frame = std::move(fitted->bytes);
            mime = fitted->mime;
        } else if (frame.size() > 3 && frame[0] == '\xFF' && frame[1] == '\xD8') {
            mime = "image/jpeg";
        }
        const auto cents = static_cast<std::int64_t>(info.price_cents_per_second) * seconds_;
        const auto today = storage::utc_day(wall_now());
        if (submit_failures == 0 && !quotas_.try_spend(info.name, today, cents, cfg_.daily_spend_cap_cents)) {
            co_await finish_failed(job, job_state::failed, lang, "quota.spend", "daily spend cap reached");
            co_return next_step::done;
        }
        video_submit sub;
        sub.prompt = job.video_prompt.value_or("");
        sub.image = std::move(frame);
        sub.image_mime = mime;
        sub.seconds = seconds_;
        ++stats_.creates;
        auto created = co_await svc_.provider.submit(std::move(sub));
        if (created) {
            storage::job_fields f;
            f.provider_job_id = *created;
            f.next_poll_at =
                wall_now() + std::chrono::duration_cast<std::chrono::milliseconds>(cfg_.poll_interval);
            auto r = repo_.transition(job.id, job.state, job_state::submitted, f, wall_now());
            if (!r) {
                engine::log().error("video.transition_failed",
                                    {{"job", job.id}, {"error", r.error().message()}});
                co_return next_step::done;
            }
            engine::log().info("video.submitted", {{"job", job.id}, {"provider_job", *created}});
            co_return next_step::reload;
        }
        const auto& e = created.error();
        if (e.kind == video_error_kind::refused) {
            if (job.flirty) {
                // Once, without the flirty elements (the transition clears the flag).
                ++stats_.refusal_retries;
                quotas_.refund_spend(info.name, today, cents);
                storage::job_fields f;
                f.video_prompt = clean_retry_prompt(*p, job);
                auto r = repo_.transition(job.id, job.state, job_state::prompting, f, wall_now());
                (void)r;
                co_return next_step::reload;
            }
            quotas_.refund_spend(info.name, today, cents);
            co_await finish_failed(job, job_state::refused, lang, "video.refused", e.message);
            co_return next_step::done;
        }
        if (e.kind == video_error_kind::unknown_outcome) {
            ++stats_.submit_unknown;
            co_await finish_failed(job, job_state::submit_unknown, lang, "video.lost", e.message);
            co_return next_step::done;
        }
        if ((e.kind == video_error_kind::transient || e.kind == video_error_kind::rate_limited) &&
            ++submit_failures < cfg_.submit_attempts) {
            const auto wait = e.retry_after ? engine::duration(*e.retry_after)
                                            : backoff.next_delay(submit_failures).value_or(10s);
            jr.pause = wait;
            co_return next_step::reload; // still submitting: the create certainly did not happen
        }
        quotas_.refund_spend(info.name, today, cents);
        const char* key = e.kind == video_error_kind::model_gone ? "video.unavailable" : "video.failed";
        if (e.kind == video_error_kind::model_gone || e.kind == video_error_kind::auth) {
            engine::log().error("video.provider_misconfigured",
                                {{"provider", info.name}, {"model", info.model}, {"error", e.message}});
        }
        co_await finish_failed(job, job_state::failed, lang, key, e.message);
        co_return next_step::done;
    }
    case job_state::submitted: {
        if (wall_now() - job.created >
            std::chrono::duration_cast<std::chrono::milliseconds>(cfg_.poll_timeout)) {
            co_await finish_failed(job, job_state::failed, lang, "video.timeout", "poll timeout");
            co_return next_step::done;
        }
        if (job.next_poll_at && *job.next_poll_at > wall_now()) {
            // Resumed before its time: wait, then poll with the row as it is.
            jr.pause = *job.next_poll_at - wall_now();
            job.next_poll_at.reset();
            co_return next_step::stay;
        }
        ++stats_.polls;
        auto polled = co_await svc_.provider.poll(job.provider_job_id.value_or(""));
        // Spread the next poll with jitter (up to +20%), so thousands of jobs do not align.
        rng_ ^= rng_ >> 12;
        rng_ ^= rng_ << 25;
        rng_ ^= rng_ >> 27;
        const auto interval = std::chrono::duration_cast<std::chrono::milliseconds>(cfg_.poll_interval);
        const auto jitter = std::chrono::milliseconds(static_cast<std::int64_t>(
            (rng_ * 0x2545F4914F6CDD1DULL) % static_cast<std::uint64_t>(interval.count() / 5 + 1)));
        if (!polled) {
            ++stats_.poll_errors;
            const auto& e = polled.error();
            if (e.kind == video_error_kind::transient || e.kind == video_error_kind::rate_limited) {
                const auto wait = e.retry_after
                                      ? std::chrono::duration_cast<std::chrono::milliseconds>(*e.retry_after)
                                      : std::chrono::duration_cast<std::chrono::milliseconds>(
                                            backoff.next_delay(++poll_failures).value_or(60s));
                jr.pause = std::max(wait, interval);
                co_return next_step::stay;
            }
            co_await finish_failed(job, job_state::failed, lang, "video.failed", e.message);
            co_return next_step::done;
        }
        poll_failures = 0;
        switch (polled->status) {
        case video_poll::state::queued:
        case video_poll::state::running: {
            std::optional<int> percent;
            if (info.reports_progress) {
                percent = polled->progress;
            }
            co_await report(pr, job, "rendering", percent);
            jr.pause = interval + jitter;
            job.next_poll_at.reset();
            co_return next_step::stay;
        }
        case video_poll::state::completed: {
            auto r = repo_.transition(job.id, job.state, job_state::downloading, {}, wall_now());
            (void)r;
            co_return next_step::reload;
        }
        case video_poll::state::refused:
            if (job.flirty) {
                ++stats_.refusal_retries;
                storage::job_fields f;
                f.video_prompt = clean_retry_prompt(*p, job);
                auto back = repo_.transition(job.id, job.state, job_state::prompting, f, wall_now());
                (void)back;
                co_return next_step::reload;
            }
            co_await finish_failed(job, job_state::refused, lang, "video.refused", polled->error);
            co_return next_step::done;
        case video_poll::state::failed:
            co_await finish_failed(job, job_state::failed, lang, "video.failed", polled->error);
            co_return next_step::done;
        }
        co_return next_step::reload;
    }
    case job_state::downloading: {
        co_await report(pr, job, "downloading", std::nullopt);
        const auto path = svc_.media.directory() / ("video-" + std::to_string(job.id) + ".mp4");
        auto file = co_await svc_.provider.download(job.provider_job_id.value_or(""), path);
        if (!file) {
            const auto& e = file.error();
            if ((e.kind == video_error_kind::transient || e.kind == video_error_kind::rate_limited) &&
                ++download_failures < cfg_.download_attempts) {
                jr.pause = backoff.next_delay(download_failures).value_or(5s);
                co_return next_step::reload;
            }
            co_await finish_failed(job, job_state::failed, lang, "video.failed", e.message);
            co_return next_step::done;
        }
        const auto outcome = co_await deliver(job, lang, *file);
        if (outcome == delivery::uncertain) {
            co_await finish_failed(job, job_state::failed, lang, "video.lost", "delivery uncertain");
            co_return next_step::done;
        }
        if (outcome == delivery::failed) {
            co_await finish_failed(job,
                                   job_state::failed,
                                   lang,
                                   "video.failed",
                                   "delivery to Telegram failed");
            co_return next_step::done;
        }
        auto r = repo_.transition(job.id, job.state, job_state::delivered, {}, wall_now());
        (void)r;
        ++stats_.delivered;
        // The progress message has done its job.
        if (pr.message_id) {
            tg::edit_message_text_params done;
            done.chat_id = job.chat_id;
            done.message_id = *pr.message_id;
            done.text = svc_.locales.text(lang, "video.success");
            (void)co_await svc_.out.edit(std::move(done));
        }
        co_return next_step::done;
    }
    case job_state::delivered:
    case job_state::failed:
    case job_state::refused:
    case job_state::submit_unknown:
        co_return next_step::done;
    }
    co_return next_step::done;
}

engine::awaitable<void> video_jobs::shutdown(engine::duration grace) {
    co_await jobs_.shutdown(grace);
}

} // namespace companion::pipelines
