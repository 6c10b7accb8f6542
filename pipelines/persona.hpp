// The persona catalog (data/personas.json): adult women with a name, age, city, look, character,
// energy and a greeting per language, validated at start with errors that name the offending
// entry and field.
#pragma once

#include <boost/system/result.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace companion::pipelines {

struct persona {
    std::string id;
    std::string name;
    int age = 0;
    std::string city;
    std::string look;
    std::string character;
    std::string energy;
    std::string style;
    std::vector<std::string> languages;
    std::map<std::string, std::string> greeting; ///< by language code
    std::map<std::string, std::string> names;    ///< the name as written in a language ("Маша")
    std::map<std::string, std::string> cities;   ///< the city as written in a language ("Москва")
    bool stream = true; ///< her replies stream as a growing draft ("stream": false turns it off)
    /// Every selfie passes her reference portrait to the image model so it keeps her face, hair and
    /// build ("same_face": false draws each selfie from the description alone).
    bool same_face = true;
    /// The operator's reference portrait (.png, .jpg or .jpeg). Empty: drawn once at first use.
    /// `load` resolves a relative name beside the catalog file and checks that it can be read.
    std::string portrait;
    /// The speech voice her voice notes use ("nova"); empty: the configured default.
    std::string voice;

    /// The name and the city as a user of `lang` reads them; `name` and `city` where the catalog
    /// gives no spelling of its own.
    const std::string& name_in(std::string_view lang) const;
    const std::string& city_in(std::string_view lang) const;
};

class persona_catalog {
public:
    /// Parses and validates the catalog JSON. The error text names the entry and the field.
    static boost::system::result<persona_catalog, std::string> parse(std::string_view json);
    /// Reads the file and parses it; portrait files are resolved beside it and must be readable
    /// ("personas: elif: the portrait /data/elif.png is not a readable file").
    static boost::system::result<persona_catalog, std::string> load(const std::string& path);

    const persona* find(std::string_view id) const;
    const std::vector<persona>& all() const noexcept { return personas_; }

private:
    std::vector<persona> personas_;
};

} // namespace companion::pipelines
