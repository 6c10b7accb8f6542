// Bot API methods on files: sendPhoto, sendVideo, sendDocument, sendAudio, sendVoice,
// sendAnimation, sendMediaGroup, editMessageMedia, getFile and the file downloads. Uploads become
// stored files with real per-size photo files (PNGs of each size), a thumbnail for videos and
// animations, MIME types from the bytes when the client sent none, and file ids good for their own
// kind only. A voice upload must be Ogg Opus (its length read from the file when the client sent
// no duration), MP3 or M4A (contracts/telegram-drafts-stars-voice.md §3). Error texts: contract §8, or
// github.com/tdlib/telegram-bot-api Client.cpp (cited).
#include "net/multipart.hpp"
#include "sim/media/mp4.hpp"
#include "sim/media/ogg_opus.hpp"
#include "sim/media/picture.hpp"
#include "sim/media/png.hpp"
#include "sim/telegram/detail/state.hpp"

#include <boost/json/serialize.hpp>

#include <algorithm>
#include <cmath>

namespace companion::sim {

using namespace telegram_detail;

namespace {

// Telegram's own sizes of a photo (the longest side of each smaller copy).
constexpr std::int64_t photo_ladder[] = {90, 320, 800, 1280};

std::string sniff_mime(std::string_view bytes, std::string_view declared, std::string_view fallback) {
    if (!declared.empty() && declared != "application/octet-stream") {
        return std::string(declared);
    }
    if (bytes.starts_with("\x89PNG")) {
        return "image/png";
    }
    if (bytes.starts_with("\xFF\xD8\xFF")) {
        return "image/jpeg";
    }
    if (bytes.size() > 12 && bytes.substr(0, 4) == "RIFF" && bytes.substr(8, 4) == "WEBP") {
        return "image/webp";
    }
    if (bytes.size() > 8 && bytes.substr(4, 4) == "ftyp") {
        return "video/mp4";
    }
    if (bytes.starts_with("OggS")) {
        return "audio/ogg";
    }
    if (bytes.starts_with("ID3") || bytes.starts_with("\xFF\xFB")) {
        return "audio/mpeg";
    }
    if (bytes.starts_with("%PDF")) {
        return "application/pdf";
    }
    return std::string(fallback);
}

std::string_view extension_of(std::string_view mime) {
    if (mime == "image/png") {
        return ".png";
    }
    if (mime == "image/jpeg") {
        return ".jpg";
    }
    if (mime == "image/webp") {
        return ".webp";
    }
    if (mime == "video/mp4") {
        return ".mp4";
    }
    if (mime == "audio/ogg") {
        return ".oga";
    }
    if (mime == "audio/mpeg") {
        return ".mp3";
    }
    return "";
}

std::string_view folder_of(file_kind k) {
    switch (k) {
    case file_kind::photo:
        return "photos";
    case file_kind::video:
        return "videos";
    case file_kind::animation:
        return "animations";
    case file_kind::audio:
        return "music";
    case file_kind::voice:
        return "voice";
    case file_kind::video_note:
        return "video_notes";
    case file_kind::sticker:
        return "stickers";
    case file_kind::thumbnail:
        return "thumbnails";
    case file_kind::document:
        return "documents";
    }
    return "documents";
}

// The prefix of Telegram's file ids for each kind (their first bytes encode the type).
std::string_view id_prefix(file_kind k) {
    switch (k) {
    case file_kind::photo:
        return "AgACAgIAAxkBAAM";
    case file_kind::video:
        return "BAACAgIAAxkDAAM";
    case file_kind::animation:
        return "CgACAgIAAxkBAAM";
    case file_kind::audio:
        return "CQACAgIAAxkBAAM";
    case file_kind::voice:
        return "AwACAgIAAxkBAAM";
    case file_kind::video_note:
        return "DQACAgIAAxkBAAM";
    case file_kind::sticker:
        return "CAACAgIAAxkBAAM";
    case file_kind::thumbnail:
        return "AAMCAgADGQEAAM";
    case file_kind::document:
        return "BQACAgIAAxkBAAM";
    }
    return "BQACAgIAAxkBAAM";
}

// What sendVoice takes (contract §3): Ogg with Opus, also MP3 or M4A. Returns the length of an Ogg
// Opus file in whole seconds (at least 1), 0 for MP3 and M4A (not read), nullopt for anything else.
std::optional<std::int64_t> voice_seconds(std::string_view bytes) {
    if (const auto ogg = media::read_ogg_opus(bytes)) {
        return std::max<std::int64_t>(1, std::llround(ogg->seconds));
    }
    const bool mp3 =
        bytes.starts_with("ID3") || (bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0xFF &&
                                     (static_cast<unsigned char>(bytes[1]) & 0xE0U) == 0xE0U);
    const bool m4a = bytes.size() >= 12 && bytes.substr(4, 4) == "ftyp" && bytes.substr(8, 3) == "M4A";
    if (mp3 || m4a) {
        return 0;
    }
    return std::nullopt;
}

std::optional<file_kind> kind_of_field(std::string_view field) {
    static const std::pair<std::string_view, file_kind> fields[] = {{"photo", file_kind::photo},
                                                                    {"video", file_kind::video},
                                                                    {"document", file_kind::document},
                                                                    {"audio", file_kind::audio},
                                                                    {"voice", file_kind::voice},
                                                                    {"animation", file_kind::animation}};
    for (const auto& [name, kind] : fields) {
        if (name == field) {
            return kind;
        }
    }
    return std::nullopt;
}

// A small picture of the given aspect: Telegram's thumbnails are at most 320 px a side.
std::shared_ptr<const std::string> picture_of(std::int64_t width, std::int64_t height, std::uint64_t seed) {
    return std::make_shared<const std::string>(
        media::make_png(static_cast<std::uint32_t>(std::max<std::int64_t>(1, width)),
                        static_cast<std::uint32_t>(std::max<std::int64_t>(1, height)),
                        {.seed = seed, .compression_level = 1}));
}

} // namespace

std::shared_ptr<telegram_simulator::stored_file>
telegram_simulator::store_file(std::shared_ptr<stored_file> f, std::uint64_t group) {
    const auto n = next_file_++;
    f->file_id = std::string(id_prefix(f->kind)) + std::to_string(n) + random_suffix(rng_, 24);
    f->file_unique_id = "AQAD" + std::to_string(n) + random_suffix(rng_, 6);
    f->file_path = std::string(folder_of(f->kind)) + "/file_" + std::to_string(n) +
                   std::string(extension_of(f->mime_type));
    f->group = group;
    files_[f->file_id] = f;
    files_by_path_[f->file_path] = f;
    return f;
}

std::shared_ptr<telegram_simulator::stored_file>
telegram_simulator::make_thumbnail(std::int64_t width, std::int64_t height, std::uint64_t seed) {
    if (width <= 0 || height <= 0) {
        width = 320;
        height = 320;
    }
    const auto longest = std::max(width, height);
    const auto scale = std::min<double>(1.0, 320.0 / static_cast<double>(longest));
    auto t = std::make_shared<stored_file>();
    t->kind = file_kind::thumbnail;
    t->width = std::max<std::int64_t>(1, std::llround(static_cast<double>(width) * scale));
    t->height = std::max<std::int64_t>(1, std::llround(static_cast<double>(height) * scale));
    t->bytes = picture_of(t->width, t->height, seed);
    t->mime_type = "image/png";
    return store_file(std::move(t), 0);
}

std::variant<std::vector<std::shared_ptr<telegram_simulator::stored_file>>, net::server_response>
telegram_simulator::take_file(const call& c,
                              file_kind kind,
                              std::string_view field,
                              std::string_view reference) {
    using files = std::vector<std::shared_ptr<stored_file>>;
    // The file: an uploaded part named after the field or referenced as attach://<part>, an earlier
    // file_id, or a URL (Telegram would download it; the simulator has no outside network).
    const net::multipart_part* upload = nullptr;
    if (reference.starts_with("attach://")) {
        auto part = c.files.find(std::string(reference.substr(9)));
        if (part == c.files.end()) {
            return bad_request("wrong file identifier/HTTP URL specified");
        }
        upload = &part->second;
    } else if (reference.empty()) {
        auto part = c.files.find(std::string(field));
        if (part == c.files.end()) {
            return bad_request("there is no " + std::string(field) + " in the request");
        }
        upload = &part->second;
    } else if (reference.starts_with("http://") || reference.starts_with("https://")) {
        return bad_request("failed to get HTTP URL content"); // Client.cpp: WEBPAGE_CURL_FAILED
    } else {
        auto known = files_.find(std::string(reference));
        if (known == files_.end()) {
            return bad_request("wrong file identifier/HTTP URL specified");
        }
        if (known->second->kind != kind) {
            // What Telegram answers for a file_id of another kind (e.g. a video id in sendPhoto),
            // as bot libraries report it (TelegramBots/Telegram.Bot#625).
            return bad_request("type of file mismatch");
        }
        if (kind != file_kind::photo) {
            return files{known->second};
        }
        files sizes;
        for (const auto& id : photo_groups_[known->second->group]) {
            sizes.push_back(files_.at(id));
            if (id == known->second->file_id) {
                break; // a resend by a smaller size's id gets that size as the largest
            }
        }
        return sizes;
    }

    const auto limit = kind == file_kind::photo ? cfg_.max_photo_bytes : cfg_.max_upload_bytes;
    if (upload->data.size() > limit) {
        return api_error(413, "Request Entity Too Large");
    }
    if (upload->data.empty()) {
        return bad_request("file must be non-empty");
    }
    auto bytes = std::make_shared<const std::string>(upload->data);
    if (kind == file_kind::photo) {
        const auto dims = media::read_image_size(*bytes);
        if (!dims) {
            return bad_request("IMAGE_PROCESS_FAILED");
        }
        if (dims->width + dims->height > 10000) {
            return bad_request("PHOTO_INVALID_DIMENSIONS");
        }
        return store_photo(std::move(bytes), dims->width, dims->height);
    }
    upload_info info{.file_name = upload->filename,
                     .content_type = upload->content_type,
                     .width = c.integer("width").value_or(0),
                     .height = c.integer("height").value_or(0),
                     .duration = c.integer("duration").value_or(0)};
    if (kind == file_kind::voice) {
        const auto seconds = voice_seconds(*bytes);
        if (!seconds) {
            // What Telegram answers for a voice it cannot take as one (a picture, a WAV, Ogg Vorbis).
            return bad_request("wrong file type");
        }
        if (!c.has("duration")) {
            info.duration = *seconds;
        }
    }
    // A thumbnail the client uploaded (attach:// or its own part) replaces the one Telegram makes.
    const auto thumb_ref = c.str("thumbnail").value_or("");
    auto thumb_part = c.files.find(thumb_ref.starts_with("attach://") ? thumb_ref.substr(9) : "thumbnail");
    if (thumb_part != c.files.end()) {
        info.thumbnail = thumb_part->second.data;
    }
    return files{store_upload(kind, std::move(bytes), std::move(info))};
}

std::vector<std::shared_ptr<telegram_simulator::stored_file>>
telegram_simulator::store_photo(std::shared_ptr<const std::string> bytes, std::int64_t w, std::int64_t h) {
    // Telegram makes a ladder of sizes, each its own file; the largest is the upload.
    const auto seed = media::seed_from_text(std::string_view(*bytes).substr(0, 4096));
    const std::int64_t longest = std::max(w, h);
    const auto group = next_file_;
    std::vector<std::shared_ptr<stored_file>> sizes;
    for (std::int64_t side : photo_ladder) {
        if (side < longest) {
            auto f = std::make_shared<stored_file>();
            f->kind = file_kind::photo;
            f->width = std::max<std::int64_t>(1, w * side / longest);
            f->height = std::max<std::int64_t>(1, h * side / longest);
            f->bytes = picture_of(f->width, f->height, seed);
            f->mime_type = "image/png";
            sizes.push_back(store_file(std::move(f), group));
        }
    }
    auto original = std::make_shared<stored_file>();
    original->kind = file_kind::photo;
    original->width = w;
    original->height = h;
    original->mime_type = sniff_mime(*bytes, "", "image/jpeg");
    original->bytes = std::move(bytes);
    sizes.push_back(store_file(std::move(original), group));
    for (const auto& size : sizes) {
        photo_groups_[group].push_back(size->file_id);
    }
    return sizes;
}

std::shared_ptr<telegram_simulator::stored_file>
telegram_simulator::store_upload(file_kind kind, std::shared_ptr<const std::string> bytes, upload_info info) {
    const auto seed = media::seed_from_text(std::string_view(*bytes).substr(0, 4096));
    auto f = std::make_shared<stored_file>();
    f->kind = kind;
    f->file_name = std::move(info.file_name);
    f->duration = info.duration;
    const std::string_view fallback =
        kind == file_kind::voice   ? "audio/ogg"
        : kind == file_kind::audio ? "audio/mpeg"
        : kind == file_kind::video || kind == file_kind::animation || kind == file_kind::video_note
            ? "video/mp4"
            : "application/octet-stream";
    f->mime_type = sniff_mime(*bytes, info.content_type, fallback);
    f->width = info.width;
    f->height = info.height;
    const bool moving =
        kind == file_kind::video || kind == file_kind::animation || kind == file_kind::video_note;
    if (moving) {
        if (auto mp4 = media::read_mp4_info(*bytes)) {
            f->width = f->width != 0 ? f->width : mp4->width;
            f->height = f->height != 0 ? f->height : mp4->height;
            f->duration = f->duration != 0 ? f->duration
                                           : static_cast<std::int64_t>(std::lround(mp4->duration.count()));
        }
    }
    if (kind == file_kind::sticker) {
        if (auto dims = media::read_image_size(*bytes)) {
            f->width = dims->width;
            f->height = dims->height;
        }
    }
    f->bytes = std::move(bytes);
    if (!info.thumbnail.empty()) {
        const auto dims = media::read_image_size(info.thumbnail);
        auto t = std::make_shared<stored_file>();
        t->kind = file_kind::thumbnail;
        t->width = dims ? dims->width : 0;
        t->height = dims ? dims->height : 0;
        t->mime_type = sniff_mime(info.thumbnail, "", "image/jpeg");
        t->bytes = std::make_shared<const std::string>(std::move(info.thumbnail));
        f->thumbnail = store_file(std::move(t), 0);
    } else if (moving || kind == file_kind::sticker) {
        f->thumbnail = make_thumbnail(f->width, f->height, seed);
    }
    return store_file(std::move(f), 0);
}

net::server_response telegram_simulator::send_media(call& c, std::string_view field) {
    const auto kind = *kind_of_field(field);
    auto prepared = prepare_send(c, true);
    if (auto* bad = std::get_if<response>(&prepared)) {
        return std::move(*bad);
    }
    auto& out = std::get<outgoing>(prepared);
    auto taken = take_file(c, kind, field, c.str(field).value_or(""));
    if (auto* bad = std::get_if<response>(&taken)) {
        return std::move(*bad);
    }
    if (auto limited = check_rate(c, out.chat->id)) {
        return std::move(*limited);
    }
    const auto& sizes = std::get<std::vector<std::shared_ptr<stored_file>>>(taken);
    json::object msg;
    put_media(msg, field, sizes);
    put_text(msg, out.text, true);
    if (!out.reply.is_null()) {
        msg["reply_to_message"] = std::move(out.reply);
    }
    return deliver(
        *out.chat,
        std::move(msg),
        std::string(field),
        {.what = sent_kind(kind),
         .text = out.text.text,
         .file_id = sizes.back()->file_id,
         .entities = out.text.entities.empty() ? std::string{} : json::serialize(out.text.entities),
         .duration = sizes.back()->duration},
        out.markup);
}

void telegram_simulator::put_media(json::object& msg,
                                   std::string_view field,
                                   const std::vector<std::shared_ptr<stored_file>>& sizes) const {
    if (field == "photo") {
        json::array photo;
        for (const auto& s : sizes) {
            photo.push_back(file_json(*s));
        }
        msg["photo"] = std::move(photo);
    } else {
        msg[field] = file_json(*sizes.back());
    }
}

sent_item::kind telegram_simulator::sent_kind(file_kind k) noexcept {
    switch (k) {
    case file_kind::photo:
        return sent_item::kind::photo;
    case file_kind::video:
        return sent_item::kind::video;
    case file_kind::audio:
        return sent_item::kind::audio;
    case file_kind::voice:
        return sent_item::kind::voice;
    case file_kind::animation:
        return sent_item::kind::animation;
    default:
        return sent_item::kind::document;
    }
}

// One InputMedia of sendMediaGroup or editMessageMedia, checked.
struct telegram_simulator::input_media {
    std::string type;
    file_kind kind = file_kind::photo;
    std::vector<std::shared_ptr<stored_file>> sizes;
    formatted caption;
};

std::variant<telegram_simulator::input_media, net::server_response>
telegram_simulator::read_input_media(const call& c, const json::value& v) {
    // Client.cpp, get_input_media: "Can't parse InputMedia: <reason>".
    const auto* o = v.if_object();
    if (o == nullptr) {
        return bad_request("can't parse InputMedia: expected an Object");
    }
    const auto* type = o->if_contains("type");
    if (type == nullptr || !type->is_string()) {
        return bad_request("can't parse InputMedia: Field \"type\" must be of type String");
    }
    input_media m;
    m.type = std::string(type->get_string());
    const auto kind = kind_of_field(m.type);
    if (!kind || *kind == file_kind::voice) {
        return bad_request("can't parse InputMedia: type \"" + m.type + "\" is unsupported");
    }
    m.kind = *kind;
    const auto* media_ref = o->if_contains("media");
    if (media_ref == nullptr || !media_ref->is_string() || media_ref->get_string().empty()) {
        return bad_request("can't parse InputMedia: media not found");
    }
    auto taken = take_file(c, m.kind, m.type, std::string_view(media_ref->get_string()));
    if (auto* bad = std::get_if<response>(&taken)) {
        return std::move(*bad);
    }
    m.sizes = std::move(std::get<std::vector<std::shared_ptr<stored_file>>>(taken));
    std::optional<std::string> mode;
    if (const auto* p = o->if_contains("parse_mode"); p != nullptr && p->is_string()) {
        mode = std::string(p->get_string());
    }
    std::optional<json::value> entities;
    if (const auto* e = o->if_contains("caption_entities")) {
        entities = *e;
    }
    std::string caption;
    if (const auto* t = o->if_contains("caption"); t != nullptr && t->is_string()) {
        caption = std::string(t->get_string());
    }
    auto f = format_value(caption, mode, entities, text_rule::caption);
    if (auto* bad = std::get_if<response>(&f)) {
        return std::move(*bad);
    }
    m.caption = std::move(std::get<formatted>(f));
    return m;
}

net::server_response telegram_simulator::send_media_group(call& c) {
    auto target = chat_for_send(c, "chat_id");
    if (auto* bad = std::get_if<response>(&target)) {
        return std::move(*bad);
    }
    auto& chat = *std::get<chat_state*>(target);
    if (!c.has("media")) {
        return bad_request("parameter \"media\" is required"); // Client.cpp, get_required_string_arg
    }
    auto list = c.structured("media");
    if (!list || list->is_null()) {
        return bad_request("can't parse media JSON object");
    }
    if (!list->is_array()) {
        return bad_request("expected an Array of InputMedia");
    }
    if (list->get_array().empty()) {
        return bad_request("media to send are not specified");
    }
    if (list->get_array().size() > 10) {
        return bad_request("too many messages to send as an album");
    }
    std::vector<input_media> items;
    for (const auto& v : list->get_array()) {
        auto m = read_input_media(c, v);
        if (auto* bad = std::get_if<response>(&m)) {
            return std::move(*bad);
        }
        items.push_back(std::move(std::get<input_media>(m)));
    }
    // Documents and audio go only with their own kind; photos and videos mix (Client.cpp maps
    // MEDIA_GROUPED_INVALID to this text).
    const auto family = [](file_kind k) {
        return k == file_kind::photo || k == file_kind::video ? 0 : k == file_kind::document ? 1 : 2;
    };
    for (const auto& m : items) {
        if (family(m.kind) != family(items.front().kind)) {
            return bad_request("can't use the media of the specified type in the album");
        }
    }
    auto reply = reply_for(chat, c);
    if (auto* bad = std::get_if<response>(&reply)) {
        return std::move(*bad);
    }
    if (auto limited = check_rate(c, chat.id)) {
        return std::move(*limited);
    }
    const auto group_id = std::to_string(13'000'000'000'000'000ULL + next_media_group_++);
    json::array sent;
    for (auto& m : items) {
        json::object msg{{"media_group_id", group_id}};
        put_media(msg, m.type, m.sizes);
        put_text(msg, m.caption, true);
        if (auto& r = std::get<json::value>(reply); !r.is_null()) {
            msg["reply_to_message"] = r;
        }
        const auto& stored = post(chat,
                                  std::move(msg),
                                  m.type,
                                  {.what = sent_kind(m.kind),
                                   .text = m.caption.text,
                                   .file_id = m.sizes.back()->file_id,
                                   .media_group_id = group_id},
                                  {});
        sent.push_back(stored.json);
    }
    return api_ok(sent);
}

net::server_response telegram_simulator::edit_message_media(call& c) {
    chat_state* chat = nullptr;
    auto found = editable_message(c, chat);
    if (auto* bad = std::get_if<response>(&found)) {
        return std::move(*bad);
    }
    auto& message = *std::get<stored_message*>(found);
    if (message.content == "text") {
        return bad_request("message can't be edited"); // a text message cannot become media
    }
    if (!c.has("media")) {
        return bad_request("parameter \"media\" is required");
    }
    auto v = c.structured("media");
    if (!v || v->is_null()) {
        return bad_request("can't parse input media JSON object"); // Client.cpp
    }
    auto m = read_input_media(c, *v);
    if (auto* bad = std::get_if<response>(&m)) {
        return std::move(*bad);
    }
    auto markup = check_markup(c);
    if (auto* bad = std::get_if<response>(&markup)) {
        return std::move(*bad);
    }
    auto& media = std::get<input_media>(m);
    json::object updated = message.json;
    for (auto key : {"photo", "video", "document", "audio", "animation", "caption", "caption_entities"}) {
        updated.erase(key);
    }
    put_media(updated, media.type, media.sizes);
    put_text(updated, media.caption, true);
    auto answer =
        apply_edit(c, *chat, message, std::move(updated), std::get<std::string>(markup), media.caption.text);
    if (answer.msg.result_int() == 200) {
        message.content = media.type;
    }
    return answer;
}

net::server_response telegram_simulator::get_file(call& c) {
    if (!c.has("file_id")) {
        return bad_request("file_id not specified"); // Client.cpp
    }
    auto it = files_.find(c.str("file_id").value_or(""));
    if (it == files_.end()) {
        return bad_request("invalid file_id");
    }
    const auto& f = *it->second;
    if (f.bytes->size() > 20 * 1024 * 1024) {
        return bad_request("file is too big");
    }
    return api_ok(json::object{{"file_id", f.file_id},
                               {"file_unique_id", f.file_unique_id},
                               {"file_size", static_cast<std::int64_t>(f.bytes->size())},
                               {"file_path", f.file_path}});
}

engine::awaitable<net::server_response> telegram_simulator::handle_file(net::server_request& req) {
    // "/file/bot<token>/<file_path>", percent-encoded by some clients (python-telegram-bot quotes
    // the token's colon).
    std::string decoded;
    if (!net::url_decode(req.path().substr(9), decoded, false)) {
        co_return api_error(404, "Not Found");
    }
    const std::string_view rest = decoded;
    const auto slash = rest.find('/');
    if (slash == std::string_view::npos || !token_ok(rest.substr(0, slash))) {
        co_return api_error(401, "Unauthorized");
    }
    auto it = files_by_path_.find(std::string(rest.substr(slash + 1)));
    if (it == files_by_path_.end()) {
        co_return api_error(404, "Not Found");
    }
    co_return net::text_response(200, *it->second->bytes, it->second->mime_type);
}

} // namespace companion::sim
