// Fuzzes the Telegram update parser on JSON read from the input: a getUpdates response (its
// `result`), a bare array of updates, or one update. The parser must never throw on bad input.
// The same input goes through the tolerant scan, the text repair and the lean reader of a
// sendMessage answer (checked against the DOM reader), and the cut of the `result` items (checked
// against the DOM).
#include "net/telegram/types.hpp"
#include "net/telegram/update_scan.hpp"

#include <boost/json/parse.hpp>

#include "fuzz/common.hpp"

namespace tg = companion::net::telegram;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto text = companion::fuzz::as_text(data, size);
    // The tolerant scan of a getUpdates body that failed to parse: never throws, and every update
    // it serves has raw text that parses again (the inbox replays it).
    if (const auto scanned = tg::scan_updates(text)) {
        for (const tg::update& u : scanned->updates) {
            boost::system::error_code raw_ec;
            [[maybe_unused]] const auto raw = boost::json::parse(u.raw, raw_ec);
            if (raw_ec)
                __builtin_trap();
        }
    }
    // Text that is valid JSON needs no repair.
    const std::string repaired = tg::repair_json_text(text);

    // The reply path's lean reader of a sendMessage answer.
    const auto sent = tg::read_sent_message(text, 1);

    boost::system::error_code ec;
    const boost::json::value v = boost::json::parse(text, ec);
    if (ec) {
        if (sent) // the streamed reader accepts only what the DOM parser accepts
            __builtin_trap();
        return 0;
    }
    // Where both readers read the answer, they agree.
    if (sent) {
        const auto full = tg::parse_message(v.at("result"));
        if (full &&
            (full->message_id != sent->message_id || full->date != sent->date || full->text != sent->text))
            __builtin_trap();
    }
    if (repaired != text)
        __builtin_trap();

    const boost::json::value* result = &v;
    if (const auto* obj = v.if_object())
        if (const auto* r = obj->if_contains("result"))
            result = r;

    // The cut that gives each update its text as received sees, in a body that parsed whole, the
    // very items of the DOM's `result` array.
    if (const auto items = tg::result_items(text)) {
        const auto* arr = result->if_array();
        if (result == &v || arr == nullptr || arr->size() != items->size())
            __builtin_trap();
        for (std::size_t i = 0; i < items->size(); ++i) {
            boost::system::error_code item_ec;
            const auto item = boost::json::parse((*items)[i], item_ec);
            if (item_ec || item != (*arr)[i])
                __builtin_trap();
        }
        const tg::update_batch as_received = tg::parse_updates(*result, *items);
        for (const tg::update& u : as_received.updates) {
            boost::system::error_code raw_ec;
            [[maybe_unused]] const auto raw = boost::json::parse(u.raw, raw_ec);
            if (raw_ec)
                __builtin_trap();
        }
    }

    const tg::update_batch batch = tg::parse_updates(*result);
    (void)batch.next_offset();
    for (const tg::update& u : batch.updates) {
        (void)u.chat_id();
        // A typed kind carries its payload; an ignored kind only its (bounded) key.
        if (u.what == tg::update::kind::stopped_message_generation && !u.stopped_generation)
            __builtin_trap();
        // A voice note's length is never negative, whatever the update says.
        if (u.message && u.message->voice && u.message->voice->duration < 0)
            __builtin_trap();
        if (u.other_kind.size() > tg::update::max_other_kind ||
            (u.what != tg::update::kind::other && !u.other_kind.empty()))
            __builtin_trap();
    }

    if (auto one = tg::parse_update(v); one)
        (void)one->chat_id();
    (void)tg::parse_message(v);
    (void)tg::parse_user(v);
    (void)tg::parse_file(v);
    return 0;
}
