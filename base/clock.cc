#include "base/clock.h"

#include <time.h>

#include <cmath>

namespace amata::base {
namespace {

double read_clock(clockid_t id) {
  timespec ts{};
  clock_gettime(id, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

}  // namespace

double monotonic_now() {
  return read_clock(CLOCK_MONOTONIC);
}

double unix_now() {
  return read_clock(CLOCK_REALTIME);
}

Clock::duration from_seconds(double seconds) {
  if (!(seconds > 0)) return Clock::duration::zero();  // also NaN
  if (seconds > kMaxDelaySeconds) seconds = kMaxDelaySeconds;
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
}

Clock::time_point next_tick(Clock::time_point after, Clock::duration period) {
  if (period <= Clock::duration::zero()) return after;
  const auto since_epoch = after.time_since_epoch();
  return Clock::time_point((since_epoch / period + 1) * period);
}

double next_tick(double after_seconds, double period_seconds) {
  // Through the same integer arithmetic as the loop's timers, so that a probe and a health
  // check of one period share their instant to the nanosecond.
  const auto after = Clock::time_point(
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(after_seconds)));
  const auto tick = next_tick(after, from_seconds(period_seconds));
  return std::chrono::duration<double>(tick.time_since_epoch()).count();
}

double elapsed_ms(Clock::time_point since) {
  return std::chrono::duration<double, std::milli>(Clock::now() - since).count();
}

std::int64_t to_unix_ms(double unix_seconds) {
  return static_cast<std::int64_t>(std::llround(unix_seconds * 1000.0));
}

}  // namespace amata::base
