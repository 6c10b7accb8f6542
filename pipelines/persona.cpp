// Loading and validation of the persona catalog.
#include "pipelines/persona.hpp"

#include "pipelines/locale.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>

namespace companion::pipelines {
namespace {

std::optional<std::string> string_field(const boost::json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    if (v == nullptr || !v->is_string() || v->as_string().empty()) {
        return std::nullopt;
    }
    return std::string(v->as_string());
}

bool has_image_extension(std::string_view name) {
    std::string lower;
    for (char ch : name.substr(name.rfind('.') == std::string_view::npos ? name.size() : name.rfind('.'))) {
        lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(ch))));
    }
    return lower == ".png" || lower == ".jpg" || lower == ".jpeg";
}

} // namespace

boost::system::result<persona_catalog, std::string> persona_catalog::parse(std::string_view json) {
    boost::system::error_code ec;
    auto root = boost::json::parse(json, ec);
    if (ec) {
        return std::string("personas: not valid JSON: ") + ec.message();
    }
    if (!root.is_object()) {
        return std::string("personas: the top level must be an object");
    }
    const auto* list = root.as_object().if_contains("personas");
    if (list == nullptr || !list->is_array() || list->as_array().empty()) {
        return std::string("personas: \"personas\" must be a non-empty array");
    }
    persona_catalog cat;
    std::set<std::string> ids;
    std::size_t index = 0;
    for (const auto& item : list->as_array()) {
        const std::string where = "personas[" + std::to_string(index++) + "]";
        if (!item.is_object()) {
            return where + ": must be an object";
        }
        const auto& o = item.as_object();
        persona p;
        const std::pair<std::string_view, std::string*> fields[] = {
            {"id", &p.id},
            {"name", &p.name},
            {"city", &p.city},
            {"look", &p.look},
            {"character", &p.character},
            {"energy", &p.energy},
        };
        for (const auto& [key, dest] : fields) {
            auto v = string_field(o, key);
            if (!v) {
                return where + ": \"" + std::string(key) + "\" must be a non-empty string";
            }
            *dest = *v;
        }
        p.style = string_field(o, "style").value_or("");
        if (o.contains("voice")) {
            auto voice = string_field(o, "voice");
            if (!voice) {
                return where + R"(: "voice" must be a non-empty string (a speech voice such as "nova"))";
            }
            p.voice = *voice;
        }
        if (const auto* stream = o.if_contains("stream"); stream != nullptr) {
            if (!stream->is_bool()) {
                return where + " (" + p.id + "): \"stream\" must be true or false";
            }
            p.stream = stream->get_bool();
        }
        if (const auto* same = o.if_contains("same_face"); same != nullptr) {
            if (!same->is_bool()) {
                return where + " (" + p.id + "): \"same_face\" must be true or false";
            }
            p.same_face = same->get_bool();
        }
        if (o.contains("portrait")) {
            auto portrait = string_field(o, "portrait");
            if (!portrait || !has_image_extension(*portrait)) {
                return where + " (" + p.id + "): \"portrait\" must name a .png, .jpg or .jpeg file";
            }
            p.portrait = *portrait;
        }
        const auto* age = o.if_contains("age");
        if (age == nullptr || !age->is_int64()) {
            return where + " (" + p.id + "): \"age\" must be an integer";
        }
        if (age->as_int64() < 18 || age->as_int64() > 99) {
            return where + " (" + p.id + "): \"age\" must be an adult age (18 or more)";
        }
        p.age = static_cast<int>(age->as_int64());
        if (!ids.insert(p.id).second) {
            return where + ": duplicate id \"" + p.id + "\"";
        }
        if (p.id.size() > 24 ||
            p.id.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") != std::string::npos) {
            return where + ": \"id\" must be 1-24 characters of a-z, 0-9 and _ (it goes into callback data)";
        }
        const auto* langs = o.if_contains("languages");
        if (langs == nullptr || !langs->is_array() || langs->as_array().empty()) {
            return where + " (" + p.id + "): \"languages\" must be a non-empty array";
        }
        for (const auto& l : langs->as_array()) {
            if (!l.is_string() || !is_supported_language(std::string_view(l.as_string()))) {
                return where + " (" + p.id + "): \"languages\" may hold only tr, ru and en";
            }
            p.languages.emplace_back(l.as_string());
        }
        const auto* greeting = o.if_contains("greeting");
        if (greeting == nullptr || !greeting->is_object()) {
            return where + " (" + p.id + "): \"greeting\" must be an object keyed by language";
        }
        for (auto lang : supported_languages()) {
            auto g = string_field(greeting->as_object(), lang);
            if (!g) {
                return where + " (" + p.id + "): \"greeting." + std::string(lang) + "\" is missing";
            }
            p.greeting[std::string(lang)] = *g;
        }
        for (const auto& [key, dest] : {std::pair{"names", &p.names}, std::pair{"cities", &p.cities}}) {
            const auto* spelled = o.if_contains(key);
            if (spelled == nullptr) {
                continue; // optional: the English spelling serves every language
            }
            if (!spelled->is_object()) {
                return where + " (" + p.id + "): \"" + key + "\" must be an object keyed by language";
            }
            for (const auto& [lang, v] : spelled->as_object()) {
                if (!is_supported_language(std::string_view(lang)) || !v.is_string() ||
                    v.as_string().empty()) {
                    return where + " (" + p.id + "): \"" + key + "." + std::string(lang) +
                           "\" must be a non-empty string for tr, ru or en";
                }
                (*dest)[std::string(lang)] = std::string(v.as_string());
            }
        }
        cat.personas_.push_back(std::move(p));
    }
    return cat;
}

boost::system::result<persona_catalog, std::string> persona_catalog::load(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return "personas: cannot read " + path;
    }
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto cat = parse(text);
    if (!cat) {
        return cat;
    }
    // Portraits are named relative to the catalog, so a data folder moves as a whole.
    const auto folder = std::filesystem::path(path).parent_path();
    for (auto& p : cat->personas_) {
        if (p.portrait.empty()) {
            continue;
        }
        auto file = std::filesystem::path(p.portrait);
        if (file.is_relative()) {
            file = folder / file;
        }
        std::error_code ec;
        const bool regular = std::filesystem::is_regular_file(file, ec);
        if (!regular || !std::ifstream(file, std::ios::binary)) {
            return "personas: " + p.id + ": the portrait " + file.string() + " is not a readable file";
        }
        p.portrait = file.string();
    }
    return cat;
}

namespace {

const std::string& spelled_in(const std::map<std::string, std::string>& spellings,
                              std::string_view lang,
                              const std::string& fallback) {
    const auto it = spellings.find(std::string(lang));
    return it == spellings.end() ? fallback : it->second;
}

} // namespace

const std::string& persona::name_in(std::string_view lang) const {
    return spelled_in(names, lang, name);
}

const std::string& persona::city_in(std::string_view lang) const {
    return spelled_in(cities, lang, city);
}

const persona* persona_catalog::find(std::string_view id) const {
    for (const auto& p : personas_) {
        if (p.id == id) {
            return &p;
        }
    }
    return nullptr;
}

} // namespace companion::pipelines
