// Deterministic persona replies and schema-shaped JSON for the OpenAI simulator.
#include "sim/openai/detail/replies.hpp"

#include "sim/media/picture.hpp"

#include <boost/algorithm/string/case_conv.hpp>

#include <array>
#include <cctype>
#include <optional>

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

// The text between `open` and the first `close` after it, or nullopt.
std::optional<std::string> between(std::string_view text, std::string_view open, std::string_view close) {
    const auto a = text.find(open);
    if (a == std::string_view::npos) {
        return std::nullopt;
    }
    const auto from = a + open.size();
    const auto b = text.find(close, from);
    if (b == std::string_view::npos) {
        return std::nullopt;
    }
    return std::string(text.substr(from, b - from));
}

// ASCII only (prompts are English), cut at a word boundary near `max`.
std::string ascii_clip(std::string_view text, std::size_t max) {
    std::string out;
    for (char c : text) {
        if (static_cast<unsigned char>(c) < 0x80 && c != '\n' && c != '"') {
            out.push_back(c);
        }
    }
    if (out.size() > max) {
        out.resize(max);
        if (const auto space = out.rfind(' '); space != std::string::npos && space > max / 2) {
            out.resize(space);
        }
    }
    while (!out.empty() && (out.back() == ' ' || out.back() == '.' || out.back() == ',')) {
        out.pop_back();
    }
    return out;
}

// What a photo or video prompt request says about the woman (the bot's instruction names her).
struct persona_facts {
    std::string name = "She";
    std::string age;
    std::string city;
    std::string look;
    std::string style;
    std::string energy;
};

// "Write one photo prompt ... selfie of NAME, a AGE-year-old woman in CITY. Her look: LOOK. Her
// style: STYLE. Show a plausible moment ..." (pipelines/prompts.cpp, selfie_prompt_instruction).
persona_facts photo_request_facts(std::string_view instruction) {
    persona_facts f;
    if (auto name = between(instruction, "selfie of ", ", a ")) {
        f.name = *name;
    }
    if (auto age = between(instruction, ", a ", "-year-old")) {
        f.age = *age;
    }
    if (auto city = between(instruction, "-year-old woman in ", ". Her look:")) {
        f.city = *city;
    }
    if (auto look = between(instruction, "Her look: ", ". Her style:")) {
        f.look = *look;
    }
    if (auto style = between(instruction, "Her style: ", ". Show")) {
        f.style = *style;
    }
    return f;
}

// "The woman is NAME, AGE, from CITY; look: LOOK; character: ...; energy: ENERGY."
// (pipelines/prompts.cpp, video_prompt_instruction).
persona_facts video_request_facts(std::string_view instruction) {
    persona_facts f;
    if (auto name = between(instruction, "The woman is ", ", ")) {
        f.name = *name;
    }
    if (auto city = between(instruction, ", from ", "; look:")) {
        f.city = *city;
    }
    if (auto look = between(instruction, "; look: ", "; character:")) {
        f.look = *look;
    }
    if (auto energy = between(instruction, "; energy: ", ".\n")) {
        f.energy = *energy;
    }
    return f;
}

constexpr std::array<std::string_view, 4> photo_places{
    "at a window table in a small corner cafe",
    "on a quiet tree-lined street",
    "on a sunny balcony with potted plants",
    "on a waterfront promenade",
};
constexpr std::array<std::string_view, 4> photo_lights{
    "Soft window light falls across her face",
    "Warm late-afternoon sun catches her hair",
    "Gentle daylight gives her skin a natural glow",
    "Golden-hour light glows behind her",
};

// 2-4 sentences, no lists: what selfie_prompt_instruction asks for.
std::string photo_prompt(std::string_view instruction, std::uint64_t variant) {
    const auto f = photo_request_facts(instruction);
    const auto pick =
        static_cast<std::size_t>((media::seed_from_text(f.name) + variant) % photo_places.size());
    std::string s = "A candid vertical smartphone selfie of " + f.name;
    if (!f.age.empty()) {
        s += ", " + f.age + ",";
    }
    s += " " + std::string(photo_places[pick]);
    if (!f.city.empty()) {
        s += " in " + f.city;
    }
    s += ".";
    if (!f.look.empty()) {
        s += " She has " + ascii_clip(f.look, 120);
        s += f.style.empty() ? std::string(".") : " and wears " + ascii_clip(f.style, 90) + ".";
    }
    s += " She holds the phone at arm's length and gives the camera a relaxed, warm smile. ";
    s += std::string(photo_lights[pick]) + "; natural skin texture, shallow depth of field, realistic.";
    return s;
}

