// Video credits bought with Telegram Stars (contracts/telegram-drafts-stars-voice.md §2): the
// ledger of payments, one row per telegram_payment_charge_id, and each user's balance. A grant
// and its ledger row commit together, so a payment replayed by Telegram or after a crash grants
// nothing twice; a video paid with credits records them against its job, and a job that ends
// without delivery gives them back once. The ledger and the balances are money records: they
// outlive /forget (which erases conversations, not purchases).
#pragma once

#include "storage/database.hpp"
#include "storage/detail/lazy_statement.hpp"
#include "storage/time.hpp"

#include <SQLiteCpp/Statement.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace companion::storage {

struct star_payment {
    std::string charge_id{}; ///< telegram_payment_charge_id
    std::int64_t user_id = 0;
    std::string payload{}; ///< the invoice payload as paid
    std::int64_t stars = 0;
    int credits = 0; ///< what the payment granted
    timestamp paid{};
    std::optional<timestamp> refunded{};

    bool operator==(const star_payment&) const = default;
};

enum class grant_outcome {
    granted,   ///< the ledger row and the credits were added
    duplicate, ///< this charge id was granted before: nothing changed
};

/// A monthly Stars subscription: `videos_per_day` more videos a day until `expires`.
struct video_subscription {
    std::int64_t user_id = 0;
    std::string payload{};
    int videos_per_day = 0;
    timestamp expires{};
    std::string state{}; ///< "active", "canceled" (runs to its end) or "failed" (renewal not charged)

    bool operator==(const video_subscription&) const = default;
};

/// What /stats shows of the money.
struct credit_totals {
    std::int64_t payments = 0;
    std::int64_t stars = 0;
    std::int64_t credits_granted = 0;
    std::int64_t credits_spent = 0; ///< on videos, net of credits given back
    std::int64_t refunds = 0;
    std::int64_t stars_refunded = 0;
    std::int64_t subscribers = 0; ///< subscriptions that have not ended (at the totals' `now`)

    bool operator==(const credit_totals&) const = default;
};

class credit_repository {
public:
    explicit credit_repository(database& db);

    /// Records the payment and adds its credits to the user's balance, in one transaction (a
    /// savepoint inside the caller's). A charge id seen before changes nothing.
    grant_outcome grant(const star_payment& p);
    std::int64_t balance(std::int64_t user_id);
    /// Takes `credits` from the user's balance for video job `job_id` if the balance covers them;
    /// false (nothing changed) when it does not. Run it in the transaction that creates the job.
    bool try_spend(std::int64_t user_id, std::int64_t job_id, int credits);
    /// Gives back the credits job `job_id` was paid with (it ended without a delivered video);
    /// the number given back, 0 when the job was not paid with credits or was refunded before.
    int refund_job(std::int64_t job_id);
    /// The credits job `job_id` was paid with (0: the free quota paid, or nothing).
    int paid_credits(std::int64_t job_id);
    std::optional<star_payment> payment(std::string_view charge_id);
    /// Marks a payment refunded (its Stars went back to the user) and takes back the credits it
    /// bought that are still unspent; false when the charge is unknown or was marked before.
    bool mark_refunded(std::string_view charge_id, timestamp at);
    credit_totals totals(timestamp now);

    /// Records a subscription payment (first or renewal) in the ledger and moves the user's
    /// subscription end to `expires` (never back), active again, in one transaction. A charge id
    /// seen before changes nothing.
    grant_outcome grant_subscription(const star_payment& p, int videos_per_day, timestamp expires);
    std::optional<video_subscription> subscription(std::int64_t user_id);
    /// Telegram's `subscription` update: the state changes, the end stays. False: no subscription.
    bool set_subscription_state(std::int64_t user_id, std::string_view state);
    /// The extra videos a day the user's subscription gives at `now` (0 once it has ended).
    int daily_allowance(std::int64_t user_id, timestamp now);

private:
    /// Records `p` in the ledger and runs `apply` (what it buys) in one transaction; nothing when
    /// the charge id was recorded before.
    template <class Apply>
    grant_outcome record_then(const star_payment& p, Apply apply);

    database& db_;
    detail::lazy_statement record_;
    detail::lazy_statement add_;
    detail::lazy_statement balance_;
    detail::lazy_statement take_;
    detail::lazy_statement note_spend_;
    detail::lazy_statement spend_of_;
    detail::lazy_statement drop_spend_;
    detail::lazy_statement give_back_;
    detail::lazy_statement payment_;
    detail::lazy_statement mark_refunded_;
    detail::lazy_statement take_back_;
    detail::lazy_statement totals_;
    detail::lazy_statement subscribe_;
    detail::lazy_statement subscription_;
    detail::lazy_statement sub_state_;
};

} // namespace companion::storage
