// TLS tests with a CA and certificates made at test time: a valid chain passes; a wrong host
// name, an untrusted CA and an expired certificate fail with the typed TLS error, directly and
// through the CONNECT proxy; the system trust store is looked up lazily in a hashed directory.
#include "engine/offload.hpp"
#include "engine/task_group.hpp"
#include "net/detail/trust_store.hpp"
#include "net/http_client.hpp"
#include "net/http_server.hpp"
#include "tests/net/net_test_support.hpp"
#include "tests/net/test_certs.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <boost/test/unit_test.hpp>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

using namespace companion;
using namespace companion::net;
using engine::awaitable;
using tcp = boost::asio::ip::tcp;

namespace {

struct pki {
    test::temp_dir dir;
    test::key_and_cert ca = test::make_ca("companion test CA");
    test::key_and_cert other_ca = test::make_ca("someone else's CA");
    std::filesystem::path ca_file = dir.path / "ca.pem";
    std::filesystem::path other_ca_file = dir.path / "other-ca.pem";

    pki() {
        test::write_cert(ca_file, ca.cert);
        test::write_cert(other_ca_file, other_ca.cert);
    }

    // A server TLS context with a leaf for `name` and the given validity.
    std::shared_ptr<boost::asio::ssl::context>
    server_context(const std::string& name, long nb = -3600, long na = 86400) {
        auto leaf = test::make_leaf(ca, name, nb, na);
        const auto cert_file = dir.path / (name + std::to_string(na) + ".crt");
        const auto key_file = dir.path / (name + std::to_string(na) + ".key");
        test::write_cert(cert_file, leaf.cert);
        test::write_key(key_file, leaf.key);
        auto ctx = std::make_shared<boost::asio::ssl::context>(boost::asio::ssl::context::tls_server);
        ctx->use_certificate_chain_file(cert_file.string());
        ctx->use_private_key_file(key_file.string(), boost::asio::ssl::context::pem);
        return ctx;
    }
};

struct fixture {
    boost::asio::io_context ioc{1};
    engine::executor ex = ioc.get_executor();
    test::log_capture logs;
    pki keys;
};

awaitable<result<response>> fetch(http_client& c, std::string url) {
    request r;
    r.url = std::move(url);
    auto out = co_await c.send(std::move(r));
    co_return out;
}

awaitable<void> fetch_body(http_client& c, std::string url, std::vector<std::string>& bodies) {
    auto r = co_await fetch(c, std::move(url));
    bodies.push_back(r.has_value() ? r->body : r.error().message());
}

std::unique_ptr<http_server> tls_server(engine::executor ex, std::shared_ptr<boost::asio::ssl::context> ctx) {
    auto s = std::make_unique<http_server>(ex, server_config{.tls = std::move(ctx)});
    s->route(http::verb::get, "/hello", [](server_request&) -> awaitable<server_response> {
        co_return text_response(200, "secure hi");
    });
    return s;
}

// A minimal HTTP CONNECT proxy: one tunnel per accepted connection, bytes piped both ways.
struct connect_proxy {
    explicit connect_proxy(engine::executor e)
        : ex(e), acceptor(e, {boost::asio::ip::make_address("127.0.0.1"), 0}), tasks(e) {}

    std::uint16_t port() const { return acceptor.local_endpoint().port(); }

    static awaitable<void> pipe(tcp::socket& from, tcp::socket& to) {
        std::array<char, 16384> buf{};
        for (;;) {
            auto [ec, n] = co_await from.async_read_some(boost::asio::buffer(buf),
                                                         boost::asio::as_tuple(engine::use_awaitable));
            if (ec) {
                break;
            }
            auto [wec, wn] = co_await boost::asio::async_write(to,
                                                               boost::asio::buffer(buf.data(), n),
                                                               boost::asio::as_tuple(engine::use_awaitable));
            (void)wn;
            if (wec) {
                break;
            }
        }
        boost::system::error_code ignored;
        to.shutdown(tcp::socket::shutdown_send, ignored);
    }

