// End-to-end tests of video credits sold for Telegram Stars (issue 21, contract §2) in TR, RU and
// EN, the whole bot against the simulators over loopback: once the day's free video is used up
// the packs are offered; a pack is bought (invoice, pre-checkout, successful_payment) and its
// credits pay for the next videos; a video that fails gives its credit back; the same payment
// delivered again, before and after a restart, grants nothing twice; a pre-checkout answered
// after Telegram's 10 s cancels the payment; a pack no longer sold is refused in the user's
// language; a payment for nothing the bot sold grants nothing.
#include "storage/credits.hpp"
#include "tests/e2e/video_support.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>

using namespace companion;
using namespace companion::test;
using namespace std::chrono_literals;
using engine::awaitable;
using storage::job_state;

namespace {

struct payments_world : world {
    payments_world() {
        backend = video_backend::fal;
        sim_cfg.fal.api_key = "fal-e2e-id:fal-e2e-secret-0004";
        cfg.video.videos_per_day = 1; // one free video a day, then credits
        cfg.payments = {.enabled = true,
                        .packs = {{.credits = 3, .stars = 150}, {.credits = 10, .stars = 450}},
                        .seconds_per_credit = 5,
                        .subscription_stars = 450,
                        .subscription_videos = 2};
    }
};

struct lang_case {
    std::string lang;
    std::string persona;
};

const std::vector<lang_case> lang_cases{{"tr", "elif"}, {"ru", "masha"}, {"en", "emma"}};

bool is_invoice(const item& i) {
    return i.what == item::kind::invoice;
}

/// A successful_payment message from `user` carrying `payload` and `charge_id`, as Telegram
/// writes it (the update id is the simulator's next).
std::string payment_update(std::int64_t user,
                           const std::string& payload,
                           std::int64_t stars,
                           const std::string& charge_id) {
    const auto id = std::to_string(user);
    return R"({"update_id":$ID,"message":{"message_id":990001,"date":1764000000,"from":{"id":)" + id +
           R"(,"is_bot":false,"first_name":"P"},"chat":{"id":)" + id +
           R"(,"type":"private"},"successful_payment":{"currency":"XTR","total_amount":)" +
           std::to_string(stars) + R"(,"invoice_payload":")" + payload +
           R"(","telegram_payment_charge_id":")" + charge_id + R"(","provider_payment_charge_id":""}}})";
}

/// The same with a subscription's fields: a period that ends at `expires` (Unix time).
std::string renewal_update(std::int64_t user,
                           const std::string& payload,
                           const std::string& charge,
                           std::int64_t expires) {
    auto text = payment_update(user, payload, 450, charge);
    const std::string fields =
        R"(,"subscription_expiration_date":)" + std::to_string(expires) + R"(,"is_recurring":true})";
    const auto end = text.rfind("}}}");
    return text.substr(0, end) + fields + "}}";
}

/// Uses up the day's free video: one delivered from the last selfie.
awaitable<void> free_video(world& w, std::int64_t user, const std::string& lang) {
    co_await ask_video(w, user, lang, "vid:last");
    auto clip = co_await w.next(user, is_video, 20s);
    BOOST_TEST_REQUIRE(clip.has_value());
}

/// The packs after the free video: the used-up line with the balance and a button per pack.
awaitable<std::optional<item>>
packs_offered(world& w, std::int64_t user, const std::string& lang, int credits) {
    w.sims->telegram().user_sends_text(user, w.locales.text(lang, "btn.video"));
    const auto line = w.locales.text(lang, "pay.used_up", {{"credits", std::to_string(credits)}});
    auto offer = co_await w.next(user, [&](const item& i) { return text(i) && i.text == line; });
    co_return offer;
}

/// Presses a pack button and pays its invoice; returns the charge id Telegram made.
awaitable<std::string> buy(world& w, std::int64_t user, const item& packs, const std::string& data) {
    auto& t = w.sims->telegram();
    t.user_presses_button(user, packs.message_id, data);
    auto invoice = co_await w.next(user, is_invoice);
    BOOST_TEST_REQUIRE(invoice.has_value());
    const auto before = t.star_charges();
    t.user_pays(user, invoice->message_id);
    const bool charged =
        co_await eventually([&] { return t.star_charges().size() == before.size() + 1; }, 10s);
    BOOST_TEST_REQUIRE(charged);
    for (const auto& [id, charge] : t.star_charges()) {
        if (!before.contains(id)) {
            co_return id;
        }
    }
    co_return std::string{};
}

