// Fuzzes the Telegram update parser on JSON read from the input: a getUpdates response (its
// `result`), a bare array of updates, or one update. The parser must never throw on bad input.
#include "net/telegram/types.hpp"

#include <boost/json/parse.hpp>

#include "fuzz/common.hpp"

namespace tg = companion::net::telegram;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    boost::system::error_code ec;
    const boost::json::value v = boost::json::parse(companion::fuzz::as_text(data, size), ec);
    if (ec)
        return 0;

    const boost::json::value* result = &v;
    if (const auto* obj = v.if_object())
        if (const auto* r = obj->if_contains("result"))
            result = r;

    const tg::update_batch batch = tg::parse_updates(*result);
    (void)batch.next_offset();
    for (const tg::update& u : batch.updates)
        (void)u.chat_id();

    if (auto one = tg::parse_update(v); one)
        (void)one->chat_id();
    (void)tg::parse_message(v);
    (void)tg::parse_user(v);
    (void)tg::parse_file(v);
    return 0;
}
