// Fuzzes the persona catalog and the locale catalogs loaders. For the locales, NUL bytes split
// the input into the tr, ru and en files; without one, the same text stands for all three.
#include "pipelines/locale.hpp"
#include "pipelines/persona.hpp"

#include "fuzz/common.hpp"

#include <map>
#include <string>

namespace pl = companion::pipelines;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text = companion::fuzz::as_text(data, size);

    if (auto personas = pl::persona_catalog::parse(text); personas)
        for (const pl::persona& p : personas->all())
            (void)personas->find(p.id);

    std::map<std::string, std::string> files;
    std::string_view rest = text;
    for (std::string_view lang : pl::supported_languages()) {
        const std::size_t nul = rest.find('\0');
        if (nul == std::string_view::npos && files.empty()) {
            for (std::string_view l : pl::supported_languages())
                files.emplace(l, text);
            break;
        }
        files.emplace(lang, rest.substr(0, nul));
        rest = nul == std::string_view::npos ? std::string_view{} : rest.substr(nul + 1);
    }
    if (auto locales = pl::locale_catalog::parse(files); locales) {
        for (std::string_view lang : pl::supported_languages()) {
            (void)locales->text(lang, "welcome", {{"name", "Ada"}, {"persona", "Elif"}});
            (void)locales->language_name(lang);
        }
        (void)locales->match_label(text, {"welcome", "help"});
    }
    (void)pl::language_from_code(text);
    return 0;
}
