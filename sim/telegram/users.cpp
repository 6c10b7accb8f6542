// Scripted users: what Telegram's users do, turned into the updates Telegram would send the bot.
// Every message kind a bot meets (text, photo, video, voice, video note, audio, document,
// animation, sticker, location, contact, dice, poll), edits, reactions, button presses, inline
// queries, payments, blocking the bot, joining and leaving groups, and raw updates written by hand.
// Media are real files where the project can make them (PNG pictures, H.264 MP4 videos, Ogg Opus
// voice notes); audio carries only its container's header (the project has no MP3 encoder).
#include "sim/media/mp4.hpp"
#include "sim/media/ogg_opus.hpp"
#include "sim/media/picture.hpp"
#include "sim/media/png.hpp"
#include "sim/telegram/detail/state.hpp"
#include "sim/telegram/entities.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <stdexcept>

namespace companion::sim {

using namespace telegram_detail;

namespace {

// An ID3 tag followed by an MPEG frame header: the shape of an MP3, not playable.
std::string mp3_stub(std::uint64_t seed) {
    std::string s = "ID3\x03";
    s.append(std::string(6, '\0'));
    s += "\xFF\xFB\x90\x00";
    s.append(std::to_string(seed));
    return s;
}

json::array entities_of(std::string_view text) {
    json::array out;
    for (const auto& e : telegram::detect_entities(text)) {
        out.push_back(json::object{{"offset", e.offset}, {"length", e.length}, {"type", e.type}});
    }
    return out;
}

// Telegram's dice: the emoji and the range of its value.
std::int64_t dice_faces(std::string_view emoji) {
    if (emoji == "🎰") {
        return 64;
    }
    if (emoji == "🏀" || emoji == "⚽") {
        return 5;
    }
    return 6; // 🎲 🎯 🎳
}

} // namespace

std::string_view to_string(user_message::kind k) noexcept {
    return engine::enum_name(k, "text");
}

std::ostream& operator<<(std::ostream& os, user_message::kind k) {
    return os << to_string(k);
}

std::optional<user_message::kind> user_message_kind_from(std::string_view name) {
    return engine::enum_from_name<user_message::kind>(name);
}

std::int64_t telegram_simulator::add_user(telegram_sim_user u) {
    if (u.id == 0) {
        u.id = next_user_id_++;
    }
    auto& chat = chats_[u.id];
    if (!chat) {
        chat = std::make_unique<chat_state>();
        chat->id = u.id;
    }
    chat->user = u;
    return u.id;
}

std::int64_t telegram_simulator::add_group(std::string title, const std::vector<std::int64_t>& members) {
    const auto id = -next_group_id_++;
    auto chat = std::make_unique<chat_state>();
    chat->id = id;
    chat->type = "supergroup";
    chat->title = std::move(title);
    for (auto m : members) {
        chat->members[m] = "member";
    }
    chats_[id] = std::move(chat);
    return id;
}

std::int64_t telegram_simulator::user_sends_text(std::int64_t user_id, std::string text) {
    return user_sends(user_id, {.what = user_message::kind::text, .text = std::move(text)});
}

std::int64_t telegram_simulator::user_sends_voice(std::int64_t user_id,
                                                  std::string bytes,
                                                  int duration,
                                                  std::string mime_type) {
    auto& chat = user_chat(user_id, 0);
    auto msg = user_message_json(chat, user_id, 0);
    auto f = store_upload(file_kind::voice,
                          std::make_shared<const std::string>(std::move(bytes)),
                          {.content_type = std::move(mime_type), .duration = duration});
    msg["voice"] = file_json(*f);
    auto& stored = add_message(chat, std::move(msg), "voice", user_id);
    return enqueue_update("message", json::serialize(stored.json));
}

std::int64_t telegram_simulator::user_sends(std::int64_t user_id, user_message m) {
    auto& chat = user_chat(user_id, m.chat_id);
    auto msg = user_message_json(chat, user_id, m.reply_to);
    const auto seed = media::seed_from_text(std::to_string(user_id) + std::string(to_string(m.what)) +
                                            m.text + std::to_string(next_file_));
    const auto caption = [&] {
        if (!m.text.empty()) {
            msg["caption"] = m.text;
            if (auto e = entities_of(m.text); !e.empty()) {
                msg["caption_entities"] = std::move(e);
            }
        }
    };
    std::string content = std::string(to_string(m.what));
    switch (m.what) {
    case user_message::kind::text:
        msg["text"] = m.text;
        if (auto e = entities_of(m.text); !e.empty()) {
            msg["entities"] = std::move(e);
        }
        break;
    case user_message::kind::photo: {
        auto png = std::make_shared<const std::string>(
            media::make_png(1280, 720, {.seed = seed, .compression_level = 1}));
        json::array sizes;
        for (const auto& f : store_photo(std::move(png), 1280, 720)) {
            sizes.push_back(file_json(*f));
        }
        msg["photo"] = std::move(sizes);
        caption();
        break;
    }
    case user_message::kind::video:
    case user_message::kind::animation:
    case user_message::kind::video_note: {
        const bool round = m.what == user_message::kind::video_note;
        auto mp4 = std::make_shared<const std::string>(media::make_mp4({.width = round ? 240U : 320U,
                                                                        .height = 240,
                                                                        .seconds = std::chrono::seconds(1),
                                                                        .fps = 5,
                                                                        .seed = seed}));
        const auto kind = round                                     ? file_kind::video_note
                          : m.what == user_message::kind::animation ? file_kind::animation
                                                                    : file_kind::video;
        auto f = store_upload(kind, std::move(mp4), {.file_name = round ? "" : "clip.mp4"});
        auto j = file_json(*f);
        if (round) {
            j.erase("width");
            j.erase("height");
            j["length"] = 240;
        }
        msg[content] = j;
        if (m.what == user_message::kind::animation) {
            msg["document"] = j; // Telegram sends an animation as both, for older clients
        }
        if (!round) {
            caption();
        }
        break;
    }
    case user_message::kind::voice:
    case user_message::kind::audio: {
        const bool voice = m.what == user_message::kind::voice;
        auto bytes = std::make_shared<const std::string>(voice ? media::make_ogg_opus({.seconds = 3.0})
                                                               : mp3_stub(seed));
        auto f = store_upload(
            voice ? file_kind::voice : file_kind::audio,
            std::move(bytes),
            {.file_name = voice ? "" : (m.file_name.empty() ? "song.mp3" : m.file_name), .duration = 3});
        msg[content] = file_json(*f);
        caption();
        break;
    }
    case user_message::kind::document: {
        const auto name = m.file_name.empty() ? std::string("notes.txt") : m.file_name;
        auto bytes = std::make_shared<const std::string>(
            name.ends_with(".pdf") ? "%PDF-1.4\n% simulated\n" : "simulated document " + name + "\n");
        auto f =
            store_upload(file_kind::document,
                         std::move(bytes),
                         {.file_name = name, .content_type = name.ends_with(".txt") ? "text/plain" : ""});
        msg["document"] = file_json(*f);
        caption();
        break;
    }
    case user_message::kind::sticker: {
        auto png = std::make_shared<const std::string>(
            media::make_png(512, 512, {.seed = seed, .compression_level = 1}));
        auto f = store_upload(file_kind::sticker, std::move(png), {});
        auto j = file_json(*f);
        j["type"] = "regular";
        j["is_animated"] = false;
        j["is_video"] = false;
        j["emoji"] = m.text.empty() ? std::string("😀") : m.text;
        j["set_name"] = "SimulatedStickers";
        msg["sticker"] = std::move(j);
        break;
    }
    case user_message::kind::location:
        msg["location"] = json::object{{"latitude", m.latitude}, {"longitude", m.longitude}};
        break;
    case user_message::kind::contact: {
        const auto* user = find_chat(user_id);
        msg["contact"] =
            json::object{{"phone_number", m.text.empty() ? std::string("+905551234567") : m.text},
                         {"first_name", user->user.first_name},
                         {"user_id", user_id}};
        break;
    }
    case user_message::kind::dice: {
        const auto emoji = m.text.empty() ? std::string("🎲") : m.text;
        msg["dice"] = json::object{
            {"emoji", emoji},
            {"value", static_cast<std::int64_t>(1 + rng_() % static_cast<std::uint64_t>(dice_faces(emoji)))}};
        break;
    }
    case user_message::kind::poll: {
        json::array options;
        const std::vector<std::string> texts =
            m.options.empty() ? std::vector<std::string>{"Yes", "No"} : m.options;
        for (const auto& o : texts) {
            options.push_back(json::object{{"text", o}, {"voter_count", 0}});
        }
        msg["poll"] = json::object{{"id", std::to_string(5'000'000'000'000'000'000ULL + next_query_++)},
                                   {"question", m.text.empty() ? std::string("?") : m.text},
                                   {"options", std::move(options)},
                                   {"total_voter_count", 0},
                                   {"is_closed", false},
                                   {"is_anonymous", true},
                                   {"type", "regular"},
                                   {"allows_multiple_answers", false}};
        break;
    }
    }
    auto& stored = add_message(chat, std::move(msg), content, user_id);
    return enqueue_update("message", json::serialize(stored.json));
}

std::int64_t telegram_simulator::last_user_message(std::int64_t user_id, std::int64_t chat_id) const {
    const auto* chat = find_chat(chat_id == 0 ? user_id : chat_id);
    if (chat == nullptr) {
        return 0;
    }
    auto it = chat->last_from_user.find(user_id);
    return it == chat->last_from_user.end() ? 0 : it->second;
}

std::int64_t telegram_simulator::user_edits_message(std::int64_t user_id,
                                                    std::int64_t message_id,
                                                    std::string text,
                                                    std::int64_t chat_id) {
    auto& chat = user_chat(user_id, chat_id);
    auto* message = find_message(chat, message_id);
    if (message == nullptr || message->from_user != user_id) {
        throw std::invalid_argument("telegram_simulator: user " + std::to_string(user_id) +
                                    " has no message " + std::to_string(message_id) + " to edit");
    }
    const bool caption = message->content != "text";
    message->json.erase(caption ? "caption_entities" : "entities");
    message->json[caption ? "caption" : "text"] = text;
    if (auto e = entities_of(text); !e.empty()) {
        message->json[caption ? "caption_entities" : "entities"] = std::move(e);
    }
    message->json["edit_date"] = unix_now();
    return enqueue_update("edited_message", json::serialize(message->json));
}

std::int64_t telegram_simulator::user_reacts(std::int64_t user_id,
                                             std::int64_t message_id,
                                             std::vector<std::string> emoji,
                                             std::int64_t chat_id) {
    auto& chat = user_chat(user_id, chat_id);
    auto* message = find_message(chat, message_id);
    if (message == nullptr) {
        throw std::invalid_argument("telegram_simulator: no message " + std::to_string(message_id) +
                                    " to react to");
    }
    json::array now;
    for (const auto& e : emoji) {
        now.push_back(json::object{{"type", "emoji"}, {"emoji", e}});
    }
    auto& reactions = message->meta["reactions"];
    if (!reactions.is_object()) {
        reactions = json::object{};
    }
    const auto key = std::to_string(user_id);
    json::value old =
        reactions.as_object().contains(key) ? reactions.as_object().at(key) : json::value(json::array{});
    reactions.as_object()[key] = now;
    json::object update{{"chat", chat_json(chat.id)},
                        {"message_id", message_id},
                        {"user", user_json(user_id)},
                        {"date", unix_now()},
                        {"old_reaction", std::move(old)},
                        {"new_reaction", std::move(now)}};
    return enqueue_update("message_reaction", json::serialize(update));
}

std::string telegram_simulator::user_presses_button(std::int64_t user_id,
                                                    std::int64_t message_id,
                                                    std::string callback_data) {
    return user_presses_button(user_id, 0, message_id, std::move(callback_data));
}

std::string telegram_simulator::user_presses_button(std::int64_t user_id,
                                                    std::int64_t chat_id,
                                                    std::int64_t message_id,
                                                    std::string callback_data) {
    auto& chat = user_chat(user_id, chat_id);
    const auto query_id = std::to_string(2199023255552000ULL + next_query_++);
    queries_[query_id] = {chat.id, user_id, "callback_query", 0, time().now()};
    json::object message;
    if (auto* m = find_message(chat, message_id); m != nullptr && m->from_bot) {
        message = m->json;
    } else {
        // Unknown or deleted: Telegram sends an InaccessibleMessage (date 0).
        message = json::object{{"message_id", message_id}, {"date", 0}, {"chat", chat_json(chat.id)}};
    }
    json::object query{{"id", query_id},
                       {"from", user_json(user_id)},
                       {"message", std::move(message)},
                       {"chat_instance", std::to_string(-5317843091238470111LL + chat.id)},
                       {"data", callback_data}};
    enqueue_update("callback_query", json::serialize(query));
    return query_id;
}

std::string telegram_simulator::press_inline_button(std::int64_t user_id,
                                                    std::string inline_message_id,
                                                    std::string callback_data) {
    auto& chat = user_chat(user_id, 0);
    const auto query_id = std::to_string(2199023255552000ULL + next_query_++);
    queries_[query_id] = {chat.id, user_id, "callback_query", 0, time().now()};
    json::object query{{"id", query_id},
                       {"from", user_json(user_id)},
                       {"inline_message_id", inline_message_id},
                       {"chat_instance", std::to_string(-5317843091238470111LL + chat.id)},
                       {"data", callback_data}};
    enqueue_update("callback_query", json::serialize(query));
    return query_id;
}

std::int64_t telegram_simulator::press_stop(std::int64_t chat_id, std::int64_t draft_id) {
    auto* chat = find_chat(chat_id);
    if (chat == nullptr || chat->type != "private") {
        throw std::invalid_argument("telegram_simulator: no private chat " + std::to_string(chat_id) +
                                    " to stop a draft in");
    }
    json::object stopped{{"chat", chat_json(chat_id)}};
    const auto last = std::find_if(chat->drafts.rbegin(), chat->drafts.rend(), [&](const sim_draft& d) {
        return d.draft_id == draft_id;
    });
    if (last != chat->drafts.rend() && last->message_thread_id) {
        stopped["message_thread_id"] = *last->message_thread_id;
    }
    stopped["draft_id"] = draft_id;
    if (chat->open_draft == draft_id) {
        chat->open_draft.reset(); // the user's client ends the draft; the bot finalizes or not
    }
    return enqueue_update("stopped_message_generation", json::serialize(stopped));
}

std::string telegram_simulator::user_queries_inline(std::int64_t user_id, std::string query_text) {
    auto& chat = user_chat(user_id, 0);
    const auto query_id = std::to_string(3299023255552000ULL + next_query_++);
    queries_[query_id] = {chat.id, user_id, "inline_query", 0, time().now()};
    json::object query{{"id", query_id},
                       {"from", user_json(user_id)},
                       {"query", query_text},
                       {"offset", ""},
                       {"chat_type", "sender"}};
    enqueue_update("inline_query", json::serialize(query));
    return query_id;
}

void telegram_simulator::user_blocks_bot(std::int64_t user_id, bool blocked) {
    auto& chat = user_chat(user_id, 0);
    chat.blocked = blocked;
    json::object member{
        {"chat", chat_json(user_id)},
        {"from", user_json(user_id)},
        {"date", unix_now()},
        {"old_chat_member", json::object{{"user", bot_json()}, {"status", blocked ? "member" : "kicked"}}},
        {"new_chat_member",
         json::object{{"user", bot_json()}, {"status", blocked ? "kicked" : "member"}, {"until_date", 0}}}};
    enqueue_update("my_chat_member", json::serialize(member));
}

void telegram_simulator::user_joins_group(std::int64_t user_id, std::int64_t group_id) {
    user_chat(user_id, 0); // the user exists
    auto* group = find_chat(group_id);
    if (group == nullptr || group->type == "private") {
        throw std::invalid_argument("telegram_simulator: unknown group " + std::to_string(group_id));
    }
    const auto old_status = group->members.contains(user_id) ? group->members[user_id] : std::string("left");
    group->members[user_id] = "member";
    auto msg = user_message_json(*group, user_id, 0);
    msg["new_chat_members"] = json::array{user_json(user_id)};
    auto& stored = add_message(*group, std::move(msg), "new_chat_members", user_id);
    enqueue_update("message", json::serialize(stored.json));
    json::object member{
        {"chat", chat_json(group_id)},
        {"from", user_json(user_id)},
        {"date", unix_now()},
        {"old_chat_member", json::object{{"user", user_json(user_id)}, {"status", old_status}}},
        {"new_chat_member", json::object{{"user", user_json(user_id)}, {"status", "member"}}}};
    enqueue_update("chat_member", json::serialize(member));
}

void telegram_simulator::user_leaves_group(std::int64_t user_id, std::int64_t group_id) {
    auto& group = user_chat(user_id, group_id);
    group.members[user_id] = "left";
    auto msg = user_message_json(group, user_id, 0);
    msg["left_chat_member"] = user_json(user_id);
    auto& stored = add_message(group, std::move(msg), "left_chat_member", user_id);
    enqueue_update("message", json::serialize(stored.json));
    json::object member{{"chat", chat_json(group_id)},
                        {"from", user_json(user_id)},
                        {"date", unix_now()},
                        {"old_chat_member", json::object{{"user", user_json(user_id)}, {"status", "member"}}},
                        {"new_chat_member", json::object{{"user", user_json(user_id)}, {"status", "left"}}}};
    enqueue_update("chat_member", json::serialize(member));
}

std::string telegram_simulator::user_pays(std::int64_t user_id, std::int64_t invoice_message_id) {
    auto& chat = user_chat(user_id, 0);
    auto* invoice = find_message(chat, invoice_message_id);
    if (invoice == nullptr || invoice->content != "invoice") {
        throw std::invalid_argument("telegram_simulator: message " + std::to_string(invoice_message_id) +
                                    " is not an invoice of the bot");
    }
    return ask_pre_checkout(chat, user_id, invoice_message_id, invoice->meta);
}

std::string telegram_simulator::ask_pre_checkout(chat_state& chat,
                                                 std::int64_t user_id,
                                                 std::int64_t invoice_message_id,
                                                 const json::object& invoice) {
    const auto query_id = std::to_string(4399023255552000ULL + next_query_++);
    queries_[query_id] = {chat.id, user_id, "pre_checkout_query", invoice_message_id, time().now(), invoice};
    json::object query{{"id", query_id},
                       {"from", user_json(user_id)},
                       {"currency", invoice.at("currency")},
                       {"total_amount", invoice.at("total_amount")},
                       {"invoice_payload", invoice.at("payload")}};
    enqueue_update("pre_checkout_query", json::serialize(query));
    return query_id;
}

std::string telegram_simulator::user_pays_link(std::int64_t user_id, const std::string& link) {
    auto& chat = user_chat(user_id, 0);
    for (const auto& [made, invoice] : invoice_links_) {
        if (made == link) {
            return ask_pre_checkout(chat, user_id, 0, invoice);
        }
    }
    throw std::invalid_argument("telegram_simulator: " + link + " is not an invoice link of the bot");
}

std::vector<std::pair<std::string, std::string>> telegram_simulator::invoice_links() const {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& [link, invoice] : invoice_links_) {
        out.emplace_back(link, std::string(invoice.at("payload").as_string()));
    }
    return out;
}

