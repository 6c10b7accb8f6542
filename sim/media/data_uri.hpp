// `data:<mime>;base64,<bytes>` URIs, as clients send first frames to the video simulators.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace companion::sim::media {

struct data_uri {
    std::string mime;  ///< as written, e.g. "image/png"
    std::string bytes; ///< decoded
};

/// Decodes a base64 data URI; nullopt when `text` is not one (no `data:` or `;base64,`, or a
/// character outside base64's alphabet before the padding).
[[nodiscard]] std::optional<data_uri> decode_data_uri(std::string_view text);

} // namespace companion::sim::media
