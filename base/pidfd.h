// Process file descriptors (Linux 5.3+): a pidfd names one process for ever, so signals sent
// and waits made through it can never reach a process that reused the pid. Every pidfd of
// amata is opened, signalled and reaped through these.
#pragma once

#include <sys/types.h>

#include <optional>

#include "base/exit_status.h"
#include "base/result.h"
#include "base/unique_fd.h"

namespace amata::base {

/// pidfd_open(2). Race-free for our own unreaped children; for any other process the caller
/// must check afterwards that it is still the one meant (its start time). On failure errno is
/// left as pidfd_open set it (ESRCH: no such process; ENOSYS: a kernel without pidfds).
Result<UniqueFd> open_pidfd(pid_t pid);

/// pidfd_send_signal(2); signal 0 only checks that the process still exists.
Status pidfd_signal(int pidfd, int sig);

/// Reaps our child through its pidfd without blocking (waitid P_PIDFD, WNOHANG): its exit
/// status, or nullopt while it still runs. An error when it is not our child or was already
/// reaped elsewhere (ECHILD).
Result<std::optional<ExitStatus>> try_reap(int pidfd);

/// SIGKILLs our child's whole process group (it leads its own) and reaps it, blocking for
/// the microseconds a killed process takes to end. For error paths and destructors only.
void kill_and_reap(pid_t pid, int pidfd);

}  // namespace amata::base