// The five sections video_prompt_instruction asks for, 8-12 sentences in all, built from the photo
// prompt it quotes and the persona it names.
std::string video_section(std::string_view key, std::string_view instruction) {
    const auto f = video_request_facts(instruction);
    if (key == "style") {
        return "Cinematic vertical 9:16 video with the feel of a candid smartphone clip, natural colour and "
               "soft film grain. The mood is " +
               (f.energy.empty() ? std::string("warm and relaxed") : ascii_clip(f.energy, 80)) + ".";
    }
    if (key == "scene") {
        const auto photo = between(instruction, "Photo prompt: \"", "\"\n");
        std::string first = photo ? ascii_clip(photo->substr(0, photo->find(". ")), 200) : std::string();
        if (first.size() < 10) {
            first = "a candid selfie of " + f.name + (f.city.empty() ? "" : " in " + f.city);
        } else if (first.starts_with("A ")) {
            first[0] = 'a'; // "A candid selfie..." continues the sentence
        }
        return "The clip opens on the photo itself, " + first + ". " + f.name +
               " stays in the same place and light, framed from the chest up.";
    }
    if (key == "cinematography") {
        return "Medium close-up on a 35mm lens at f/1.8, handheld at arm's length as in a selfie. A slow, "
               "gentle push-in; shallow depth of field keeps her sharp against a softly blurred background.";
    }
    if (key == "actions" || key == "action") {
        std::string clip = between(instruction, "that fits ", " seconds").value_or("a few");
        const bool flirty = instruction.find("subtly flirty") != std::string_view::npos;
        return flirty ? "Over " + clip +
                            " seconds she holds playful eye contact with the camera, her smile deepens and "
                            "she gives a small wink with an inviting tilt of her head."
                      : "Over " + clip +
                            " seconds she looks up at the camera, her smile slowly deepens and she gives a "
                            "small wave.";
    }
    if (key == "background_sound" || key == "sound" || key == "audio") {
        return "Soft ambient sound of the place: a low murmur and a light breeze, no music.";
    }
    return {};
}

std::string text_for(std::string_view key, std::string_view context, std::uint64_t variant) {
    const std::string k = boost::algorithm::to_lower_copy(std::string(key));
    if (auto section = video_section(k, context); !section.empty()) {
        return section;
    }
    if (k == "prompt" || k == "photo_prompt" || k == "image_prompt" || k == "selfie_prompt" ||
        k == "description") {
        return photo_prompt(context, variant);
    }
    if (k == "summary") {
        return "A short conversation.";
    }
    // Another schema's field: its name as text (never the request's instruction).
    std::string label(key);
    for (auto& c : label) {
        if (c == '_') {
            c = ' ';
        }
    }
    if (!label.empty()) {
        label[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(label[0])));
    }
    return label + ".";
}

boost::json::value value_for(std::string_view key,
                             const boost::json::object& schema,
                             std::string_view context,
                             std::uint64_t variant) {
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
        return structured_reply(schema, context, variant);
    }
    if (type == "array") {
        boost::json::array a;
        if (const auto* items = schema.if_contains("items"); items && items->is_object()) {
            a.push_back(value_for(key, items->as_object(), context, variant));
        }
        return a;
    }
    if (type == "integer" || type == "number") {
        return 1;
    }
    if (type == "boolean") {
        return false;
    }
    return boost::json::value(text_for(key, context, variant));
}

std::string quoted(std::string_view text) {
    return "\"" + snippet(text, 120) + (text.size() > 120 ? "…\"" : "\"");
}

// "You keep a short memory for NAME ..." (pipelines/chat.cpp, refresh_summary): the user's first
// words (kept from the previous memory) and their latest, as facts in English.
std::string summary_reply(std::string_view request) {
    std::vector<std::string> said;
    std::size_t at = 0;
    while ((at = request.find("User: ", at)) != std::string_view::npos) {
        const auto from = at + 6;
        const auto end = request.find('\n', from);
        said.emplace_back(request.substr(from, end == std::string_view::npos ? end : end - from));
        at = from;
    }
    std::string first = said.empty() ? std::string() : said.front();
    if (auto kept = between(request, "They first asked: \"", "\"")) {
        first = *kept;
    }
    if (first.empty()) {
        return "Nothing said yet.";
    }
    std::string s = "They first asked: " + quoted(first) + ".";
    if (!said.empty() && said.back() != first) {
        s += " Most recently they said: " + quoted(said.back()) + ".";
    }
    return s;
}

// A test's tag is echoed, so a driver can tell which message a reply answers.
std::string with_tag(std::string reply, std::string_view last_user) {
    if (const auto open = last_user.find("[[tag:"); open != std::string_view::npos) {
        if (const auto close = last_user.find("]]", open); close != std::string_view::npos) {
            reply += " " + std::string(last_user.substr(open, close + 2 - open));
        }
    }
    return reply;
}

bool asks_to_remember(std::string_view text) {
    const std::string t = boost::algorithm::to_lower_copy(std::string(text));
    return has(t, "remember") || has(t, "hat\xc4\xb1rl") || has(t, "\xd0\xbf\xd0\xbe\xd0\xbc\xd0\xbd");
}

bool asks_for_first(std::string_view text) {
    const std::string t = boost::algorithm::to_lower_copy(std::string(text));
    return has(t, "first") || has(t, "ilk") || has(t, "\xd0\xbf\xd0\xb5\xd1\x80\xd0\xb2");
}