/// A new user (named `name`) who has picked `persona`, taken a selfie and used up the day's free
/// video.
awaitable<std::int64_t>
spent_user(world& w, const std::string& name, const std::string& lang, const std::string& persona) {
    const auto user = w.sims->telegram().add_user({.first_name = name, .language_code = lang});
    co_await onboard(w, user, persona);
    co_await take_selfie(w, user);
    co_await free_video(w, user, lang);
    co_return user;
}

/// A new user who has used up the day's free video, pressed the pack button `data` and got its
/// invoice: returns the user and the invoice.
awaitable<std::pair<std::int64_t, item>>
invoiced_user(world& w, const std::string& lang, const std::string& persona, const std::string& data) {
    auto& t = w.sims->telegram();
    const auto user = co_await spent_user(w, "I" + lang, lang, persona);
    auto packs = co_await packs_offered(w, user, lang, 0);
    BOOST_TEST_REQUIRE(packs.has_value());
    t.user_presses_button(user, packs->message_id, data);
    auto invoice = co_await w.next(user, is_invoice);
    BOOST_TEST_REQUIRE(invoice.has_value());
    co_return std::pair{user, *invoice};
}

} // namespace

BOOST_AUTO_TEST_SUITE(payments_e2e)

BOOST_FIXTURE_TEST_CASE(a_pack_bought_with_stars_pays_for_videos_exactly_once_in_three_languages,
                        payments_world) {
    test::run_test(
        ioc,
        [&]() -> awaitable<void> {
            co_await start();
            auto& t = sims->telegram();
            storage::credit_repository credits(*db);
            for (const auto& c : lang_cases) {
                BOOST_TEST_CONTEXT(c.lang) {
                    const auto user = co_await spent_user(*this, "B" + c.lang, c.lang, c.persona);

                    // The free video is used up: the packs, in the user's language.
                    auto packs = co_await packs_offered(*this, user, c.lang, 0);
                    BOOST_TEST_REQUIRE(packs.has_value());
                    const auto three =
                        locales.text(c.lang, "pay.pack_button", {{"credits", "3"}, {"stars", "150"}});
                    BOOST_TEST(packs->reply_markup.find(three) != std::string::npos, packs->reply_markup);
                    BOOST_TEST(packs->reply_markup.find("\"buy:10\"") != std::string::npos);

                    // The invoice is in Stars, for this user and pack; paying it grants 3 credits.
                    const auto charge = co_await buy(*this, user, *packs, "buy:3");
                    const auto invoices = t.invoices_to(user);
                    BOOST_TEST_REQUIRE(!invoices.empty());
                    BOOST_TEST(invoices.back().second == "pack:3:150:" + std::to_string(user));
                    const auto thanks_text =
                        locales.text(c.lang, "pay.thanks", {{"credits", "3"}, {"balance", "3"}});
                    auto thanks =
                        co_await next(user, [&](const item& i) { return text(i) && i.text == thanks_text; });
                    BOOST_TEST_REQUIRE(thanks.has_value());
                    BOOST_TEST(credits.balance(user) == 3);

                    // A credit pays for the next video.
                    co_await ask_video(*this, user, c.lang, "vid:last");
                    auto paid_clip = co_await next(user, is_video, 20s);
                    BOOST_TEST_REQUIRE(paid_clip.has_value());
                    // The offer it came from showed what the user had: no free video, 3 credits.
                    const auto balance_line =
                        locales.text(c.lang, "pay.offer_balance", {{"free", "0"}, {"credits", "3"}});
                    const auto items = t.sent_to(user);
                    const auto offered = std::find_if(items.rbegin(), items.rend(), [](const item& i) {
                        return i.reply_markup.find("vid:last") != std::string::npos;
                    });
                    BOOST_TEST_REQUIRE((offered != items.rend()));
                    BOOST_TEST(offered->text.ends_with(balance_line), offered->text);
                    BOOST_TEST(co_await eventually([&] { return credits.balance(user) == 2; }));

                    // A video that is refused gives its credit back.
                    sims->fal().faults.add(
                        {.match = "queue.submit", .kind = sim::fault_kind::refusal, .count = 1});
                    co_await ask_video(*this, user, c.lang, "vid:last");
                    auto refused = co_await next(
                        user,
                        [&](const item& i) {
                            return text(i) && i.text == locales.text(c.lang, "video.refused");
                        },
                        20s);
                    BOOST_TEST_REQUIRE(refused.has_value());
                    BOOST_TEST(co_await eventually([&] { return credits.balance(user) == 2; }));
                    BOOST_TEST(last_job(*this, user)->state == job_state::refused);

                    // Telegram delivers the same payment again (a new update, the same charge):
                    // nothing is granted twice and nothing is said.
                    const auto sent_before = t.sent_to(user).size();
                    const auto replayed = bot->stats().payments_duplicates;
                    t.inject_raw_update(
                        payment_update(user, "pack:3:150:" + std::to_string(user), 150, charge),
                        {});
                    BOOST_TEST_REQUIRE(
                        co_await eventually([&] { return bot->stats().payments_duplicates == replayed + 1; },
                                            10s));
                    BOOST_TEST(credits.balance(user) == 2);
                    BOOST_TEST(t.sent_to(user).size() == sent_before);
                    BOOST_TEST(credits.payment(charge).has_value());
                }
            }

            // A restart over the same database: the payments replayed again grant nothing.
            co_await stop_bot();
            start_bot();
            for (const auto& [charge, paid] : t.star_charges()) {
                t.inject_raw_update(payment_update(paid.user_id, paid.payload, paid.amount, charge), {});
            }
            BOOST_TEST_REQUIRE(
                co_await eventually([&] { return bot->stats().payments_duplicates == 3U; }, 10s));
            BOOST_TEST(bot->stats().payments_granted == 0U);
            const auto money = credits.totals(storage::timestamp{});
            BOOST_TEST(money.payments == 3);
            BOOST_TEST(money.stars == 450);
            BOOST_TEST(money.credits_granted == 9);
            BOOST_TEST(money.credits_spent == 3);
            BOOST_TEST(t.counters().payments_completed == 3U);
            co_await finish();
        }(),
        180s);
}

