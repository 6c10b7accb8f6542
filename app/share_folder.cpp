// The share folder search and the simulation's state folder.
#include "app/share_folder.hpp"

#include <algorithm>
#include <system_error>

#ifndef COMPANION_INSTALL_DATADIR
#error "app/CMakeLists.txt defines COMPANION_INSTALL_DATADIR (the installed share folder)"
#endif
#ifndef COMPANION_BUILD_DIR
#error "app/CMakeLists.txt defines COMPANION_BUILD_DIR (the build tree)"
#endif
#ifndef COMPANION_SOURCE_DATADIR
#error "app/CMakeLists.txt defines COMPANION_SOURCE_DATADIR (the source tree's data folder)"
#endif

namespace companion::app {

namespace {

/// Lexically: `p` is `dir` or below it.
bool within(const std::filesystem::path& p, const std::filesystem::path& dir) {
    if (p.empty() || dir.empty()) {
        return false;
    }
    const auto file = p.lexically_normal();
    const auto folder = dir.lexically_normal();
    auto f = file.begin();
    for (auto d = folder.begin(); d != folder.end(); ++d) {
        if (d->empty()) {
            continue; // the trailing "" of "a/b/"
        }
        if (f == file.end() || *f != *d) {
            return false;
        }
        ++f;
    }
    return true;
}

} // namespace

std::vector<std::filesystem::path> share_candidates(const share_search& search) {
    if (!search.explicit_dir.empty()) {
        return {search.explicit_dir};
    }
    std::vector<std::filesystem::path> out;
    const auto add = [&out](const std::filesystem::path& p) {
        if (p.empty()) {
            return;
        }
        auto normal = p.lexically_normal();
        if (!normal.has_filename() && normal.has_relative_path()) {
            normal = normal.parent_path(); // "a/b/" is "a/b"
        }
        if (std::find(out.begin(), out.end(), normal) == out.end()) {
            out.push_back(std::move(normal));
        }
    };
    if (within(search.executable, search.build_dir)) {
        add(search.source_dir);
    }
    if (!search.executable.empty() && search.executable.has_parent_path()) {
        add(search.executable.parent_path() / ".." / "share" / "companion");
    }
    add(search.install_dir);
    add(search.source_dir);
    return out;
}

boost::system::result<std::filesystem::path, std::string> find_share_folder(const share_search& search) {
    const auto candidates = share_candidates(search);
    std::string tried;
    for (const auto& dir : candidates) {
        std::error_code ec;
        if (std::filesystem::is_regular_file(dir / share_personas, ec) &&
            std::filesystem::is_directory(dir / share_locales, ec)) {
            return {boost::system::in_place_value, dir};
        }
        tried += (tried.empty() ? "" : ", ") + dir.string();
    }
    return {boost::system::in_place_error,
            "no data folder (" + std::string(share_personas) + " and " + share_locales + "/) in " +
                (tried.empty() ? std::string("any folder") : tried) +
                "; install the bot (cmake --install, or the Debian package), or pass --share-dir (or "
                "COMPANION_SHARE_DIR) naming the folder, or set [bot] personas and locales"};
}

share_search default_share_search(const std::string& explicit_dir) {
    std::error_code ec;
    auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (ec) {
        self.clear(); // no /proc: the built-in folders still work
    }
    return {.explicit_dir = explicit_dir,
            .executable = self,
            .install_dir = COMPANION_INSTALL_DATADIR,
            .source_dir = COMPANION_SOURCE_DATADIR,
            .build_dir = COMPANION_BUILD_DIR};
}

std::filesystem::path simulation_data_dir(const std::string& xdg_state_home,
                                          const std::string& home,
                                          const std::filesystem::path& temp,
                                          unsigned uid) {
    // The XDG base directory rules: a relative XDG_STATE_HOME is invalid and ignored.
    if (!xdg_state_home.empty() && std::filesystem::path(xdg_state_home).is_absolute()) {
        return std::filesystem::path(xdg_state_home) / "companion" / "simulation";
    }
    if (!home.empty() && std::filesystem::path(home).is_absolute()) {
        return std::filesystem::path(home) / ".local" / "state" / "companion" / "simulation";
    }
    return temp / ("companion-simulation-" + std::to_string(uid));
}

} // namespace companion::app
