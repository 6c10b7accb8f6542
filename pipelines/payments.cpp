// Stars payments: the decisions, then the unit that carries them out.
#include "pipelines/payments.hpp"

#include "engine/log.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>

namespace companion::pipelines {

namespace tg = net::telegram;

namespace {

/// All of `digits` as a number above zero; anything else (a sign, a space, an overflow) is none.
std::optional<std::int64_t> positive(std::string_view digits) {
    std::int64_t n = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
    if (ec != std::errc{} || end != digits.data() + digits.size() || n <= 0) {
        return std::nullopt;
    }
    return n;
}

/// No pack holds more; a payload claiming more is forged.
constexpr std::int64_t max_pack_credits = 10000;
/// Telegram's own ceiling on a Stars price.
constexpr std::int64_t max_stars = 100000;

const credit_pack* pack_of(const payments_config& cfg, std::int64_t credits) {
    const auto it = std::find_if(cfg.packs.begin(), cfg.packs.end(), [&](const credit_pack& p) {
        return p.credits == credits;
    });
    return it == cfg.packs.end() ? nullptr : &*it;
}

} // namespace

namespace {

/// "<prefix><count>:<stars>:<user_id>", each a number above zero, or none.
std::optional<pack_order> read_order(std::string_view prefix, std::string_view payload) {
    if (!payload.starts_with(prefix)) {
        return std::nullopt;
    }
    payload.remove_prefix(prefix.size());
    std::optional<std::int64_t> fields[3];
    for (int i = 0; i < 3; ++i) {
        const auto colon = payload.find(':');
        const bool last = i == 2;
        if (last != (colon == std::string_view::npos)) {
            return std::nullopt; // too few or too many fields
        }
        fields[i] = positive(payload.substr(0, colon));
        if (!fields[i]) {
            return std::nullopt;
        }
        payload = last ? std::string_view{} : payload.substr(colon + 1);
    }
    if (*fields[0] > max_pack_credits || *fields[1] > max_stars) {
        return std::nullopt;
    }
    return pack_order{.user_id = *fields[2],
                      .pack = credit_pack{.credits = static_cast<int>(*fields[0]), .stars = *fields[1]}};
}

std::string order_payload(std::string_view prefix, const pack_order& order) {
    return std::string(prefix) + std::to_string(order.pack.credits) + ":" + std::to_string(order.pack.stars) +
           ":" + std::to_string(order.user_id);
}

} // namespace

std::string subscription_date(storage::timestamp t) {
    const std::chrono::year_month_day d{std::chrono::floor<std::chrono::days>(t)};
    char buf[16];
    std::snprintf(buf,
                  sizeof buf,
                  "%04d-%02u-%02u",
                  static_cast<int>(d.year()),
                  static_cast<unsigned>(d.month()),
                  static_cast<unsigned>(d.day()));
    return buf;
}

std::string pack_payload(const pack_order& order) {
    return order_payload("pack:", order);
}

std::optional<pack_order> read_pack_payload(std::string_view payload) {
    return read_order("pack:", payload);
}

std::string subscription_payload(const pack_order& order) {
    return order_payload("sub:", order);
}

std::optional<pack_order> read_subscription_payload(std::string_view payload) {
    return read_order("sub:", payload);
}

int credits_for(const payments_config& cfg, int seconds) {
    const int per = std::max(1, cfg.seconds_per_credit);
    return std::max(1, (seconds + per - 1) / per);
}

checkout_verdict check_checkout(const payments_config& cfg,
                                std::int64_t payer,
                                std::string_view currency,
                                std::int64_t total_amount,
                                std::string_view payload) {
    if (!cfg.enabled) {
        return checkout_verdict::payments_off;
    }
    if (const auto sub = read_subscription_payload(payload)) {
        if (sub->user_id != payer) {
            return checkout_verdict::not_the_buyer;
        }
        if (cfg.subscription_stars <= 0 || sub->pack.stars != cfg.subscription_stars ||
            sub->pack.credits != cfg.subscription_videos) {
            return checkout_verdict::unknown_pack; // not sold, or changed since the link was made
        }
        if (currency != "XTR" || total_amount != cfg.subscription_stars) {
            return checkout_verdict::wrong_price;
        }
        return checkout_verdict::accept;
    }
    const auto order = read_pack_payload(payload);
    if (!order) {
        return checkout_verdict::unknown_pack;
    }
    if (order->user_id != payer) {
        return checkout_verdict::not_the_buyer;
    }
    const auto* sold = pack_of(cfg, order->pack.credits);
    if (sold == nullptr || sold->stars != order->pack.stars) {
        return checkout_verdict::unknown_pack; // removed, or repriced since the invoice
    }
    if (currency != "XTR" || total_amount != sold->stars) {
        return checkout_verdict::wrong_price;
    }
    return checkout_verdict::accept;
}

grant_decision decide_grant(std::int64_t payer, const tg::successful_payment& p) {
    if (p.telegram_payment_charge_id.empty()) {
        return {.why = "no charge id"};
    }
    if (p.currency != "XTR") {
        return {.why = "not paid in Stars"};
    }
    const auto sub = read_subscription_payload(p.invoice_payload);
    const auto order = sub ? sub : read_pack_payload(p.invoice_payload);
    if (!order) {
        return {.why = "a payload this bot did not write"};
    }
    if (order->user_id != payer) {
        return {.why = "paid by another user than the invoice's"};
    }
    if (p.total_amount != order->pack.stars) {
        return {.why = "an amount other than the invoice's"};
    }
    if (sub) {
        // A period of the subscription (the first or a renewal), until the date Telegram gives.
        if (!p.subscription_expiration_date || *p.subscription_expiration_date <= 0) {
            return {.why = "a subscription payment without its expiration"};
        }
        return {.videos_per_day = order->pack.credits};
    }
    // Honoured at the price paid, whether or not the pack is still sold.
    return {.credits = order->pack.credits};
}

std::string pack_data(const credit_pack& p) {
    return "buy:" + std::to_string(p.credits);
}

payments::payments(bot_services& svc, sender& out, payments_config cfg)
    : svc_(svc), out_(out), cfg_(std::move(cfg)), credits_(svc.db) {}

std::int64_t payments::balance(std::int64_t user_id) {
    return credits_.balance(user_id);
}

std::optional<boost::json::value> payments::pack_buttons(std::string_view lang) const {
    if (!enabled()) {
        return std::nullopt;
    }
    tg::inline_keyboard kb;
    for (const auto& p : cfg_.packs) {
        kb.row().button(
            svc_.locales.text(lang,
                              "pay.pack_button",
                              {{"credits", std::to_string(p.credits)}, {"stars", std::to_string(p.stars)}}),
            pack_data(p));
    }
    if (subscription_sold()) {
        kb.row().button(svc_.locales.text(lang,
                                          "pay.sub_button",
                                          {{"videos", std::to_string(cfg_.subscription_videos)},
                                           {"stars", std::to_string(cfg_.subscription_stars)}}),
                        "sub:month");
    }
    auto built = kb.build();
    if (!built) {
        engine::log().warn("payments.keyboard_invalid", {{"error", built.error().what}});
        return std::nullopt;
    }
    return *built;
}

engine::awaitable<void>
payments::say(const user_context& c, std::string text, std::optional<boost::json::value> markup) {
    auto sent = co_await out_.text(c.chat_id, std::move(text), std::move(markup));
    if (!sent) {
        engine::log().info("payments.message_not_sent",
                           {{"user", c.user_id}, {"reason", to_string(sent.error().reason)}});
    }
}

engine::awaitable<void> payments::show(const user_context& c) {
    const auto& l = svc_.locales;
    std::string text = l.text(c.lang, "pay.balance", {{"credits", std::to_string(balance(c.user_id))}});
    if (auto line = subscription_line(c.user_id, c.lang); !line.empty()) {
        text += "\n" + line;
    }
    if (!enabled()) {
        text += "\n" + l.text(c.lang, "pay.off");
        co_await say(c, std::move(text), std::nullopt);
        co_return;
    }
    text += "\n" + l.text(c.lang, "pay.choose");
    auto buttons = pack_buttons(c.lang);
    co_await say(c, std::move(text), std::move(buttons));
}

engine::awaitable<void> payments::used_up(const user_context& c) {
    std::string text =
        svc_.locales.text(c.lang, "pay.used_up", {{"credits", std::to_string(balance(c.user_id))}});
    auto buttons = pack_buttons(c.lang);
    co_await say(c, std::move(text), std::move(buttons));
}

engine::awaitable<void>
payments::send_invoice(const user_context& c, const std::string& callback_id, int credits) {
    const auto& l = svc_.locales;
    const auto* pack = enabled() ? pack_of(cfg_, credits) : nullptr;
    if (pack == nullptr) {
        co_await out_.answer(callback_id, l.text(c.lang, "button.expired"));
        co_return;
    }
    co_await out_.answer(callback_id);
    tg::send_invoice_params p;
    p.chat_id = c.chat_id;
    p.title = l.text(c.lang, "pay.pack_title", {{"credits", std::to_string(pack->credits)}});
    p.description = l.text(c.lang,
                           "pay.pack_description",
                           {{"credits", std::to_string(pack->credits)},
                            {"seconds", std::to_string(std::max(1, cfg_.seconds_per_credit))}});
    p.payload = pack_payload({.user_id = c.user_id, .pack = *pack});
    p.currency = "XTR";
    p.prices.push_back({.label = p.title, .amount = pack->stars});
    auto sent = co_await out_.invoice(std::move(p));
    if (!sent) {
        engine::log().warn("payments.invoice_not_sent",
                           {{"user", c.user_id}, {"reason", to_string(sent.error().reason)}});
        if (sent.error().reason != send_failure_reason::blocked) {
            co_await say(c, l.text(c.lang, "error.generic"), std::nullopt);
        }
    }
}

engine::awaitable<void> payments::pre_checkout(const tg::pre_checkout_query& q, std::string_view lang) {
    const auto verdict = check_checkout(cfg_, q.from.id, q.currency, q.total_amount, q.invoice_payload);
    std::string why;
    if (verdict != checkout_verdict::accept) {
        ++stats_.checkouts_refused;
        why =
            svc_.locales.text(lang,
                              verdict == checkout_verdict::payments_off ? "pay.off" : "pay.checkout_refused");
        engine::log().info(
            "payments.checkout_refused",
            {{"user", q.from.id}, {"payload", q.invoice_payload}, {"verdict", static_cast<int>(verdict)}});
    }
    // Unpaced and never retried: Telegram cancels the payment 10 s after the press anyway.
    const bool ok = verdict == checkout_verdict::accept;
    auto answered = co_await svc_.telegram.answer_pre_checkout_query(q.id, ok, std::move(why));
    if (!answered) {
        engine::log().warn("payments.checkout_not_answered",
                           {{"user", q.from.id}, {"error", answered.error().message()}});
    }
}

engine::awaitable<void> payments::paid(const user_context& c, const tg::successful_payment& p) {
    const auto& l = svc_.locales;
    const auto decision = decide_grant(c.user_id, p);
    if (!decision.grants()) {
        // Nothing this bot sold: logged for the admin, and the user is told nothing was added.
        ++stats_.refused;
        engine::log().error("payments.grant_refused",
                            {{"user", c.user_id},
                             {"charge", p.telegram_payment_charge_id},
                             {"payload", p.invoice_payload},
                             {"stars", p.total_amount},
                             {"why", decision.why}});
        co_return;
    }
    if (decision.videos_per_day > 0) {
        co_await subscribed(c, p, decision.videos_per_day);
        co_return;
    }
    storage::star_payment row;
    row.charge_id = p.telegram_payment_charge_id;
    row.user_id = c.user_id;
    row.payload = p.invoice_payload;
    row.stars = p.total_amount;
    row.credits = decision.credits;
    row.paid = svc_.time.wall();
    const auto outcome = credits_.grant(row);
    if (outcome == storage::grant_outcome::duplicate) {
        // Telegram delivered the payment again (or a crash replayed it): granted already.
        ++stats_.duplicates;
        engine::log().warn("payments.duplicate",
                           {{"user", c.user_id}, {"charge", p.telegram_payment_charge_id}});
        co_return;
    }
    ++stats_.granted;
    engine::log().info("payments.granted",
                       {{"user", c.user_id},
                        {"charge", p.telegram_payment_charge_id},
                        {"credits", decision.credits},
                        {"stars", p.total_amount}});
    // (Named first: g++ 12 mishandles a braced temporary inside a co_await expression.)
    std::string thanks = l.text(
        c.lang,
        "pay.thanks",
        {{"credits", std::to_string(decision.credits)}, {"balance", std::to_string(balance(c.user_id))}});
    co_await say(c, std::move(thanks), std::nullopt);
}

engine::awaitable<void> payments::support(const user_context& c) {
    co_await say(c, svc_.locales.text(c.lang, "pay.support"), std::nullopt);
}

engine::awaitable<void> payments::refund(const user_context& admin, std::string charge_id) {
    const auto& l = svc_.locales;
    if (charge_id.empty()) {
        co_await say(admin, l.text(admin.lang, "pay.refund_usage"), std::nullopt);
        co_return;
    }
    const auto row = credits_.payment(charge_id);
    if (!row) {
        std::string unknown = l.text(admin.lang, "pay.refund_unknown", {{"charge", charge_id}});
        co_await say(admin, std::move(unknown), std::nullopt);
        co_return;
    }
    auto r = co_await svc_.telegram.refund_star_payment(row->user_id, charge_id);
    // A past Telegram bug answered CHARGE_ALREADY_REFUNDED although the refund happened
    // (tdlib/telegram-bot-api#690): that answer means done.
    const bool done = r || r.error().detail.find("CHARGE_ALREADY_REFUNDED") != std::string::npos;
    if (!done) {
        engine::log().warn("payments.refund_failed", {{"charge", charge_id}, {"error", r.error().message()}});
        std::string failed = l.text(admin.lang, "pay.refund_failed", {{"error", r.error().message()}});
        co_await say(admin, std::move(failed), std::nullopt);
        co_return;
    }
    const bool marked = credits_.mark_refunded(charge_id, svc_.time.wall());
    engine::log().info("payments.refunded",
                       {{"charge", charge_id}, {"user", row->user_id}, {"marked", marked}});
    std::string done_text = l.text(admin.lang, "pay.refund_done", {{"charge", charge_id}});
    co_await say(admin, std::move(done_text), std::nullopt);
}

engine::awaitable<void>
payments::subscribed(const user_context& c, const tg::successful_payment& p, int videos_per_day) {
    storage::star_payment row;
    row.charge_id = p.telegram_payment_charge_id;
    row.user_id = c.user_id;
    row.payload = p.invoice_payload;
    row.stars = p.total_amount;
    row.credits = 0;
    row.paid = svc_.time.wall();
    const auto until = storage::from_unix_ms(*p.subscription_expiration_date * 1000);
    if (credits_.grant_subscription(row, videos_per_day, until) == storage::grant_outcome::duplicate) {
        ++stats_.duplicates;
        engine::log().warn("payments.duplicate",
                           {{"user", c.user_id}, {"charge", p.telegram_payment_charge_id}});
        co_return;
    }
    ++stats_.granted;
    engine::log().info("payments.subscribed",
                       {{"user", c.user_id},
                        {"charge", p.telegram_payment_charge_id},
                        {"videos_per_day", videos_per_day},
                        {"renewal", !p.is_first_recurring},
                        {"stars", p.total_amount}});
    const auto ends = credits_.subscription(c.user_id);
    const std::string date = subscription_date(ends ? ends->expires : until);
    std::string thanks = p.is_first_recurring
                             ? svc_.locales.text(c.lang,
                                                 "pay.subscribed",
                                                 {{"videos", std::to_string(videos_per_day)}, {"date", date}})
                             : svc_.locales.text(c.lang, "pay.renewed", {{"date", date}});
    co_await say(c, std::move(thanks), std::nullopt);
}

engine::awaitable<void> payments::subscribe(const user_context& c, const std::string& callback_id) {
    const auto& l = svc_.locales;
    if (!subscription_sold()) {
        co_await out_.answer(callback_id, l.text(c.lang, "button.expired"));
        co_return;
    }
    co_await out_.answer(callback_id);
    const std::string videos = std::to_string(cfg_.subscription_videos);
    tg::create_invoice_link_params p;
    p.title = l.text(c.lang, "pay.sub_title", {{"videos", videos}});
    p.description = l.text(c.lang, "pay.sub_description", {{"videos", videos}});
    p.payload = subscription_payload(
        {.user_id = c.user_id,
         .pack = {.credits = cfg_.subscription_videos, .stars = cfg_.subscription_stars}});
    p.currency = "XTR";
    p.prices.push_back({.label = p.title, .amount = cfg_.subscription_stars});
    p.subscription_period = subscription_period_seconds;
    auto link = co_await svc_.telegram.create_invoice_link(std::move(p));
    if (!link) {
        engine::log().warn("payments.link_not_made",
                           {{"user", c.user_id}, {"error", link.error().message()}});
        co_await say(c, l.text(c.lang, "error.generic"), std::nullopt);
        co_return;
    }
    tg::inline_keyboard kb;
    kb.url_button(l.text(c.lang, "pay.sub_open"), *link);
    std::optional<boost::json::value> markup;
    if (auto built = kb.build()) {
        markup = std::move(*built);
    }
    std::string text = l.text(c.lang,
                              "pay.sub_link",
                              {{"videos", videos}, {"stars", std::to_string(cfg_.subscription_stars)}});
    co_await say(c, std::move(text), std::move(markup));
}

engine::awaitable<void> payments::subscription_changed(const user_context& c, const std::string& state) {
    if (state != "active" && state != "canceled" && state != "failed") {
        engine::log().warn("payments.subscription_state_unknown", {{"user", c.user_id}, {"state", state}});
        co_return;
    }
    if (!credits_.set_subscription_state(c.user_id, state)) {
        engine::log().warn("payments.subscription_unknown", {{"user", c.user_id}, {"state", state}});
        co_return;
    }
    engine::log().info("payments.subscription_state", {{"user", c.user_id}, {"state", state}});
    if (state == "active") {
        co_return; // the renewal's payment says so
    }
    const auto s = credits_.subscription(c.user_id);
    std::string text = svc_.locales.text(c.lang,
                                         state == "canceled" ? "pay.sub_canceled" : "pay.sub_failed",
                                         {{"date", s ? subscription_date(s->expires) : std::string("-")}});
    co_await say(c, std::move(text), std::nullopt);
}

int payments::daily_allowance(std::int64_t user_id) {
    return credits_.daily_allowance(user_id, svc_.time.wall());
}

std::string payments::subscription_line(std::int64_t user_id, std::string_view lang) {
    const auto s = credits_.subscription(user_id);
    if (!s || s->expires <= svc_.time.wall()) {
        return {};
    }
    return svc_.locales.text(
        lang,
        "pay.sub_status",
        {{"videos", std::to_string(s->videos_per_day)}, {"date", subscription_date(s->expires)}});
}

} // namespace companion::pipelines