BOOST_FIXTURE_TEST_CASE(a_monthly_subscription_gives_daily_videos_renews_once_per_charge_and_is_cancelled,
                        payments_world) {
    test::run_test(
        ioc,
        [&]() -> awaitable<void> {
            co_await start();
            auto& t = sims->telegram();
            storage::credit_repository credits(*db);
            for (const auto& c : lang_cases) {
                BOOST_TEST_CONTEXT(c.lang) {
                    const auto user = co_await spent_user(*this, "S" + c.lang, c.lang, c.persona);
                    const auto payload = "sub:2:450:" + std::to_string(user);

                    // Beside the packs, the subscription, in the user's language.
                    auto packs = co_await packs_offered(*this, user, c.lang, 0);
                    BOOST_TEST_REQUIRE(packs.has_value());
                    const auto offer =
                        locales.text(c.lang, "pay.sub_button", {{"videos", "2"}, {"stars", "450"}});
                    BOOST_TEST(packs->reply_markup.find(offer) != std::string::npos, packs->reply_markup);
                    t.user_presses_button(user, packs->message_id, "sub:month");
                    auto linked = co_await next(user, [](const item& i) {
                        return text(i) && i.reply_markup.find("https://t.me/$") != std::string::npos;
                    });
                    BOOST_TEST_REQUIRE(linked.has_value());
                    const auto links = t.invoice_links();
                    BOOST_TEST_REQUIRE(!links.empty());
                    BOOST_TEST(links.back().second == payload);

                    // Paid through the link: two more videos a day, no credits.
                    t.user_pays_link(user, links.back().first);
                    auto thanks = co_await next(user, [&](const item& i) {
                        const auto s = credits.subscription(user);
                        return text(i) && s &&
                               i.text == locales.text(c.lang,
                                                      "pay.subscribed",
                                                      {{"videos", "2"},
                                                       {"date", pipelines::subscription_date(s->expires)}});
                    });
                    BOOST_TEST_REQUIRE(thanks.has_value());
                    BOOST_TEST(credits.balance(user) == 0);
                    for (int i = 0; i < 2; ++i) {
                        co_await ask_video(*this, user, c.lang, "vid:last");
                        auto clip = co_await next(user, is_video, 20s);
                        BOOST_TEST_REQUIRE(clip.has_value());
                    }
                    auto again = co_await packs_offered(*this, user, c.lang, 0); // today's are used up
                    BOOST_TEST(again.has_value());

                    // A month later Telegram charges the renewal: the end moves a period on, once.
                    const auto before = credits.subscription(user)->expires;
                    const auto renewal = t.renew_subscription(user);
                    BOOST_TEST_REQUIRE(!renewal.empty());
                    const auto renewed_text = locales.text(
                        c.lang,
                        "pay.renewed",
                        {{"date", pipelines::subscription_date(before + std::chrono::days(30))}});
                    auto renewed =
                        co_await next(user, [&](const item& i) { return text(i) && i.text == renewed_text; });
                    BOOST_TEST_REQUIRE(renewed.has_value());
                    const auto after = credits.subscription(user)->expires;
                    BOOST_TEST((after == before + std::chrono::days(30)));
                    const auto duplicates = bot->stats().payments_duplicates;
                    const auto sent_before = t.sent_to(user).size();
                    t.inject_raw_update(
                        renewal_update(user, payload, renewal, storage::to_unix_ms(after) / 1000),
                        {});
                    BOOST_TEST_REQUIRE(co_await eventually(
                        [&] { return bot->stats().payments_duplicates == duplicates + 1; },
                        10s));
                    BOOST_TEST((credits.subscription(user)->expires == after));
                    BOOST_TEST(t.sent_to(user).size() == sent_before);

                    // Cancelled in Telegram: it runs to its end, and the user is told until when.
                    t.user_cancels_subscription(user);
                    const auto cancelled_text = locales.text(c.lang,
                                                             "pay.sub_canceled",
                                                             {{"date", pipelines::subscription_date(after)}});
                    auto cancelled = co_await next(user, [&](const item& i) {
                        return text(i) && i.text == cancelled_text;
                    });
                    BOOST_TEST_REQUIRE(cancelled.has_value());
                    BOOST_TEST(credits.subscription(user)->state == "canceled");
                    BOOST_TEST(credits.daily_allowance(user, after - std::chrono::hours(1)) == 2);
                }
            }
            co_await finish();
        }(),
        240s);
}

