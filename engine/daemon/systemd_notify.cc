#include "engine/daemon/systemd_notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace amata::daemon {

SystemdNotifier SystemdNotifier::from_environment() {
  const char* socket = std::getenv("NOTIFY_SOCKET");
  std::string path = socket ? socket : "";
  std::optional<std::chrono::microseconds> watchdog;
  const char* usec = std::getenv("WATCHDOG_USEC");
  const char* pid = std::getenv("WATCHDOG_PID");
  // WATCHDOG_PID names the process systemd expects pings from; for anyone else it is not set.
  bool for_us = !pid || std::strtol(pid, nullptr, 10) == getpid();
  if (usec && for_us) {
    long long v = std::strtoll(usec, nullptr, 10);
    if (v > 0) watchdog = std::chrono::microseconds(v);
  }
  unsetenv("NOTIFY_SOCKET");
  unsetenv("WATCHDOG_USEC");
  unsetenv("WATCHDOG_PID");
  return SystemdNotifier(path, watchdog);
}

SystemdNotifier::SystemdNotifier(std::string socket_path,
                                 std::optional<std::chrono::microseconds> watchdog)
    : socket_path_(std::move(socket_path)), watchdog_(watchdog) {}

SystemdNotifier::SystemdNotifier(SystemdNotifier&& other) noexcept
    : socket_path_(std::move(other.socket_path_)),
      watchdog_(other.watchdog_),
      fd_(other.fd_),
      loop_(other.loop_),
      timer_(other.timer_) {
  other.fd_ = -1;
  other.loop_ = nullptr;
  other.timer_ = 0;
}

SystemdNotifier::~SystemdNotifier() {
  stop_watchdog();
  if (fd_ >= 0) close(fd_);
}

Status SystemdNotifier::send(const std::string& message) {
  if (!enabled()) return {};
  if (socket_path_.size() >= sizeof(sockaddr_un::sun_path)) {
    return Error{"NOTIFY_SOCKET path too long: " + socket_path_};
  }
  if (fd_ < 0) {
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd_ < 0) return errno_error("socket(AF_UNIX)", errno);
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, socket_path_.data(), socket_path_.size());
  if (socket_path_[0] == '@') addr.sun_path[0] = '\0';  // abstract namespace
  auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + socket_path_.size());
  if (sendto(fd_, message.data(), message.size(), MSG_DONTWAIT | MSG_NOSIGNAL,
             reinterpret_cast<const sockaddr*>(&addr), len) < 0) {
    return errno_error("sd_notify to " + socket_path_, errno);
  }
  return {};
}

void SystemdNotifier::stop_watchdog() {
  if (loop_) loop_->cancel_timer(timer_);
  loop_ = nullptr;
  timer_ = 0;
}

void SystemdNotifier::start_watchdog(base::EventLoop& loop) {
  if (!enabled() || !watchdog_) return;
  loop_ = &loop;
  auto half = std::chrono::duration_cast<base::Clock::duration>(*watchdog_) / 2;
  // Re-arms itself; the timer id is kept so the destructor can cancel it.
  struct Pinger {
    SystemdNotifier* self;
    base::Clock::duration period;
    void operator()() const {
      (void)self->watchdog();  // a lost ping is retried at the next period
      Pinger next = *this;
      self->timer_ = self->loop_->add_timer_after(period, next);
    }
  };
  (void)watchdog();
  timer_ = loop.add_timer_after(half, Pinger{this, half});
}

}  // namespace amata::daemon
