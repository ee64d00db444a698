// The timeout of a check of a service (a connect, a ping, an HTTP request, a check script, a
// hook):
// it measures the service, not amatad. When the loop was busy — a storm of restarts, a slow
// disk, a CPU shared with the services it just started — the timer runs late, and the answer
// may be waiting unread in a socket. Failing then would blame the service for amatad's
// backlog and restart a healthy service. So a timer that runs late gives the check the time
// amatad was not looking, once more, before it expires: the fds are served first on the
// loop's next turn, and a check whose answer arrived in time succeeds.
#pragma once

#include <functional>

#include "base/clock.h"
#include "base/event_loop.h"

namespace amata::base {

class CheckTimeout {
 public:
  /// A timer that ran later than this was held up by the loop, not by the service.
  static constexpr Clock::duration kPunctual = std::chrono::milliseconds(5);
  /// At most this much is given back over one check: a loop that never catches up must not
  /// keep a hung service's check open for ever.
  static constexpr Clock::duration kMaxGivenBack = std::chrono::seconds(10);

  explicit CheckTimeout(EventLoop& loop) : loop_(loop) {}
  ~CheckTimeout() { cancel(); }
  CheckTimeout(const CheckTimeout&) = delete;
  CheckTimeout& operator=(const CheckTimeout&) = delete;

  /// Calls `expired` once `timeout` of the loop's attention has passed, unless cancelled
  /// first. Re-arming cancels the previous one.
  void arm(Clock::duration timeout, std::function<void()> expired);
  void cancel();
  bool armed() const { return timer_ != 0; }
  /// What the loop's lateness has added to this check so far.
  Clock::duration given_back() const { return given_back_; }

 private:
  void arm_at(Clock::time_point deadline);

  EventLoop& loop_;
  EventLoop::TimerId timer_ = 0;
  std::function<void()> expired_;
  Clock::duration given_back_{};
};

}  // namespace amata::base
