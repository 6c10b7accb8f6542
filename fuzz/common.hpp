// Helpers shared by the libFuzzer targets: the input as text, and the statuses each provider
// parser is run under (a success and the error paths, so one corpus file reaches both).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace companion::fuzz {

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) noexcept {
    return {reinterpret_cast<const char*>(data), size};
}

/// 200 reads the payload, 400/429/500/503 the provider's error object and its retry hints.
inline constexpr unsigned statuses[] = {200, 400, 429, 500, 503};

} // namespace companion::fuzz
