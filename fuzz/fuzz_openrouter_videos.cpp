// Fuzzes OpenRouter's videos readers (the job object of create and poll, the video model list, the
// error shape) under a success and the error statuses, and the id check that guards URL paths.
#include "net/openai/openrouter_videos.hpp"

#include <boost/beast/http/fields.hpp>

#include "fuzz/common.hpp"

namespace openai = companion::net::openai;
namespace http = boost::beast::http;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view body = companion::fuzz::as_text(data, size);
    companion::fuzz::under_every_status({{"retry-after", "3"}},
                                        [&](unsigned status, const http::fields& headers) {
                                            (void)openai::parse_video(status, body, headers);
                                            (void)openai::parse_video_models(status, body, headers);
                                            (void)openai::parse_openrouter_error(status, body, headers);
                                        });
    (void)openai::valid_video_id(body);
    return 0;
}
