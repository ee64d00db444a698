#include "tests/cluster/watchdog_stand_in.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

namespace amata::cluster::testing {

using Clock = std::chrono::steady_clock;

WatchdogStandIn::WatchdogStandIn(const std::string& dir, int count,
                                 std::chrono::milliseconds timeout)
    : count_(count),
      timeout_(timeout),
      paths_(static_cast<std::size_t>(count) + 1),
      fds_(static_cast<std::size_t>(count) + 1, -1),
      expired_(new std::atomic<bool>[static_cast<std::size_t>(count) + 1] {}),
      feeds_(new std::atomic<int>[static_cast<std::size_t>(count) + 1] {}) {
  for (int i = 1; i <= count_; ++i) {
    paths_[i] = dir + "/watchdog" + std::to_string(i);
    mkfifo(paths_[i].c_str(), 0600);
    // Read-write: the FIFO always has a writer, so reads wait instead of seeing EOF between
    // amatads, and amatad's non-blocking open finds a reader.
    fds_[i] = open(paths_[i].c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
  }
  thread_ = std::thread([this] { run(); });
}

WatchdogStandIn::~WatchdogStandIn() {
  done_ = true;
  thread_.join();
  for (int i = 1; i <= count_; ++i) close(fds_[i]);
}

void WatchdogStandIn::run() {
  std::vector<Clock::time_point> last(fds_.size());
  std::vector<bool> armed(fds_.size());
  while (!done_) {
    std::vector<pollfd> p;
    for (int i = 1; i <= count_; ++i) p.push_back({fds_[i], POLLIN, 0});
    poll(p.data(), p.size(), 50);
    const auto now = Clock::now();
    for (int i = 1; i <= count_; ++i) {
      char buffer[64];
      ssize_t n = 0;
      while ((n = read(fds_[i], buffer, sizeof buffer)) > 0) {
        for (ssize_t k = 0; k < n; ++k) {
          armed[i] = buffer[k] != 'V';
          if (armed[i]) feeds_[i]++;
        }
        last[i] = now;
      }
      if (armed[i] && !expired_[i] && now - last[i] > timeout_) expired_[i] = true;
    }
  }
}

}  // namespace amata::cluster::testing