    awaitable<void> tunnel(tcp::socket client) {
        boost::asio::streambuf head;
        auto [ec, n] = co_await boost::asio::async_read_until(client,
                                                              head,
                                                              "\r\n\r\n",
                                                              boost::asio::as_tuple(engine::use_awaitable));
        (void)n;
        if (ec) {
            co_return;
        }
        std::string request_line;
        std::istream is(&head);
        std::getline(is, request_line);
        connect_lines.push_back(request_line);
        // "CONNECT host:port HTTP/1.1"
        const auto sp1 = request_line.find(' ');
        const auto sp2 = request_line.find(' ', sp1 + 1);
        const auto authority = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
        const auto colon = authority.rfind(':');
        tcp::socket upstream(ex);
        tcp::resolver resolver(ex);
        auto endpoints = co_await resolver.async_resolve(authority.substr(0, colon),
                                                         authority.substr(colon + 1),
                                                         engine::use_awaitable);
        co_await boost::asio::async_connect(upstream, endpoints, engine::use_awaitable);
        co_await boost::asio::async_write(
            client,
            boost::asio::buffer(std::string("HTTP/1.1 200 Connection established\r\n\r\n")),
            engine::use_awaitable);
        engine::task_group pipes(ex);
        (void)pipes.spawn(pipe(client, upstream));
        (void)pipes.spawn(pipe(upstream, client));
        co_await pipes.join();
    }

    awaitable<void> run() {
        for (;;) {
            auto [ec, sock] = co_await acceptor.async_accept(boost::asio::as_tuple(engine::use_awaitable));
            if (ec) {
                co_return;
            }
            (void)tasks.spawn(tunnel(std::move(sock)));
        }
    }

    engine::executor ex;
    tcp::acceptor acceptor;
    engine::task_group tasks;
    std::vector<std::string> connect_lines;
};

// The name OpenSSL's directory lookup asks for: the subject hash, then a counter.
std::string hashed_file_name(X509* cert) {
    const unsigned long hash = X509_NAME_hash_ex(X509_get_subject_name(cert), nullptr, nullptr, nullptr);
    std::array<char, 16> name{};
    std::snprintf(name.data(), name.size(), "%08lx.0", hash);
    return name.data();
}

// Sets (or unsets) an environment variable for a test's span and puts the old value back.
class scoped_env {
public:
    scoped_env(const char* name, std::optional<std::string> value) : name_(name) {
        if (const char* old = std::getenv(name)) { // NOLINT(concurrency-mt-unsafe): one test thread
            old_ = old;
        }
        set(value);
    }
    scoped_env(const scoped_env&) = delete;
    scoped_env& operator=(const scoped_env&) = delete;
    ~scoped_env() { set(old_); }

private:
    void set(const std::optional<std::string>& v) {
        const int rc = v ? ::setenv(name_, v->c_str(), 1) : ::unsetenv(name_);
        if (rc != 0) {
            throw std::runtime_error("setenv failed");
        }
    }
    const char* name_;
    std::optional<std::string> old_;
};

void touch(const std::filesystem::path& p) {
    std::ofstream(p) << "x";
}

} // namespace

BOOST_AUTO_TEST_SUITE(tls_suite)

BOOST_AUTO_TEST_CASE(the_system_trust_store_is_a_hashed_directory_when_there_is_one) {
    using kind = detail::trust_source::kind;
    test::temp_dir hashed;
    touch(hashed.path / "5ad8a5d6.0");
    touch(hashed.path / "ISRG_Root_X1.pem");
    test::temp_dir unhashed;
    touch(unhashed.path / "ca.pem");
    touch(unhashed.path / "5AD8A5D6.0");  // OpenSSL's hashes are lower case
    touch(unhashed.path / "5ad8a5d6.r0"); // a CRL's name: no certificate to look up
    touch(unhashed.path / "5ad8a5d6.");
    const std::string h = hashed.path.string();
    const std::string u = unhashed.path.string();
    const std::string missing = (unhashed.path / "none").string();
    struct row {
        std::optional<std::string> file_env, dir_env;
        std::string default_dir;
        kind how;
        std::string path;
    };
    const std::vector<row> table{
        {std::nullopt, std::nullopt, h, kind::hashed_directory, h},    // Debian: /usr/lib/ssl/certs
        {std::nullopt, std::string(""), h, kind::hashed_directory, h}, // empty means unset
        {std::nullopt, h, u, kind::hashed_directory, h},               // SSL_CERT_DIR wins
        {std::nullopt, u, h, kind::openssl_defaults, ""},              // ... even when unhashed
        {std::nullopt, missing, h, kind::openssl_defaults, ""},
        {std::nullopt, missing + ":" + h, u, kind::hashed_directory, missing + ":" + h},
        {std::nullopt, std::nullopt, u, kind::openssl_defaults, ""},
        {std::nullopt, std::nullopt, missing, kind::openssl_defaults, ""},
        {std::string("/etc/my-bundle.pem"), h, h, kind::openssl_defaults, ""}, // the operator's bundle
        {std::string(""), std::nullopt, h, kind::hashed_directory, h},
    };
    for (const auto& r : table) {
        const auto got = detail::choose_system_trust(r.file_env, r.dir_env, r.default_dir);
        BOOST_TEST((got.how == r.how), r.dir_env.value_or("(unset)") << " default " << r.default_dir);
        BOOST_TEST(got.path == r.path);
    }
}

