// TLS for the remote-node link (OpenSSL): both ends present a certificate read from files and
// verify the other's against the cluster's CA (mutual authentication), over TLS 1.3 only. A
// node's name is its certificate's common name: a remote node cannot claim another's name
// without that node's key. OpenSSL's headers stay in tls.cc (tools/checks/layers.py).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "base/result.h"
#include "base/unique_fd.h"

struct ssl_ctx_st;
struct ssl_st;

namespace amata::remote {

/// PEM files: this node's certificate (with any intermediates after it), its private key,
/// and the CA certificates a peer's certificate must chain to.
struct TlsFiles {
  std::string cert;
  std::string key;
  std::string ca;
};

/// Whether `name` can be a node's name: what a policy's peer `name` accepts (1 to 15 bytes,
/// printable ASCII without blanks, `/` or `:`).
bool valid_node_name(std::string_view name);

/// The common name of the (first) certificate in PEM file `path`: this node's own name.
Result<std::string> certificate_name(const std::string& path);

class TlsContext {
 public:
  enum class Role : bool { kServer, kClient };
  /// Reads the files and checks that the key matches the certificate.
  static Result<std::shared_ptr<TlsContext>> create(const TlsFiles& files, Role role);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  Role role() const { return role_; }
  ssl_ctx_st* native() const { return ctx_; }

 private:
  TlsContext(ssl_ctx_st* ctx, Role role) : ctx_(ctx), role_(role) {}
  ssl_ctx_st* ctx_;
  Role role_;
};

/// One TLS connection over a non-blocking socket it owns. Every call does what it can
/// without blocking and says what it waits for.
class TlsStream {
 public:
  enum class Io : std::uint8_t {
    kDone,       // finished (handshake, or everything written)
    kWantRead,   // call again once the socket is readable
    kWantWrite,  // call again once the socket is writable
    kClosed,     // the peer closed the connection
    kFailed,     // a TLS or socket error: error() says which
  };

  static Result<std::unique_ptr<TlsStream>> create(std::shared_ptr<TlsContext> context,
                                                   base::UniqueFd fd);
  ~TlsStream();
  TlsStream(const TlsStream&) = delete;
  TlsStream& operator=(const TlsStream&) = delete;

  int fd() const { return fd_.get(); }
  /// Advances the handshake; kDone once the peer's certificate has been verified.
  Io handshake();
  /// Appends what is readable now to `into`, at most `limit` bytes this call; kWantRead (or
  /// kWantWrite) once nothing more is.
  Io read(std::string& into, std::size_t limit);
  /// Writes from the front of `out`, erasing what was written; kDone when `out` is empty.
  Io write(std::string& out);
  /// Sends close_notify, without waiting for the peer's.
  void shutdown();

  /// The verified peer's common name (empty before the handshake, or when it has none).
  std::string peer_name() const;
  /// What the last kFailed was: the certificate verification's verdict when that failed.
  const std::string& error() const { return error_; }

 private:
  TlsStream(std::shared_ptr<TlsContext> context, ssl_st* ssl, base::UniqueFd fd);
  Io outcome(int ret, const char* what);

  std::shared_ptr<TlsContext> context_;
  ssl_st* ssl_;
  base::UniqueFd fd_;
  std::string error_;
};

}  // namespace amata::remote
