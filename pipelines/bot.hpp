// The bot (design.md §1, §3): the composition of its units. Updates come in through the intake
// (long polling into the durable inbox, then one serial queue per chat), the router turns each
// into an intent, the per-user limits gate it, and one unit carries it out: chat, selfie, the
// video offer and its jobs, the persona and language menus, /forget, the admin report. Outbound
// messages all go through the paced sender.
#pragma once

#include "engine/task_group.hpp"
#include "pipelines/chat.hpp"
#include "pipelines/checkins.hpp"
#include "pipelines/history.hpp"
#include "pipelines/intake.hpp"
#include "pipelines/payments.hpp"
#include "pipelines/profile.hpp"
#include "pipelines/router.hpp"
#include "pipelines/selfie.hpp"
#include "pipelines/sender.hpp"
#include "pipelines/services.hpp"
#include "pipelines/user_limits.hpp"
#include "pipelines/video_jobs.hpp"
#include "pipelines/video_offer.hpp"
#include "storage/quotas.hpp"
#include "storage/updates.hpp"
#include "storage/users.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace companion::pipelines {

struct bot_config {
    std::vector<std::int64_t> admins{};
    int selfies_per_day = 20;
    chat_config chat{};
    limits_config limits{};
    intake_config intake{};
    sender_config sending{};
    video_jobs_config video{};
    voice_config voice{};
    payments_config payments{};
    checkins_config checkins{};
    /// Set: webhook mode (Telegram POSTs updates to this endpoint); unset: long polling.
    std::optional<webhook_config> webhook{};
    /// On a stop, in-flight updates and jobs get this long before they are cancelled.
    engine::duration drain_grace = std::chrono::seconds(5);
};

/// The bot's counters, for tests and the admin report.
struct bot_stats : intake_stats {
    std::uint64_t chat_turns = 0;
    std::uint64_t voice_notes_heard = 0; ///< voice notes transcribed and answered as turns
    std::uint64_t voice_replies = 0;     ///< replies sent as voice notes
    std::uint64_t voice_fallbacks = 0;   ///< replies that should have been spoken and went as text
    std::uint64_t selfies = 0;
    std::uint64_t rate_limited = 0;        ///< inbound requests refused by the per-user limits
    std::uint64_t payments_granted = 0;    ///< successful payments whose credits were granted
    std::uint64_t payments_duplicates = 0; ///< payments delivered again: nothing granted twice
    std::uint64_t payments_refused = 0;    ///< payments for nothing this bot sold: logged, nothing granted
    std::uint64_t checkins_sent = 0;       ///< messages she wrote first
    std::uint64_t checkins_asked = 0;      ///< opt-in questions asked
};

class bot final : public update_handler {
public:
    bot(engine::executor ex, bot_services services, bot_config cfg);
    ~bot() override;
    bot(const bot&) = delete;
    bot& operator=(const bot&) = delete;

    /// deleteWebhook (long polling needs it gone) and setMyCommands per language. Returns false
    /// when the token is refused (401): the bot cannot run.
    engine::awaitable<bool> prepare();

    /// Processes what the inbox still holds, resumes the video jobs, then long-polls until
    /// cancelled; on cancellation it stops polling and gives in-flight work `drain_grace` before
    /// cancelling it (it stays in the database and runs again on the next start). Throws
    /// intake_error when Telegram refuses the token: the process must end, not idle.
    engine::awaitable<void> run();

    engine::awaitable<void> handle(const tg::update& u) override;
    engine::awaitable<void> handle_failure(const tg::update& u) override;

    /// A video request as if `user_id` had pressed a mode button (benchmarks and tests).
    engine::awaitable<void> request_video(std::int64_t user_id,
                                          std::int64_t chat_id,
                                          std::string persona_id,
                                          std::string lang,
                                          storage::video_mode mode);

    bool polling() const noexcept { return intake_.polling(); }
    engine::time_point last_poll() const noexcept { return intake_.last_poll(); }
    bot_stats stats() const noexcept;
    const sender_stats& delivery() const noexcept { return sender_.stats(); }
    std::size_t active_chats() const noexcept { return intake_.active_chats(); }
    std::size_t queued_updates() const noexcept { return intake_.queued_updates(); }
    std::size_t deferred_updates() const noexcept { return intake_.deferred_updates(); }
    std::size_t video_jobs_running() const noexcept { return videos_ ? videos_->running() : 0U; }
    /// The check-in unit (tests run its pass).
    checkins& checkins_unit() noexcept { return checkins_; }
    /// The video job manager, when a provider is configured.
    video_jobs* videos() noexcept { return videos_.get(); }

private:
    /// Drains the chat queues, then stops the video jobs, each within drain_grace.
    engine::awaitable<void> stop();
    user_context context_of(const sender_info& from);
    engine::awaitable<void> dispatch(const user_context& c, const route& r);
    /// A chat turn, then the check-in question when one is due.
    engine::awaitable<void> converse(const user_context& c, std::string text);
    /// A voice note heard, then answered as a chat turn.
    engine::awaitable<void> converse_by_voice(const user_context& c, intent::voice_note note);
    /// The 18+ answer: acknowledged, stored, and the video offer goes on.
    engine::awaitable<void> adult_answered(const user_context& c, const std::string& callback_id, bool adult);
    /// The answer to "forget me?": erase everything, or say nothing was erased.
    engine::awaitable<void>
    forget_answered(const user_context& c, const std::string& callback_id, bool erase);
    engine::awaitable<void> run_command(const user_context& c, command what);
    engine::awaitable<void>
    choose_video(const user_context& c, const std::string& callback_id, const intent::choose_video& choice);
    engine::awaitable<void> selfie(const user_context& c);
    /// Where an offer starts: with the 18+ question for a user who has not answered it, or (the
    /// answer just given) straight at the choice of mode.
    enum class offer_step { ask_adult, choose_mode };
    engine::awaitable<void> offer_video(const user_context& c, offer_step from);
    /// Sends `text` (and markup); a failure is logged, the flow goes on.
    engine::awaitable<void>
    say(const user_context& c, std::string text, std::optional<boost::json::value> markup = {});
    /// Sends `text` unless this user got a notice within notice_every.
    engine::awaitable<void> notice(const user_context& c, std::string text);
    bool allow(limit which, std::int64_t user_id);
    /// Counts an update of a kind the bot does not handle (no log line per update).
    static void count_ignored(std::string_view kind);
    bool is_admin(std::int64_t user_id) const;

    engine::executor ex_;
    bot_services svc_;
    bot_config cfg_;
    sender sender_;
    user_limits limits_;
    voice_pipeline voice_;
    chat_pipeline chat_;
    selfie_pipeline selfies_;
    profile profile_;
    media_history history_;
    payments payments_;
    checkins checkins_;
    std::unique_ptr<video_jobs> videos_;
    video_offer offer_;
    intake intake_;
    storage::user_repository users_;
    storage::quota_repository quotas_;
    storage::flood_waits floods_;
    std::uint64_t rate_limited_ = 0;
    std::string username_{}; ///< getMe's, once prepare() ran
};

} // namespace companion::pipelines
