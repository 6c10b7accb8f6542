// Localized strings (data/locales/{tr,ru,en}.json) with {placeholder} substitution, checked at
// start: every key in every language, and the same placeholders in each translation. Also the
// language of a Telegram user's language_code, and the reverse lookup of reply-keyboard labels.
#pragma once

#include <boost/system/result.hpp>

#include <array>
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace companion::pipelines {

/// The product's languages, in display order.
const std::array<std::string_view, 3>& supported_languages() noexcept;
bool is_supported_language(std::string_view code) noexcept;

/// Maps Telegram's IETF tag ("tr", "ru-RU", "en-US", "uk", "az", ...) to a product language;
/// Turkish and its close Turkic kin (az, tk, gag) to Turkish, Russian to Russian, all else
/// English (the user picks another in /language).
std::string language_from_code(std::string_view language_code);

using placeholders = std::vector<std::pair<std::string_view, std::string>>;

class locale_catalog {
public:
    /// Parses the three catalogs (`json` by language code) and validates them together.
    static boost::system::result<locale_catalog, std::string>
    parse(const std::map<std::string, std::string>& json);
    /// Reads `<dir>/tr.json`, `<dir>/ru.json`, `<dir>/en.json`.
    static boost::system::result<locale_catalog, std::string> load(const std::string& dir);

    /// The string for `key` in `lang` (English when the language is unknown) with placeholders
    /// substituted. An unknown key yields the key itself (validation makes that unreachable).
    std::string text(std::string_view lang, std::string_view key, const placeholders& values = {}) const;
    /// How long something took, in `lang`'s words: "42 s" / "42 сек" / "42 sn", then minutes and
    /// seconds (a negative span reads as 0).
    std::string elapsed(std::string_view lang, std::chrono::seconds span) const;

    /// The key whose label in any language equals `label` among `keys` (reply keyboard buttons).
    std::optional<std::string> match_label(std::string_view label,
                                           const std::vector<std::string_view>& keys) const;

    std::string language_name(std::string_view lang) const;

private:
    std::map<std::string, std::map<std::string, std::string, std::less<>>, std::less<>> strings_;
    std::map<std::string, std::string, std::less<>> names_;
};

} // namespace companion::pipelines
