// Video credits sold for Telegram Stars (issue 21; contracts/telegram-drafts-stars-voice.md §2).
// The decisions are plain functions, table-tested: what an invoice payload says, whether a
// pre-checkout may go ahead, what a successful payment grants, what a clip costs in credits. The
// `payments` unit carries them out: the packs offered as buttons, the invoice, the pre-checkout
// answered at once (on its own intake lane, never behind a slow chat), the grant committed with
// its ledger row exactly once per charge id, /balance, /paysupport, and an admin's /refund.
#pragma once

#include "engine/asio.hpp"
#include "net/telegram/types.hpp"
#include "pipelines/sender.hpp"
#include "pipelines/services.hpp"
#include "storage/credits.hpp"

#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace companion::pipelines {

/// A pack of video credits and its price in Stars.
struct credit_pack {
    int credits = 0;
    std::int64_t stars = 0;

    bool operator==(const credit_pack&) const = default;
};

struct payments_config {
    bool enabled = false;           ///< off: no packs, no invoices, pre-checkouts refused
    std::vector<credit_pack> packs; ///< as offered, in order; credits are unique
    int seconds_per_credit = 5;     ///< a clip costs one credit per this many seconds (rounded up)
    /// The monthly subscription's price in Stars (0: none sold; at most 10000).
    std::int64_t subscription_stars = 0;
    int subscription_videos = 3; ///< the extra videos a day it gives, on top of the free ones
};

/// Stars subscriptions are sold for exactly this period (createInvoiceLink's subscription_period).
inline constexpr int subscription_period_seconds = 2592000;

/// What an invoice was for: the buyer and the pack at the price it was sold.
struct pack_order {
    std::int64_t user_id = 0;
    credit_pack pack{};

    bool operator==(const pack_order&) const = default;
};

/// The invoice payload of `order`: "pack:<credits>:<stars>:<user_id>" (well under 128 bytes).
std::string pack_payload(const pack_order& order);
/// The order a payload names; none for anything this bot did not write (junk, zero, overflow).
std::optional<pack_order> read_pack_payload(std::string_view payload);

/// The subscription's payload: "sub:<videos a day>:<stars>:<user_id>" (the order's `credits` are
/// the videos a day).
std::string subscription_payload(const pack_order& order);
/// The subscription a payload names; none for anything else.
std::optional<pack_order> read_subscription_payload(std::string_view payload);

/// A subscription's end as the user reads it: "2026-12-31" (UTC).
std::string subscription_date(storage::timestamp t);

/// The credits a clip of `seconds` costs (at least one).
int credits_for(const payments_config& cfg, int seconds);

/// Whether a pre-checkout may go ahead.
enum class checkout_verdict {
    accept,
    payments_off,  ///< payments are turned off
    unknown_pack,  ///< the payload names a pack that is not sold (removed, or forged)
    wrong_price,   ///< the amount differs from the pack's price, or is not in Stars
    not_the_buyer, ///< the payer is not the user the invoice was made for
};
checkout_verdict check_checkout(const payments_config& cfg,
                                std::int64_t payer,
                                std::string_view currency,
                                std::int64_t total_amount,
                                std::string_view payload);

/// What a successful payment grants: the credits of the pack at the price paid (a pack removed
/// from the configuration since is honoured), the videos a day of a subscription period (until
/// the payment's subscription_expiration_date), or nothing with the reason.
struct grant_decision {
    int credits = 0;        ///< a pack's credits
    int videos_per_day = 0; ///< a subscription period's allowance
    std::string_view why{}; ///< set when nothing is granted

    bool grants() const noexcept { return credits > 0 || videos_per_day > 0; }

    bool operator==(const grant_decision&) const = default;
};
grant_decision decide_grant(std::int64_t payer, const net::telegram::successful_payment& p);

/// The pack's callback data ("buy:<credits>").
std::string pack_data(const credit_pack& p);

class payments {
public:
    /// `svc` and `out` must outlive it.
    payments(bot_services& svc, sender& out, payments_config cfg);

    bool enabled() const noexcept { return cfg_.enabled && !cfg_.packs.empty(); }
    /// Whether the monthly subscription is sold.
    bool subscription_sold() const noexcept { return enabled() && cfg_.subscription_stars > 0; }
    const payments_config& config() const noexcept { return cfg_; }
    std::int64_t balance(std::int64_t user_id);

    /// The pack buttons, one row each; none when payments are off.
    std::optional<boost::json::value> pack_buttons(std::string_view lang) const;
    /// /balance (and /buy): the credits left, and the packs to buy.
    engine::awaitable<void> show(const user_context& c);
    /// Today's free videos are used up: the balance and the packs.
    engine::awaitable<void> used_up(const user_context& c);
    /// A pack button: the Stars invoice for it, or the expired-button toast for a pack not sold.
    engine::awaitable<void> send_invoice(const user_context& c, const std::string& callback_id, int credits);
    /// The subscribe button: the subscription's invoice link (createInvoiceLink, 30 days), as a
    /// button that opens it, or the expired-button toast when no subscription is sold.
    engine::awaitable<void> subscribe(const user_context& c, const std::string& callback_id);
    /// Telegram's `subscription` update: the state is kept (a cancelled or failed subscription
    /// runs to its end) and the user is told in their language.
    engine::awaitable<void> subscription_changed(const user_context& c, const std::string& state);
    /// The extra videos a day the user's subscription gives now.
    int daily_allowance(std::int64_t user_id);
    /// Answers a pre-checkout query at once: ok, or a localized refusal.
    engine::awaitable<void> pre_checkout(const net::telegram::pre_checkout_query& q, std::string_view lang);
    /// A successful_payment message: the credits granted once per charge id, and the thanks.
    engine::awaitable<void> paid(const user_context& c, const net::telegram::successful_payment& p);
    /// /paysupport: how refunds work.
    engine::awaitable<void> support(const user_context& c);
    /// An admin's /refund <charge_id>: the Stars go back (an answer that the charge was refunded
    /// already counts as done) and the payment's unspent credits are taken back.
    engine::awaitable<void> refund(const user_context& admin, std::string charge_id);

    /// Grants and refusals since the start (a replayed payment is a duplicate).
    struct counters {
        std::uint64_t granted = 0;
        std::uint64_t duplicates = 0;
        std::uint64_t refused = 0;
        std::uint64_t checkouts_refused = 0;
    };
    const counters& stats() const noexcept { return stats_; }

private:
    engine::awaitable<void>
    say(const user_context& c, std::string text, std::optional<boost::json::value> markup);
    /// The subscription's line for /balance, or empty.
    std::string subscription_line(std::int64_t user_id, std::string_view lang);
    /// A subscription period paid: the allowance until the payment's expiration, once per charge.
    engine::awaitable<void>
    subscribed(const user_context& c, const net::telegram::successful_payment& p, int videos_per_day);

    bot_services& svc_;
    sender& out_;
    payments_config cfg_;
    storage::credit_repository credits_;
    counters stats_;
};

} // namespace companion::pipelines