BOOST_FIXTURE_TEST_CASE(the_system_trust_store_verifies_with_the_root_it_looks_up, fixture) {
    // No ca_file: the client trusts the system store, here a hashed directory holding the test
    // CA (SSL_CERT_DIR), read on the handshake; one holding only another CA trusts nothing here.
    test::temp_dir trusted;
    test::write_cert(trusted.path / hashed_file_name(keys.ca.cert), keys.ca.cert);
    test::temp_dir other;
    test::write_cert(other.path / hashed_file_name(keys.other_ca.cert), keys.other_ca.cert);
    const scoped_env no_bundle("SSL_CERT_FILE", std::nullopt);
    test::run_test(ioc, [&]() -> awaitable<void> {
        auto s = tls_server(ex, keys.server_context("localhost"));
        auto port = s->start();
        BOOST_TEST_REQUIRE(port.has_value());
        const std::string url = "https://localhost:" + std::to_string(*port) + "/hello";
        {
            const scoped_env dir("SSL_CERT_DIR", trusted.path.string());
            BOOST_TEST((detail::system_trust().how == detail::trust_source::kind::hashed_directory));
            http_client c(ex, {.name = "system-trust"});
            auto r = co_await fetch(c, url);
            BOOST_TEST_REQUIRE(r.has_value(), (r.has_value() ? "" : r.error().message()));
            BOOST_TEST(r->body == "secure hi");
        }
        {
            const scoped_env dir("SSL_CERT_DIR", other.path.string());
            http_client c(ex, {.name = "system-trust"});
            auto r = co_await fetch(c, url);
            BOOST_TEST_REQUIRE(!r.has_value());
            BOOST_TEST((r.error().code == make_error_code(errc::tls_verify_failed)));
        }
        co_await s->stop();
    }());
}

BOOST_FIXTURE_TEST_CASE(the_tls_context_is_made_once_off_the_loop_on_the_first_https_connection, fixture) {
    // Plain HTTP never makes it; four https requests that start together wait for one context,
    // made on the offload pool, and all pass verification with it.
    engine::offload_pool offload(1);
    test::run_test(ioc, [&]() -> awaitable<void> {
        auto secure = tls_server(ex, keys.server_context("localhost"));
        BOOST_TEST_REQUIRE(secure->start().has_value());
        http_server plain(ex, server_config{});
        plain.route(http::verb::get, "/hello", [](server_request&) -> awaitable<server_response> {
            co_return text_response(200, "plain hi");
        });
        auto plain_port = plain.start();
        BOOST_TEST_REQUIRE(plain_port.has_value());
        http_client c(ex,
                      {.tls = {.ca_file = keys.ca_file.string()}, .name = "lazy-tls", .offload = &offload});

        auto p = co_await fetch(c, "http://127.0.0.1:" + std::to_string(*plain_port) + "/hello");
        BOOST_TEST_REQUIRE(p.has_value(), (p.has_value() ? "" : p.error().message()));
        BOOST_TEST(p->body == "plain hi");
        BOOST_TEST(!c.tls_ready());

        const std::string url = "https://localhost:" + std::to_string(secure->port()) + "/hello";
        std::vector<std::string> bodies;
        engine::task_group g(ex);
        for (int i = 0; i < 4; ++i) {
            BOOST_TEST(g.spawn(fetch_body(c, url, bodies)));
        }
        co_await g.join();
        BOOST_TEST(c.tls_ready());
        BOOST_TEST(bodies == std::vector<std::string>(4, "secure hi"), boost::test_tools::per_element());
        BOOST_TEST(c.open_connections() == 5U); // the plain one and four secure ones, pooled
        co_await secure->stop();
        co_await plain.stop();
    }());
}

