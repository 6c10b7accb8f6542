// Tests of pipelines/persona: the shipped catalog loads, and every kind of bad entry is refused
// with an error that names it.
#include "pipelines/persona.hpp"
#include "tests/common/temp_dir.hpp"

#include <boost/test/unit_test.hpp>

#include <fstream>
#include <string>
#include <utility>
#include <vector>

using namespace companion::pipelines;

namespace {

std::string with_persona(const std::string& body) {
    return R"({"personas":[)" + body + "]}";
}

const std::string good =
    R"({"id":"elif","name":"Elif","age":24,"city":"Istanbul","look":"l","character":"c","energy":"e",)"
    R"("languages":["tr"],"greeting":{"tr":"a","ru":"b","en":"c"}})";

std::string error_of(const std::string& json) {
    auto r = persona_catalog::parse(json);
    return r ? std::string{} : r.error();
}

} // namespace

BOOST_AUTO_TEST_SUITE(persona_suite)

BOOST_AUTO_TEST_CASE(shipped_catalog_has_at_least_six_adult_personas_with_every_greeting) {
    auto cat = persona_catalog::load(COMPANION_DATA_DIR "/personas.json");
    BOOST_TEST_REQUIRE(cat.has_value(), (cat ? "" : cat.error()));
    BOOST_TEST(cat->all().size() >= 6U);
    for (const auto& p : cat->all()) {
        BOOST_TEST(p.age >= 18);
        BOOST_TEST(p.greeting.size() == 3U);
    }
    const auto* elif = cat->find("elif");
    BOOST_TEST_REQUIRE(elif != nullptr);
    BOOST_TEST(elif->city == "Istanbul");
    BOOST_TEST(cat->find("nobody") == nullptr);
}

BOOST_AUTO_TEST_CASE(each_greeting_uses_the_name_as_its_language_spells_it) {
    auto cat = persona_catalog::load(COMPANION_DATA_DIR "/personas.json");
    BOOST_TEST_REQUIRE(cat.has_value(), (cat ? "" : cat.error()));
    for (const auto& p : cat->all()) {
        for (const auto& [lang, greeting] : p.greeting) {
            // The menu, "you're now chatting with", the caption and her own words agree.
            BOOST_TEST(greeting.find(p.name_in(lang)) != std::string::npos, p.id << " in " << lang);
        }
    }
    const auto* masha = cat->find("masha");
    BOOST_TEST_REQUIRE(masha != nullptr);
    BOOST_TEST(masha->name_in("ru") == "Маша");
    BOOST_TEST(masha->city_in("ru") == "Санкт-Петербург");
    BOOST_TEST(masha->name_in("en") == "Masha"); // no spelling of its own: the name
    BOOST_TEST(cat->find("emma")->city_in("tr") == "Londra");
}

BOOST_AUTO_TEST_CASE(spellings_must_name_a_supported_language_and_hold_text) {
    const std::string head =
        R"({"version":1,"personas":[{"id":"a","name":"A","age":20,"city":"C","look":"l",)"
        R"("character":"c","energy":"e","languages":["en"],)"
        R"("greeting":{"tr":"t","ru":"r","en":"e"},)";
    BOOST_TEST(persona_catalog::parse(head + R"("names":{"ru":"А"}}]})").has_value());
    const auto german = persona_catalog::parse(head + R"("names":{"de":"A"}}]})");
    BOOST_TEST_REQUIRE(!german.has_value());
    BOOST_TEST(german.error().find("names.de") != std::string::npos);
    const auto empty = persona_catalog::parse(head + R"("cities":{"ru":""}}]})");
    BOOST_TEST_REQUIRE(!empty.has_value());
    BOOST_TEST(empty.error().find("cities.ru") != std::string::npos);
    BOOST_TEST(!persona_catalog::parse(head + R"("names":"А"}]})").has_value());
}