// The answer to "do you remember ...?": the earlier message asked about (the first, or the one
// before this), quoted, and the summary the system prompt carries.
std::string memory_reply(const chat_view& chat) {
    const auto& said = chat.user_messages;
    const auto& last = said.back();
    const std::string earlier =
        said.size() < 2 ? std::string() : (asks_for_first(last) ? said.front() : said[said.size() - 2]);
    const auto summary = between(chat.system_prompt, "your conversation so far: ", " Rules that");
    const auto lang = detect_language(chat.system_prompt, last);
    std::string reply;
    if (earlier.empty() && !summary) {
        switch (lang) {
        case reply_language::tr:
            return "Hmm, daha yeni tanıştık, henüz bir şey söylemedin 🙂";
        case reply_language::ru:
            return "Хм, мы только познакомились, ты ещё ничего не говорил "
                   "🙂";
        case reply_language::en:
            return "Hmm, we've only just met, you haven't told me anything yet 🙂";
        }
    }
    switch (lang) {
    case reply_language::tr:
        reply = "Tabii ki hatırlıyorum! 😊";
        if (!earlier.empty()) {
            reply += " Şöyle demiştin: " + quoted(earlier) + ".";
        }
        if (summary) {
            reply += " Notlarım: " + *summary;
        }
        break;
    case reply_language::ru:
        reply = "Конечно, помню! 😊";
        if (!earlier.empty()) {
            reply += " Ты написал: " + quoted(earlier) + ".";
        }
        if (summary) {
            reply += " Мои заметки: " + *summary;
        }
        break;
    case reply_language::en:
        reply = "Of course I remember! 😊";
        if (!earlier.empty()) {
            reply += std::string(asks_for_first(last) ? " Your first question was: " : " You said: ") +
                     quoted(earlier) + ".";
        }
        if (summary) {
            reply += " My notes on you: " + *summary;
        }
        break;
    }
    return reply;
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

/// Line `i` of the set in `lang`.
std::string in_language(reply_language lang,
                        const std::array<std::string_view, 4>& en,
                        const std::array<std::string_view, 4>& tr,
                        const std::array<std::string_view, 4>& ru,
                        std::size_t i) {
    switch (lang) {
    case reply_language::tr:
        return std::string(tr.at(i));
    case reply_language::ru:
        return std::string(ru.at(i));
    case reply_language::en:
        break;
    }
    return std::string(en.at(i));
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
    std::string reply = in_language(detect_language(system_prompt, last_user), en, tr, ru, pick);
    if (!name.empty() && pick % 2 == 0) {
        reply += " \xe2\x80\x94 " + name; // a signature now and then, so personas read differently
    }
    return with_tag(std::move(reply), last_user);
}

// "Now you write first ... it is PART where they are (HH:MM)" (pipelines/prompts.cpp,
// checkin_instruction): a first message that fits the time of day, in the persona's language.
std::string checkin_reply(std::string_view system_prompt) {
    const std::string part = between(system_prompt, "and it is ", " where they are").value_or("afternoon");
    const std::size_t slot = part == "morning" ? 0U : part == "evening" ? 2U : part == "night" ? 3U : 1U;
    static constexpr std::array<std::string_view, 4> en{
        "Good morning! ☀️ I just made my coffee and thought of you. Sleep well?",
        "Hey you 🙂 Quiet afternoon at the shop, and I caught myself wondering how your day is going.",
        "Evening! 🌙 I'm curled up with tea and a book. How was your day?",
        "Still awake? I couldn't sleep and thought of you.",
    };
    static constexpr std::array<std::string_view, 4> tr{
        "Günaydın! ☀️ Kahvemi yaptım ve aklıma sen geldin. İyi uyudun mu?",
        "Selam 🙂 Öğleden sonra sakin geçiyor, günün nasıl gidiyor merak ettim.",
        "İyi akşamlar! 🌙 Çayımı aldım, kitabımı okuyorum. Günün nasıl geçti?",
        "Uyanık mısın? Uyuyamadım, aklıma sen geldin.",
    };
    static constexpr std::array<std::string_view, 4> ru{
        "Доброе утро! ☀️ Сварила кофе и вспомнила о тебе. Как "
        "спалось?",
        "Привет 🙂 Тихий день, а я всё думаю, как у тебя дела.",
        "Добрый вечер! 🌙 Сижу с чаем и книгой. Как прошёл твой день?",
        "Не спишь? Мне не спится, вспомнила о тебе.",
    };
    return in_language(detect_language(system_prompt, ""), en, tr, ru, slot);
}

std::string chat_reply(const chat_view& chat) {
    if (chat.system_prompt.find("Now you write first") != std::string::npos) {
        return checkin_reply(chat.system_prompt);
    }
    if (chat.user_messages.empty()) {
        return persona_reply(chat.system_prompt, "");
    }
    if (chat.system_prompt.find("You keep a short memory") != std::string::npos) {
        return summary_reply(chat.user_messages.back());
    }
    if (asks_to_remember(chat.user_messages.back())) {
        return with_tag(memory_reply(chat), chat.user_messages.back());
    }
    return persona_reply(chat.system_prompt, chat.user_messages.back());
}

boost::json::value
structured_reply(const boost::json::object& schema, std::string_view context, std::uint64_t variant) {
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
        out[key] = value_for(key, *sub, context, variant);
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
