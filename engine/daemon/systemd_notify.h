// The sd_notify protocol, spoken directly: one unix datagram per message to $NOTIFY_SOCKET.
// amatad reads (and removes) NOTIFY_SOCKET and WATCHDOG_USEC/WATCHDOG_PID from its
// environment at start, so the services it runs never inherit them and cannot speak for it.
// Messages are sent with MSG_DONTWAIT: a stuck receiver never blocks the loop.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "base/event_loop.h"
#include "base/result.h"

namespace amata::daemon {

class SystemdNotifier {
 public:
  /// Takes NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID out of the environment. Without a
  /// NOTIFY_SOCKET the notifier is disabled and every call is a successful no-op.
  static SystemdNotifier from_environment();
  /// A notifier for `socket_path` ("@name" for the abstract namespace).
  explicit SystemdNotifier(std::string socket_path,
                           std::optional<std::chrono::microseconds> watchdog = std::nullopt);
  ~SystemdNotifier();
  SystemdNotifier(SystemdNotifier&& other) noexcept;
  SystemdNotifier& operator=(SystemdNotifier&&) = delete;
  SystemdNotifier(const SystemdNotifier&) = delete;

  bool enabled() const { return !socket_path_.empty(); }
  /// Sends raw "KEY=value\n..." text.
  Status send(const std::string& message);
  Status ready() { return send("READY=1"); }
  Status reloading() { return send("RELOADING=1"); }
  Status stopping() { return send("STOPPING=1"); }
  Status status(const std::string& text) { return send("STATUS=" + text); }
  Status watchdog() { return send("WATCHDOG=1"); }

  /// The watchdog period systemd asked for (WatchdogSec), if any.
  std::optional<std::chrono::microseconds> watchdog_period() const { return watchdog_; }
  /// Pings the watchdog at half its period from a self-renewing loop timer. The pings come
  /// from the loop itself, so a wedged loop stops them and systemd restarts amatad.
  void start_watchdog(base::EventLoop& loop);
  /// Cancels the pings; call before the loop goes away if the notifier outlives it.
  void stop_watchdog();

 private:
  std::string socket_path_;
  std::optional<std::chrono::microseconds> watchdog_;
  int fd_ = -1;
  base::EventLoop* loop_ = nullptr;
  base::EventLoop::TimerId timer_ = 0;
};

}  // namespace amata::daemon
