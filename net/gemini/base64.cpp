// Base64 over Beast's codec, with the strictness check Beast leaves out (it stops silently at the
// first character it does not know).
#include "net/gemini/base64.hpp"

#include <boost/beast/core/detail/base64.hpp>

namespace companion::net::gemini {

std::string encode_base64(std::string_view bytes) {
    std::string out(boost::beast::detail::base64::encoded_size(bytes.size()), '\0');
    out.resize(boost::beast::detail::base64::encode(out.data(), bytes.data(), bytes.size()));
    return out;
}

std::optional<std::string> decode_base64(std::string_view text) {
    std::size_t end = text.size();
    while (end > 0 && text[end - 1] == '=') {
        --end;
    }
    if (text.size() - end > 2) {
        return std::nullopt;
    }
    std::string out(boost::beast::detail::base64::decoded_size(text.size()), '\0');
    const auto [written, read] = boost::beast::detail::base64::decode(out.data(), text.data(), end);
    if (read != end) {
        return std::nullopt;
    }
    out.resize(written);
    return out;
}

} // namespace companion::net::gemini
