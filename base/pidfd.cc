#include "base/pidfd.h"

#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

namespace amata::base {

Result<UniqueFd> open_pidfd(pid_t pid) {
  int fd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (fd >= 0) return UniqueFd(fd);
  const int err = errno;
  Error error = errno_error("pidfd_open " + std::to_string(pid), err);
  errno = err;  // callers tell ESRCH (gone) from ENOSYS (no pidfds) by it
  return error;
}

Status pidfd_signal(int pidfd, int sig) {
  if (syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0) < 0) {
    return errno_error("pidfd_send_signal", errno);
  }
  return {};
}

Result<std::optional<ExitStatus>> try_reap(int pidfd) {
  siginfo_t info{};
  if (waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd), &info, WEXITED | WNOHANG) <
      0) {
    return errno_error("waitid", errno);
  }
  if (info.si_pid == 0) return std::optional<ExitStatus>();  // still running
  return std::optional<ExitStatus>(ExitStatus::from(info));
}

void kill_and_reap(pid_t pid, int pidfd) {
  // A child that has not reached setsid()/setpgid() yet has no group of its own.
  if (kill(-pid, SIGKILL) < 0) {
    if (pidfd >= 0) {
      (void)pidfd_signal(pidfd, SIGKILL);
    } else {
      kill(pid, SIGKILL);
    }
  }
  siginfo_t info{};
  if (pidfd >= 0) {
    waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd), &info, WEXITED);
  } else {
    waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED);
  }
}

}  // namespace amata::base
