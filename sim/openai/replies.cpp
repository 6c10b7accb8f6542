// Deterministic persona replies and schema-shaped JSON for the OpenAI simulator.
#include "sim/openai/detail/replies.hpp"

#include "sim/media/picture.hpp"

#include <boost/algorithm/string/case_conv.hpp>

#include <array>
#include <cctype>

namespace companion::sim::openai {
namespace {

bool has(std::string_view text, std::string_view word) {
    return text.find(word) != std::string_view::npos;
}

// The persona's name from "You are Aylin, 27, ..." (the catalog's system prompts start so).
std::string persona_name(std::string_view system_prompt) {
    const auto at = system_prompt.find("You are ");
    if (at == std::string_view::npos) {
        return {};
    }
    std::string name;
    for (auto i = at + 8; i < system_prompt.size(); ++i) {
        const char c = system_prompt[i];
        if (c == ',' || c == '.' || c == ' ' || c == '\n') {
            break;
        }
        name += c;
    }
    return name;
}

std::string snippet(std::string_view text, std::size_t max) {
    std::string out(text.substr(0, max));
    // Never cut a UTF-8 sequence in half: the reply must stay valid JSON text.
    while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xC0) == 0x80) {
        out.pop_back();
    }
    if (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xC0) == 0xC0) {
        out.pop_back();
    }
    return out;
}

std::string text_for(std::string_view key, std::string_view context) {
    const std::string k = boost::algorithm::to_lower_copy(std::string(key));
    const std::string ctx = snippet(context, 160);
    if (k == "style") {
        return "Warm cinematic realism with natural skin tones and soft film grain. Intimate, candid "
               "vertical "
               "framing.";
    }
    if (k == "scene") {
        return "A sunlit cafe by the window in the late afternoon, golden light across the table. Soft "
               "reflections shimmer on the glass. Inspired by: " +
               ctx;
    }
    if (k == "cinematography") {
        return "Medium close-up on a 35mm lens at f/1.8, handheld with a slow push-in. Shallow depth of "
               "field "
               "keeps the background softly blurred.";
    }
    if (k == "actions" || k == "action") {
        return "She looks up from her cup, meets the camera with a warm smile and gives a small wave.";
    }
    if (k == "background_sound" || k == "sound" || k == "audio") {
        return "Quiet cafe ambience: cups clinking, a low murmur of voices, a distant espresso machine.";
    }
    if (k == "prompt" || k == "photo_prompt" || k == "image_prompt" || k == "selfie_prompt" ||
        k == "description") {
        return "A candid smartphone selfie, natural window light, vertical framing, relaxed smile: " + ctx;
    }
    if (k == "summary") {
        return "They talked about: " + ctx;
    }
    std::string label(key);
    for (auto& c : label) {
        if (c == '_') {
            c = ' ';
        }
    }
    if (!label.empty()) {
        label[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(label[0])));
    }
    return label + " for: " + ctx;
}

boost::json::value
value_for(std::string_view key, const boost::json::object& schema, std::string_view context) {
    if (const auto* e = schema.if_contains("enum"); e && e->is_array() && !e->as_array().empty()) {
        return e->as_array().front();
    }
    std::string type;
    if (const auto* t = schema.if_contains("type"); t && t->is_string()) {
        type = std::string(t->as_string());
    } else if (t && t->is_array()) {
        for (const auto& alt : t->as_array()) {
            if (alt.is_string() && alt.as_string() != "null") {
                type = std::string(alt.as_string());
                break;
            }
        }
    }
    if (type == "object") {
        return structured_reply(schema, context);
    }
    if (type == "array") {
        boost::json::array a;
        if (const auto* items = schema.if_contains("items"); items && items->is_object()) {
            a.push_back(value_for(key, items->as_object(), context));
        }
        return a;
    }
    if (type == "integer" || type == "number") {
        return 1;
    }
    if (type == "boolean") {
        return false;
    }
    return boost::json::value(text_for(key, context));
}

} // namespace

