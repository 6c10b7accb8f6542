// echo_bot: the framework comparison of design.md §9. An echo bot on this project's engine and
// net layers: one getUpdates long poll (net::telegram::client over net::http_client), each text
// queued per chat on engine::keyed_serial and answered with sendMessage of the same text. Chats
// run concurrently; one chat's replies stay in order. No storage, no LLM: what the engine and the
// net layer cost per update, beside the minimal Asio/Beast loop (asio_echo) and the peers.
//
//   TELEGRAM_API_BASE_URL=http://127.0.0.1:PORT TELEGRAM_BOT_TOKEN=1:xxx... echo_bot
#include "engine/keyed_serial.hpp"
#include "engine/log.hpp"
#include "engine/runtime.hpp"
#include "engine/time.hpp"
#include "net/http_client.hpp"
#include "net/telegram/client.hpp"

#include <cstdio>
#include <cstdlib>
#include <string>

using namespace companion; // engine::, net::, ... name the layers
namespace telegram = net::telegram;
using namespace std::chrono_literals;

namespace {

engine::awaitable<void> reply(telegram::client& tg, std::int64_t chat_id, std::string text) {
    telegram::send_message_params p;
    p.chat_id = chat_id;
    p.text = std::move(text);
    auto sent = co_await tg.send_message(std::move(p));
    if (!sent) {
        std::fprintf(stderr, "echo_bot: sendMessage: %s\n", sent.error().message().c_str());
    }
}

engine::awaitable<void> poll(engine::runtime& rt, telegram::client& tg) {
    engine::keyed_serial<std::int64_t> chats(
        rt.get_executor(),
        {.per_key_limit = 100'000, .total_limit = 1'000'000, .name = "echo"});
    std::optional<std::int64_t> offset;
    while (!rt.stopping().is_set()) {
        telegram::get_updates_params params;
        params.offset = offset;
        params.allowed_updates = std::vector<std::string>{"message"};
        auto batch = co_await tg.get_updates(std::move(params));
        if (!batch) {
            std::fprintf(stderr, "echo_bot: getUpdates: %s\n", batch.error().message().c_str());
            co_await engine::sleep(100ms);
            continue;
        }
        if (auto next = batch->next_offset()) {
            offset = next;
        }
        for (auto& u : batch->updates) {
            if (u.what != telegram::update::kind::message || !u.message || u.message->text.empty()) {
                continue;
            }
            const auto chat_id = u.message->chat.id;
            if (auto ec = chats.submit(chat_id, reply(tg, chat_id, std::move(u.message->text)))) {
                std::fprintf(stderr, "echo_bot: dropped an update: %s\n", ec.message().c_str());
            }
        }
    }
    chats.cancel();
    co_await chats.join();
}

engine::awaitable<void> run(engine::runtime& rt, std::string base_url, std::string token) {
    net::http_client http(rt.get_executor(), {.max_connections_per_origin = 16, .name = "echo"});
    telegram::client_config tc;
    tc.base_url = std::move(base_url);
    tc.token = std::move(token);
    tc.poll_timeout = 25s;
    telegram::client tg(http, std::move(tc));
    co_await poll(rt, tg);
}

} // namespace

int main() {
    const char* base = std::getenv("TELEGRAM_API_BASE_URL");
    const char* token = std::getenv("TELEGRAM_BOT_TOKEN");
    if (base == nullptr || token == nullptr) {
        std::fprintf(stderr, "echo_bot: set TELEGRAM_API_BASE_URL and TELEGRAM_BOT_TOKEN\n");
        return 2;
    }
    engine::log().configure({.level = engine::log_level::warn});
    engine::runtime rt({.grace = 1s, .offload_threads = 1});
    if (!rt.spawn(run(rt, base, token))) {
        return 1;
    }
    return rt.run();
}
