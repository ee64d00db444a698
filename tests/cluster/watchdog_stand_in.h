// A watchdog device the test controls, for amatad's `watchdog` (docs/operations.md,
// "Self-fencing with a watchdog"): a FIFO per node, read by one thread in the role of the
// driver — armed by the first byte, fed by every byte, disarmed by 'V'. When an armed one
// goes unfed for the timeout it notes it; the test then resets the node, as hardware would.
// Never the machine's real watchdog.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace amata::cluster::testing {

class WatchdogStandIn {
 public:
  /// FIFOs `dir`/watchdog1 .. watchdog`count`.
  WatchdogStandIn(const std::string& dir, int count, std::chrono::milliseconds timeout);
  ~WatchdogStandIn();
  WatchdogStandIn(const WatchdogStandIn&) = delete;
  WatchdogStandIn& operator=(const WatchdogStandIn&) = delete;

  /// Node i's device (1-based).
  const std::string& path(int i) const { return paths_[i]; }
  bool expired(int i) const { return expired_[i]; }
  int feeds(int i) const { return feeds_[i]; }

 private:
  void run();

  int count_;
  std::chrono::milliseconds timeout_;
  std::vector<std::string> paths_;
  std::vector<int> fds_;
  std::unique_ptr<std::atomic<bool>[]> expired_;
  std::unique_ptr<std::atomic<int>[]> feeds_;
  std::atomic<bool> done_{false};
  std::thread thread_;
};

}  // namespace amata::cluster::testing
