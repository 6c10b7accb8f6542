// Certificates made at test time with OpenSSL: a CA and leaf certificates signed by it, with a
// chosen subjectAltName and validity window, written as PEM files into a temporary directory.
#pragma once

#include "tests/common/temp_dir.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

namespace companion::test {

struct key_and_cert {
    EVP_PKEY* key = nullptr;
    X509* cert = nullptr;
    key_and_cert() = default;
    key_and_cert(const key_and_cert&) = delete;
    key_and_cert& operator=(const key_and_cert&) = delete;
    key_and_cert(key_and_cert&& o) noexcept : key(o.key), cert(o.cert) {
        o.key = nullptr;
        o.cert = nullptr;
    }
    ~key_and_cert() {
        EVP_PKEY_free(key);
        X509_free(cert);
    }
};

inline EVP_PKEY* make_ec_key() {
    EVP_PKEY* key = EVP_EC_gen("P-256");
    if (key == nullptr) {
        throw std::runtime_error("EVP_EC_gen failed");
    }
    return key;
}

inline void add_ext(X509* cert, X509* issuer, int nid, const char* value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    if (ext == nullptr) {
        throw std::runtime_error("X509V3_EXT_conf_nid failed");
    }
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
}

/// A fresh key and an unsigned certificate for it: subject CN `common_name`, valid from
/// now+not_before to now+not_after (seconds). The caller sets the issuer, extensions and signs.
inline key_and_cert
new_certificate(const std::string& common_name, long serial, long not_before, long not_after) {
    key_and_cert out;
    out.key = make_ec_key();
    out.cert = X509_new();
    X509_set_version(out.cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(out.cert), serial);
    X509_gmtime_adj(X509_getm_notBefore(out.cert), not_before);
    X509_gmtime_adj(X509_getm_notAfter(out.cert), not_after);
    X509_set_pubkey(out.cert, out.key);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(out.cert),
                               "CN",
                               MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>(common_name.c_str()),
                               -1,
                               -1,
                               0);
    return out;
}

/// A self-signed CA, valid from an hour ago for 30 days.
inline key_and_cert make_ca(const std::string& name) {
    key_and_cert ca = new_certificate(name, 1, -3600, 3600L * 24 * 30);
    X509_set_issuer_name(ca.cert, X509_get_subject_name(ca.cert));
    add_ext(ca.cert, ca.cert, NID_basic_constraints, "critical,CA:TRUE");
    add_ext(ca.cert, ca.cert, NID_key_usage, "critical,keyCertSign,cRLSign");
    add_ext(ca.cert, ca.cert, NID_subject_key_identifier, "hash");
    X509_sign(ca.cert, ca.key, EVP_sha256());
    return ca;
}

/// A leaf certificate for `dns_name` signed by `ca`, valid from now+not_before to now+not_after
/// (seconds).
inline key_and_cert
make_leaf(const key_and_cert& ca, const std::string& dns_name, long not_before, long not_after) {
    static long serial = 100;
    key_and_cert leaf = new_certificate(dns_name, ++serial, not_before, not_after);
    X509_set_issuer_name(leaf.cert, X509_get_subject_name(ca.cert));
    const std::string san = "DNS:" + dns_name;
    add_ext(leaf.cert, ca.cert, NID_subject_alt_name, san.c_str());
    add_ext(leaf.cert, ca.cert, NID_basic_constraints, "critical,CA:FALSE");
    add_ext(leaf.cert, ca.cert, NID_ext_key_usage, "serverAuth");
    X509_sign(leaf.cert, ca.key, EVP_sha256());
    return leaf;
}

inline void write_cert(const std::filesystem::path& path, X509* cert) {
    FILE* f = std::fopen(path.c_str(), "w");
    PEM_write_X509(f, cert);
    std::fclose(f);
}

inline void write_key(const std::filesystem::path& path, EVP_PKEY* key) {
    FILE* f = std::fopen(path.c_str(), "w");
    PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(f);
}

} // namespace companion::test
