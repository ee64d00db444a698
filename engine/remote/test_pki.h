// A certificate authority for tests: keys and certificates made with OpenSSL's API in a
// temporary directory, including the bad ones (another CA's, expired, not yet valid) that
// the remote-node link must refuse. Test support only; never linked into a tool.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "engine/remote/tls.h"

namespace amata::remote {

class TestPki {
 public:
  /// A CA ("amata test CA") whose key and certificate are written under `dir`.
  explicit TestPki(std::filesystem::path dir);
  ~TestPki();
  TestPki(const TestPki&) = delete;
  TestPki& operator=(const TestPki&) = delete;

  struct Validity {
    long from_seconds = -3600;         // NOLINT(google-runtime-int): OpenSSL's type
    long until_seconds = 30L * 86400;  // NOLINT(google-runtime-int)
  };
  /// A key and a certificate for common name `name`, signed by this CA, with the CA as the
  /// trust anchor: the files a node of this cluster is given.
  TlsFiles issue(const std::string& name, Validity validity);
  TlsFiles issue(const std::string& name) { return issue(name, Validity{}); }
  /// A node certificate from another CA that uses this CA's file as its trust anchor: what
  /// a stranger brings.
  TlsFiles issue_by_stranger(const std::string& name);

  const std::filesystem::path& ca_file() const { return ca_file_; }

  struct Authority;  // a key and its certificate

 private:
  /// A node's key and certificate signed by `issuer`, with this CA as the trust anchor.
  TlsFiles issue_from(const Authority& issuer, const std::string& name, Validity validity,
                      const std::string& infix);
  std::filesystem::path dir_;
  std::filesystem::path ca_file_;
  std::unique_ptr<Authority> ca_;
  std::unique_ptr<Authority> stranger_;
  int serial_ = 1;
};

}  // namespace amata::remote
