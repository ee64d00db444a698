#include "engine/remote/tls.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

namespace amata::remote {
namespace {

/// The oldest queued OpenSSL error's reason ("certificate verify failed"), and the queue
/// emptied: it is per thread, and a stale entry would be blamed on the next call.
std::string take_openssl_error() {
  std::string reason;
  while (const unsigned long code = ERR_get_error()) {  // NOLINT(google-runtime-int)
    if (!reason.empty()) continue;
    const char* text = ERR_reason_error_string(code);
    reason = text != nullptr ? text : "error " + std::to_string(code);
  }
  return reason.empty() ? "unknown TLS error" : reason;
}

Error tls_error(const std::string& what) {
  return Error{what + ": " + take_openssl_error()};
}

/// The subject's common name, or empty.
std::string common_name(X509* cert) {
  X509_NAME* subject = X509_get_subject_name(cert);
  const int index = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (index < 0) return {};
  const ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, index));
  unsigned char* utf8 = nullptr;
  const int length = ASN1_STRING_to_UTF8(&utf8, data);
  if (length < 0) return {};
  std::string name(reinterpret_cast<const char*>(utf8), static_cast<std::size_t>(length));
  OPENSSL_free(utf8);
  return name;
}

}  // namespace

bool valid_node_name(std::string_view name) {
  if (name.empty() || name.size() > 15) return false;
  for (const char c : name) {
    if (c <= ' ' || c > '~' || c == '/' || c == ':') return false;
  }
  return true;
}

