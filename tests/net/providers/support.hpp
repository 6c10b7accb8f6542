// Helpers for the provider client tests: drive a test coroutine on a real io_context (loopback
// sockets, real time), rethrow what it threw, and check downloaded files.
#pragma once

#include "engine/asio.hpp"
#include "engine/time.hpp"
#include "sim/fault.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>

#include <openssl/evp.h>

#include <chrono>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>

namespace companion::test {

using namespace std::chrono_literals;

/// Runs `body()` (a coroutine factory; it lives in the caller's full expression, so a lambda that
/// captures `this` stays alive while the loop runs) until the loop has no work, then rethrows.
template <class F>
void run_loop(asio::io_context& ioc, F&& body) {
    std::exception_ptr failure;
    bool finished = false;
    asio::co_spawn(ioc, body(), [&](std::exception_ptr e) {
        failure = e;
        finished = true;
    });
    ioc.run();
    ioc.restart();
    if (failure) {
        std::rethrow_exception(failure);
    }
    BOOST_REQUIRE(finished);
}

inline std::string sha256_hex(const std::string& data) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_Digest(data.data(), data.size(), md, &n, EVP_sha256(), nullptr);
    std::string out;
    char buf[3];
    for (unsigned i = 0; i < n; ++i) {
        std::snprintf(buf, sizeof buf, "%02x", md[i]);
        out += buf;
    }
    return out;
}

inline std::string read_file(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// A planned simulator fault (sim::fault has members without initializers, so designated
/// initializers that skip them warn on g++ 12).
inline sim::fault fault_of(sim::fault_kind kind,
                           std::string match = {},
                           std::string detail = {},
                           engine::duration delay = 0ms,
                           unsigned status = 0,
                           int count = 1) {
    sim::fault f;
    f.match = std::move(match);
    f.kind = kind;
    f.count = count;
    f.delay = delay;
    f.status = status;
    f.detail = std::move(detail);
    return f;
}

/// A fresh directory under the system temp dir, removed at scope exit.
struct temp_dir {
    std::filesystem::path path;
    temp_dir() {
        std::random_device rd;
        path = std::filesystem::temp_directory_path() / ("companion-providers-" + std::to_string(rd()));
        std::filesystem::create_directories(path);
    }
    ~temp_dir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
};

} // namespace companion::test
