// Service-account JWT minting (OpenSSL EVP, RS256) and the cached token exchange.
#include "pipelines/providers/google_auth.hpp"

#include "engine/log.hpp"
#include "engine/sync.hpp"
#include "net/gemini/base64.hpp"
#include "net/http_client.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <fstream>
#include <iterator>
#include <memory>

namespace companion::pipelines::providers {
namespace {

video_error auth_error(std::string message) {
    return {.kind = video_error_kind::auth, .message = std::move(message), .retry_after = std::nullopt};
}

std::string string_of(const boost::json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

struct pkey_deleter {
    void operator()(EVP_PKEY* k) const noexcept { EVP_PKEY_free(k); }
};
struct md_ctx_deleter {
    void operator()(EVP_MD_CTX* c) const noexcept { EVP_MD_CTX_free(c); }
};
struct bio_deleter {
    void operator()(BIO* b) const noexcept { BIO_free(b); }
};

/// Releases a semaphore permit at scope exit (including a coroutine frame's destruction).
struct permit {
    engine::semaphore& gate;
    ~permit() { gate.release(); }
};

std::string form_encode(std::string_view s) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (const char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if (std::isalnum(c) != 0 || c == '-' || c == '.' || c == '_' || c == '~') {
            out += ch;
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 0x0f];
        }
    }
    return out;
}

} // namespace

video_result<service_account> parse_service_account(std::string_view json) {
    boost::system::error_code ec;
    const auto v = boost::json::parse(json, ec);
    if (ec || !v.is_object()) {
        return auth_error("the service-account key file is not a JSON object");
    }
    const auto& o = v.as_object();
    if (const auto type = string_of(o, "type"); !type.empty() && type != "service_account") {
        return auth_error("the credentials are of type " + type + ", not service_account");
    }
    service_account sa;
    sa.client_email = string_of(o, "client_email");
    sa.private_key = string_of(o, "private_key");
    sa.private_key_id = string_of(o, "private_key_id");
    sa.project_id = string_of(o, "project_id");
    if (auto uri = string_of(o, "token_uri"); !uri.empty()) {
        sa.token_uri = std::move(uri);
    }
    if (sa.client_email.empty() || sa.private_key.empty()) {
        return auth_error("the service-account key file has no client_email or private_key");
    }
    return sa;
}

video_result<service_account> load_service_account(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return auth_error("cannot read the service-account key file " + path.string());
    }
    const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    return parse_service_account(text);
}

std::string encode_base64url(std::string_view bytes) {
    std::string out = net::gemini::encode_base64(bytes);
    while (!out.empty() && out.back() == '=') {
        out.pop_back();
    }
    for (auto& c : out) {
        c = c == '+' ? '-' : c == '/' ? '_' : c;
    }
    return out;
}

std::optional<std::string> decode_base64url(std::string_view text) {
    std::string std_form(text);
    for (auto& c : std_form) {
        c = c == '-' ? '+' : c == '_' ? '/' : c;
    }
    while (std_form.size() % 4 != 0) {
        std_form += '=';
    }
    return net::gemini::decode_base64(std_form);
}

video_result<std::string> make_service_account_jwt(const service_account& account,
                                                   std::string_view scope,
                                                   std::string_view audience,
                                                   std::chrono::system_clock::time_point now,
                                                   std::chrono::seconds lifetime) {
    const auto iat = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
    boost::json::object header{{"alg", "RS256"}, {"typ", "JWT"}};
    if (!account.private_key_id.empty()) {
        header["kid"] = account.private_key_id;
    }
    const boost::json::object claims{{"iss", account.client_email},
                                     {"scope", scope},
                                     {"aud", audience},
                                     {"iat", iat},
                                     {"exp", iat + std::min<std::int64_t>(lifetime.count(), 3600)}};
    const std::string signing_input = encode_base64url(boost::json::serialize(header)) + "." +
                                      encode_base64url(boost::json::serialize(claims));

    std::unique_ptr<BIO, bio_deleter> bio(
        BIO_new_mem_buf(account.private_key.data(), static_cast<int>(account.private_key.size())));
    if (!bio) {
        return auth_error("cannot read the service account's private key");
    }
    std::unique_ptr<EVP_PKEY, pkey_deleter> key(
        PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
    if (!key) {
        return auth_error("the service account's private_key is not a PEM private key");
    }
    std::unique_ptr<EVP_MD_CTX, md_ctx_deleter> ctx(EVP_MD_CTX_new());
    std::size_t length = 0;
    if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1 ||
        EVP_DigestSign(ctx.get(),
                       nullptr,
                       &length,
                       reinterpret_cast<const unsigned char*>(signing_input.data()),
                       signing_input.size()) != 1) {
        return auth_error("cannot sign with the service account's private key");
    }
    std::string signature(length, '\0');
    if (EVP_DigestSign(ctx.get(),
                       reinterpret_cast<unsigned char*>(signature.data()),
                       &length,
                       reinterpret_cast<const unsigned char*>(signing_input.data()),
                       signing_input.size()) != 1) {
        return auth_error("cannot sign with the service account's private key");
    }
    signature.resize(length);
    return signing_input + "." + encode_base64url(signature);
}

