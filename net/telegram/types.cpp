// Defensive parsing of updates (wrong types become values, never exceptions), UTF-16 entity
// arithmetic and the keyboard builders.
#include "net/telegram/types.hpp"

#include "net/detail/json_fields.hpp"

#include <boost/describe/enumerators.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <boost/mp11/algorithm.hpp>
#include <boost/system/system_error.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <utility>

namespace companion::net::telegram {

namespace json = boost::json;

void throw_exception_from_error(const invalid_input& e, const boost::source_location&) {
    throw std::invalid_argument(e.what);
}

void throw_exception_from_error(const malformed_update& e, const boost::source_location&) {
    throw std::invalid_argument("malformed update: " + e.reason);
}

namespace {

std::optional<std::int64_t> as_int64(const json::value& v) noexcept {
    if (v.is_int64()) {
        return v.get_int64();
    }
    if (v.is_uint64() &&
        v.get_uint64() <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        return static_cast<std::int64_t>(v.get_uint64());
    }
    return std::nullopt;
}

// Reads fields of one JSON object, remembering the first problem; later reads after a problem
// are no-ops, so a parser reads every field and checks ok() once.
class reader {
public:
    reader(const json::value& v, std::string_view what) : what_(what) {
        obj_ = v.if_object();
        if (obj_ == nullptr) {
            problem_ = std::string(what) + " is not an object";
        }
    }

    bool ok() const noexcept { return problem_.empty(); }
    const std::string& problem() const noexcept { return problem_; }
    void fail(std::string why) {
        if (problem_.empty()) {
            problem_ = std::move(why);
        }
    }

    /// The field, or nullptr when absent or null (null counts as absent: proto3-style omission).
    const json::value* child(std::string_view key) noexcept {
        if (obj_ == nullptr) {
            return nullptr;
        }
        const auto* v = obj_->if_contains(key);
        if (v == nullptr) {
            return nullptr;
        }
        ++found_;
        return v->is_null() ? nullptr : v;
    }

    /// True when every member of the object has been read (null ones included), so a lookup of
    /// any other key would find nothing: a plain message skips the lookups of its rare fields.
    /// Exact only while each key is read once (a DOM object's keys are unique).
    bool all_read() const noexcept { return obj_ == nullptr || found_ >= obj_->size(); }

    std::int64_t integer(std::string_view key, bool required) {
        const auto* v = child(key);
        if (v == nullptr) {
            if (required) {
                fail(what_ + "." + std::string(key) + " is missing");
            }
            return 0;
        }
        auto i = as_int64(*v);
        if (!i) {
            fail(what_ + "." + std::string(key) + " is not a 64-bit integer");
            return 0;
        }
        return *i;
    }

    std::string string(std::string_view key, bool required) {
        const auto* v = child(key);
        if (v == nullptr) {
            if (required) {
                fail(what_ + "." + std::string(key) + " is missing");
            }
            return {};
        }
        const auto* s = v->if_string();
        if (s == nullptr) {
            fail(what_ + "." + std::string(key) + " is not a string");
            return {};
        }
        return std::string(*s);
    }

    bool boolean(std::string_view key) {
        const auto* v = child(key);
        if (v == nullptr) {
            return false;
        }
        const auto* b = v->if_bool();
        if (b == nullptr) {
            fail(what_ + "." + std::string(key) + " is not a boolean");
            return false;
        }
        return *b;
    }

    /// Parses a nested object with `parse`, adopting its problem.
    template <class T, class Parse>
    std::optional<T> nested(std::string_view key, bool required, Parse parse) {
        const auto* v = child(key);
        if (v == nullptr) {
            if (required) {
                fail(what_ + "." + std::string(key) + " is missing");
            }
            return std::nullopt;
        }
        return adopt<T>(*v, parse);
    }

