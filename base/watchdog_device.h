// A hardware (or softdog) watchdog device as the kernel presents it (Documentation/watchdog/
// watchdog-api.rst): opening it starts its timer, every write feeds it, and the node resets
// when nothing writes for the timeout. Writing 'V' before closing ("magic close") stops the
// timer on drivers built without nowayout; closing without it leaves the timer running.
//
// amatad holds one while its node may hold clustered services (docs/operations.md,
// "Self-fencing with a watchdog"); when to feed is the caller's decision.
#pragma once

#include <optional>
#include <string>

#include "base/result.h"
#include "base/unique_fd.h"

namespace amata::base {

class WatchdogDevice {
 public:
  /// Opens `path` (which starts the timer) and asks for `timeout_seconds`. An error when it
  /// cannot be opened, or when it reports a longer timeout than asked: the cluster's wait for
  /// a lost node is computed from the asked one. A device that takes no timeout and reports
  /// none (a FIFO, some drivers) is accepted with its own.
  static Result<WatchdogDevice> open(const std::string& path, int timeout_seconds);

  WatchdogDevice(WatchdogDevice&&) noexcept = default;
  WatchdogDevice& operator=(WatchdogDevice&&) noexcept = default;
  /// Closes without the magic character: the timer keeps running, so a daemon that dies
  /// with its node's services still running gets its node reset unless it comes back.
  ~WatchdogDevice() = default;

  /// One write: the timer starts again.
  Status feed();
  /// The magic close: 'V', then close. After it the device is closed.
  void disarm();

  const std::string& path() const { return path_; }
  /// The timeout the device reported after the request, when it reports one.
  std::optional<int> device_timeout() const { return device_timeout_; }

 private:
  WatchdogDevice(UniqueFd fd, std::string path, std::optional<int> device_timeout)
      : fd_(std::move(fd)), path_(std::move(path)), device_timeout_(device_timeout) {}

  UniqueFd fd_;
  std::string path_;
  std::optional<int> device_timeout_;
};

}  // namespace amata::base
