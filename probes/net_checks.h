// Network checks on the loop: a non-blocking connect (TCP or Unix), an ICMP echo, and HTTP(S)
// through libcurl's multi interface driven by the loop's fds and timers. Each check is
// started, runs as loop callbacks only, and reports once through its completion callback
// (success or failure, latency in seconds) — or is cancelled.
#pragma once

#include <sys/socket.h>

#include <cerrno>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "base/check_timeout.h"
#include "base/event_loop.h"
#include "base/result.h"

typedef void CURL;
typedef void CURLM;

namespace amata::probes {

/// What a finished check reports.
struct CheckOutcome {
  bool ok = false;
  double latency = 0;  // seconds from start to answer (or to the failure)
  std::string error;   // why it failed (empty when ok)
};
using CheckCallback = std::function<void(const CheckOutcome&)>;

/// A resolved socket address.
struct Endpoint {
  sockaddr_storage addr{};
  socklen_t len = 0;
  int family = 0;
};

/// "127.0.0.1:80", "[::1]:80", "name:80" (resolved once, here: call it at setup, not in the
/// loop), or a Unix socket path (starts with '/' or '@' for the abstract namespace).
Result<Endpoint> resolve_endpoint(const std::string& target, int default_port = 0);
/// An address without a port, for ICMP and for host probes with a separate port.
Result<Endpoint> resolve_host(const std::string& host, int port);

/// What ConnectCheck and IcmpEcho share: one non-blocking socket on the loop, a timeout, and a
/// completion callback that runs exactly once, with the latency since begin() — or never,
/// after cancel().
class SocketCheck {
 public:
  explicit SocketCheck(base::EventLoop& loop) : loop_(loop), timeout_(loop) {}
  ~SocketCheck() { cancel(); }
  SocketCheck(const SocketCheck&) = delete;
  SocketCheck& operator=(const SocketCheck&) = delete;

  /// Drops the check under way (its callback never runs) and starts the clock of a new one.
  void begin(CheckCallback done);
  /// Takes `fd`, a non-blocking socket, as the check's own: cancel() and finish() close it.
  void adopt(int fd) { fd_ = fd; }
  int fd() const { return fd_; }
  /// Calls `ready` for `events` on the socket until the check finishes; after `timeout`
  /// seconds (not counting the time a busy loop was not looking) the check fails with
  /// "`what`: timed out" (`what` is kept: pass a literal).
  void wait(std::uint32_t events, base::EventLoop::FdCallback ready, double timeout,
            const char* what);
  /// Closes the socket and reports, once.
  void finish(bool ok, std::string error);
  /// finish(false, "`what`: " + strerror(err)).
  void fail(std::string_view what, int err = errno);
  void cancel();
  bool busy() const { return fd_ >= 0; }

 private:
  base::EventLoop& loop_;
  int fd_ = -1;
  base::CheckTimeout timeout_;  // measures the service, not a busy loop (check_timeout.h)
  double started_ = 0;
  CheckCallback done_;
};

/// One non-blocking connect with a timeout: EINPROGRESS, EPOLLOUT, SO_ERROR. To a loopback
/// address the connect has usually finished when connect() returns, and is reported at once.
class ConnectCheck {
 public:
  explicit ConnectCheck(base::EventLoop& loop) : check_(loop) {}

  /// Starts connecting; `done` runs exactly once, unless cancel() comes first: from a loop
  /// callback, or from here when the answer is known at once (the socket cannot be created,
  /// a Unix socket or loopback address accepts or refuses).
  void start(const Endpoint& endpoint, double timeout, CheckCallback done);
  void cancel() { check_.cancel(); }
  bool busy() const { return check_.busy(); }

 private:
  SocketCheck check_;
};

/// One ICMP echo with a timeout, through an unprivileged ping socket (SOCK_DGRAM,
/// IPPROTO_ICMP) or, where that is refused, a raw socket.
class IcmpEcho {
 public:
  explicit IcmpEcho(base::EventLoop& loop) : check_(loop) {}

  void start(const Endpoint& endpoint, double timeout, CheckCallback done);
  void cancel() { check_.cancel(); }
  bool busy() const { return check_.busy(); }

 private:
  void on_readable();

  SocketCheck check_;
  bool raw_ = false;
  std::uint16_t id_ = 0, seq_ = 0;
};

/// libcurl's multi handle on the loop (CURLMOPT_SOCKETFUNCTION / CURLMOPT_TIMERFUNCTION).
class CurlMulti {
 public:
  static Result<std::unique_ptr<CurlMulti>> create(base::EventLoop& loop);
  ~CurlMulti();
  CurlMulti(const CurlMulti&) = delete;
  CurlMulti& operator=(const CurlMulti&) = delete;

  /// Adds an easy handle; `done(curl_code)` runs when the transfer ends.
  Status add(CURL* easy, std::function<void(int curl_code)> done);
  /// Removes a transfer that has not finished (its callback never runs).
  void remove(CURL* easy);

  base::EventLoop& loop() const { return loop_; }

 private:
  explicit CurlMulti(base::EventLoop& loop);
  static int on_socket(CURL* easy, int fd, int what, void* self, void* socket_data);
  static int on_timer(CURLM* multi, long timeout_ms, void* self);
  void drive(int fd, int events);
  void collect_finished();

  base::EventLoop& loop_;
  CURLM* multi_ = nullptr;
  base::EventLoop::TimerId timer_ = 0;
  bool timer_armed_ = false;
  std::vector<std::pair<CURL*, std::function<void(int)>>> transfers_;
};

/// An HTTP(S) GET whose status must equal `expect_status` (any 2xx when 0).
class HttpCheck {
 public:
  explicit HttpCheck(CurlMulti& multi) : multi_(multi), timeout_(multi.loop()) {}
  ~HttpCheck();
  HttpCheck(const HttpCheck&) = delete;
  HttpCheck& operator=(const HttpCheck&) = delete;

  void start(const std::string& url, int expect_status, double timeout, CheckCallback done);
  /// The CA certificates (a PEM file) that verify an https server from now on; empty: the
  /// system's. The server's certificate and its name are always verified.
  void set_ca_file(std::string path) { ca_file_ = std::move(path); }
  void cancel();
  bool busy() const { return running_; }

 private:
  /// Reports the end of the check once (it may start the next one).
  void report(CheckOutcome outcome);

  CurlMulti& multi_;
  CURL* easy_ = nullptr;  // kept between checks so connections and buffers are reused
  bool running_ = false;
  // Not libcurl's own timeout, which would also count a busy loop against the service.
  base::CheckTimeout timeout_;
  double started_ = 0;
  CheckCallback done_;
  std::string ca_file_;
};

}  // namespace amata::probes