BOOST_FIXTURE_TEST_CASE(valid_chain_and_host_name_pass, fixture) {
    test::run_test(ioc, [&]() -> awaitable<void> {
        auto s = tls_server(ex, keys.server_context("localhost"));
        auto port = s->start();
        BOOST_TEST_REQUIRE(port.has_value());
        http_client c(ex, {.tls = {.ca_file = keys.ca_file.string()}, .name = "tls"});
        for (int i = 0; i < 3; ++i) {
            auto r = co_await fetch(c, "https://localhost:" + std::to_string(*port) + "/hello");
            BOOST_TEST_REQUIRE(r.has_value(), (r.has_value() ? "" : r.error().message()));
            BOOST_TEST(r->body == "secure hi");
            BOOST_TEST(r->reused_connection == (i > 0));
        }
        co_await s->stop();
    }());
}

BOOST_FIXTURE_TEST_CASE(wrong_host_untrusted_ca_and_expired_certificate_fail_typed, fixture) {
    test::run_test(ioc, [&]() -> awaitable<void> {
        auto wrong = tls_server(ex, keys.server_context("wrong.example"));
        auto expired = tls_server(ex, keys.server_context("localhost", -7200, -3600));
        auto good = tls_server(ex, keys.server_context("localhost"));
        BOOST_TEST_REQUIRE(wrong->start().has_value());
        BOOST_TEST_REQUIRE(expired->start().has_value());
        BOOST_TEST_REQUIRE(good->start().has_value());
        http_client trusting(ex, {.tls = {.ca_file = keys.ca_file.string()}, .name = "tls"});
        http_client distrusting(ex, {.tls = {.ca_file = keys.other_ca_file.string()}, .name = "tls"});

        auto w = co_await fetch(trusting, "https://localhost:" + std::to_string(wrong->port()) + "/hello");
        BOOST_TEST_REQUIRE(!w.has_value());
        BOOST_TEST((w.error().code == make_error_code(errc::tls_verify_failed)));
        BOOST_TEST(w.error().detail.find("hostname mismatch") != std::string::npos);

        auto u = co_await fetch(distrusting, "https://localhost:" + std::to_string(good->port()) + "/hello");
        BOOST_TEST_REQUIRE(!u.has_value());
        BOOST_TEST((u.error().code == make_error_code(errc::tls_verify_failed)));

        auto e = co_await fetch(trusting, "https://localhost:" + std::to_string(expired->port()) + "/hello");
        BOOST_TEST_REQUIRE(!e.has_value());
        BOOST_TEST((e.error().code == make_error_code(errc::tls_verify_failed)));
        BOOST_TEST(e.error().detail.find("expired") != std::string::npos);

        BOOST_TEST(trusting.open_connections() == 0U);
        co_await wrong->stop();
        co_await expired->stop();
        co_await good->stop();
    }());
}

BOOST_FIXTURE_TEST_CASE(tls_through_the_connect_proxy_verifies_the_origin, fixture) {
    test::run_test(ioc, [&]() -> awaitable<void> {
        auto good = tls_server(ex, keys.server_context("localhost"));
        auto wrong = tls_server(ex, keys.server_context("wrong.example"));
        BOOST_TEST_REQUIRE(good->start().has_value());
        BOOST_TEST_REQUIRE(wrong->start().has_value());
        connect_proxy proxy(ex);
        engine::task_group g(ex);
        BOOST_TEST(g.spawn(proxy.run()));
        proxy_config pc;
        pc.host = "127.0.0.1";
        pc.port = proxy.port();
        http_client c(ex, {.tls = {.ca_file = keys.ca_file.string()}, .proxy = pc, .name = "proxied"});

        auto ok = co_await fetch(c, "https://localhost:" + std::to_string(good->port()) + "/hello");
        BOOST_TEST_REQUIRE(ok.has_value(), (ok.has_value() ? "" : ok.error().message()));
        BOOST_TEST(ok->body == "secure hi");
        BOOST_TEST_REQUIRE(proxy.connect_lines.size() == 1U);
        BOOST_TEST(proxy.connect_lines[0].find("CONNECT localhost:" + std::to_string(good->port()) +
                                               " HTTP/1.1") == 0U);

        auto bad = co_await fetch(c, "https://localhost:" + std::to_string(wrong->port()) + "/hello");
        BOOST_TEST_REQUIRE(!bad.has_value());
        BOOST_TEST((bad.error().code == make_error_code(errc::tls_verify_failed)));

        proxy.acceptor.close();
        c.close_idle();
        co_await good->stop();
        co_await wrong->stop();
        g.cancel();
        co_await g.join();
    }());
}

BOOST_AUTO_TEST_SUITE_END()
