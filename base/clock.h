// The two clocks of amata and the one way to turn a policy's seconds into a loop duration.
//
// Monotonic time (CLOCK_MONOTONIC, the timerfd's clock) orders everything the loop does:
// timers, probe periods, `for 30s`, backoff. Wall time (CLOCK_REALTIME) only stamps what
// people read later: stored events, actions, the console's `at_unix_ms`.
#pragma once

#include <chrono>
#include <cstdint>

namespace amata::base {

using Clock = std::chrono::steady_clock;  // CLOCK_MONOTONIC in libstdc++

/// Seconds on CLOCK_MONOTONIC: the clock of discover()'s `now`, of probes and of timers.
double monotonic_now();
/// Seconds since the Unix epoch: the clock of stored records.
double unix_now();

/// The longest delay the loop takes: about 100 years. A longer one (or an overflow in a
/// caller's arithmetic) is clamped to it, so a deadline is never in the past by wrap-around.
inline constexpr double kMaxDelaySeconds = 100.0 * 365 * 24 * 3600;

/// `seconds` as a loop duration: negative and NaN become 0, more than kMaxDelaySeconds
/// becomes kMaxDelaySeconds. Every conversion of a policy's duration goes through here.
Clock::duration from_seconds(double seconds);

/// The first instant after `after` that is a whole multiple of `period` on the monotonic
/// clock (`after` itself for a period of 0). Periodic work scheduled on these ticks lines up:
/// every probe and health check of one period runs in the same turn of the loop, so an idle
/// amatad wakes once a period rather than once for each of them.
Clock::time_point next_tick(Clock::time_point after, Clock::duration period);
/// The same in seconds, for ProbeSet's deadlines.
double next_tick(double after_seconds, double period_seconds);

/// Milliseconds since `since` on the monotonic clock (for action and job durations).
double elapsed_ms(Clock::time_point since);

/// Unix seconds as whole milliseconds (the console's `at_unix_ms`).
std::int64_t to_unix_ms(double unix_seconds);

}  // namespace amata::base
