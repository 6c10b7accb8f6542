// The system trust store: a hashed directory read lazily when there is one (trust_store.hpp).
#include "net/detail/trust_store.hpp"

#include <openssl/x509.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <system_error>

namespace companion::net::detail {
namespace {

// "5ad8a5d6.0": the subject hash OpenSSL's directory lookup asks for, and a collision counter.
bool hashed_name(std::string_view name) {
    if (name.size() < 10 || name[8] != '.') {
        return false;
    }
    const auto hex = name.substr(0, 8);
    const auto counter = name.substr(9);
    return std::all_of(hex.begin(),
                       hex.end(),
                       [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }) &&
           std::all_of(counter.begin(), counter.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool holds_hashed_names(const std::filesystem::path& dir) {
    std::error_code ec;
    std::filesystem::directory_iterator it(dir, ec);
    for (; !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
        if (hashed_name(it->path().filename().native())) {
            return true;
        }
    }
    return false; // missing, unreadable or unhashed: not a directory OpenSSL could look up in
}

std::optional<std::string_view> env(const char* name) {
    const char* v = std::getenv(name); // NOLINT(concurrency-mt-unsafe): read once, at construction
    if (v == nullptr) {
        return std::nullopt;
    }
    return std::string_view(v);
}

} // namespace

trust_source choose_system_trust(std::optional<std::string_view> cert_file_env,
                                 std::optional<std::string_view> cert_dir_env,
                                 std::string_view default_dir) {
    if (cert_file_env && !cert_file_env->empty()) {
        return {};
    }
    const std::string_view dirs = cert_dir_env && !cert_dir_env->empty() ? *cert_dir_env : default_dir;
    for (std::string_view rest = dirs; !rest.empty();) {
        const auto colon = rest.find(':');
        const auto one = rest.substr(0, colon);
        if (!one.empty() && holds_hashed_names(std::filesystem::path(one))) {
            return {.how = trust_source::kind::hashed_directory, .path = std::string(dirs)};
        }
        rest = colon == std::string_view::npos ? std::string_view{} : rest.substr(colon + 1);
    }
    return {};
}

trust_source system_trust() {
    return choose_system_trust(env(X509_get_default_cert_file_env()),
                               env(X509_get_default_cert_dir_env()),
                               X509_get_default_cert_dir());
}

} // namespace companion::net::detail
