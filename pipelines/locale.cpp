// Locale catalogs: loading, validation and formatting.
#include "pipelines/locale.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <set>

namespace companion::pipelines {
namespace {

std::set<std::string> placeholders_of(std::string_view s) {
    std::set<std::string> out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '{') {
            continue;
        }
        const auto end = s.find('}', i);
        if (end == std::string_view::npos) {
            break;
        }
        const auto name = s.substr(i + 1, end - i - 1);
        if (!name.empty() &&
            name.find_first_not_of("abcdefghijklmnopqrstuvwxyz_") == std::string_view::npos) {
            out.insert(std::string(name));
        }
        i = end;
    }
    return out;
}

} // namespace

const std::array<std::string_view, 3>& supported_languages() noexcept {
    static constexpr std::array<std::string_view, 3> langs{"tr", "ru", "en"};
    return langs;
}

bool is_supported_language(std::string_view code) noexcept {
    const auto& l = supported_languages();
    return std::find(l.begin(), l.end(), code) != l.end();
}

std::string language_from_code(std::string_view language_code) {
    std::string primary;
    for (char c : language_code) {
        if (c == '-' || c == '_') {
            break;
        }
        primary.push_back(static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c));
    }
    if (primary == "tr" || primary == "az" || primary == "tk" || primary == "gag") {
        return "tr";
    }
    // Russian only for Russian: a Ukrainian, Belarusian, Kazakh or Georgian user is not assumed to
    // want it (English until they pick Russian in /language).
    if (primary == "ru") {
        return "ru";
    }
    return "en";
}

boost::system::result<locale_catalog, std::string>
locale_catalog::parse(const std::map<std::string, std::string>& json) {
    locale_catalog cat;
    for (auto lang : supported_languages()) {
        const std::string where = "locales/" + std::string(lang) + ".json";
        auto it = json.find(std::string(lang));
        if (it == json.end()) {
            return where + ": missing";
        }
        boost::system::error_code ec;
        auto root = boost::json::parse(it->second, ec);
        if (ec || !root.is_object()) {
            return where + ": not a JSON object" + (ec ? ": " + ec.message() : std::string{});
        }
        const auto& o = root.as_object();
        const auto* declared = o.if_contains("language");
        if (declared == nullptr || !declared->is_string() || declared->as_string() != lang) {
            return where + R"(: "language" must be ")" + std::string(lang) + "\"";
        }
        const auto* name = o.if_contains("language_name");
        cat.names_[std::string(lang)] =
            name != nullptr && name->is_string() ? std::string(name->as_string()) : std::string(lang);
        const auto* strings = o.if_contains("strings");
        if (strings == nullptr || !strings->is_object()) {
            return where + ": \"strings\" must be an object";
        }
        auto& table = cat.strings_[std::string(lang)];
        for (const auto& [key, value] : strings->as_object()) {
            if (!value.is_string() || value.as_string().empty()) {
                return where + ": \"" + std::string(key) + "\" must be a non-empty string";
            }
            table[std::string(key)] = std::string(value.as_string());
        }
    }
    // Every key in every language, with the same placeholders.
    const auto& reference = cat.strings_.at("en");
    for (auto lang : supported_languages()) {
        const auto& table = cat.strings_.at(std::string(lang));
        for (const auto& [key, value] : reference) {
            auto it = table.find(key);
            if (it == table.end()) {
                return "locales/" + std::string(lang) + ".json: key \"" + key + "\" is missing";
            }
            if (placeholders_of(it->second) != placeholders_of(value)) {
                return "locales/" + std::string(lang) + ".json: key \"" + key +
                       "\" has other placeholders than the English text";
            }
        }
        for (const auto& entry : table) {
            const std::string& key = entry.first;
            if (!reference.contains(key)) {
                return "locales/en.json: key \"" + key + "\" (present in " + std::string(lang) +
                       ") is missing";
            }
        }
    }
    return cat;
}

boost::system::result<locale_catalog, std::string> locale_catalog::load(const std::string& dir) {
    std::map<std::string, std::string> json;
    for (auto lang : supported_languages()) {
        const std::string path = dir + "/" + std::string(lang) + ".json";
        std::ifstream in(path, std::ios::binary);
        if (!in) {
            return "locales: cannot read " + path;
        }
        json[std::string(lang)] =
            std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    }
    return parse(json);
}

std::string
locale_catalog::text(std::string_view lang, std::string_view key, const placeholders& values) const {
    auto table = strings_.find(lang);
    if (table == strings_.end()) {
        table = strings_.find(std::string_view("en"));
    }
    if (table == strings_.end()) {
        return std::string(key);
    }
    auto it = table->second.find(key);
    if (it == table->second.end()) {
        return std::string(key);
    }
    std::string out;
    const std::string& tpl = it->second;
    out.reserve(tpl.size() + 32);
    for (std::size_t i = 0; i < tpl.size(); ++i) {
        if (tpl[i] == '{') {
            const auto end = tpl.find('}', i);
            if (end != std::string::npos) {
                const std::string_view name(tpl.data() + i + 1, end - i - 1);
                bool replaced = false;
                for (const auto& [k, v] : values) {
                    if (k == name) {
                        out += v;
                        replaced = true;
                        break;
                    }
                }
                if (replaced) {
                    i = end;
                    continue;
                }
            }
        }
        out.push_back(tpl[i]);
    }
    return out;
}

std::string locale_catalog::elapsed(std::string_view lang, std::chrono::seconds span) const {
    const auto s = std::max<long long>(span.count(), 0);
    if (s < 60) {
        return text(lang, "time.seconds", {{"s", std::to_string(s)}});
    }
    return text(lang, "time.minutes_seconds", {{"m", std::to_string(s / 60)}, {"s", std::to_string(s % 60)}});
}

std::optional<std::string> locale_catalog::match_label(std::string_view label,
                                                       const std::vector<std::string_view>& keys) const {
    for (const auto& entry : strings_) {
        const auto& table = entry.second;
        for (auto key : keys) {
            auto it = table.find(key);
            if (it != table.end() && it->second == label) {
                return std::string(key);
            }
        }
    }
    return std::nullopt;
}

std::string locale_catalog::language_name(std::string_view lang) const {
    auto it = names_.find(lang);
    return it == names_.end() ? std::string(lang) : it->second;
}

} // namespace companion::pipelines
