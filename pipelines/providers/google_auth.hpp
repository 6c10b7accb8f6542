// Service-account OAuth for Vertex AI (RFC 7523 JWT bearer, contracts/gemini-omni-and-vertex-veo.md
// §2): a JWT signed RS256 with the account's PKCS#8 key is exchanged at the token URI for an
// access token, cached for every job and refreshed about five minutes before it expires.
#pragma once

#include "engine/asio.hpp"
#include "pipelines/video_provider.hpp"

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace companion::engine {
class semaphore;
}

namespace companion::pipelines::providers {

inline constexpr std::string_view cloud_platform_scope = "https://www.googleapis.com/auth/cloud-platform";

/// The fields of a service-account key file (GOOGLE_APPLICATION_CREDENTIALS) that matter here.
struct service_account {
    std::string client_email{};
    std::string private_key{}; ///< PKCS#8 RSA PEM; never logged
    std::string private_key_id{};
    std::string token_uri = "https://oauth2.googleapis.com/token";
    std::string project_id{};
};

/// Errors (kind auth): not JSON, not a service_account key, or fields missing.
video_result<service_account> parse_service_account(std::string_view json);
video_result<service_account> load_service_account(const std::filesystem::path& path);

/// base64url without padding (RFC 7515), and its inverse (nullopt on bad input).
std::string encode_base64url(std::string_view bytes);
std::optional<std::string> decode_base64url(std::string_view text);

/// `b64url(header).b64url(claims).b64url(signature)` with header {alg RS256, typ JWT, kid} and
/// claims {iss, scope, aud, iat, exp = iat + lifetime (at most an hour)}. Errors (auth): the key
/// does not load or cannot sign.
video_result<std::string>
make_service_account_jwt(const service_account& account,
                         std::string_view scope,
                         std::string_view audience,
                         std::chrono::system_clock::time_point now,
                         std::chrono::seconds lifetime = std::chrono::seconds(3600));

struct service_account_token_config {
    service_account account{};
    std::string token_uri{}; ///< empty: the account's token_uri (tests point it at a fake)
    std::string scope = std::string(cloud_platform_scope);
    std::chrono::seconds refresh_margin = std::chrono::seconds(300); ///< refresh this long before expiry
    std::chrono::milliseconds timeout = std::chrono::seconds(20);    ///< per exchange
};

/// One cached access token for every caller. Use from the loop thread only; `http` must outlive
/// the source and its calls.
class service_account_token_source {
public:
    service_account_token_source(net::http_client& http, service_account_token_config cfg);
    /// A source that answers `error` (e.g. an unreadable key file) to every call.
    service_account_token_source(net::http_client& http, video_error error);
    ~service_account_token_source();
    service_account_token_source(const service_account_token_source&) = delete;
    service_account_token_source& operator=(const service_account_token_source&) = delete;

    /// "Bearer <token>". Concurrent callers wait for one exchange. Errors: auth (invalid_grant,
    /// bad key), rate_limited, transient (5xx, transport).
    engine::awaitable<video_result<std::string>> authorization();
    /// Forgets the cached token (after a 401), so the next call exchanges again.
    void invalidate() noexcept { expires_ = {}; }
    std::size_t exchanges() const noexcept { return exchanges_; }

private:
    engine::awaitable<video_result<std::string>> exchange();
    bool fresh() const;

    net::http_client& http_;
    service_account_token_config cfg_;
    std::optional<video_error> error_{};
    std::string token_{};
    engine::time_point expires_{};
    std::unique_ptr<engine::semaphore> gate_{};
    std::size_t exchanges_ = 0;
};

} // namespace companion::pipelines::providers
