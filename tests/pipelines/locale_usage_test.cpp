// The catalogs and the code agree (issue 18, finding 6): every key in the shipped catalogs is
// used by the code, every key the code names exists, and no sender call in the bot's layers is
// given English text of its own instead of a catalog line. The sources are read as text: a key
// is used when a string literal names it, or names its family ("video.stage.", "cmd.") where the
// code appends the rest.
#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <set>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

std::string read_text(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// The .cpp and .hpp files of the layers that talk to users.
std::vector<fs::path> user_facing_sources() {
    const fs::path root = fs::path(COMPANION_DATA_DIR).parent_path();
    std::vector<fs::path> files;
    for (const char* dir : {"pipelines", "app"}) {
        for (const auto& e : fs::recursive_directory_iterator(root / dir)) {
            const auto ext = e.path().extension();
            if (e.is_regular_file() && (ext == ".cpp" || ext == ".hpp")) {
                files.push_back(e.path());
            }
        }
    }
    return files;
}

std::set<std::string> catalog_keys() {
    const auto doc = boost::json::parse(read_text(fs::path(COMPANION_DATA_DIR) / "locales" / "en.json"));
    std::set<std::string> keys;
    for (const auto& kv : doc.at("strings").as_object()) {
        keys.insert(std::string(kv.key()));
    }
    return keys;
}

/// The first group of every match of `pattern` in the sources.
std::set<std::string> captured(const std::regex& pattern) {
    std::set<std::string> out;
    for (const auto& f : user_facing_sources()) {
        const auto text = read_text(f);
        for (auto it = std::sregex_iterator(text.begin(), text.end(), pattern); it != std::sregex_iterator();
             ++it) {
            out.insert((*it)[1].str());
        }
    }
    return out;
}

/// Every string literal in the sources (escapes are not decoded: keys have none).
std::set<std::string> literals() {
    static const std::regex literal(R"re("((?:[^"\\\n]|\\.)*)")re");
    return captured(literal);
}

/// The names of log events ("video.ended"): they share the dotted shape, not the catalogs.
/// (Two other dotted names are added where they are used.)
std::set<std::string> log_events() {
    static const std::regex event(R"re(\b(?:trace|debug|info|warn|error)\(\s*"([^"]*)")re");
    return captured(event);
}

} // namespace

BOOST_AUTO_TEST_SUITE(locale_usage_suite)

BOOST_AUTO_TEST_CASE(every_catalog_key_is_used_and_every_key_the_code_names_exists) {
    const auto keys = catalog_keys();
    const auto lits = literals();
    BOOST_TEST_REQUIRE(keys.size() > 40U);
    BOOST_TEST_REQUIRE(lits.size() > 100U);
    std::set<std::string> families;
    for (const auto& k : keys) {
        families.insert(k.substr(0, k.find('.')));
    }
    for (const auto& k : keys) {
        const bool named = lits.contains(k);
        const bool by_family = std::any_of(lits.begin(), lits.end(), [&](const std::string& l) {
            return l.size() > 1 && l.ends_with('.') && k.starts_with(l);
        });
        BOOST_TEST((named || by_family), "the catalogs hold \"" << k << "\", which no code uses");
    }
    // A literal shaped like a key of a known family ("video.refused") must be one.
    static const std::regex key_shape(R"([a-z_]+(\.[a-z_]+)+)");
    auto events = log_events();
    events.insert("chat.completions");    // a simulator endpoint a demo fault matches
    events.insert("video.poll_interval"); // a configuration key's path, in a comment
    for (const auto& l : lits) {
        if (!std::regex_match(l, key_shape) || !families.contains(l.substr(0, l.find('.'))) ||
            events.contains(l)) {
            continue;
        }
        const bool known = keys.contains(l);
        const bool family = std::any_of(keys.begin(), keys.end(), [&](const std::string& k) {
            return k.starts_with(l + ".");
        });
        BOOST_TEST((known || family), "the code names \"" << l << "\", which no catalog holds");
    }
}

BOOST_AUTO_TEST_CASE(no_message_to_a_user_is_written_in_the_code) {
    // A sender call whose text argument is a string literal: English built outside the catalogs.
    static const std::regex own_text(
        R"re((\bsay|\bnotice|\btell|out_\.text|sender_\.text|\.answer)\(\s*[^,()]+,\s*(std::string\()?")re");
    // The pattern itself: it catches a literal and lets a catalog line through.
    BOOST_TEST(std::regex_search(std::string(R"(co_await say(c, "Hello!");)"), own_text));
    BOOST_TEST(std::regex_search(std::string(R"(out_.text(chat_id, std::string("Hi ") + name);)"), own_text));
    BOOST_TEST(!std::regex_search(std::string(R"(co_await say(c, l.text(c.lang, "help"));)"), own_text));
    for (const auto& f : user_facing_sources()) {
        const auto text = read_text(f);
        std::smatch m;
        BOOST_TEST(!std::regex_search(text, m, own_text),
                   f.filename().string() << " sends its own text: " << (m.empty() ? "" : m.str()));
    }
}

BOOST_AUTO_TEST_SUITE_END()
