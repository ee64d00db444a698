// The netlink proc connector (CN_IDX_PROC): the kernel reports every fork, exec and exit.
// One socket serves all process probes; each registers a listener. Exit events carry the
// wait status, so a foreign process's exit code and signal are known too.
//
// On a busy machine that is thousands of events a second, nearly all about processes nobody
// watches. A classic BPF filter on the socket, rebuilt from what the listeners say they want,
// lets the kernel drop the rest before amatad is woken.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "base/event_loop.h"
#include "base/result.h"

namespace amata::probes {

/// What the listeners want to hear; the socket's filter lets nothing else through.
struct ProcInterest {
  bool execs = false;        ///< every exec of a thread-group leader
  std::vector<pid_t> exits;  ///< the exits of these processes

  bool operator==(const ProcInterest&) const = default;
};

/// Receives proc connector events; implemented by process probes.
class ProcEventListener {
 public:
  virtual ~ProcEventListener() = default;
  /// Adds what this listener wants to `interest`. A listener whose answer changes calls
  /// ProcConnector::interest_changed() at once: until then the kernel drops what it now
  /// wants.
  virtual void add_interest(ProcInterest& interest) const = 0;
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
  /// Asks every listener again and, if the answer changed, replaces the socket's filter.
  void interest_changed();
  /// Events received so far (for tests and benchmarks).
  std::uint64_t events_seen() const { return events_seen_; }
  /// Instructions in the socket's filter; 0 when none is attached (everything comes through).
  std::size_t filter_length() const { return filter_length_; }

  /// Beyond this many watched exits the filter would near the kernel's limit of 4096
  /// instructions, and every exit comes through instead.
  static constexpr std::size_t kMaxFilteredExits = 1000;

 private:
  ProcConnector(base::EventLoop& loop, int fd) : loop_(loop), fd_(fd) {}
  void on_readable();
  void install_filter();

  base::EventLoop& loop_;
  int fd_;
  std::vector<ProcEventListener*> listeners_;
  std::uint64_t events_seen_ = 0;
  ProcInterest installed_;
  bool have_installed_ = false;
  std::size_t filter_length_ = 0;
};

}  // namespace amata::probes
