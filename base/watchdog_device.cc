#include "base/watchdog_device.h"

#include <fcntl.h>
#include <linux/watchdog.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace amata::base {

Result<WatchdogDevice> WatchdogDevice::open(const std::string& path, int timeout_seconds) {
  // Non-blocking: a FIFO (what tests stand in with) with no reader fails at once, ENXIO,
  // instead of holding the loop; a character device ignores the flag.
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_NONBLOCK));
  if (!fd) {
    return Error{"watchdog: cannot open " + path + ": " + std::strerror(errno)};
  }
  int asked = timeout_seconds;
  // Drivers that cannot take the timeout answer ENOTTY/EINVAL/EOPNOTSUPP; the one read back
  // is what counts (a driver may round it).
  ::ioctl(fd.get(), WDIOC_SETTIMEOUT, &asked);
  std::optional<int> reported;
  int now = 0;
  if (::ioctl(fd.get(), WDIOC_GETTIMEOUT, &now) == 0 && now > 0) reported = now;
  WatchdogDevice device(std::move(fd), path, reported);
  if (reported && *reported > timeout_seconds) {
    // Closing it here must not leave a timer running that nothing feeds.
    device.disarm();
    return Error{"watchdog: " + path + " keeps a timeout of " + std::to_string(*reported) +
                 " s, longer than the policy's " + std::to_string(timeout_seconds) +
                 " s (the cluster waits for a lost node by the policy's)"};
  }
  if (Status fed = device.feed(); !fed.ok()) return fed.error();
  return device;
}

Status WatchdogDevice::feed() {
  if (!fd_) return Error{"watchdog: " + path_ + " is closed"};
  const char byte = 'k';  // anything but 'V'
  if (::write(fd_.get(), &byte, 1) != 1) {
    return Error{"watchdog: cannot feed " + path_ + ": " + std::strerror(errno)};
  }
  return {};
}

void WatchdogDevice::disarm() {
  if (!fd_) return;
  const char magic = 'V';
  [[maybe_unused]] auto n = ::write(fd_.get(), &magic, 1);
  fd_.reset();
}

}  // namespace amata::base