reply_language detect_language(std::string_view system_prompt, std::string_view last_user) {
    const std::string s = boost::algorithm::to_lower_copy(std::string(system_prompt));
    if (has(s, "turkish") ||
        has(s,
            "t\xc3\xbcrk\xc3\xa7"
            "e") ||
        has(s, "language: tr") || has(s, "lang=tr")) {
        return reply_language::tr;
    }
    if (has(s, "russian") || has(s, "русск") || has(s, "language: ru") || has(s, "lang=ru")) {
        return reply_language::ru;
    }
    if (has(s, "english") || has(s, "language: en") || has(s, "lang=en")) {
        return reply_language::en;
    }
    // No instruction: answer in the user's script (Cyrillic lead bytes 0xD0/0xD1; Turkish ş ğ ı).
    if (has(last_user, "\xd0") || has(last_user, "\xd1")) {
        return reply_language::ru;
    }
    if (has(last_user, "\xc5\x9f") || has(last_user, "\xc4\x9f") || has(last_user, "\xc4\xb1")) {
        return reply_language::tr;
    }
    return reply_language::en;
}

std::string persona_reply(std::string_view system_prompt, std::string_view last_user) {
    static constexpr std::array<std::string_view, 4> en{
        "Oh, that made me smile! Tell me more about your day.",
        "Honestly, I was just thinking about you. What are you up to tonight?",
        "Haha, you always know what to say. I spent the afternoon with a coffee and a good book.",
        "Really? I love that. Today was busy, but talking to you makes it better.",
    };
    static constexpr std::array<std::string_view, 4> tr{
        "Ay, ne güzel! Bugün kafede çok yoğunduk ama seni düşündüm.",
        "Haha, sen hep beni güldürüyorsun. Akşam ne yapıyorsun?",
        "Gerçekten mi? Bana biraz daha anlat, merak ettim!",
        "Bugün sahilde yürüdüm, hava harikaydı. Senin günün nasıldı?",
    };
    static constexpr std::array<std::string_view, 4> ru{
        "Ой, как мило! Расскажи мне больше.",
        "Ха-ха, ты всегда меня смешишь. Чем занимаешься вечером?",
        "Правда? Мне очень интересно!",
        "Сегодня гуляла по набережной. А как твой день?",
    };
    const std::string key = std::string(system_prompt) + '\n' + std::string(last_user);
    const auto pick = static_cast<std::size_t>(media::seed_from_text(key) % 4);
    const std::string name = persona_name(system_prompt);
    std::string reply;
    switch (detect_language(system_prompt, last_user)) {
    case reply_language::tr:
        reply = std::string(tr[pick]);
        break;
    case reply_language::ru:
        reply = std::string(ru[pick]);
        break;
    case reply_language::en:
        reply = std::string(en[pick]);
        break;
    }
    if (!name.empty() && pick % 2 == 0) {
        reply += " \xe2\x80\x94 " + name; // a signature now and then, so personas read differently
    }
    // A test's tag is echoed, so a driver can tell which message a reply answers.
    if (const auto open = last_user.find("[[tag:"); open != std::string_view::npos) {
        if (const auto close = last_user.find("]]", open); close != std::string_view::npos) {
            reply += " " + std::string(last_user.substr(open, close + 2 - open));
        }
    }
    return reply;
}

boost::json::value structured_reply(const boost::json::object& schema, std::string_view context) {
    boost::json::object out;
    const boost::json::object* props = nullptr;
    if (const auto* p = schema.if_contains("properties"); p && p->is_object()) {
        props = &p->as_object();
    }
    auto add = [&](std::string_view key) {
        static const boost::json::object empty;
        const boost::json::object* sub = &empty;
        if (props != nullptr) {
            if (const auto* s = props->if_contains(key); s && s->is_object()) {
                sub = &s->as_object();
            }
        }
        out[key] = value_for(key, *sub, context);
    };
    if (const auto* req = schema.if_contains("required"); req && req->is_array()) {
        for (const auto& k : req->as_array()) {
            if (k.is_string()) {
                add(k.as_string());
            }
        }
    } else if (props != nullptr) {
        for (const auto& kv : *props) {
            add(kv.key());
        }
    }
    return out;
}

std::int64_t count_tokens(std::string_view text) noexcept {
    return static_cast<std::int64_t>((text.size() + 3) / 4);
}

} // namespace companion::sim::openai