    /// Reads a member already found by child() into `out` in place with `read` (which returns
    /// its problem, empty when none), adopting the problem; `out` is empty after one. Where the
    /// value is large (a message) this saves the moves of returning it through the layers.
    template <class T, class Read>
    void adopt_into(const json::value& v, std::optional<T>& out, Read read) {
        auto problem = read(v, out.emplace());
        if (!problem.empty()) {
            fail(std::move(problem));
            out.reset();
        }
    }

    /// Parses a member already found by child() with `parse`, adopting its problem.
    template <class T, class Parse>
    std::optional<T> adopt(const json::value& v, Parse parse) {
        auto r = parse(v);
        if (!r) {
            fail(r.error().what);
            return std::nullopt;
        }
        return std::move(*r);
    }

    /// Parses an array field element by element.
    template <class T, class Parse>
    std::vector<T> list(std::string_view key, Parse parse) {
        std::vector<T> out;
        const auto* v = child(key);
        if (v == nullptr) {
            return out;
        }
        const auto* arr = v->if_array();
        if (arr == nullptr) {
            fail(what_ + "." + std::string(key) + " is not an array");
            return out;
        }
        out.reserve(arr->size());
        for (const auto& e : *arr) {
            auto r = parse(e);
            if (!r) {
                fail(r.error().what);
                return out;
            }
            out.push_back(std::move(*r));
        }
        return out;
    }

private:
    const json::object* obj_ = nullptr;
    std::size_t found_ = 0; ///< members child() has found
    std::string what_;
    std::string problem_;
};

checked<chat> parse_chat(const json::value& v) {
    reader r(v, "chat");
    chat c;
    c.id = r.integer("id", true);
    c.type = r.string("type", true);
    // The likeliest first; once every member is read, the rest cannot be there.
    c.first_name = r.string("first_name", false);
    if (!r.all_read()) {
        c.username = r.string("username", false);
    }
    if (!r.all_read()) {
        c.title = r.string("title", false);
    }
    if (!r.ok()) {
        return invalid_input{r.problem()};
    }
    return c;
}

checked<message_entity> parse_entity(const json::value& v) {
    reader r(v, "entity");
    message_entity e;
    e.type = r.string("type", true);
    e.offset = r.integer("offset", true);
    e.length = r.integer("length", true);
    e.url = r.string("url", false);
    if (r.ok() && (e.offset < 0 || e.length < 0)) {
        r.fail("entity has a negative offset or length");
    }
    if (!r.ok()) {
        return invalid_input{r.problem()};
    }
    return e;
}

checked<photo_size> parse_photo_size(const json::value& v) {
    reader r(v, "photo_size");
    photo_size p;
    p.file_id = r.string("file_id", true);
    p.file_unique_id = r.string("file_unique_id", false);
    p.width = r.integer("width", false);
    p.height = r.integer("height", false);
    p.file_size = r.integer("file_size", false);
    if (!r.ok()) {
        return invalid_input{r.problem()};
    }
    return p;
}

checked<video> parse_video(const json::value& v) {
    reader r(v, "video");
    video out;
    out.file_id = r.string("file_id", true);
    out.file_unique_id = r.string("file_unique_id", false);
    out.width = r.integer("width", false);
    out.height = r.integer("height", false);
    out.duration = r.integer("duration", false);
    out.mime_type = r.string("mime_type", false);
    out.file_name = r.string("file_name", false);
    out.file_size = r.integer("file_size", false);
    if (!r.ok()) {
        return invalid_input{r.problem()};
    }
    return out;
}

checked<voice> parse_voice(const json::value& v) {
    reader r(v, "voice");
    voice out;
    out.file_id = r.string("file_id", true);
    out.file_unique_id = r.string("file_unique_id", false);
    // Telegram states whole seconds; a value beyond int is nonsense and read as unknown (0), not
    // as a broken update.
    const auto duration = r.integer("duration", false);
    out.duration =
        duration >= 0 && duration <= std::numeric_limits<int>::max() ? static_cast<int>(duration) : 0;
    out.mime_type = r.string("mime_type", false);
    if (r.child("file_size") != nullptr) {
        out.file_size = r.integer("file_size", false);
    }
    if (!r.ok()) {
        return invalid_input{r.problem()};
    }
    return out;
}

checked<successful_payment> parse_successful_payment(const json::value& v) {
    reader r(v, "successful_payment");
    successful_payment p;
    p.currency = r.string("currency", true);
    p.total_amount = r.integer("total_amount", true);
    p.invoice_payload = r.string("invoice_payload", false);
    p.telegram_payment_charge_id = r.string("telegram_payment_charge_id", true);
    if (r.child("subscription_expiration_date") != nullptr) {
        p.subscription_expiration_date = r.integer("subscription_expiration_date", false);
    }
    p.is_recurring = r.boolean("is_recurring");
    p.is_first_recurring = r.boolean("is_first_recurring");
    if (!r.ok()) {
        return invalid_input{r.problem()};
    }
    return p;
}

checked<refunded_payment> parse_refunded_payment(const json::value& v) {
    reader r(v, "refunded_payment");
    refunded_payment p;
    p.currency = r.string("currency", true);
    p.total_amount = r.integer("total_amount", true);
    p.invoice_payload = r.string("invoice_payload", false);
    p.telegram_payment_charge_id = r.string("telegram_payment_charge_id", true);
    if (!r.ok()) {
        return invalid_input{r.problem()};
    }
    return p;
}

checked<pre_checkout_query> parse_pre_checkout_query(const json::value& v) {
    reader r(v, "pre_checkout_query");
    pre_checkout_query q;
    q.id = r.string("id", true);
    if (auto u = r.nested<user>("from", true, parse_user)) {
        q.from = std::move(*u);
    }
    q.currency = r.string("currency", true);
    q.total_amount = r.integer("total_amount", true);
    q.invoice_payload = r.string("invoice_payload", false);
    if (!r.ok()) {
        return invalid_input{r.problem()};
    }
    return q;
}

checked<bot_subscription_updated> parse_subscription(const json::value& v) {
    reader r(v, "subscription");
    bot_subscription_updated s;
    if (auto u = r.nested<user>("user", true, parse_user)) {
        s.from = std::move(*u);
    }
    s.invoice_payload = r.string("invoice_payload", false);
    s.state = r.string("state", true);
    if (!r.ok()) {
        return invalid_input{r.problem()};
    }
    return s;
}

checked<callback_query> parse_callback_query(const json::value& v) {
    reader r(v, "callback_query");
    callback_query q;
    q.id = r.string("id", true);
    if (auto u = r.nested<user>("from", true, parse_user)) {
        q.from = std::move(*u);
    }
    q.message = r.nested<message>("message", false, parse_message);
    if (r.child("inline_message_id") != nullptr) {
        q.inline_message_id = r.string("inline_message_id", false);
    }
    q.chat_instance = r.string("chat_instance", false);
    q.data = r.string("data", false);
    if (!r.ok()) {
        return invalid_input{r.problem()};
    }
    return q;
}

checked<std::string> parse_member_status(const json::value& v) {
    reader r(v, "chat_member");
    auto status = r.string("status", true);
    if (!r.ok()) {
        return invalid_input{r.problem()};
    }
    return checked<std::string>(boost::system::in_place_value, std::move(status));
}

checked<my_chat_member> parse_my_chat_member(const json::value& v) {
    reader r(v, "my_chat_member");
    my_chat_member m;
    if (auto c = r.nested<chat>("chat", true, parse_chat)) {
        m.chat = std::move(*c);
    }
    if (auto u = r.nested<user>("from", true, parse_user)) {
        m.from = std::move(*u);
    }
    m.date = r.integer("date", false);
    if (auto s = r.nested<std::string>("old_chat_member", false, parse_member_status)) {
        m.old_status = std::move(*s);
    }
    if (auto s = r.nested<std::string>("new_chat_member", true, parse_member_status)) {
        m.new_status = std::move(*s);
    }
    if (!r.ok()) {
        return invalid_input{r.problem()};
    }
    return m;
}

checked<message_generation_stopped> parse_generation_stopped(const json::value& v) {
    reader r(v, "stopped_message_generation");
    message_generation_stopped s;
    if (auto c = r.nested<chat>("chat", true, parse_chat)) {
        s.chat_id = c->id;
    }
    if (r.child("message_thread_id") != nullptr) {
        s.message_thread_id = r.integer("message_thread_id", false);
    }
    s.draft_id = r.integer("draft_id", true);
    if (!r.ok()) {
        return invalid_input{r.problem()};
    }
    return s;
}

} // namespace

checked<user> parse_user(const json::value& v) {
    reader r(v, "user");
    user u;
    u.id = r.integer("id", true);
    u.is_bot = r.boolean("is_bot");
    u.first_name = r.string("first_name", false);
    // The likeliest first; once every member is read, the rest cannot be there.
    u.language_code = r.string("language_code", false);
    if (!r.all_read()) {
        u.username = r.string("username", false);
    }
    if (!r.all_read()) {
        u.last_name = r.string("last_name", false);
    }
    if (!r.ok()) {
        return invalid_input{r.problem()};
    }
    return u;
}

namespace {

// Reads a Message into `m` (default-constructed); returns the problem, empty when it parsed.
std::string read_message(const json::value& v, message& m) {
    reader r(v, "message");
    m.message_id = r.integer("message_id", true);
    m.date = r.integer("date", true);
    if (auto c = r.nested<chat>("chat", true, parse_chat)) {
        m.chat = std::move(*c);
    }
    if (m.date != 0) { // an InaccessibleMessage carries only chat, message_id and date
        m.from = r.nested<user>("from", false, parse_user);
        m.text = r.string("text", false);
    }
    // Most messages are a text and nothing else: the fields below are looked up only when the
    // object holds members not read yet.
    if (m.date != 0 && !r.all_read()) {
        m.entities = r.list<message_entity>("entities", parse_entity);
        m.photo = r.list<photo_size>("photo", parse_photo_size);
        m.video = r.nested<video>("video", false, parse_video);
        m.voice = r.nested<voice>("voice", false, parse_voice);
        m.successful_payment =
            r.nested<successful_payment>("successful_payment", false, parse_successful_payment);
        m.refunded_payment = r.nested<refunded_payment>("refunded_payment", false, parse_refunded_payment);
        m.caption = r.string("caption", false);
        m.caption_entities = r.list<message_entity>("caption_entities", parse_entity);
        m.edit_date = r.integer("edit_date", false);
    }
    return r.problem();
}

} // namespace

checked<message> parse_message(const json::value& v) {
    message m;
    auto problem = read_message(v, m);
    if (!problem.empty()) {
        return invalid_input{std::move(problem)};
    }
    return m;
}

std::optional<message> read_sent_message(std::string_view body, std::int64_t chat_id) {
    std::optional<message> out;
    if (!read_sent_message(body, chat_id, out.emplace())) {
        out.reset();
    }
    return out; // one name returned: no move on the way out
}

bool read_sent_message(std::string_view body, std::int64_t chat_id, message& m) {
    using net::detail::json_scalar;
    // An integer as as_int64 takes it from a DOM: no rounding, no numbers in strings.
    const auto integer = [](const json_scalar& v) -> std::optional<std::int64_t> {
        if (v.type == json_scalar::kind::int64) {
            return v.i;
        }
        if (v.type == json_scalar::kind::uint64 &&
            v.u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
            return static_cast<std::int64_t>(v.u);
        }
        return std::nullopt;
    };
    bool ok = false;
    bool result_is_object = false;
    std::optional<std::int64_t> id;
    std::optional<std::int64_t> date;
    const auto visit = [&](std::string_view parent, std::string_view key, const json_scalar& v) {
        if (parent.empty()) {
            if (key == "ok") {
                ok = v.type == json_scalar::kind::boolean && v.b;
            } else if (key == "result") {
                // A repeated key's last value wins, as in a DOM: forget what an earlier one held.
                result_is_object = v.type == json_scalar::kind::object;
                id.reset();
                date.reset();
                m.text.clear();
            }
            return;
        }
        if (parent != "result") {
            return;
        }
        if (key == "message_id") {
            id = integer(v);
        } else if (key == "date") {
            date = integer(v);
        } else if (key == "text") {
            if (v.type == json_scalar::kind::string) {
                m.text.assign(v.text);
            } else {
                m.text.clear();
            }
        }
    };
    if (net::detail::read_json_fields(body, visit) || !ok || !result_is_object || !id || !date ||
        *date == 0) {
        return false;
    }
    m.message_id = *id;
    m.date = *date;
    m.chat.id = chat_id;
    return true;
}

checked<file_info> parse_file(const json::value& v) {
    reader r(v, "file");
    file_info f;
    f.file_id = r.string("file_id", true);
    f.file_unique_id = r.string("file_unique_id", false);
    f.file_size = r.integer("file_size", false);
    f.file_path = r.string("file_path", false);
    if (!r.ok()) {
        return invalid_input{r.problem()};
    }
    return f;
}

namespace {

// Reads an Update into `u` (default-constructed) in place; returns why it is malformed, if it is.
std::optional<malformed_update> read_update(const json::value& v, update& u) {
    reader r(v, "update");
    u.update_id = r.integer("update_id", true);
    if (!r.ok()) {
        return malformed_update{std::nullopt, r.problem()};
    }
    // At most one payload key is present; the first known one decides the kind. Each key is
    // looked up once: the member found is the one parsed.
    if (const auto* m = r.child("message")) {
        u.what = update::kind::message;
        r.adopt_into(*m, u.message, read_message);
    } else if (const auto* edited = r.child("edited_message")) {
        u.what = update::kind::edited_message;
        r.adopt_into(*edited, u.message, read_message);
    } else if (const auto* cb = r.child("callback_query")) {
        u.what = update::kind::callback_query;
        u.callback_query = r.adopt<callback_query>(*cb, parse_callback_query);
    } else if (const auto* member = r.child("my_chat_member")) {
        u.what = update::kind::my_chat_member;
        u.my_chat_member = r.adopt<my_chat_member>(*member, parse_my_chat_member);
    } else if (const auto* stopped = r.child("stopped_message_generation")) {
        u.what = update::kind::stopped_message_generation;
        u.stopped_generation = r.adopt<message_generation_stopped>(*stopped, parse_generation_stopped);
    } else if (const auto* checkout = r.child("pre_checkout_query")) {
        u.what = update::kind::pre_checkout_query;
        u.pre_checkout = r.adopt<pre_checkout_query>(*checkout, parse_pre_checkout_query);
    } else if (const auto* sub = r.child("subscription")) {
        u.what = update::kind::subscription;
        u.subscription = r.adopt<bot_subscription_updated>(*sub, parse_subscription);
    } else if (const auto* o = v.if_object()) {
        // A kind this bot does not handle (new ones appear with every Bot API version): its key
        // is kept for counting, and nothing inside it is read, so it can never be malformed.
        for (const auto& kv : *o) {
            if (kv.key() != "update_id" && !kv.value().is_null()) {
                u.other_kind = std::string(kv.key().substr(0, update::max_other_kind));
                break;
            }
        }
    }
    if (!r.ok()) {
        return malformed_update{u.update_id, r.problem()};
    }
    return std::nullopt;
}

} // namespace

boost::system::result<update, malformed_update> parse_update(const json::value& v) {
    update u;
    if (auto bad = read_update(v, u)) {
        return std::move(*bad);
    }
    return u;
}

namespace {

// Replaces every infinite double in `v` by the largest finite one of its sign.
void clamp_infinities(json::value& v) {
    if (auto* d = v.if_double(); d != nullptr && std::isinf(*d)) {
        *d = std::copysign(std::numeric_limits<double>::max(), *d);
    } else if (auto* a = v.if_array()) {
        for (auto& e : *a) {
            clamp_infinities(e);
        }
    } else if (auto* o = v.if_object()) {
        for (auto& kv : *o) {
            clamp_infinities(kv.value());
        }
    }
}

} // namespace

std::string serialize_update(const json::value& v) {
    auto text = json::serialize(v);
    // Without the token there is nothing to fix (the usual case: one search); a string that holds
    // the word costs a copy and a second pass.
    if (text.find("Infinity") == std::string::npos) {
        return text;
    }
    json::value copy = v;
    clamp_infinities(copy);
    return json::serialize(copy);
}

update_batch parse_updates(const json::value& result, std::span<const std::string_view> texts) {
    update_batch batch;
    const auto* arr = result.if_array();
    if (arr == nullptr) {
        batch.malformed.push_back({std::nullopt, "getUpdates result is not an array"});
        return batch;
    }
    batch.updates.reserve(arr->size());
    const bool as_received = texts.size() == arr->size();
    for (std::size_t i = 0; i < arr->size(); ++i) {
        const auto& v = (*arr)[i];
        // Parsed where it is kept: an update (and its message) is not moved into the batch.
        auto& u = batch.updates.emplace_back();
        if (auto bad = read_update(v, u)) {
            batch.updates.pop_back();
            batch.malformed.push_back(std::move(*bad));
            continue;
        }
        u.raw = as_received ? std::string(texts[i]) : serialize_update(v);
    }
    return batch;
}

std::optional<std::int64_t> update_batch::next_offset() const noexcept {
    std::optional<std::int64_t> top;
    for (const auto& u : updates) {
        top = std::max(top.value_or(u.update_id), u.update_id);
    }
    for (const auto& m : malformed) {
        if (m.update_id) {
            top = std::max(top.value_or(*m.update_id), *m.update_id);
        }
    }
    if (top) {
        return *top + 1;
    }
    return std::nullopt;
}

std::optional<std::int64_t> update::chat_id() const noexcept {
    if (message) {
        return message->chat.id;
    }
    if (callback_query) {
        if (callback_query->message) {
            return callback_query->message->chat.id;
        }
        return callback_query->from.id; // private chats share the user's id
    }
    if (my_chat_member) {
        return my_chat_member->chat.id;
    }
    if (stopped_generation) {
        return stopped_generation->chat_id;
    }
    if (pre_checkout) {
        return pre_checkout->from.id; // the payer's private chat (its queue is not used: intake)
    }
    if (subscription) {
        return subscription->from.id; // the subscriber's private chat
    }
    return std::nullopt;
}

std::vector<std::string> typed_update_kinds() {
    std::vector<std::string> kinds;
    boost::mp11::mp_for_each<boost::describe::describe_enumerators<update::kind>>([&](auto d) {
        if (d.value != update::kind::other) {
            kinds.emplace_back(d.name);
        }
    });
    return kinds;
}

std::optional<std::string_view> entity_text(std::string_view text, const message_entity& e) noexcept {
    const auto begin = utf16_to_byte_offset(text, e.offset);
    if (!begin) {
        return std::nullopt;
    }
    const auto len = utf16_to_byte_offset(text.substr(*begin), e.length);
    if (!len) {
        return std::nullopt;
    }
    return text.substr(*begin, *len);
}

std::optional<bot_command> extract_command(const message& m) {
    const std::string_view text = m.text;
    for (const auto& e : m.entities) {
        if (e.type != "bot_command" || e.offset != 0) {
            continue;
        }
        auto covered = entity_text(text, e);
        if (!covered || covered->size() < 2 || covered->front() != '/') {
            return std::nullopt;
        }
        bot_command cmd;
        std::string_view name = covered->substr(1);
        if (auto at = name.find('@'); at != std::string_view::npos) {
            cmd.bot = std::string(name.substr(at + 1));
            name = name.substr(0, at);
        }
        cmd.name.reserve(name.size());
        for (char c : name) {
            cmd.name.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
        }
        std::string_view rest = text.substr(covered->size());
        while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\n' || rest.front() == '\t')) {
            rest.remove_prefix(1);
        }
        cmd.payload = std::string(rest);
        return cmd;
    }
    return std::nullopt;
}

