// One temporary folder type for every suite: a fresh directory under the system's temp folder,
// removed with everything in it when the owner ends.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>

namespace companion::test {

struct temp_dir {
    std::filesystem::path path;

    temp_dir() {
        std::string pattern = (std::filesystem::temp_directory_path() / "companion-test-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) {
            throw std::runtime_error("mkdtemp failed");
        }
        path = pattern;
    }
    ~temp_dir() {
        std::error_code ignored;
        std::filesystem::remove_all(path, ignored);
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
};

} // namespace companion::test
