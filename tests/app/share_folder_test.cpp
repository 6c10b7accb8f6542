// The share folder search (issue 23, "run from anywhere") and the simulation's state folder, as
// tables over the sans-I/O functions, plus the search itself over real folders.
#include "app/share_folder.hpp"
#include "tests/common/temp_dir.hpp"

#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

using companion::app::share_search;
namespace fs = std::filesystem;

namespace {

struct candidates_row {
    const char* what;
    share_search search;
    std::vector<fs::path> expected;
};

} // namespace

BOOST_AUTO_TEST_SUITE(share_folder)

BOOST_AUTO_TEST_CASE(candidates_in_order) {
    const std::vector<candidates_row> rows{
        {"an explicit folder is the only candidate",
         {.explicit_dir = "/srv/data",
          .executable = "/usr/bin/companion-bot",
          .install_dir = "/usr/share/companion",
          .source_dir = "",
          .build_dir = ""},
         {"/srv/data"}},
        {"installed: beside the binary, then the configured prefix, then the source tree",
         {.explicit_dir = "",
          .executable = "/usr/bin/companion-bot",
          .install_dir = "/usr/local/share/companion",
          .source_dir = "/src/companion/data",
          .build_dir = "/src/companion/build/dev"},
         {"/usr/share/companion", "/usr/local/share/companion", "/src/companion/data"}},
        {"the same folder twice is tried once",
         {.explicit_dir = "",
          .executable = "/usr/local/bin/companion-bot",
          .install_dir = "/usr/local/share/companion/",
          .source_dir = "",
          .build_dir = ""},
         {"/usr/local/share/companion"}},
        {"a relocated prefix (dpkg -x into a temporary root)",
         {.explicit_dir = "",
          .executable = "/tmp/root/usr/bin/companion-bot",
          .install_dir = "/usr/share/companion",
          .source_dir = "",
          .build_dir = ""},
         {"/tmp/root/usr/share/companion", "/usr/share/companion"}},
        {"in its build tree: the source tree first (an older install must not shadow it)",
         {.explicit_dir = "",
          .executable = "/src/companion/build/dev/app/companion-bot",
          .install_dir = "/usr/local/share/companion",
          .source_dir = "/src/companion/data",
          .build_dir = "/src/companion/build/dev/"},
         {"/src/companion/data", "/src/companion/build/dev/share/companion", "/usr/local/share/companion"}},
        {"a build folder that is only a prefix of the binary's folder's name is not its folder",
         {.explicit_dir = "",
          .executable = "/src/companion/build/dev2/app/companion-bot",
          .install_dir = "",
          .source_dir = "/src/companion/data",
          .build_dir = "/src/companion/build/dev"},
         {"/src/companion/build/dev2/share/companion", "/src/companion/data"}},
        {"no executable known: the built-in folders",
         {.explicit_dir = "",
          .executable = "",
          .install_dir = "/usr/share/companion",
          .source_dir = "/src/data",
          .build_dir = ""},
         {"/usr/share/companion", "/src/data"}},
    };
    for (const auto& row : rows) {
        BOOST_TEST_CONTEXT(row.what) {
            const auto got = companion::app::share_candidates(row.search);
            BOOST_TEST_REQUIRE(got.size() == row.expected.size());
            for (std::size_t i = 0; i < got.size(); ++i) {
                BOOST_TEST(got[i] == row.expected[i]);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(the_first_folder_with_the_catalogs_wins_and_a_miss_names_every_path) {
    companion::test::temp_dir dir;
    const auto empty = dir.path / "empty";
    const auto half = dir.path / "half"; // personas but no locales
    const auto full = dir.path / "full";
    fs::create_directories(empty);
    fs::create_directories(half);
    fs::create_directories(full / "locales");
    std::ofstream(half / "personas.json") << "[]";
    std::ofstream(full / "personas.json") << "[]";

    const auto found = companion::app::find_share_folder({.explicit_dir = "",
                                                          .executable = "/nonexistent/bin/companion-bot",
                                                          .install_dir = half,
                                                          .source_dir = full,
                                                          .build_dir = ""});
    BOOST_TEST_REQUIRE(found.has_value());
    BOOST_TEST(*found == full);

    const auto missed = companion::app::find_share_folder(
        {.explicit_dir = "", .executable = "", .install_dir = empty, .source_dir = half, .build_dir = ""});
    BOOST_TEST_REQUIRE(!missed.has_value());
    BOOST_TEST(missed.error().find(empty.string() + ", " + half.string()) != std::string::npos,
               missed.error());
    BOOST_TEST(missed.error().find("--share-dir") != std::string::npos);

    const auto explicit_miss = companion::app::find_share_folder(
        {.explicit_dir = empty, .executable = "", .install_dir = "", .source_dir = full, .build_dir = ""});
    BOOST_TEST(!explicit_miss.has_value(), "an explicit folder is not a hint: the search ends there");
}

BOOST_AUTO_TEST_CASE(simulation_state_folder) {
    struct row {
        const char* xdg;
        const char* home;
        fs::path expected;
    };
    const std::vector<row> rows{
        {"/home/ayse/.state", "/home/ayse", "/home/ayse/.state/companion/simulation"},
        {"", "/home/ayse", "/home/ayse/.local/state/companion/simulation"},
        {"relative/state", "/home/ayse", "/home/ayse/.local/state/companion/simulation"},
        {"", "", "/tmp/companion-simulation-1000"},
        {"", "relative-home", "/tmp/companion-simulation-1000"},
    };
    for (const auto& r : rows) {
        BOOST_TEST_CONTEXT(r.xdg << " | " << r.home) {
            BOOST_TEST(companion::app::simulation_data_dir(r.xdg, r.home, "/tmp", 1000) == r.expected);
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
