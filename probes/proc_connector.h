// The netlink proc connector (CN_IDX_PROC): the kernel reports every fork, exec and exit.
// One socket serves all process probes; each registers a listener. Exit events carry the
// wait status, so a foreign process's exit code and signal are known too.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "base/event_loop.h"
#include "base/result.h"

namespace amata::probes {

/// Receives proc connector events; implemented by process probes.
class ProcEventListener {
 public:
  virtual ~ProcEventListener() = default;
  /// Process `pid` (a thread-group leader) called exec.
  virtual void on_exec(pid_t pid) = 0;
  /// Process `pid` (a thread-group leader) exited with wait status `wait_status`.
  virtual void on_exit(pid_t pid, int wait_status) = 0;
  /// The socket overflowed (ENOBUFS): events were lost, so rescan.
  virtual void on_events_lost() = 0;
};

class ProcConnector {
 public:
  /// Opens, binds and subscribes the socket and watches it on `loop`. Fails without
  /// CAP_NET_ADMIN on older kernels, or inside a network namespace other than the host's.
  static Result<std::unique_ptr<ProcConnector>> create(base::EventLoop& loop);
  ~ProcConnector();
  ProcConnector(const ProcConnector&) = delete;
  ProcConnector& operator=(const ProcConnector&) = delete;

  void add_listener(ProcEventListener* listener);
  void remove_listener(ProcEventListener* listener);
  /// Events received so far (for tests and benchmarks).
  std::uint64_t events_seen() const { return events_seen_; }

 private:
  ProcConnector(base::EventLoop& loop, int fd) : loop_(loop), fd_(fd) {}
  void on_readable();

  base::EventLoop& loop_;
  int fd_;
  std::vector<ProcEventListener*> listeners_;
  std::uint64_t events_seen_ = 0;
};

}  // namespace amata::probes