BOOST_AUTO_TEST_CASE(bad_catalogs_are_refused_with_the_entry_and_field_named) {
    BOOST_TEST(persona_catalog::parse(with_persona(good)).has_value());
    BOOST_TEST(error_of("{").find("not valid JSON") != std::string::npos);
    BOOST_TEST(error_of(R"({"personas":[]})").find("non-empty array") != std::string::npos);
    std::string minor = good;
    minor.replace(minor.find("24"), 2, "17");
    BOOST_TEST(error_of(with_persona(minor)).find("adult age") != std::string::npos);
    std::string no_city = good;
    no_city.replace(no_city.find(R"("city":"Istanbul",)"), 18, "");
    BOOST_TEST(error_of(with_persona(no_city)).find("personas[0]: \"city\"") != std::string::npos);
    BOOST_TEST(error_of(with_persona(good + "," + good)).find("duplicate id") != std::string::npos);
    std::string bad_lang = good;
    bad_lang.replace(bad_lang.find(R"(["tr"])"), 6, R"(["de"])");
    BOOST_TEST(error_of(with_persona(bad_lang)).find("languages") != std::string::npos);
    std::string no_ru = good;
    no_ru.replace(no_ru.find(R"("ru":"b",)"), 9, "");
    BOOST_TEST(error_of(with_persona(no_ru)).find("greeting.ru") != std::string::npos);
    std::string bad_id = good;
    bad_id.replace(bad_id.find(R"("elif")"), 6, R"("Elif Ş")");
    BOOST_TEST(error_of(with_persona(bad_id)).find("callback data") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(same_face_and_portrait_are_optional_and_checked) {
    const auto plain = persona_catalog::parse(with_persona(good));
    BOOST_TEST_REQUIRE(plain.has_value());
    BOOST_TEST(plain->all()[0].same_face); // on unless turned off
    BOOST_TEST(plain->all()[0].portrait.empty());

    std::string off = good;
    off.insert(off.size() - 1, R"(,"same_face":false,"portrait":"faces/Elif.JPG")");
    const auto with = persona_catalog::parse(with_persona(off));
    BOOST_TEST_REQUIRE(with.has_value());
    BOOST_TEST(!with->all()[0].same_face);
    BOOST_TEST(with->all()[0].portrait == "faces/Elif.JPG");

    const std::vector<std::pair<std::string, std::string>> bad{
        {R"(,"same_face":"yes")", "\"same_face\" must be true or false"},
        {R"(,"portrait":"elif.gif")", "\"portrait\" must name a .png, .jpg or .jpeg file"},
        {R"(,"portrait":"")", "\"portrait\" must name"},
        {R"(,"portrait":7)", "\"portrait\" must name"},
        {R"(,"portrait":"png")", "\"portrait\" must name"},
    };
    for (const auto& [field, expected] : bad) {
        std::string entry = good;
        entry.insert(entry.size() - 1, field);
        const std::string error = error_of(with_persona(entry));
        BOOST_TEST(error.find("personas[0] (elif): " + expected) != std::string::npos,
                   field << ": " << error);
    }
}

BOOST_AUTO_TEST_CASE(a_portrait_is_found_beside_the_catalog_or_named_at_start) {
    const companion::test::temp_dir dir;
    std::string entry = good;
    entry.insert(entry.size() - 1, R"(,"portrait":"elif.png")");
    const auto catalog = dir.path / "personas.json";
    std::ofstream(catalog) << with_persona(entry);

    const auto missing = persona_catalog::load(catalog.string());
    BOOST_TEST_REQUIRE(!missing.has_value());
    BOOST_TEST(missing.error() == "personas: elif: the portrait " + (dir.path / "elif.png").string() +
                                      " is not a readable file");

    std::filesystem::create_directory(dir.path / "folder.png");
    std::string folder = good;
    folder.insert(folder.size() - 1, R"(,"portrait":"folder.png")");
    std::ofstream(catalog) << with_persona(folder);
    BOOST_TEST(!persona_catalog::load(catalog.string()).has_value()); // a folder is not a portrait

    std::ofstream(catalog) << with_persona(entry);
    std::ofstream(dir.path / "elif.png") << "picture bytes";
    const auto found = persona_catalog::load(catalog.string());
    BOOST_TEST_REQUIRE(found.has_value());
    BOOST_TEST(found->all()[0].portrait == (dir.path / "elif.png").string());
}

BOOST_AUTO_TEST_SUITE_END()
