// Base64 data URIs for the video simulators.
#include "sim/media/data_uri.hpp"

#include <boost/beast/core/detail/base64.hpp>

namespace companion::sim::media {

std::optional<data_uri> decode_data_uri(std::string_view text) {
    if (!text.starts_with("data:")) {
        return std::nullopt;
    }
    const auto comma = text.find(',');
    const auto semi = text.find(";base64");
    if (comma == std::string_view::npos || semi == std::string_view::npos || semi > comma) {
        return std::nullopt;
    }
    data_uri out;
    out.mime = std::string(text.substr(5, semi - 5));
    const std::string_view b64 = text.substr(comma + 1);
    out.bytes.resize(boost::beast::detail::base64::decoded_size(b64.size()));
    const auto decoded = boost::beast::detail::base64::decode(out.bytes.data(), b64.data(), b64.size());
    if (b64.substr(decoded.second).find_first_not_of('=') != std::string_view::npos) {
        return std::nullopt;
    }
    out.bytes.resize(decoded.first);
    return out;
}

} // namespace companion::sim::media
