#include "base/exit_status.h"

#include <string.h>
#include <sys/wait.h>

namespace amata::base {

ExitStatus ExitStatus::from(const siginfo_t& info) {
  if (info.si_code == CLD_EXITED) return exited(info.si_status);
  return killed(info.si_status);  // CLD_KILLED, CLD_DUMPED
}

ExitStatus ExitStatus::from_wait_status(int status) {
  if (WIFSIGNALED(status)) return killed(WTERMSIG(status));
  return exited(WEXITSTATUS(status));
}

std::string ExitStatus::describe() const {
  if (!known) return "ended (status unknown)";
  if (signaled) {
    const char* name = sigabbrev_np(signal);
    return std::string("killed by ") + (name ? std::string("SIG") + name : std::to_string(signal));
  }
  return "exited " + std::to_string(exit_code);
}

}  // namespace amata::base
