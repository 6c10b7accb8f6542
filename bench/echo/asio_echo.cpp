// asio_echo: the limit of design.md §9. The least an echo bot can do over HTTP/1.1 with
// Asio/Beast and no framework: one keep-alive connection long-polls getUpdates, 16 keep-alive
// connections (as many as echo_bot's pool) send the replies, and the JSON is searched by hand for update_id,
// the chat id and the text (copied as it came, escapes included, into the sendMessage body). No JSON library,
// no retries, no per-chat order, no timeouts beyond the server's: only the work every bot must do.
//
//   TELEGRAM_API_BASE_URL=http://127.0.0.1:PORT TELEGRAM_BOT_TOKEN=1:xxx... asio_echo
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <string>
#include <string_view>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

namespace {

constexpr int senders = 16; // as many as echo_bot's connection pool

struct reply {
    std::int64_t chat_id;
    std::string text; // JSON string contents, still escaped
};

struct shared {
    std::string host;
    std::string port;
    std::string prefix; // /bot<token>/
    std::deque<reply> queue;
    asio::steady_timer* wake[senders]{};
};

std::int64_t number_after(std::string_view s, std::size_t pos) {
    std::int64_t v = 0;
    bool neg = false;
    while (pos < s.size() && s[pos] == ' ') {
        ++pos;
    }
    if (pos < s.size() && s[pos] == '-') {
        neg = true;
        ++pos;
    }
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
        v = v * 10 + (s[pos] - '0');
        ++pos;
    }
    return neg ? -v : v;
}

// The raw contents of the JSON string starting at `pos` (just after the opening quote).
std::string_view string_at(std::string_view s, std::size_t pos) {
    std::size_t end = pos;
    while (end < s.size() && s[end] != '"') {
        end += s[end] == '\\' ? std::size_t{2} : std::size_t{1};
    }
    return s.substr(pos, std::min(end, s.size()) - pos);
}

asio::awaitable<void> connect(beast::tcp_stream& stream, shared& st) {
    tcp::resolver resolver(co_await asio::this_coro::executor);
    auto endpoints = co_await resolver.async_resolve(st.host, st.port, asio::use_awaitable);
    co_await stream.async_connect(endpoints, asio::use_awaitable);
    stream.socket().set_option(tcp::no_delay(true));
}

asio::awaitable<void> sender(shared& st, int index) {
    auto ex = co_await asio::this_coro::executor;
    asio::steady_timer wake(ex, asio::steady_timer::time_point::max());
    st.wake[index] = &wake;
    beast::tcp_stream stream(ex);
    co_await connect(stream, st);
    beast::flat_buffer buffer;
    http::request<http::string_body> req{http::verb::post, st.prefix + "sendMessage", 11};
    req.set(http::field::host, st.host);
    req.set(http::field::content_type, "application/json");
    for (;;) {
        if (st.queue.empty()) {
            wake.expires_at(asio::steady_timer::time_point::max());
            boost::system::error_code ec;
            co_await wake.async_wait(asio::redirect_error(asio::use_awaitable, ec));
            continue;
        }
        reply r = std::move(st.queue.front());
        st.queue.pop_front();
        std::string& body = req.body();
        body.clear();
        body += R"({"chat_id":)";
        body += std::to_string(r.chat_id);
        body += R"(,"text":")";
        body += r.text;
        body += "\"}";
        req.prepare_payload();
        co_await http::async_write(stream, req, asio::use_awaitable);
        http::response<http::string_body> res;
        co_await http::async_read(stream, buffer, res, asio::use_awaitable);
        if (res.result() != http::status::ok) {
            std::fprintf(stderr, "asio_echo: sendMessage: %u\n", res.result_int());
        }
    }
}

asio::awaitable<void> poller(shared& st) {
    auto ex = co_await asio::this_coro::executor;
    beast::tcp_stream stream(ex);
    co_await connect(stream, st);
    beast::flat_buffer buffer;
    std::int64_t offset = 0;
    for (;;) {
        http::request<http::empty_body> req{
            http::verb::get,
            st.prefix + "getUpdates?timeout=25&limit=100&offset=" + std::to_string(offset),
            11};
        req.set(http::field::host, st.host);
        co_await http::async_write(stream, req, asio::use_awaitable);
        http::response_parser<http::string_body> parser;
        parser.body_limit(16 * 1024 * 1024);
        co_await http::async_read(stream, buffer, parser, asio::use_awaitable);
        const std::string_view body = parser.get().body();
        const std::size_t queued_before = st.queue.size();
        constexpr std::string_view uid_key = R"("update_id":)";
        for (auto pos = body.find(uid_key); pos != std::string_view::npos;) {
            const auto next = body.find(uid_key, pos + uid_key.size());
            const auto update =
                body.substr(pos, next == std::string_view::npos ? body.size() - pos : next - pos);
            offset = number_after(update, uid_key.size()) + 1;
            const auto chat = update.find(R"("chat":{"id":)");
            const auto text = update.find(R"("text":")");
            if (chat != std::string_view::npos && text != std::string_view::npos) {
                st.queue.push_back(
                    {number_after(update, chat + 13), std::string(string_at(update, text + 8))});
            }
            pos = next;
        }
        if (st.queue.size() != queued_before) {
            for (auto* w : st.wake) {
                if (w != nullptr) {
                    w->cancel();
                }
            }
        }
    }
}

} // namespace

int main() {
    const char* base = std::getenv("TELEGRAM_API_BASE_URL");
    const char* token = std::getenv("TELEGRAM_BOT_TOKEN");
    if (base == nullptr || token == nullptr) {
        std::fprintf(stderr, "asio_echo: set TELEGRAM_API_BASE_URL and TELEGRAM_BOT_TOKEN\n");
        return 2;
    }
    std::string_view url = base;
    if (!url.starts_with("http://")) {
        std::fprintf(stderr, "asio_echo: only http:// base URLs\n");
        return 2;
    }
    url.remove_prefix(7);
    url = url.substr(0, url.find('/'));
    shared st;
    const auto colon = url.rfind(':');
    st.host = std::string(url.substr(0, colon));
    st.port = colon == std::string_view::npos ? "80" : std::string(url.substr(colon + 1));
    st.prefix = "/bot" + std::string(token) + "/";

    asio::io_context ioc{1};
    asio::signal_set signals(ioc, SIGINT, SIGTERM);
    signals.async_wait([&](auto, int) { ioc.stop(); });
    const auto fail = [&](std::exception_ptr e) {
        if (e) {
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& ex) {
                std::fprintf(stderr, "asio_echo: %s\n", ex.what());
            }
            ioc.stop();
        }
    };
    asio::co_spawn(ioc, poller(st), fail);
    for (int i = 0; i < senders; ++i) {
        asio::co_spawn(ioc, sender(st, i), fail);
    }
    ioc.run();
    return 0;
}
