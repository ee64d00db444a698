// The range of every duration and count a policy gives, in one table. The checker holds
// each value to its range (E0310 for a duration, E0304 for a count) and docs/language.md
// lists them all ("Value ranges"); why each bound is where it is stands beside it.
//
// The outer bounds hold for every duration: at least 1 ms (amatad's loop, its timerfd and
// the probes do not act on anything finer) and at most 365 days. The engine turns seconds
// into int64 nanoseconds, which overflow past 292 years; `every 99999999999999h` once spun
// amatad at 100% CPU. A year keeps every deadline it computes (now + D, a doubled backoff,
// a window's start) far from that edge, and nothing an operator means by a policy runs
// longer: "never" is written by leaving the clause out.
#pragma once

#include <string>

namespace amata::check {

/// A duration's range, in seconds.
struct DurationRange {
  double min = 0, max = 0;
};

inline constexpr double kMillisecond = 1e-3;
inline constexpr double kHour = 3600;
inline constexpr double kDay = 24 * kHour;
inline constexpr double kYear = 365 * kDay;

/// `every` of an object or a health check: each poll reads /proc, /sys or a socket on the
/// one loop; more than 100 a second per object starves it, and a probe that looks once a
/// day is not monitoring.
inline constexpr DurationRange kProbePeriod{10 * kMillisecond, kDay};
/// The default `every` of a disk (smartctl --all reads the drive's logs: minutes, not seconds).
inline constexpr double kDiskPeriod = 10 * 60;
/// `timeout` of a host probe, a check plugin or a health check, and `stop ... after`: a
/// probe or a stop that has not finished within an hour is stuck, and holds up what waits
/// for it (the next check, a restart, a reload).
inline constexpr DurationRange kTimeout{kMillisecond, kHour};
/// `grace`: health failures ignored after a start.
inline constexpr DurationRange kGrace{kMillisecond, kDay};
/// Window functions (`avg`, `min`, `max`, `delta`, `x within D`) and `predict`'s horizon:
/// the samples of the window are kept in memory, so it is bounded by a day of them.
inline constexpr DurationRange kHistoryWindow{kMillisecond, kDay};
/// `for D`, `N times within D`, `limit N within D`: a time kept as one number.
inline constexpr DurationRange kRuleWindow{kMillisecond, kYear};
/// `backoff MIN .. MAX`: a service that waits more than a day between restarts is down.
inline constexpr DurationRange kBackoff{kMillisecond, kDay};
/// `wait D` in a recovery: a recovery waiting longer than a day holds its chain for good.
inline constexpr DurationRange kWait{kMillisecond, kDay};

/// `watchdog_timeout` of a cluster: whole seconds, as the kernel's watchdog API takes them; a
/// reset sooner than 2 s would fire on a busy loop's hiccup, and a majority that waits more
/// than twice 2 min for a lost node is no longer highly available.
inline constexpr DurationRange kWatchdogTimeout{2, 120};
/// `remote_timeout`: a remote node sends a heartbeat every quarter of it; below 200 ms a
/// scheduling hiccup would count as a lost node.
inline constexpr DurationRange kRemoteTimeout{0.2, 60};

/// `for N checks`: a counter.
inline constexpr int kMaxChecks = 1000000;
/// `N times within D`: the rule keeps a time stamp for each of the N (state per object).
inline constexpr int kMaxTimes = 1000;
/// `limit N within D`: the supervisor keeps a time stamp for each restart counted.
inline constexpr int kMaxRestarts = 1000;

/// "10ms", "1h", "8760h": a duration in the largest unit that keeps it whole.
std::string format_duration(double seconds);
/// "from 10ms to 24h".
std::string describe(const DurationRange& range);

}  // namespace amata::check