inline_keyboard& inline_keyboard::row() {
    rows_.emplace_back(json::array{});
    return *this;
}

inline_keyboard& inline_keyboard::button(std::string text, std::string callback_data) {
    if (!problem_ && !valid_callback_data(callback_data)) {
        problem_ = "callback_data of button \"" + text + "\" is " + std::to_string(callback_data.size()) +
                   " bytes; Telegram accepts 1-64";
    }
    if (!problem_ && text.empty()) {
        problem_ = "an inline button has no text";
    }
    if (rows_.empty()) {
        row();
    }
    rows_.back().as_array().push_back(json::object{{"text", text}, {"callback_data", callback_data}});
    return *this;
}

inline_keyboard& inline_keyboard::url_button(std::string text, std::string url) {
    if (!problem_ && (text.empty() || url.empty())) {
        problem_ = "a URL button needs text and a URL";
    }
    if (rows_.empty()) {
        row();
    }
    rows_.back().as_array().push_back(json::object{{"text", text}, {"url", url}});
    return *this;
}

checked<json::value> inline_keyboard::build() const {
    if (problem_) {
        return invalid_input{*problem_};
    }
    json::array rows;
    for (const auto& r : rows_) {
        if (!r.as_array().empty()) { // an empty row is a 400 on Telegram's side
            rows.push_back(r);
        }
    }
    return json::value(json::object{{"inline_keyboard", std::move(rows)}});
}

