// Fuzzes the server-sent events parser and the streamed chat completion reader on top of it. The
// input is the body as it arrives, fed whole and again in pieces whose length the first byte
// picks, so splits land everywhere. Checked, not just run: the pieces give the same events and the
// same outcome as the whole, and the reader's deltas always add up to its content.
#include "net/openai/chat.hpp"
#include "net/sse.hpp"

#include "fuzz/common.hpp"

#include <string>
#include <vector>

namespace net = companion::net;
namespace openai = companion::net::openai;

namespace {

struct parsed {
    std::vector<net::sse_event> events;
    bool ok = true;
    std::optional<net::sse_event> last;
};

bool same(const net::sse_event& a, const net::sse_event& b) {
    return a.event == b.event && a.data == b.data && a.id == b.id;
}

parsed parse(std::string_view text, std::size_t step, std::size_t limit) {
    net::sse_parser p(limit);
    parsed out;
    for (std::size_t at = 0; at < text.size() && out.ok; at += step) {
        out.ok = p.feed(text.substr(at, step), [&](const net::sse_event& e) {
                      out.events.push_back(e);
                  }).has_value();
    }
    out.last = p.finish();
    return out;
}

void check_same(const parsed& a, const parsed& b) {
    if (a.ok != b.ok || a.events.size() != b.events.size() || a.last.has_value() != b.last.has_value()) {
        __builtin_trap();
    }
    for (std::size_t i = 0; i < a.events.size(); ++i) {
        if (!same(a.events[i], b.events[i])) {
            __builtin_trap();
        }
    }
    if (a.last && !same(*a.last, *b.last)) {
        __builtin_trap();
    }
}

void read_chat(std::string_view text, std::size_t step, std::size_t limit) {
    openai::chat_stream_reader reader({}, limit);
    std::string deltas;
    const openai::delta_handler on_delta = [&](std::string_view d) { deltas.append(d); };
    for (std::size_t at = 0; at < text.size(); at += step) {
        if (!reader.feed(text.substr(at, step), on_delta)) {
            break;
        }
    }
    auto r = reader.finish(std::nullopt, on_delta);
    // Whatever the caller was shown is the content, and nothing else.
    if (r && deltas != r->content.value_or("")) {
        __builtin_trap();
    }
    if (!r && !deltas.empty()) {
        __builtin_trap();
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text = companion::fuzz::as_text(data, size);
    const std::size_t step = size == 0 ? 1 : data[0] % 13 + 1;
    for (std::size_t limit : {std::size_t{1} << 20, std::size_t{64}}) {
        const auto whole = parse(text, text.size() + 1, limit);
        check_same(whole, parse(text, step, limit));
        read_chat(text, text.size() + 1, limit);
        read_chat(text, step, limit);
    }
    return 0;
}
