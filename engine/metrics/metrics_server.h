// The opt-in /metrics endpoint (amatad --metrics-listen 127.0.0.1:9469). cpp-httplib serves
// it on its own threads, behind the gate (http_gate.h) that keeps idle and slow clients off
// the workers; the loop only hands over a new snapshot, so a slow or hostile scraper can
// never stall the daemon.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "base/result.h"
#include "engine/metrics/metrics_snapshot.h"

namespace httplib {
class Server;
}

namespace amata::metrics {

class GatedServer;

/// "127.0.0.1:9469", "[::1]:9469", "localhost:0" → host and port (0: any free port).
Result<std::pair<std::string, int>> parse_listen_address(const std::string& text);

/// More routes served beside /metrics by the same server (amatad --web: the web view).
struct Extension {
  /// Adds the routes; called once, before the server listens (httplib's routing table is not
  /// guarded against changes while it serves). It replaces the plain text at `/`.
  std::function<void(httplib::Server&)> mount;
  /// Called first when the server stops: whatever holds a worker for long (a live stream)
  /// lets go, since stopping waits for the workers.
  std::function<void()> stop;
  /// Workers the extension may hold for long, added to the pool so /metrics always has its
  /// own.
  std::size_t long_workers = 0;
};

class MetricsServer {
 public:
  /// Binds `listen` ("HOST:PORT") and starts the serving thread. The endpoint has no
  /// authentication: bind it to loopback unless a firewall guards it.
  static Result<std::unique_ptr<MetricsServer>> start(const std::string& listen,
                                                      Extension extension = {});
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  /// Replaces what /metrics serves. Called on the loop; costs a move and a pointer swap (the
  /// text is rendered on the serving thread, per scrape).
  void publish(MetricsSnapshot snapshot);
  /// The bound port (the real one when 0 was asked for).
  int port() const { return port_; }
  const std::string& host() const { return host_; }
  /// True when it listens on more than loopback: /metrics has no authentication, so amatad
  /// says so loudly at start.
  bool reachable_from_network() const { return public_; }

 private:
  MetricsServer() = default;
  std::shared_ptr<const MetricsSnapshot> current() const;

  std::unique_ptr<GatedServer> http_;
  std::function<void()> stop_extension_;
  std::thread thread_;
  std::string host_;
  int port_ = 0;
  bool public_ = false;
  mutable std::mutex mutex_;
  std::shared_ptr<const MetricsSnapshot> snapshot_;
};

}  // namespace amata::metrics