reply_keyboard& reply_keyboard::row() {
    rows_.emplace_back(json::array{});
    return *this;
}

reply_keyboard& reply_keyboard::button(std::string text) {
    if (!problem_ && text.empty()) {
        problem_ = "a reply button has no text";
    }
    if (rows_.empty()) {
        row();
    }
    rows_.back().as_array().push_back(json::object{{"text", text}});
    return *this;
}

reply_keyboard& reply_keyboard::is_persistent(bool on) {
    persistent_ = on;
    return *this;
}

reply_keyboard& reply_keyboard::resize_keyboard(bool on) {
    resize_ = on;
    return *this;
}

reply_keyboard& reply_keyboard::one_time_keyboard(bool on) {
    one_time_ = on;
    return *this;
}

reply_keyboard& reply_keyboard::input_field_placeholder(std::string text) {
    const auto n = utf16_length(text);
    if (!problem_ && (n < 1 || n > 64)) {
        problem_ = "input_field_placeholder must be 1-64 characters";
    }
    placeholder_ = std::move(text);
    return *this;
}

checked<json::value> reply_keyboard::build() const {
    if (problem_) {
        return invalid_input{*problem_};
    }
    json::array rows;
    for (const auto& r : rows_) {
        if (!r.as_array().empty()) {
            rows.push_back(r);
        }
    }
    if (rows.empty()) {
        return invalid_input{"a reply keyboard needs at least one button"};
    }
    json::object o{{"keyboard", std::move(rows)}};
    if (persistent_) {
        o["is_persistent"] = true;
    }
    if (resize_) {
        o["resize_keyboard"] = true;
    }
    if (one_time_) {
        o["one_time_keyboard"] = true;
    }
    if (!placeholder_.empty()) {
        o["input_field_placeholder"] = placeholder_;
    }
    return json::value(std::move(o));
}

json::value remove_keyboard() {
    return json::object{{"remove_keyboard", true}};
}

} // namespace companion::net::telegram
