// The HTTP gate: what stands between amatad's HTTP port and cpp-httplib's workers.
//
// httplib gives every accepted connection a worker thread until it closes, and a worker
// waits on a silent or slow client for its whole read timeout, again and again. So a few
// dozen idle connections, or clients that send a header byte a second, held every worker
// and /metrics answered nothing (docs/benchmarks.md, "The web view under hostile clients").
//
// Here one epoll thread holds every connection while its request arrives, and between the
// requests of a kept-alive connection. A worker gets a connection only once its whole
// request (head and body) is in memory, so it never waits on the client to send. What waits
// in the gate is bounded: at most `max_waiting` connections (the oldest is dropped for a new
// one), each for at most `head_timeout` (a request) or `idle_timeout` (between requests).
// Requests that can never be served are answered by the gate itself: a head over
// `max_head_bytes` (431), a body over `max_body_bytes` (413), a body without Content-Length
// (411), and a request when `max_queued` already wait for a worker (503).
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace amata::metrics {

struct GateLimits {
  std::size_t workers = 8;
  /// Connections waiting in the gate at once; lowered to a quarter of the open-file limit.
  std::size_t max_waiting = 1024;
  /// Whole requests waiting for a worker; one more is answered 503.
  std::size_t max_queued = 256;
  std::chrono::milliseconds head_timeout{5000};
  std::chrono::milliseconds idle_timeout{5000};
  /// A worker's longest wait for the client to take a response's next bytes.
  std::chrono::milliseconds io_timeout{1000};
  std::size_t max_head_bytes = std::size_t{16} * 1024;
  /// The forms of /login and /control are far smaller.
  std::size_t max_body_bytes = std::size_t{8} * 1024;
  /// Requests on one connection before the gate asks the client to close it.
  std::size_t max_requests_per_connection = 100;
};

/// What the gate has done so far, for /metrics and the tests.
struct GateCounters {
  std::uint64_t waiting = 0;  // a gauge: connections in the gate now
  std::uint64_t requests = 0;
  std::uint64_t timed_out = 0;
  std::uint64_t evicted = 0;
  std::uint64_t refused = 0;     // answered 400/411/413/431 by the gate
  std::uint64_t overloaded = 0;  // answered 503: every worker busy and the queue full
};

/// The metric families of `counters` in Prometheus's text exposition.
std::string render_gate_counters(const GateCounters& counters);

/// Whether a buffered request is whole, judged from its head alone.
struct RequestCheck {
  enum class Verdict : std::uint8_t {
    kIncomplete,
    kComplete,
    kHeadTooLarge,    // 431
    kBodyTooLarge,    // 413
    kLengthRequired,  // 411: a Transfer-Encoding body, which the gate cannot bound
    kBad,             // 400: an unreadable Content-Length
  };
  Verdict verdict = Verdict::kIncomplete;
  /// With kComplete: the request's bytes (any blank lines before it, the head, the body).
  std::size_t bytes = 0;
};
RequestCheck check_request(std::string_view buffered, const GateLimits& limits);

/// A cpp-httplib server whose connections pass through the gate. Routes, timeouts and
/// listening are httplib's as usual; call `close_gate()` once `listen_after_bind()` returned.
class GatedServer : public httplib::Server {
 public:
  explicit GatedServer(GateLimits limits);
  ~GatedServer() override;
  GatedServer(const GatedServer&) = delete;
  GatedServer& operator=(const GatedServer&) = delete;

  /// httplib listens with a backlog of 5: a burst of connections beyond it waits in SYN
  /// retransmission for seconds before the gate even sees it. Call after binding; listens
  /// again with the kernel's maximum (net.core.somaxconn).
  bool deepen_backlog();
  /// Closes every connection the gate holds and joins its threads, after the requests being
  /// served end. Idempotent.
  void close_gate();
  GateCounters counters() const;

 private:
  // httplib's accept loop hands each new connection here (through a task queue that runs
  // the task at once); it goes to the gate, not to a worker.
  bool process_and_close_socket(socket_t sock) override;

  class Gate;
  std::unique_ptr<Gate> gate_;
};

}  // namespace amata::metrics
