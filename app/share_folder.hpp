// Where the bot finds what it ships with (issue 23, "run from anywhere"): the persona catalog, the
// locale catalogs and the example configuration live in one share folder, found the same way from
// any working directory. An installed binary (`cmake --install`, the Debian package, or a package
// unpacked anywhere with `dpkg -x`) finds `<prefix>/share/companion` beside its own `bin/`; a
// binary run from its build tree finds the `data/` folder of the source tree it was built from.
// The simulation's own data goes to the user's state folder, not to the working directory.
#pragma once

#include <boost/system/result.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace companion::app {

/// What the search starts from; every field may be empty.
struct share_search {
    std::filesystem::path explicit_dir; ///< --share-dir or COMPANION_SHARE_DIR: the only candidate
    std::filesystem::path executable;   ///< this binary's own path (/proc/self/exe)
    std::filesystem::path install_dir;  ///< the data folder of the prefix it was configured for
    std::filesystem::path source_dir;   ///< the source tree's data/ folder it was built from
    std::filesystem::path build_dir;    ///< the build tree it was built in
};

/// Sans-I/O: the folders to try, in order, without duplicates. An explicit folder is the only
/// candidate (a wrong --share-dir is an error, not a reason to look elsewhere). A binary inside
/// its build tree takes its source tree's first (an older installed copy must not shadow the data
/// it was built with). Then the folder beside the binary (`<exe>/../share/companion`, so a
/// relocated prefix works), the configured install folder, and the source tree's.
std::vector<std::filesystem::path> share_candidates(const share_search& search);

/// The share folder's content, relative to it.
inline constexpr const char* share_personas = "personas.json";
inline constexpr const char* share_locales = "locales";
inline constexpr const char* share_example_config = "companion.example.toml";

/// The first candidate that holds the persona catalog and the locale folder; otherwise one line
/// naming every path tried and how to point at the right one.
boost::system::result<std::filesystem::path, std::string> find_share_folder(const share_search& search);

/// The search this binary runs: `explicit_dir`, its own path, and the folders it was built with.
share_search default_share_search(const std::string& explicit_dir);

/// Sans-I/O: where the simulation keeps its database and media when no --data-dir is given:
/// `$XDG_STATE_HOME/companion/simulation`, else `$HOME/.local/state/companion/simulation`, else
/// `<temp>/companion-simulation-<uid>` (a service account without a home).
std::filesystem::path simulation_data_dir(const std::string& xdg_state_home,
                                          const std::string& home,
                                          const std::filesystem::path& temp,
                                          unsigned uid);

} // namespace companion::app
