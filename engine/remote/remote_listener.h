// The ring member's end of the remote-node link: a TLS port that remote nodes attach to.
//
// Everything that can be slow or hostile happens on the listener's own thread, with its own
// event loop: accepting, TLS handshakes, reading lines, answering heartbeats, timing them out.
// The daemon's loop only ever receives what is already decided — a remote node authenticated
// and said hello, an event arrived, a link ended — so garbage, oversized lines, half-open
// connections and clients that never read cannot stall it. What waits is bounded: at most
// `max_connections` links, a handshake and hello within `handshake_timeout`, a line of
// kMaxFrameBytes, `max_output_bytes` queued to a link that does not read, and
// `max_events_in_flight` events handed to the daemon and not yet acknowledged (beyond them
// the listener stops reading that link until acks come).
//
// A remote node is named by its certificate (tls.h); the daemon decides whether it is
// welcome (welcome() with what the ring already holds of its events, or refuse()). A welcomed
// remote node reports its clustered services (on_report); the daemon tells it which it may
// run (place()) and for how long: the lease runs from a heartbeat the link brought.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/event_loop.h"
#include "base/result.h"
#include "engine/remote/remote_wire.h"
#include "engine/remote/tls.h"

namespace amata::remote {

struct ListenerOptions {
  std::string address = "0.0.0.0";  // numeric IPv4 or IPv6
  std::uint16_t port = 7420;        // 0: any free port
  TlsFiles tls;
  std::string name;  // told to every remote node it welcomes ("": the certificate's name)
  /// A welcomed remote node that sends no heartbeat for this long is gone. It sends one
  /// every quarter of it.
  std::chrono::milliseconds heartbeat_timeout{2000};
  /// From the TCP connection to the hello (TLS handshake included).
  std::chrono::milliseconds handshake_timeout{5000};
  std::size_t max_connections = 1024;
  std::size_t max_output_bytes = std::size_t{1} << 20;
  std::size_t max_events_in_flight = 1024;
};

/// A link's id: unique for the listener's life, never reused.
using LinkId = std::uint64_t;

struct HelloRequest {
  LinkId link = 0;
  std::string node;     // from its certificate
  std::string address;  // "10.0.0.7:50312"
  Hello hello;
};

/// Called on the daemon's loop (the `owner` of start()), never after the listener is gone.
struct ListenerCallbacks {
  /// Answer with welcome() or refuse().
  std::function<void(const HelloRequest&)> on_hello;
  /// A welcomed link's event, in the order sent; acknowledge it with ack() once it is safe.
  std::function<void(LinkId, const std::string& node, RemoteEvent event)> on_event;
  /// A link whose hello was reported has ended (closed, failed, refused, silent): why, and
  /// when its last heartbeat was read (its hello's arrival if none was).
  std::function<void(LinkId, const std::string& node, const std::string& why,
                     base::Clock::time_point last_heartbeat)>
      on_gone;
  std::function<void(bool warning, const std::string& message)> on_log;
  /// A welcomed link's report of its clustered services, in the order sent (may be empty).
  /// Last, so that callers who list the callbacks in order need not name it.
  std::function<void(LinkId, const std::string& node, ServiceReport report)> on_report;
};

struct LinkStatus {
  LinkId link = 0;
  std::string node;
  std::string address;
  std::string epoch;
  base::Clock::time_point since;
  base::Clock::time_point last_heartbeat;
  std::optional<std::chrono::microseconds> rtt;  // as the remote node last measured it
  std::uint64_t events = 0;                      // received on this link
  std::optional<ServiceReport> report;           // the last one received on this link
  std::optional<std::uint64_t> heartbeat_at;     // the `at` of its last heartbeat
};

struct ListenerCounters {
  std::uint64_t accepted = 0;
  std::uint64_t refused = 0;          // TLS failures: no or a bad certificate, not TLS at all
  std::uint64_t protocol_errors = 0;  // bad or oversized lines, messages out of order
  std::uint64_t timed_out = 0;        // no hello in time
  std::uint64_t silent = 0;           // heartbeats stopped
  std::uint64_t over_capacity = 0;    // closed at accept: max_connections reached
};

class RemoteListener {
 public:
  /// Binds and listens now (so a taken port is an error here), then serves on its thread.
  static Result<std::unique_ptr<RemoteListener>> start(base::EventLoop& owner,
                                                       ListenerOptions options,
                                                       ListenerCallbacks callbacks);
  /// Closes every link (without on_gone) and joins the thread.
  ~RemoteListener();
  RemoteListener(const RemoteListener&) = delete;
  RemoteListener& operator=(const RemoteListener&) = delete;

  std::uint16_t port() const;
  /// Accepts the link of a hello: `acked` is the last event of its epoch the ring holds.
  void welcome(LinkId link, std::uint64_t acked);
  /// Tells the remote node why, and closes its link.
  void refuse(LinkId link, const std::string& why);
  /// The ring holds the link's events up to `seq`.
  void ack(LinkId link, std::uint64_t seq);
  /// Tells a welcomed link's remote node every clustered service it may run now, for
  /// `placement.lease_ms` after it sent heartbeat `placement.at` (heartbeat_at()).
  void place(LinkId link, const Placement& placement);
  /// The `at` of the last heartbeat received on `link` now (none: none yet, or no such link).
  std::optional<std::uint64_t> heartbeat_at(LinkId link) const;

  /// The welcomed links now.
  std::vector<LinkStatus> links() const;
  ListenerCounters counters() const;

  class Impl;

 private:
  explicit RemoteListener(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace amata::remote
