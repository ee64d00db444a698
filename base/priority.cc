#include "base/priority.h"

#include <linux/sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <limits>

namespace amata::base {
namespace {

constexpr int kUnset = std::numeric_limits<int>::min();
std::atomic<int> background{kUnset};
std::atomic<bool> background_resets_slice{false};

/// The kernel's struct sched_attr (its first version, 56 bytes). <linux/sched/types.h> has it
/// too, but also a struct sched_param that glibc's <sched.h> already defines.
struct sched_attr {
  std::uint32_t size;
  std::uint32_t sched_policy;
  std::uint64_t sched_flags;
  std::int32_t sched_nice;
  std::uint32_t sched_priority;
  std::uint64_t sched_runtime;  // a fair task's slice, in ns (Linux 6.12 and later)
  std::uint64_t sched_deadline;
  std::uint64_t sched_period;
  std::uint32_t sched_util_min;
  std::uint32_t sched_util_max;
};
static_assert(sizeof(sched_attr) == 56);

bool get_attr(pid_t tid, sched_attr& attr) {
  attr = sched_attr{};
  return syscall(SYS_sched_getattr, tid, &attr, sizeof attr, 0) == 0;
}

bool fair(const sched_attr& attr) {
  return attr.sched_policy == SCHED_NORMAL || attr.sched_policy == SCHED_BATCH;
}

/// `tid` at `nice` (nullopt: its own) and `slice` (nullopt: its own; 0: the default), its
/// policy and its reset-on-fork flag kept: sched_setattr sets all of them at once.
bool set_fair(pid_t tid, std::optional<int> nice, std::optional<std::uint64_t> slice_ns) {
  sched_attr attr{};
  if (!get_attr(tid, attr) || !fair(attr)) return false;
  attr.size = sizeof attr;
  attr.sched_flags &= SCHED_FLAG_RESET_ON_FORK;
  if (nice) attr.sched_nice = *nice;
  // A kernel without custom slices reports 0 here and ignores what is set.
  if (slice_ns) attr.sched_runtime = *slice_ns;
  return syscall(SYS_sched_setattr, tid, &attr, 0) == 0;
}

/// `tid` at the background nice, and at the default slice when asked.
bool to_background(pid_t tid) {
  auto nice = background_nice();
  if (!nice) return true;
  if (background_resets_slice.load() && set_fair(tid, nice, 0)) return true;
  return setpriority(PRIO_PROCESS, static_cast<id_t>(tid), *nice) == 0;
}

}  // namespace

void set_background_nice(std::optional<int> nice) {
  background.store(nice.value_or(kUnset));
}

std::optional<int> background_nice() {
  const int nice = background.load();
  if (nice == kUnset) return std::nullopt;
  return nice;
}

bool set_this_thread_slice(std::chrono::nanoseconds slice) {
  if (!set_fair(gettid(), std::nullopt, static_cast<std::uint64_t>(slice.count()))) return false;
  return this_thread_slice().has_value();  // an older kernel took it and reports none
}

std::optional<std::chrono::nanoseconds> this_thread_slice() {
  return slice_of(gettid());
}

std::optional<std::chrono::nanoseconds> slice_of(pid_t tid) {
  sched_attr attr{};
  if (!get_attr(tid, attr) || !fair(attr) || attr.sched_runtime == 0) return std::nullopt;
  return std::chrono::nanoseconds(attr.sched_runtime);
}

void set_background_resets_slice(bool reset) {
  background_resets_slice.store(reset);
}

void move_this_thread_to_background() {
  (void)to_background(gettid());
}

bool move_to_background(pid_t pid) {
  return to_background(pid);
}

}  // namespace amata::base
