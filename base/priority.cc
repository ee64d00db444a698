#include "base/priority.h"

#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <limits>

namespace amata::base {
namespace {

constexpr int kUnset = std::numeric_limits<int>::min();
std::atomic<int> background{kUnset};

}  // namespace

void set_background_nice(std::optional<int> nice) {
  background.store(nice.value_or(kUnset));
}

std::optional<int> background_nice() {
  const int nice = background.load();
  if (nice == kUnset) return std::nullopt;
  return nice;
}

void move_this_thread_to_background() {
  if (auto nice = background_nice()) (void)setpriority(PRIO_PROCESS, gettid(), *nice);
}

bool move_to_background(pid_t pid) {
  auto nice = background_nice();
  return !nice || setpriority(PRIO_PROCESS, static_cast<id_t>(pid), *nice) == 0;
}

}  // namespace amata::base
