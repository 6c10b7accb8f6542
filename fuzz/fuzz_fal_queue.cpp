// Fuzzes fal's queue readers (submit, status, result and error answers, the flagged fields of a
// 422, and a stored ticket) under a success and the error statuses.
#include "net/fal/queue.hpp"

#include <boost/beast/http/fields.hpp>

#include "fuzz/common.hpp"

namespace fal = companion::net::fal;
namespace http = boost::beast::http;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view body = companion::fuzz::as_text(data, size);
    companion::fuzz::under_every_status(
        {{"retry-after", "3"}},
        [&](unsigned status, const http::fields& headers) {
            // Results are discarded on purpose: the target checks that no input crashes a reader.
            static_cast<void>(fal::parse_submit(status, body, headers, "https://queue.fal.run"));
            static_cast<void>(fal::parse_status(status, body, headers));
            static_cast<void>(fal::parse_video_output(status, body, headers));
        });
    static_cast<void>(fal::flagged_fields(body));
    static_cast<void>(fal::ticket_from_text(body));
    return 0;
}