namespace {

struct late_checkout_world : payments_world {
    late_checkout_world() { sim_cfg.telegram.pre_checkout_timeout = 0ms; } // every answer is late
};

} // namespace

BOOST_FIXTURE_TEST_CASE(a_pre_checkout_answered_late_cancels_the_payment, late_checkout_world) {
    test::run_test(
        ioc,
        [&]() -> awaitable<void> {
            co_await start();
            auto& t = sims->telegram();
            const auto bought = co_await invoiced_user(*this, "ru", "masha", "buy:10");
            const auto user = bought.first;
            const auto& invoice = bought.second;
            t.user_pays(user, invoice.message_id);
            BOOST_TEST_REQUIRE(
                co_await eventually([&] { return t.counters().payments_cancelled == 1U; }, 10s));
            BOOST_TEST(t.star_charges().empty()); // no charge, no successful_payment
            BOOST_TEST(storage::credit_repository(*db).balance(user) == 0);
            co_await finish();
        }(),
        60s);
}

BOOST_FIXTURE_TEST_CASE(a_pack_no_longer_sold_is_refused_and_a_forged_payment_grants_nothing,
                        payments_world) {
    test::run_test(
        ioc,
        [&]() -> awaitable<void> {
            co_await start();
            auto& t = sims->telegram();
            const auto bought = co_await invoiced_user(*this, "tr", "elif", "buy:3");
            const auto user = bought.first;
            const auto& invoice = bought.second;

            // The operator stops selling the 3-credit pack before the user pays its invoice.
            co_await stop_bot();
            cfg.payments.packs = {{.credits = 10, .stars = 450}};
            start_bot();
            t.user_pays(user, invoice.message_id);
            BOOST_TEST_REQUIRE(co_await eventually([&] { return t.checkout_refusals().size() == 1U; }, 10s));
            BOOST_TEST(t.checkout_refusals().back() == locales.text("tr", "pay.checkout_refused"));
            BOOST_TEST(t.star_charges().empty());

            // A successful_payment this bot never sold (another user's payload, a made-up charge).
            t.inject_raw_update(payment_update(user, "pack:10:450:42", 450, "stxFORGED"), {});
            BOOST_TEST_REQUIRE(co_await eventually([&] { return bot->stats().payments_refused == 1U; }, 10s));
            BOOST_TEST(storage::credit_repository(*db).balance(user) == 0);
            BOOST_TEST(!storage::credit_repository(*db).payment("stxFORGED").has_value());
            co_await finish();
        }(),
        60s);
}

BOOST_AUTO_TEST_SUITE_END()
