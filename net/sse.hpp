// A sans-I/O parser of server-sent events (the WHATWG "text/event-stream" rules), for streamed
// chat completions: bytes go in split anywhere (mid-line, mid-CRLF, mid-BOM), whole events come
// out. Lines end in LF, CRLF or CR; a leading UTF-8 BOM is skipped; `:` lines are comments
// (OpenRouter's ": OPENROUTER PROCESSING" keep-alives); `data:` lines (one optional space after
// the colon) are joined with '\n'; a blank line dispatches; fields other than data, event and id
// are ignored (`retry` only matters to a client that reconnects, and this one never does).
#pragma once

#include "net/error.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace companion::net {

struct sse_event {
    std::string event{}; ///< the `event:` field; "message" when the event named none (as WHATWG says)
    std::string data{};  ///< the `data:` lines joined with '\n'
    std::string id{};    ///< the last `id:` seen so far in the stream (it carries over, as WHATWG says)
};

class sse_parser {
public:
    /// `max_event_bytes` bounds what one event may hold while it is assembled (its data plus the
    /// line being read, comments included), so a peer that never sends a newline cannot grow
    /// memory without bound.
    explicit sse_parser(std::size_t max_event_bytes = 1 << 20) : max_event_bytes_(max_event_bytes) {}

    /// Parses `bytes` and calls `on_event(const sse_event&)` for each event completed by them (the
    /// reference is valid during the call only). Returns a failure with errc::body_too_large when
    /// an event grows past the limit; the parser then stays failed and every later feed returns
    /// the same failure without calling `on_event`. An exception from `on_event` leaves the
    /// parser in an unspecified (but safe to destroy) state.
    template <class F>
    [[nodiscard]] result<void> feed(std::string_view bytes, F&& on_event) {
        using handler = std::remove_reference_t<F>;
        return feed_impl(bytes, &on_event, [](void* f, const sse_event& e) {
            (*static_cast<handler*>(f))(e);
        });
    }

    /// The end of the stream. WHATWG discards an event whose dispatching blank line never came;
    /// this returns it instead (an unterminated last line counted as a line), so a lenient caller
    /// can still read a last `data: [DONE]` that a server closed without the blank line. Nothing
    /// is returned when no data line was pending or the parser failed. The parser is reset for a
    /// new stream afterwards.
    [[nodiscard]] std::optional<sse_event> finish();

    /// Whether a limit failure has stopped the parser.
    bool failed() const noexcept { return failed_; }
    std::size_t max_event_bytes() const noexcept { return max_event_bytes_; }

private:
    using callback = void (*)(void*, const sse_event&);

    result<void> feed_impl(std::string_view bytes, void* context, callback cb);
    /// One complete line (without its terminator).
    void line(std::string_view text, void* context, callback cb);
    result<void> too_large() const;

    std::size_t max_event_bytes_;
    std::string partial_{};       ///< the start of a line whose end has not arrived
    std::string data_{};          ///< data lines so far, each followed by '\n'
    std::string event_type_{};    ///< the event field so far
    std::string last_id_{};       ///< the last event id buffer
    bool skip_lf_ = false;        ///< the last byte was a CR: an LF right after it is the same line end
    std::size_t bom_checked_ = 0; ///< bytes of the stream start compared with the BOM so far (3: done)
    std::string bom_prefix_{};    ///< stream start bytes held back while they may still be a BOM
    bool failed_ = false;
    sse_event out_{};
};

} // namespace companion::net
