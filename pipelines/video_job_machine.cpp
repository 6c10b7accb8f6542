// The video job's decisions.
#include "pipelines/video_job_machine.hpp"

#include "pipelines/detail/overloaded.hpp"

#include <algorithm>
#include <cmath>

namespace companion::pipelines {

using storage::job_state;
using namespace std::chrono_literals;

namespace {

bool retryable(video_error_kind k) noexcept {
    return k == video_error_kind::transient || k == video_error_kind::rate_limited;
}

engine::wall_time after(engine::wall_time now, engine::duration d) {
    return now + std::chrono::ceil<std::chrono::milliseconds>(d);
}

job_action::finish
finish(job_state terminal, std::string notice, std::string error, std::int64_t refund = 0) {
    return {terminal, std::move(notice), std::move(error), refund, false};
}

/// A provider's reported cost in whole cents, rounded up (a fraction of a cent is still spent);
/// nonsense (negative, not finite, beyond $10,000) counts as nothing reported: zero is never
/// assumed, the reservation stays.
std::optional<std::int64_t> reported_cents(double usd) {
    if (!std::isfinite(usd) || usd < 0 || usd > 10'000) {
        return std::nullopt;
    }
    return static_cast<std::int64_t>(std::ceil(usd * 100 - 1e-9));
}

} // namespace

engine::duration poll_schedule::next(engine::random_source& random) const {
    const auto spread = std::chrono::duration<double>(interval_) * jitter_ * random.uniform();
    return interval_ + std::chrono::duration_cast<engine::duration>(spread);
}

engine::duration poll_schedule::after_error(engine::duration backoff,
                                            std::optional<engine::duration> retry_after) const {
    return std::max(retry_after.value_or(backoff), interval_);
}

bool progress_throttle::action_due(engine::time_point now) {
    if (last_action_ && now - *last_action_ < action_every_) {
        return false;
    }
    last_action_ = now;
    return true;
}

bool progress_throttle::edit_due(engine::time_point now, const std::string& text) {
    if ((last_edit_ && now - *last_edit_ < edit_every_) || text == last_text_) {
        return false;
    }
    last_edit_ = now;
    last_text_ = text;
    return true;
}

video_job_machine::video_job_machine(const video_machine_config& cfg, engine::random_source& random)
    : cfg_(cfg),
      random_(random),
      backoff_({.max_attempts = 1 << 30, .base_delay = 500ms, .max_delay = 60s}, random),
      polls_(cfg.poll_interval, cfg.poll_jitter) {}

video_job_step
video_job_machine::on(const storage::video_job& job, const video_job_event& event, engine::wall_time now) {
    return std::visit(
        detail::overloaded{
            [&](const job_event::entered& e) -> video_job_step {
                if (!e.persona_known) {
                    return {finish(job_state::failed, "video.failed", "persona no longer exists")};
                }
                return enter(job, now);
            },
            [&](const job_event::stored& e) -> video_job_step {
                if (!e.ok) {
                    // Someone else moved the row (or a bug): this run stops; the row is the truth.
                    return {job_action::stop{"the job is no longer where this run left it"}};
                }
                return enter(job, now);
            },
            [&](const job_event::last_selfie_found& e) -> video_job_step {
                if (!e.selfie) {
                    return {finish(job_state::failed, "video.no_selfie", "no selfie")};
                }
                return prompt_for(job, *e.selfie);
            },
            [&](const job_event::selfie_made& e) -> video_job_step {
                if (!e.selfie) {
                    // The video's first frame was refused (the model's choice) or failed (ours).
                    return {e.refused
                                ? finish(job_state::refused, "video.refused", "the first frame was refused")
                                : finish(job_state::failed, "video.failed", "the selfie could not be made")};
                }
                return prompt_for(job, *e.selfie);
            },
            [&](const job_event::prompt_written& e) -> video_job_step {
                if (!selfie_) {
                    return {job_action::stop{"a prompt arrived without a selfie"}};
                }
                storage::job_fields f;
                f.selfie_prompt = selfie_->prompt;
                f.image_path = selfie_->path;
                if (selfie_->content_id != 0) {
                    f.image_content_id = selfie_->content_id;
                }
                f.video_prompt = e.prompt;
                return {job_action::transition{job_state::submitting, std::move(f), 0}};
            },
            [&](const job_event::frame_prepared& e) -> video_job_step {
                if (e.error) {
                    return {finish(job_state::failed, "video.failed", *e.error)};
                }
                frame_ready_ = true;
                if (job.spend_reserved_cents > 0) {
                    spend_reserved_ = true; // a resumed job reserved it before the restart
                }
                if (!spend_reserved_) {
                    return {job_action::check_spend{create_cents(job)}};
                }
                return {job_action::submit{}};
            },
            [&](const job_event::spend_checked& e) -> video_job_step {
                if (!e.admitted) {
                    return {finish(job_state::failed, "quota.spend", "daily spend cap reached")};
                }
                spend_reserved_ = true;
                return {job_action::submit{}};
            },
            [&](const job_event::submitted& e) { return on_submitted(job, e.result, now); },
            [&](const job_event::polled& e) { return on_polled(job, e.result, now); },
            [&](const job_event::downloaded& e) { return on_downloaded(job, e.result, now); },
            [&](const job_event::delivered& e) { return on_delivered(e.outcome); },
        },
        event);
}

video_job_step video_job_machine::enter(const storage::video_job& job, engine::wall_time now) {
    switch (job.state) {
    case job_state::requested:
        return {job_action::transition{job_state::prompting, {}, 0}};
    case job_state::prompting:
        if (job.mode == storage::video_mode::from_last_selfie || job.image_content_id) {
            if (job.image_path) {
                // Back from a refusal: the same first frame, a new prompt.
                return prompt_for(
                    job,
                    {job.image_content_id.value_or(0), job.selfie_prompt.value_or(""), *job.image_path});
            }
            return {job_action::find_last_selfie{}, job_progress{"prompting"}};
        }
        return {job_action::transition{job_state::rendering_image, {}, 0}};
    case job_state::rendering_image:
        return {job_action::make_selfie{}, job_progress{"rendering_image"}};
    case job_state::submitting:
        if (spend_reserved_ && frame_ready_) {
            return {job_action::submit{}}; // again after a create that certainly did not happen
        }
        return {job_action::prepare_frame{job.image_path.value_or("")}, job_progress{"submitting"}};
    case job_state::submitted:
        if (now - job.created > cfg_.poll_timeout) {
            return {finish(job_state::failed, "video.timeout", "poll timeout")};
        }
        if (job.next_poll_at && *job.next_poll_at > now) {
            return {job_action::wait_until{*job.next_poll_at}}; // resumed before its time
        }
        return {job_action::poll{}};
    case job_state::downloading:
        return {job_action::download{}, job_progress{"downloading"}};
    case job_state::delivered:
    case job_state::failed:
    case job_state::refused:
    case job_state::submit_unknown:
        break;
    }
    return {job_action::stop{"the job has ended"}};
}

video_job_step video_job_machine::prompt_for(const storage::video_job& job, selfie_ref selfie) {
    auto prompt = selfie.prompt;
    selfie_ = std::move(selfie);
    return {job_action::write_prompt{std::move(prompt), job.flirty}, job_progress{"prompting"}};
}

video_job_step
video_job_machine::refused(const storage::video_job& job, std::string reason, std::int64_t refund_cents) {
    // A refused video is not billed: the reserved spend goes back either way.
    spend_reserved_ = false;
    frame_ready_ = false; // a retry writes a new prompt; the executor lets the frame go
    if (job.flirty) {
        // Once, without the flirty elements (the transition clears the flag, so never twice). The
        // reason is kept on the row until the job ends: the admin sees what the provider flagged.
        storage::job_fields f;
        f.error = std::move(reason);
        return {job_action::transition{job_state::prompting, std::move(f), refund_cents}};
    }
    return {finish(job_state::refused, "video.refused", std::move(reason), refund_cents)};
}

video_job_step video_job_machine::on_submitted(const storage::video_job& job,
                                               const video_result<std::string>& r,
                                               engine::wall_time now) {
    const auto reserved = spend_reserved_ ? create_cents(job) : 0;
    if (r) {
        submit_failures_ = 0;
        submit_failing_since_.reset();
        storage::job_fields f;
        f.provider_job_id = *r;
        f.next_poll_at = after(now, cfg_.poll_interval);
        return {job_action::transition{job_state::submitted, std::move(f), 0}};
    }
    const auto& e = r.error();
    switch (e.kind) {
    case video_error_kind::refused:
        return refused(job, e.message, reserved);
    case video_error_kind::unknown_outcome:
        // The job may exist at the provider (and cost money): never created twice.
        return {finish(job_state::submit_unknown, "video.lost", e.message)};
    default:
        break;
    }
    if (!submit_failing_since_) {
        submit_failing_since_ = now;
    }
    ++submit_failures_;
    const bool submit_spent =
        submit_failures_ >= cfg_.submit_attempts && now - *submit_failing_since_ >= cfg_.submit_budget;
    if (retryable(e.kind) && !submit_spent) {
        const auto wait = e.retry_after ? engine::duration(*e.retry_after)
                                        : backoff_.next_delay(submit_failures_).value_or(10s);
        return {job_action::wait_until{after(now, wait)}};
    }
    spend_reserved_ = false;
    auto end = finish(job_state::failed,
                      e.kind == video_error_kind::model_gone ? "video.unavailable" : "video.failed",
                      e.message,
                      reserved);
    end.alert_operator = e.kind == video_error_kind::model_gone || e.kind == video_error_kind::auth;
    return {std::move(end)};
}

video_job_step video_job_machine::on_polled(const storage::video_job& job,
                                            const video_result<video_poll>& r,
                                            engine::wall_time now) {
    if (!r) {
        const auto& e = r.error();
        if (!retryable(e.kind)) {
            return {finish(job_state::failed, "video.failed", e.message)};
        }
        const auto backoff = backoff_.next_delay(++poll_failures_).value_or(60s);
        std::optional<engine::duration> asked;
        if (e.retry_after) {
            asked = *e.retry_after;
        }
        return {job_action::wait_until{after(now, polls_.after_error(backoff, asked))}};
    }
    poll_failures_ = 0;
    switch (r->status) {
    case video_poll::state::queued:
    case video_poll::state::running: {
        std::optional<int> percent;
        if (cfg_.reports_progress) {
            percent = r->progress;
        }
        return {job_action::wait_until{after(now, polls_.next(random_))}, job_progress{"rendering", percent}};
    }
    case video_poll::state::completed: {
        job_action::transition t{job_state::downloading, {}, 0};
        // The row says what the job holds (this run's reservation or, resumed, an earlier one's).
        if (r->cost_usd && job.spend_reserved_cents > 0) {
            t.settle_spend_cents = reported_cents(*r->cost_usd);
        }
        return {std::move(t)};
    }
    case video_poll::state::refused:
        return refused(job, r->error, create_cents(job));
    case video_poll::state::failed:
        break;
    }
    return {finish(job_state::failed, "video.failed", r->error)};
}

video_job_step video_job_machine::on_downloaded(const storage::video_job& /*job*/,
                                                const video_result<video_file>& r,
                                                engine::wall_time now) {
    if (r) {
        return {job_action::deliver{*r}};
    }
    const auto& e = r.error();
    if (!download_failing_since_) {
        download_failing_since_ = now;
    }
    ++download_failures_;
    const bool download_spent = download_failures_ >= cfg_.download_attempts &&
                                now - *download_failing_since_ >= cfg_.download_budget;
    if (retryable(e.kind) && !download_spent) {
        return {job_action::wait_until{after(now, backoff_.next_delay(download_failures_).value_or(5s))}};
    }
    return {finish(job_state::failed, "video.failed", e.message)};
}

video_job_step video_job_machine::on_delivered(delivery outcome) {
    switch (outcome) {
    case delivery::sent:
        return {job_action::complete{}};
    case delivery::uncertain:
        return {finish(job_state::failed, "video.lost", "delivery uncertain")};
    case delivery::failed:
        break;
    }
    return {finish(job_state::failed, "video.failed", "delivery to Telegram failed")};
}

std::ostream& operator<<(std::ostream& os, const job_progress& p) {
    os << p.stage;
    if (p.percent) {
        os << ' ' << *p.percent << '%';
    }
    return os;
}

std::ostream& operator<<(std::ostream& os, const video_job_event& e) {
    std::visit(
        detail::overloaded{
            [&](const job_event::entered& v) { os << "entered" << (v.persona_known ? "" : " (no persona)"); },
            [&](const job_event::stored& v) { os << "stored " << (v.ok ? "ok" : "refused"); },
            [&](const job_event::last_selfie_found& v) {
                os << "last selfie " << (v.selfie ? "found" : "none");
            },
            [&](const job_event::selfie_made& v) { os << "selfie " << (v.selfie ? "made" : "failed"); },
            [&](const job_event::prompt_written&) { os << "prompt written"; },
            [&](const job_event::frame_prepared& v) { os << "frame " << v.error.value_or("ready"); },
            [&](const job_event::spend_checked& v) {
                os << "spend " << (v.admitted ? "admitted" : "refused");
            },
            [&](const job_event::submitted& v) {
                os << "submitted ";
                if (v.result) {
                    os << *v.result;
                } else {
                    os << v.result.error();
                }
            },
            [&](const job_event::polled& v) {
                os << "polled ";
                if (v.result) {
                    os << v.result->status;
                } else {
                    os << v.result.error();
                }
            },
            [&](const job_event::downloaded& v) {
                os << "downloaded ";
                if (v.result) {
                    os << v.result->path.string();
                } else {
                    os << v.result.error();
                }
            },
            [&](const job_event::delivered& v) { os << "delivered " << to_string(v.outcome); },
        },
        e);
    return os;
}

std::ostream& operator<<(std::ostream& os, const video_job_action& a) {
    std::visit(
        detail::overloaded{
            [&](const job_action::transition& v) {
                os << "transition to " << v.to;
                if (v.refund_spend_cents != 0) {
                    os << " (spend back " << v.refund_spend_cents << ")";
                }
            },
            [&](const job_action::find_last_selfie&) { os << "find last selfie"; },
            [&](const job_action::make_selfie&) { os << "make selfie"; },
            [&](const job_action::write_prompt& v) { os << "write prompt" << (v.flirty ? " (flirty)" : ""); },
            [&](const job_action::prepare_frame& v) { os << "prepare frame " << v.path; },
            [&](const job_action::check_spend& v) { os << "check spend " << v.cents; },
            [&](const job_action::submit&) { os << "submit"; },
            [&](const job_action::wait_until& v) { os << "wait until " << v.at.time_since_epoch().count(); },
            [&](const job_action::poll&) { os << "poll"; },
            [&](const job_action::download&) { os << "download"; },
            [&](const job_action::deliver& v) { os << "deliver " << v.file.path.string(); },
            [&](const job_action::finish& v) {
                os << "finish " << v.terminal << " telling " << v.notice << " (" << v.error << ")";
                if (v.refund_spend_cents != 0) {
                    os << " spend back " << v.refund_spend_cents;
                }
            },
            [&](const job_action::complete&) { os << "complete"; },
            [&](const job_action::stop& v) { os << "stop: " << v.reason; },
        },
        a);
    return os;
}

} // namespace companion::pipelines
