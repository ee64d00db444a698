// Pressure stall information (/proc/pressure/{cpu,memory,io}) and the kernel's OOM-kill
// count (/proc/vmstat): the kernel's own verdicts on overload, parsed, and a PSI trigger that
// wakes the loop when a stall crosses a threshold instead of waiting for the next poll.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "base/event_loop.h"
#include "base/result.h"

namespace amata::probes {

/// One line of a pressure file: "some avg10=0.12 avg60=0.05 avg300=0.01 total=123456".
struct StallLine {
  double avg10 = 0, avg60 = 0, avg300 = 0;  // percent of wall time
  std::uint64_t total_us = 0;               // microseconds stalled since boot
};

/// A whole pressure file. `full` is absent from /proc/pressure/cpu before Linux 5.13.
struct Pressure {
  StallLine some;
  std::optional<StallLine> full;
};
/// nullopt when the "some" line is missing or malformed (a "full" line that is malformed is
/// left out rather than guessed).
std::optional<Pressure> parse_pressure(std::string_view text);

/// The value of counter `name` in /proc/vmstat ("oom_kill 3"); nullopt when absent (the
/// oom_kill line exists since Linux 4.13).
std::optional<std::uint64_t> find_vmstat_counter(std::string_view text, std::string_view name);

/// A PSI trigger: the kernel marks the fd (EPOLLPRI) when tasks stalled on the resource for
/// at least `stall_us` within a `window_us` window, at most once per window. With
/// CAP_SYS_RESOURCE windows may be 500 ms to 10 s; without it the kernel wants multiples of
/// 2 s (Linux 6.x), and open() widens the window keeping the share. Kernels before 5.2 have
/// no triggers at all: open() then fails and the caller keeps polling.
class PsiTrigger {
 public:
  /// The window the kernel allows without CAP_SYS_RESOURCE; a shorter one is widened to it.
  static constexpr std::uint32_t kUnprivilegedWindowUs = 2'000'000;
  /// Opens `path` ("/proc/pressure/memory") and arms "some STALL WINDOW" on it; `on_fire`
  /// runs on the loop each time the kernel reports the threshold crossed.
  static Result<PsiTrigger> open(base::EventLoop& loop, const std::string& path,
                                 std::uint32_t stall_us, std::uint32_t window_us,
                                 base::EventLoop::FdCallback on_fire);
  PsiTrigger() = default;
  ~PsiTrigger();
  PsiTrigger(PsiTrigger&& other) noexcept;
  PsiTrigger& operator=(PsiTrigger&& other) noexcept;
  PsiTrigger(const PsiTrigger&) = delete;
  PsiTrigger& operator=(const PsiTrigger&) = delete;

  bool armed() const { return fd_ >= 0; }

 private:
  void close();
  base::EventLoop* loop_ = nullptr;
  int fd_ = -1;
};

}  // namespace amata::probes
