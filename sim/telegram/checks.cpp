// Telegram's validation of what bots send: reply markup, texts and captions with their parse_mode
// or entities and limits, and the JSON of files and recorded items. Error texts are Telegram's as
// the contract lists them, or the Bot API server's (github.com/tdlib/telegram-bot-api,
// telegram-bot-api/Client.cpp: "Can't parse ... JSON object", the lower-cased first letter after
// "Bad Request: ") where the contract has none.
#include "sim/telegram/detail/state.hpp"
#include "sim/telegram/entities.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>

namespace companion::sim {

namespace telegram_detail {
namespace {

json::object entity_json(const telegram::message_entity& e) {
    json::object o{{"offset", e.offset}, {"length", e.length}, {"type", e.type}};
    if (!e.url.empty()) {
        o["url"] = e.url;
    }
    if (!e.language.empty()) {
        o["language"] = e.language;
    }
    if (!e.custom_emoji_id.empty()) {
        o["custom_emoji_id"] = e.custom_emoji_id;
    }
    if (e.user_id != 0) {
        o["user"] = json::object{{"id", e.user_id}, {"is_bot", false}, {"first_name", "User"}};
    }
    return o;
}

constexpr std::string_view entity_types[] = {"mention",
                                             "hashtag",
                                             "cashtag",
                                             "bot_command",
                                             "url",
                                             "email",
                                             "phone_number",
                                             "bold",
                                             "italic",
                                             "underline",
                                             "strikethrough",
                                             "spoiler",
                                             "blockquote",
                                             "expandable_blockquote",
                                             "code",
                                             "pre",
                                             "text_link",
                                             "text_mention",
                                             "custom_emoji"};

// The client's own entities, checked as the Bot API server does (Client.cpp, get_message_entity).
std::variant<json::array, response> client_entities(const json::value& v, std::int64_t text_units) {
    const auto* list = v.if_array();
    if (list == nullptr) {
        return bad_request("can't parse entities JSON object");
    }
    json::array out;
    for (const auto& item : *list) {
        const auto* e = item.if_object();
        const auto* type = e != nullptr ? e->if_contains("type") : nullptr;
        const auto* offset = e != nullptr ? e->if_contains("offset") : nullptr;
        const auto* length = e != nullptr ? e->if_contains("length") : nullptr;
        if (type == nullptr || !type->is_string()) {
            return bad_request("can't parse MessageEntity: Field \"type\" must be of type String");
        }
        if (offset == nullptr || !offset->is_int64() || length == nullptr || !length->is_int64()) {
            return bad_request("can't parse MessageEntity: Field \"offset\" must be of type Number");
        }
        if (std::find(std::begin(entity_types), std::end(entity_types), type->get_string()) ==
            std::end(entity_types)) {
            return bad_request("can't parse MessageEntity: Unsupported type specified");
        }
        const auto begin = offset->get_int64();
        const auto size = length->get_int64();
        if (begin < 0 || size <= 0 || begin + size > text_units) {
            continue; // Telegram drops entities outside the text
        }
        out.push_back(*e);
    }
    return out;
}

// Adds the entities Telegram finds by itself (commands, mentions, URLs, ...) where no entity
// already covers the text.
void add_detected(std::string_view text, json::array& entities) {
    for (const auto& found : telegram::detect_entities(text)) {
        const bool overlaps = std::any_of(entities.begin(), entities.end(), [&](const json::value& v) {
            const auto& o = v.as_object();
            const auto begin = o.at("offset").as_int64();
            const auto end = begin + o.at("length").as_int64();
            return found.offset < end && begin < found.offset + found.length;
        });
        if (!overlaps) {
            entities.push_back(entity_json(found));
        }
    }
    std::stable_sort(entities.begin(), entities.end(), [](const json::value& a, const json::value& b) {
        return a.as_object().at("offset").as_int64() < b.as_object().at("offset").as_int64();
    });
}

} // namespace

std::variant<std::string, response> check_markup(const telegram_simulator::call& c) {
    auto markup = c.structured("reply_markup");
    if (!markup) {
        return std::string{};
    }
    const auto* o = markup->if_object();
    if (o == nullptr) {
        return bad_request("can't parse reply keyboard markup JSON object");
    }
    if (const auto* ik = o->if_contains("inline_keyboard")) {
        const auto* rows = ik->if_array();
        if (rows == nullptr) {
            return bad_request("field \"inline_keyboard\" must be an Array");
        }
        for (const auto& row : *rows) {
            const auto* buttons = row.if_array();
            if (buttons == nullptr) {
                return bad_request("field \"inline_keyboard\" must be an Array of Arrays");
            }
            for (const auto& b : *buttons) {
                const auto* button = b.if_object();
                if (button == nullptr || button->if_contains("text") == nullptr ||
                    !button->at("text").is_string()) {
                    return bad_request("can't parse inline keyboard button: Text is not specified");
                }
                if (const auto* data = button->if_contains("callback_data")) {
                    const auto* s = data->if_string();
                    if (s == nullptr || s->empty() || s->size() > 64) {
                        return bad_request("BUTTON_DATA_INVALID");
                    }
                } else if (button->if_contains("url") == nullptr && button->if_contains("pay") == nullptr &&
                           button->if_contains("switch_inline_query") == nullptr &&
                           button->if_contains("switch_inline_query_current_chat") == nullptr &&
                           button->if_contains("copy_text") == nullptr &&
                           button->if_contains("web_app") == nullptr &&
                           button->if_contains("login_url") == nullptr) {
                    return bad_request("can't parse inline keyboard button: Text buttons are unallowed in "
                                       "the inline keyboard");
                }
            }
        }
    } else if (o->if_contains("keyboard") == nullptr && o->if_contains("remove_keyboard") == nullptr &&
               o->if_contains("force_reply") == nullptr) {
        return bad_request("can't parse reply keyboard markup JSON object");
    }
    return json::serialize(*markup);
}

std::variant<formatted, response> format_value(std::string_view text,
                                               std::optional<std::string> parse_mode,
                                               std::optional<json::value> entities,
                                               text_rule rule) {
    formatted out;
    if (parse_mode && !parse_mode->empty()) {
        const auto mode = telegram::parse_mode_from(*parse_mode);
        if (!mode) {
            return bad_request("unsupported parse_mode");
        }
        auto parsed = telegram::parse_formatted(text, *mode);
        if (!parsed.ok()) {
            return bad_request("can't parse entities: " + parsed.error);
        }
        out.text = std::move(parsed.value.text);
        for (const auto& e : parsed.value.entities) {
            out.entities.push_back(entity_json(e));
        }
    } else {
        out.text = std::string(text);
        if (entities) {
            auto checked = client_entities(*entities, telegram::utf16_length(out.text));
            if (auto* bad = std::get_if<response>(&checked)) {
                return std::move(*bad);
            }
            out.entities = std::move(std::get<json::array>(checked));
        }
    }
    const auto n = telegram::utf16_length(out.text);
    switch (rule) {
    case text_rule::caption:
        if (n > 1024) {
            return bad_request("message caption is too long");
        }
        break;
    case text_rule::message:
        if (n == 0) {
            return bad_request("message text is empty");
        }
        if (n > 4096) {
            return bad_request("message is too long");
        }
        break;
    case text_rule::draft:
        if (n > 4096) {
            return bad_request("message is too long"); // a draft's limit is a message's; text unconfirmed
        }
        break;
    }
    add_detected(out.text, out.entities);
    return out;
}

std::variant<formatted, response> format_text(const telegram_simulator::call& c,
                                              std::string_view text_key,
                                              std::string_view entities_key,
                                              bool caption) {
    return format_value(c.str(text_key).value_or(""),
                        c.str("parse_mode"),
                        c.structured(entities_key),
                        caption ? text_rule::caption : text_rule::message);
}

void put_text(json::object& msg, const formatted& f, bool caption) {
    if (caption) {
        if (!f.text.empty()) {
            msg["caption"] = f.text;
        }
        if (!f.entities.empty()) {
            msg["caption_entities"] = f.entities;
        }
        return;
    }
    msg["text"] = f.text;
    if (!f.entities.empty()) {
        msg["entities"] = f.entities;
    }
}

json::value inline_markup(const std::string& markup_text) {
    if (markup_text.empty()) {
        return nullptr;
    }
    auto parsed = json::parse(markup_text);
    if (parsed.is_object() && parsed.as_object().contains("inline_keyboard")) {
        return parsed;
    }
    return nullptr;
}

json::object file_json(const telegram_simulator::stored_file& f) {
    json::object o{{"file_id", f.file_id},
                   {"file_unique_id", f.file_unique_id},
                   {"file_size", static_cast<std::int64_t>(f.bytes->size())}};
    const bool sized = f.kind == file_kind::photo || f.kind == file_kind::video ||
                       f.kind == file_kind::animation || f.kind == file_kind::thumbnail ||
                       f.kind == file_kind::video_note || f.kind == file_kind::sticker;
    if (sized) {
        o["width"] = f.width;
        o["height"] = f.height;
    }
    if (f.kind == file_kind::video || f.kind == file_kind::animation || f.kind == file_kind::audio ||
        f.kind == file_kind::voice || f.kind == file_kind::video_note) {
        o["duration"] = f.duration;
    }
    if (f.kind != file_kind::photo && f.kind != file_kind::thumbnail && f.kind != file_kind::sticker &&
        f.kind != file_kind::video_note) {
        o["mime_type"] = f.mime_type;
    }
    if (!f.file_name.empty() && f.kind != file_kind::voice) {
        o["file_name"] = f.file_name;
    }
    if (f.thumbnail) {
        o["thumbnail"] = file_json(*f.thumbnail);
    }
    return o;
}

json::object sent_item_json(const sent_item& s) {
    json::object o{{"kind", to_string(s.what)}, {"chat_id", s.chat_id}, {"message_id", s.message_id}};
    o["text"] = s.text;
    if (!s.reply_markup.empty()) {
        boost::system::error_code ec;
        auto markup = json::parse(s.reply_markup, ec);
        o["reply_markup"] = ec ? json::value(s.reply_markup) : markup;
    }
    if (!s.entities.empty()) {
        o["entities"] = json::parse(s.entities);
    }
    if (!s.file_id.empty()) {
        o["file_id"] = s.file_id;
    }
    if (!s.media_group_id.empty()) {
        o["media_group_id"] = s.media_group_id;
    }
    if (s.duration != 0) {
        o["duration"] = s.duration;
    }
    if (!s.callback_query_id.empty()) {
        o["callback_query_id"] = s.callback_query_id;
        o["show_alert"] = s.show_alert;
    }
    o["at_ms"] = std::chrono::duration_cast<std::chrono::milliseconds>(s.at.time_since_epoch()).count();
    return o;
}

} // namespace telegram_detail
} // namespace companion::sim
