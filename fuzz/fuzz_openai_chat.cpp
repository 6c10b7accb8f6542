// Fuzzes the OpenAI-compatible chat completion response parser (and its error object) under a
// success and the error statuses, with and without retry headers.
#include "net/openai/chat.hpp"
#include "net/openai/error.hpp"

#include <boost/beast/http/fields.hpp>

#include "fuzz/common.hpp"

#include <algorithm>

namespace openai = companion::net::openai;
namespace http = boost::beast::http;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view body = companion::fuzz::as_text(data, size);
    companion::fuzz::under_every_status({{"retry-after", "2"}, {"x-ratelimit-reset-requests", "1m2.5s"}},
                                        [&](unsigned status, const http::fields& headers) {
                                            (void)openai::parse_chat_response(status, body, headers);
                                        });
    (void)openai::parse_finish_reason(body);
    (void)openai::parse_go_duration(body);
    // The retry hints come from headers: the first line of the input as each of them.
    const std::string_view line = body.substr(0, std::min(body.find('\n'), std::size_t{4096}));
    for (const char* name : {"retry-after-ms", "retry-after", "x-ratelimit-reset-requests"}) {
        http::fields h;
        h.set(name, line);
        h.set("x-ratelimit-remaining-requests", "0");
        (void)openai::parse_retry_after(h);
    }
    return 0;
}
