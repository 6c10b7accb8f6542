// Fuzzes the OpenAI videos job parser (create and poll answers) under a success and the error
// statuses.
#include "net/openai/videos.hpp"

#include <boost/beast/http/fields.hpp>

#include "fuzz/common.hpp"

namespace openai = companion::net::openai;
namespace http = boost::beast::http;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view body = companion::fuzz::as_text(data, size);
    companion::fuzz::under_every_status({{"retry-after", "3"}},
                                        [&](unsigned status, const http::fields& headers) {
                                            (void)openai::parse_video_job(status, body, headers);
                                        });
    return 0;
}
