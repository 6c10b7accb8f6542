// A typed client for Gemini image generation (`generateContent` with image output). HTTP 200 is
// not an image: the outcome says whether the prompt or the output was blocked, the model made no
// image, or it recited; the image is the last non-thought inline part, in the MIME type it states.
#pragma once

#include "engine/asio.hpp"
#include "engine/enum_text.hpp"
#include "net/gemini/error.hpp"
#include "net/http_client.hpp"

#include <chrono>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace companion::net::gemini {

struct image_config {
    std::string base_url = "https://generativelanguage.googleapis.com"; ///< GEMINI_BASE_URL
    std::string api_version = "v1beta";
    std::string api_key{}; ///< sent as x-goog-api-key, never in the URL; registered for redaction
    std::string model = "gemini-3.1-flash-image";
    std::string aspect_ratio = "9:16";
    std::string image_size{}; ///< "1K", "2K", "4K"; empty: the model's default (2.5 takes none)
    std::chrono::milliseconds connect_timeout = std::chrono::seconds(10);
    /// Image models think before they draw
    std::chrono::milliseconds response_timeout = std::chrono::seconds(120);
    std::chrono::milliseconds body_timeout = std::chrono::seconds(60);
    std::size_t body_limit = 64 * 1024 * 1024; ///< a 4K PNG as base64 JSON is tens of MB
};

struct inline_image {
    std::string mime_type{}; ///< image/png, image/jpeg, image/webp
    std::string bytes{};
};

struct image_request {
    std::string prompt{};
    std::vector<inline_image> references{}; ///< optional input images (character consistency)
};

enum class image_outcome {
    image,          ///< `image` holds the picture
    prompt_blocked, ///< promptFeedback.blockReason: rewrite the prompt once, softer
    output_blocked, ///< IMAGE_SAFETY, PROHIBITED_CONTENT, SAFETY, ...: rewrite once
    no_image,       ///< NO_IMAGE, IMAGE_OTHER, OTHER, text-only: retry once as is
    recitation,     ///< RECITATION, IMAGE_RECITATION: too close to a source
};
BOOST_DESCRIBE_ENUM(image_outcome, image, prompt_blocked, output_blocked, no_image, recitation)
using engine::operator<<; // to_string and printing of the described enums
using engine::to_string;

struct image_result {
    image_outcome outcome = image_outcome::no_image;
    std::optional<inline_image> image{};
    std::string text{};   ///< any non-thought text the model wrote
    std::string reason{}; ///< blockReason or finishReason behind a non-image outcome
    std::string model_version{};
};

/// The request body (sans-I/O; exposed for tests).
std::string build_image_body(const image_config& cfg, const image_request& req);

/// Reads a generateContent response; non-2xx bodies become errors.
result<image_result> parse_image_response(unsigned status, std::string_view body);

class image_client {
public:
    /// `http` must outlive the client and its calls.
    image_client(net::http_client& http, image_config cfg);

    /// One generation; never retried here. Phase deadlines from the config apply.
    engine::awaitable<result<image_result>> generate(image_request req);

    /// The start-up check: models.get of the configured model with the key.
    engine::awaitable<result<void>> check_model();

    const image_config& config() const noexcept { return cfg_; }

private:
    net::http_client& http_;
    image_config cfg_;
};

} // namespace companion::net::gemini
