// Helpers shared by the libFuzzer targets: the input as text, and the statuses each provider
// parser is run under (a success and the error paths, so one corpus file reaches both).
#pragma once

#include <boost/beast/http/fields.hpp>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string_view>
#include <utility>

namespace companion::fuzz {

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) noexcept {
    return {reinterpret_cast<const char*>(data), size};
}

/// 200 reads the payload, 400/429/500/503 the provider's error object and its retry hints.
inline constexpr unsigned statuses[] = {200, 400, 429, 500, 503};

/// Runs `parse(status, headers)` under every status, once with no headers and once with the
/// retry headers given (the parsers read their retry hints there).
template <class Parse>
void under_every_status(std::initializer_list<std::pair<std::string_view, std::string_view>> retry_headers,
                        Parse&& parse) {
    const boost::beast::http::fields none;
    boost::beast::http::fields retry;
    for (const auto& [name, value] : retry_headers) {
        retry.set(name, value);
    }
    for (unsigned status : statuses) {
        parse(status, none);
        parse(status, retry);
    }
}

} // namespace companion::fuzz
