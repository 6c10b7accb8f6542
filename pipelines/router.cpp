// Updates to intents.
#include "pipelines/router.hpp"

#include "pipelines/detail/overloaded.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace companion::pipelines {

namespace {

// A command is named as its enumerator; /delete and /stats are the aliases users try.
command command_named(std::string_view name) {
    if (name == "delete") {
        return command::forget;
    }
    if (name == "stats") {
        return command::status;
    }
    if (name == "buy") {
        return command::balance;
    }
    return engine::enum_from_name<command>(name).value_or(command::unknown);
}

std::string_view kind_of(const tg::message& m) {
    if (!m.photo.empty()) {
        return "photo";
    }
    if (m.video) {
        return "video";
    }
    return "other";
}

/// Telegram usernames compare without regard to case.
bool same_username(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

route on_message(const tg::message& m, const locale_catalog& locales, std::string_view bot_username) {
    if (m.chat.type != "private" || !m.from || m.from->is_bot) {
        return {intent::ignore{"not a private chat with a person"}};
    }
    sender_info from{m.from->id, m.chat.id, m.from->first_name, m.from->language_code, std::nullopt};
    if (m.successful_payment) {
        // Money: never behind a rate limit (the grant is idempotent by its charge id).
        return {intent::payment_received{*m.successful_payment}, std::move(from), gate::none};
    }
    if (m.refunded_payment) {
        return {intent::ignore{"a refund notice (the refund was recorded when it was made)"}};
    }
    if (auto cmd = tg::extract_command(m)) {
        if (!cmd->bot.empty() && !bot_username.empty() && !same_username(cmd->bot, bot_username)) {
            return {intent::ignore{"a command for another bot"}};
        }
        if (cmd->name == "refund") {
            return {intent::refund_payment{cmd->payload}, std::move(from), gate::action};
        }
        return {intent::run_command{command_named(cmd->name)}, std::move(from), gate::action};
    }
    if (m.voice && !m.voice->file_id.empty()) {
        // Heard and answered as a turn: the chat limit guards it, as it does text.
        intent::voice_note note{m.voice->file_id, m.voice->duration, m.voice->mime_type, m.voice->file_size};
        return {std::move(note), std::move(from), gate::chat};
    }
    if (m.text.empty()) {
        return {intent::unsupported{kind_of(m)}, std::move(from), gate::action};
    }
    const auto label =
        locales.match_label(m.text, {"btn.selfie", "btn.video", "btn.persona", "btn.language"});
    if (!label) {
        return {intent::chat_text{m.text}, std::move(from), gate::chat};
    }
    const command what = *label == "btn.selfie"    ? command::selfie
                         : *label == "btn.video"   ? command::video
                         : *label == "btn.persona" ? command::persona
                                                   : command::language;
    return {intent::run_command{what}, std::move(from), gate::action};
}

/// All of `digits` as a number above zero; anything else (a sign, a space, an overflow) is none.
std::optional<std::int64_t> positive_number(std::string_view digits) {
    std::int64_t n = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
    if (ec != std::errc{} || end != digits.data() + digits.size() || n <= 0) {
        return std::nullopt;
    }
    return n;
}

/// No provider makes a longer clip; a button claiming one is forged.
constexpr std::int64_t max_clip_seconds = 600;

route on_callback(const tg::callback_query& q) {
    sender_info from{q.from.id,
                     q.message ? q.message->chat.id : q.from.id,
                     q.from.first_name,
                     q.from.language_code,
                     q.id};
    if (q.message && q.message->chat.type != "private") {
        // A copy of a bot message outside the user's private chat: a persona change or a
        // personal (possibly flirty) video must never land in a group.
        return {intent::private_only{}, std::move(from), gate::none};
    }
    const std::string_view data = q.data;
    routed_intent what = intent::stale_button{};
    if (data.starts_with("p:") && data.size() > 2) {
        what = intent::pick_persona{std::string(data.substr(2))};
    } else if (data.starts_with("lang:") && is_supported_language(data.substr(5))) {
        what = intent::pick_language{std::string(data.substr(5))};
    } else if (data == "adult:yes" || data == "adult:no") {
        what = intent::answer_adult{data == "adult:yes"};
    } else if (data == "forget:yes" || data == "forget:no") {
        what = intent::confirm_forget{data == "forget:yes"};
    } else if (data == "vid:last") {
        what = intent::choose_video{storage::video_mode::from_last_selfie};
    } else if (data == "vid:new") {
        what = intent::choose_video{storage::video_mode::new_video};
    } else if (data == "set:stream:on" || data == "set:stream:off") {
        what = intent::set_streaming{data == "set:stream:on"};
    } else if (data.starts_with("set:voice:")) {
        if (const auto how = engine::enum_from_name<storage::voice_replies>(data.substr(10))) {
            what = intent::set_voice{*how};
        }
    } else if (data.starts_with("vid:last:") || data.starts_with("vid:new:")) {
        // A length button: the mode and the clip's seconds (the offer checks it is one it makes).
        const auto colon = data.rfind(':');
        const auto seconds = positive_number(data.substr(colon + 1));
        if (seconds && *seconds <= max_clip_seconds) {
            what = intent::choose_video{data.starts_with("vid:last:") ? storage::video_mode::from_last_selfie
                                                                      : storage::video_mode::new_video,
                                        static_cast<int>(*seconds)};
        }
    } else if (data == "chk:on" || data == "chk:off") {
        what = intent::set_checkins{data == "chk:on"};
    } else if (data == "tz:-60" || data == "tz:+60") {
        what = intent::shift_clock{data == "tz:+60" ? 60 : -60};
    } else if (data == "sub:month") {
        what = intent::subscribe{};
    } else if (data.starts_with("buy:")) {
        if (const auto credits = positive_number(data.substr(4)); credits && *credits <= 10000) {
            what = intent::buy_pack{static_cast<int>(*credits)};
        }
    } else if (data.starts_with("h:")) {
        if (const auto id = positive_number(data.substr(2))) {
            what = intent::resend_media{*id};
        }
    }
    return {std::move(what), std::move(from), gate::action};
}

} // namespace

route route_update(const tg::update& u, const locale_catalog& locales, std::string_view bot_username) {
    switch (u.what) {
    case tg::update::kind::message:
        if (u.message) {
            return on_message(*u.message, locales, bot_username);
        }
        break;
    case tg::update::kind::callback_query:
        if (u.callback_query) {
            return on_callback(*u.callback_query);
        }
        break;
    case tg::update::kind::my_chat_member:
        if (u.my_chat_member && u.my_chat_member->chat.type == "private") {
            const auto chat = u.my_chat_member->chat.id;
            return {intent::block_changed{u.my_chat_member->new_status == "kicked"},
                    {chat, chat, u.my_chat_member->from.first_name, {}, std::nullopt}};
        }
        return {intent::ignore{"a group membership change"}};
    case tg::update::kind::edited_message:
        return {intent::ignore{"an edited message"}};
    case tg::update::kind::stopped_message_generation:
        if (u.stopped_generation && u.stopped_generation->chat_id > 0) {
            // Drafts exist in private chats only, whose id is the user's.
            const auto chat = u.stopped_generation->chat_id;
            return {intent::stop_generation{u.stopped_generation->draft_id},
                    {chat, chat, {}, {}, std::nullopt}};
        }
        return {intent::ignore{"a stop outside a private chat"}};
    case tg::update::kind::pre_checkout_query:
        if (u.pre_checkout) {
            const auto& q = *u.pre_checkout;
            return {intent::pre_checkout{q},
                    {q.from.id, q.from.id, q.from.first_name, q.from.language_code, std::nullopt}};
        }
        break;
    case tg::update::kind::subscription:
        if (u.subscription) {
            const auto& s = *u.subscription;
            return {intent::subscription_changed{s.state},
                    {s.from.id, s.from.id, s.from.first_name, s.from.language_code, std::nullopt}};
        }
        break;
    case tg::update::kind::other:
        break;
    }
    return {intent::ignore{"a kind of update the bot does not handle"}};
}

std::ostream& operator<<(std::ostream& os, gate g) {
    return os << (g == gate::action ? "action" : g == gate::chat ? "chat" : "none");
}

std::ostream& operator<<(std::ostream& os, const routed_intent& i) {
    std::visit(detail::overloaded{
                   [&](const intent::ignore& v) { os << "ignore (" << v.why << ")"; },
                   [&](const intent::block_changed& v) { os << (v.blocked ? "blocked" : "unblocked"); },
                   [&](const intent::run_command& v) { os << "command " << v.what; },
                   [&](const intent::chat_text& v) { os << "chat \"" << v.text << "\""; },
                   [&](const intent::voice_note& v) { os << "voice note " << v.duration << " s"; },
                   [&](const intent::unsupported& v) { os << "unsupported " << v.kind; },
                   [&](const intent::pick_persona& v) { os << "persona " << v.persona_id; },
                   [&](const intent::pick_language& v) { os << "language " << v.lang; },
                   [&](const intent::answer_adult& v) { os << "adult " << (v.adult ? "yes" : "no"); },
                   [&](const intent::confirm_forget& v) { os << "forget " << (v.erase ? "yes" : "no"); },
                   [&](const intent::choose_video& v) {
                       os << "video " << storage::to_string(v.mode);
                       if (v.seconds) {
                           os << " " << *v.seconds << " s";
                       }
                   },
                   [&](const intent::set_streaming& v) { os << "streaming " << (v.on ? "on" : "off"); },
                   [&](const intent::set_voice& v) { os << "voice replies " << storage::to_string(v.how); },
                   [&](const intent::stop_generation& v) { os << "stop draft " << v.draft_id; },
                   [&](const intent::resend_media& v) { os << "resend content " << v.id; },
                   [&](const intent::buy_pack& v) { os << "buy pack " << v.credits; },
                   [&](const intent::set_checkins& v) { os << "check-ins " << (v.on ? "on" : "off"); },
                   [&](const intent::shift_clock& v) { os << "clock " << v.minutes << " min"; },
                   [&](const intent::subscribe&) { os << "subscribe"; },
                   [&](const intent::subscription_changed& v) { os << "subscription " << v.state; },
                   [&](const intent::pre_checkout& v) { os << "pre-checkout " << v.query.invoice_payload; },
                   [&](const intent::payment_received& v) {
                       os << "payment " << v.payment.total_amount << " " << v.payment.currency;
                   },
                   [&](const intent::refund_payment& v) { os << "refund " << v.charge_id; },
                   [&](const intent::stale_button&) { os << "stale button"; },
                   [&](const intent::private_only&) { os << "private only"; },
               },
               i);
    return os;
}

} // namespace companion::pipelines
