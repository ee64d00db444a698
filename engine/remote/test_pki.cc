#include "engine/remote/test_pki.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <stdexcept>
#include <utility>

namespace amata::remote {

struct TestPki::Authority {
  EVP_PKEY* key = nullptr;
  X509* cert = nullptr;
  ~Authority() {
    X509_free(cert);
    EVP_PKEY_free(key);
  }
};

namespace {

void require(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("test PKI: ") + what);
}

EVP_PKEY* new_key() {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  require(key != nullptr, "EC key");
  return key;
}

void add_extension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  require(ext != nullptr, "extension");
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

/// A certificate for `name` and `key`, signed by `issuer` (itself when null).
X509* make_cert(const std::string& name, EVP_PKEY* key, const TestPki::Authority* issuer,
                int serial, TestPki::Validity validity, bool is_ca) {
  X509* cert = X509_new();
  require(cert != nullptr, "certificate");
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), serial);
  X509_gmtime_adj(X509_getm_notBefore(cert), validity.from_seconds);
  X509_gmtime_adj(X509_getm_notAfter(cert), validity.until_seconds);
  X509_set_pubkey(cert, key);
  X509_NAME* subject = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(name.c_str()), -1, -1, 0);
  X509* signer = issuer != nullptr ? issuer->cert : cert;
  X509_set_issuer_name(cert, X509_get_subject_name(signer));
  add_extension(cert, signer, NID_basic_constraints, is_ca ? "critical,CA:TRUE" : "CA:FALSE");
  if (is_ca) add_extension(cert, signer, NID_key_usage, "critical,keyCertSign,cRLSign");
  require(X509_sign(cert, issuer != nullptr ? issuer->key : key, EVP_sha256()) > 0, "sign");
  return cert;
}

void write_pem(const std::filesystem::path& path, X509* cert, EVP_PKEY* key) {
  FILE* f = std::fopen(path.c_str(), "w");
  require(f != nullptr, "open");
  const bool ok = cert != nullptr
                      ? PEM_write_X509(f, cert) == 1
                      : PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
  std::fclose(f);
  require(ok, "write PEM");
}

}  // namespace

TestPki::TestPki(std::filesystem::path dir)
    : dir_(std::move(dir)),
      ca_file_(dir_ / "ca.pem"),
      ca_(std::make_unique<Authority>()),
      stranger_(std::make_unique<Authority>()) {
  std::filesystem::create_directories(dir_);
  ca_->key = new_key();
  ca_->cert = make_cert("amata test CA", ca_->key, nullptr, serial_++, Validity{}, true);
  write_pem(ca_file_, ca_->cert, nullptr);
  stranger_->key = new_key();
  stranger_->cert =
      make_cert("a stranger's CA", stranger_->key, nullptr, serial_++, Validity{}, true);
}

TestPki::~TestPki() = default;

TlsFiles TestPki::issue(const std::string& name, Validity validity) {
  return issue_from(*ca_, name, validity, "-");
}

TlsFiles TestPki::issue_by_stranger(const std::string& name) {
  return issue_from(*stranger_, name, Validity{}, "-stranger-");
}

TlsFiles TestPki::issue_from(const Authority& issuer, const std::string& name, Validity validity,
                             const std::string& infix) {
  EVP_PKEY* key = new_key();
  X509* cert = make_cert(name, key, &issuer, serial_++, validity, false);
  const std::string stem = name + infix + std::to_string(serial_);
  TlsFiles files{(dir_ / (stem + ".pem")).string(), (dir_ / (stem + ".key")).string(),
                 ca_file_.string()};
  write_pem(files.cert, cert, nullptr);
  write_pem(files.key, nullptr, key);
  X509_free(cert);
  EVP_PKEY_free(key);
  return files;
}

}  // namespace amata::remote