std::string telegram_simulator::renew_subscription(std::int64_t user_id) {
    auto it = subscriptions_.find(user_id);
    if (it == subscriptions_.end() || !it->second.active) {
        return {};
    }
    it->second.expires += it->second.invoice.at("period").as_int64();
    return complete_payment(user_chat(user_id, 0), user_id, it->second.invoice, it->second.expires, false);
}

void telegram_simulator::user_cancels_subscription(std::int64_t user_id) {
    auto it = subscriptions_.find(user_id);
    if (it == subscriptions_.end() || !it->second.active) {
        return;
    }
    it->second.active = false;
    json::object update{{"user", user_json(user_id)},
                        {"invoice_payload", it->second.invoice.at("payload")},
                        {"state", "canceled"}};
    enqueue_update("subscription", json::serialize(update));
}

std::int64_t telegram_simulator::inject_raw_update(std::string text, raw_update_options options) {
    const auto fresh = next_update_id_++;
    const std::string id_text = std::to_string(fresh);
    for (auto pos = text.find("$ID"); pos != std::string::npos; pos = text.find("$ID", pos)) {
        text.replace(pos, 3, id_text);
    }
    boost::system::error_code ec;
    auto parsed = json::parse(text, ec);
    if (ec || !parsed.is_object()) {
        // Served verbatim: malformed on purpose, so the client's parser is what gets tested.
        pending_.push_back({fresh, "", std::move(text)});
        for (auto& p : pollers_) {
            p->wake.set();
        }
        wake_webhook();
        return fresh;
    }
    auto& update = parsed.as_object();
    std::int64_t id = fresh;
    if (const auto* given = update.if_contains("update_id")) {
        if (!options.assign_id && given->is_int64()) {
            id = given->get_int64();
            // Telegram's ids only grow: later updates come after this one.
            next_update_id_ = std::max(next_update_id_, id + 1);
        }
        update["update_id"] = id;
    } // an update without an id stays without one (malformed on purpose), queued at `fresh`
    std::string kind;
    for (const auto& kv : update) {
        if (kv.key() != "update_id") {
            kind = std::string(kv.key());
            break;
        }
    }
    // Queries written by hand are known like the ones scripted users make, so answers register.
    const auto register_query = [&](std::string_view key, const json::object& q) {
        const auto* qid = q.if_contains("id");
        if (qid == nullptr || !qid->is_string()) {
            return;
        }
        std::int64_t user = 0;
        if (const auto* from = q.if_contains("from"); from != nullptr && from->is_object()) {
            if (const auto* fid = from->as_object().if_contains("id"); fid != nullptr && fid->is_int64()) {
                user = fid->get_int64();
            }
        }
        std::int64_t chat = user;
        if (const auto* m = q.if_contains("message"); m != nullptr && m->is_object()) {
            if (const auto* c = m->as_object().if_contains("chat"); c != nullptr && c->is_object()) {
                if (const auto* cid = c->as_object().if_contains("id"); cid != nullptr && cid->is_int64()) {
                    chat = cid->get_int64();
                }
            }
        }
        if (find_chat(chat) == nullptr && chat > 0) {
            add_user({.id = chat}); // so the answer has a chat to be recorded in
        }
        queries_[std::string(qid->get_string())] = {chat, user, std::string(key), 0, time().now()};
    };
    for (auto key : {"callback_query", "inline_query", "pre_checkout_query"}) {
        if (const auto* q = update.if_contains(key); q != nullptr && q->is_object()) {
            register_query(key, q->as_object());
        }
    }
    // Kept in update id order, as Telegram serves them.
    auto pos =
        std::find_if(pending_.begin(), pending_.end(), [&](const pending_update& u) { return u.id > id; });
    pending_.insert(pos, {id, kind, json::serialize(update)});
    for (auto& p : pollers_) {
        p->wake.set();
    }
    wake_webhook();
    return id;
}

} // namespace companion::sim