service_account_token_source::service_account_token_source(net::http_client& http,
                                                           service_account_token_config cfg)
    : http_(http), cfg_(std::move(cfg)) {
    if (cfg_.token_uri.empty()) {
        cfg_.token_uri = cfg_.account.token_uri;
    }
}

service_account_token_source::service_account_token_source(net::http_client& http, video_error error)
    : http_(http), error_(std::move(error)) {}

service_account_token_source::~service_account_token_source() = default;

bool service_account_token_source::fresh() const {
    return !token_.empty() && engine::clock::now() < expires_;
}

engine::awaitable<video_result<std::string>> service_account_token_source::authorization() {
    if (error_) {
        co_return *error_;
    }
    if (fresh()) {
        co_return "Bearer " + token_;
    }
    if (!gate_) {
        auto ex = co_await asio::this_coro::executor;
        gate_ = std::make_unique<engine::semaphore>(ex, 1);
    }
    co_await gate_->acquire();
    const permit held{*gate_};
    if (fresh()) {
        co_return "Bearer " + token_; // another caller exchanged while this one waited
    }
    auto exchanged = co_await exchange();
    co_return exchanged;
}

engine::awaitable<video_result<std::string>> service_account_token_source::exchange() {
    auto jwt =
        make_service_account_jwt(cfg_.account, cfg_.scope, cfg_.token_uri, std::chrono::system_clock::now());
    if (!jwt) {
        co_return jwt.error();
    }
    ++exchanges_;
    net::request r;
    r.method = net::http::verb::post;
    r.url = cfg_.token_uri;
    r.headers.set(net::http::field::content_type, "application/x-www-form-urlencoded");
    r.headers.set(net::http::field::accept, "application/json");
    r.body =
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=" + form_encode(*jwt);
    net::phase_timeouts t;
    t.connect = cfg_.timeout;
    t.tls_handshake = cfg_.timeout;
    t.write = cfg_.timeout;
    t.response_header = cfg_.timeout;
    t.body = cfg_.timeout;
    r.timeouts = t;
    r.replayable = net::replay::safe; // an exchange has no side effect worth guarding
    const auto started = engine::clock::now();
    auto sent = co_await http_.send(std::move(r));
    if (!sent) {
        co_return video_error{.kind = video_error_kind::transient,
                              .message = "token exchange: " + sent.error().message(),
                              .retry_after = std::nullopt};
    }
    boost::system::error_code ec;
    const auto v = boost::json::parse(sent->body, ec);
    const boost::json::object* o = !ec && v.is_object() ? &v.as_object() : nullptr;
    if (!sent->ok()) {
        std::string what = "token exchange: HTTP " + std::to_string(sent->status);
        if (o != nullptr) {
            what += " " + string_of(*o, "error");
            if (auto d = string_of(*o, "error_description"); !d.empty()) {
                what += ": " + d;
            }
        }
        video_error e;
        e.message = engine::secrets().redact(what);
        if (sent->status == 429) {
            e.kind = video_error_kind::rate_limited;
        } else if (sent->status >= 500 || sent->status == 408) {
            e.kind = video_error_kind::transient;
        } else {
            e.kind = video_error_kind::auth; // invalid_grant (clock skew, revoked key), invalid_client
        }
        co_return e;
    }
    const std::string token = o != nullptr ? string_of(*o, "access_token") : std::string();
    if (token.empty()) {
        co_return video_error{.kind = video_error_kind::transient,
                              .message = "token exchange: the answer has no access_token",
                              .retry_after = std::nullopt};
    }
    std::int64_t expires_in = 3600;
    if (const auto* e = o->if_contains("expires_in"); e && (e->is_int64() || e->is_uint64())) {
        expires_in = e->to_number<std::int64_t>();
    }
    engine::secrets().add_secret(token);
    token_ = token;
    // Counted from before the request: the token cannot outlive what the server granted.
    expires_ = started + std::chrono::seconds(expires_in) - cfg_.refresh_margin;
    engine::log().info("vertex.token_refreshed", {{"expires_in_s", expires_in}});
    co_return "Bearer " + token_;
}

} // namespace companion::pipelines::providers
