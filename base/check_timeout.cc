#include "base/check_timeout.h"

#include <algorithm>
#include <utility>

namespace amata::base {

void CheckTimeout::arm(Clock::duration timeout, std::function<void()> expired) {
  cancel();
  expired_ = std::move(expired);
  given_back_ = {};
  arm_at(Clock::now() + timeout);
}

void CheckTimeout::arm_at(Clock::time_point deadline) {
  timer_ = loop_.add_timer(deadline, [this, deadline] {
    timer_ = 0;
    const auto now = Clock::now();
    const auto late = now - deadline;
    if (late > kPunctual && given_back_ < kMaxGivenBack) {
      const auto back = std::min(late, kMaxGivenBack - given_back_);
      given_back_ += back;
      arm_at(now + back);
      return;
    }
    // Moved out first: the callback may arm the next check's timeout.
    auto expired = std::move(expired_);
    expired_ = nullptr;
    if (expired) expired();
  });
}

void CheckTimeout::cancel() {
  if (timer_ != 0) loop_.cancel_timer(timer_);
  timer_ = 0;
  expired_ = nullptr;
}

}  // namespace amata::base
