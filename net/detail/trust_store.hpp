// Where the HTTP client finds the system's trusted roots. OpenSSL's default paths parse the whole
// bundle file at once (Debian's ca-certificates.crt: about 140 roots, 2.4 MB resident and 28 ms
// of CPU per client at start-up, most of it never used); the certificate directory, whose files
// are named by subject hash (Debian's update-ca-certificates keeps /etc/ssl/certs so), is read
// lazily: a handshake loads the one root it needs, once. Internal to net/ and its tests.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace companion::net::detail {

struct trust_source {
    enum class kind {
        hashed_directory, ///< add `path` as a lookup directory (lazy)
        openssl_defaults, ///< SSL_CTX_set_default_verify_paths (the bundle, read eagerly)
    };
    kind how = kind::openssl_defaults;
    std::string path{}; ///< the directory (or colon-separated directories) for hashed_directory
};

/// Chooses the system trust store from the environment OpenSSL honours: SSL_CERT_FILE set (a
/// bundle the operator chose) keeps OpenSSL's defaults, which read it; otherwise the directories
/// of SSL_CERT_DIR (colon-separated), or OpenSSL's default directory, are used lazily when at
/// least one of them holds a file named by subject hash ("8 hex digits . digit"), and OpenSSL's
/// defaults when none does (an unhashed directory would make every handshake fail). Reads the
/// directories' names (blocking file work: call it at construction, not on the loop's hot path).
trust_source choose_system_trust(std::optional<std::string_view> cert_file_env,
                                 std::optional<std::string_view> cert_dir_env,
                                 std::string_view default_dir);

/// The same choice from this process's environment and OpenSSL's compiled-in default directory.
trust_source system_trust();

} // namespace companion::net::detail