Result<std::shared_ptr<TlsContext>> TlsContext::create(const TlsFiles& files, Role role) {
  ERR_clear_error();
  SSL_CTX* raw = SSL_CTX_new(role == Role::kServer ? TLS_server_method() : TLS_client_method());
  if (raw == nullptr) return tls_error("TLS context");
  std::shared_ptr<TlsContext> context(new TlsContext(raw, role));
  // TLS 1.3 only: no renegotiation, no legacy ciphers to rule out one by one.
  SSL_CTX_set_min_proto_version(raw, TLS1_3_VERSION);
  // A peer that vanishes without close_notify is a closed connection, not an error.
  SSL_CTX_set_options(raw, SSL_OP_IGNORE_UNEXPECTED_EOF);
  SSL_CTX_set_mode(raw, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  // Every attach is a full handshake: no tickets to write after it, no cache to bound.
  SSL_CTX_set_num_tickets(raw, 0);
  SSL_CTX_set_session_cache_mode(raw, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_verify(raw, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  if (SSL_CTX_use_certificate_chain_file(raw, files.cert.c_str()) != 1)
    return tls_error("certificate " + files.cert);
  if (SSL_CTX_use_PrivateKey_file(raw, files.key.c_str(), SSL_FILETYPE_PEM) != 1)
    return tls_error("private key " + files.key);
  if (SSL_CTX_check_private_key(raw) != 1)
    return tls_error("private key " + files.key + " for " + files.cert);
  if (SSL_CTX_load_verify_locations(raw, files.ca.c_str(), nullptr) != 1)
    return tls_error("CA certificates " + files.ca);
  return context;
}

TlsContext::~TlsContext() {
  SSL_CTX_free(ctx_);
}

Result<std::unique_ptr<TlsStream>> TlsStream::create(std::shared_ptr<TlsContext> context,
                                                     base::UniqueFd fd) {
  ERR_clear_error();
  SSL* ssl = SSL_new(context->native());
  if (ssl == nullptr) return tls_error("TLS connection");
  if (SSL_set_fd(ssl, fd.get()) != 1) {
    SSL_free(ssl);
    return tls_error("TLS connection");
  }
  if (context->role() == TlsContext::Role::kServer) {
    SSL_set_accept_state(ssl);
  } else {
    SSL_set_connect_state(ssl);
  }
  return std::unique_ptr<TlsStream>(new TlsStream(std::move(context), ssl, std::move(fd)));
}

TlsStream::TlsStream(std::shared_ptr<TlsContext> context, ssl_st* ssl, base::UniqueFd fd)
    : context_(std::move(context)), ssl_(ssl), fd_(std::move(fd)) {}

TlsStream::~TlsStream() {
  SSL_free(ssl_);
}

TlsStream::Io TlsStream::outcome(int ret, const char* what) {
  const int saved_errno = errno;
  switch (SSL_get_error(ssl_, ret)) {
    case SSL_ERROR_WANT_READ:
      return Io::kWantRead;
    case SSL_ERROR_WANT_WRITE:
      return Io::kWantWrite;
    case SSL_ERROR_ZERO_RETURN:
      return Io::kClosed;
    case SSL_ERROR_SYSCALL:
      if (ERR_peek_error() == 0) {
        if (saved_errno == 0 || saved_errno == ECONNRESET || saved_errno == EPIPE)
          return Io::kClosed;
        error_ = std::string(what) + ": " + std::strerror(saved_errno);
        return Io::kFailed;
      }
      break;
    default:
      break;
  }
  const long verdict = SSL_get_verify_result(ssl_);  // NOLINT(google-runtime-int)
  if (verdict != X509_V_OK) {
    ERR_clear_error();
    error_ = std::string(what) + ": certificate: " + X509_verify_cert_error_string(verdict);
  } else {
    error_ = std::string(what) + ": " + take_openssl_error();
  }
  return Io::kFailed;
}

TlsStream::Io TlsStream::handshake() {
  ERR_clear_error();
  errno = 0;
  const int ret = SSL_do_handshake(ssl_);
  return ret == 1 ? Io::kDone : outcome(ret, "handshake");
}

TlsStream::Io TlsStream::read(std::string& into, std::size_t limit) {
  char buffer[16384];
  std::size_t taken = 0;
  while (taken < limit) {
    ERR_clear_error();
    errno = 0;
    const int n = SSL_read(ssl_, buffer, static_cast<int>(std::min(sizeof buffer, limit - taken)));
    if (n <= 0) return outcome(n, "read");
    into.append(buffer, static_cast<std::size_t>(n));
    taken += static_cast<std::size_t>(n);
  }
  // The limit, not the socket, stopped the reading: whatever remains waits for the next call,
  // which a level-triggered poll makes at once.
  return Io::kWantRead;
}

TlsStream::Io TlsStream::write(std::string& out) {
  while (!out.empty()) {
    ERR_clear_error();
    errno = 0;
    const int n =
        SSL_write(ssl_, out.data(),
                  static_cast<int>(std::min<std::size_t>(out.size(), std::size_t{1} << 20)));
    if (n <= 0) return outcome(n, "write");
    out.erase(0, static_cast<std::size_t>(n));
  }
  return Io::kDone;
}

void TlsStream::shutdown() {
  ERR_clear_error();
  if (SSL_is_init_finished(ssl_) == 1) SSL_shutdown(ssl_);
  ERR_clear_error();
}

std::string TlsStream::peer_name() const {
  if (SSL_get_verify_result(ssl_) != X509_V_OK) return {};
  X509* cert = SSL_get0_peer_certificate(ssl_);
  return cert == nullptr ? std::string() : common_name(cert);
}

Result<std::string> certificate_name(const std::string& path) {
  ERR_clear_error();
  FILE* file = std::fopen(path.c_str(), "r");
  if (file == nullptr) return errno_error("certificate " + path, errno);
  X509* cert = PEM_read_X509(file, nullptr, nullptr, nullptr);
  std::fclose(file);
  if (cert == nullptr) return tls_error("certificate " + path);
  std::string name = common_name(cert);
  X509_free(cert);
  if (!valid_node_name(name)) {
    return Error{"certificate " + path + ": its common name '" + name +
                 "' is not a node name (1 to 15 printable bytes, no blank, '/' or ':')"};
  }
  return name;
}

}  // namespace amata::remote
