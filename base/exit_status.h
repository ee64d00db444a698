// How a process ended: the one vocabulary for services, jobs, check plugins and fence agents.
#pragma once

#include <signal.h>

#include <string>

namespace amata::base {

struct ExitStatus {
  bool known = true;  // false when it was not our child (adopted): no status to read
  int exit_code = 0;  // valid when !signaled
  int signal = 0;     // the signal that killed it, when signaled
  bool signaled = false;

  static ExitStatus exited(int code) { return ExitStatus{true, code, 0, false}; }
  static ExitStatus killed(int sig) { return ExitStatus{true, -1, sig, true}; }
  static ExitStatus unknown() { return ExitStatus{false, 0, 0, false}; }
  /// From what waitid() filled in for an exited or killed child.
  static ExitStatus from(const siginfo_t& info);
  /// From a wait status word (waitpid, the proc connector, PIDFD_GET_INFO).
  static ExitStatus from_wait_status(int status);

  /// True for exit(0).
  bool success() const { return known && !signaled && exit_code == 0; }
  /// "exited 0", "killed by SIGKILL", "ended (status unknown)".
  std::string describe() const;
  friend bool operator==(const ExitStatus&, const ExitStatus&) = default;
};

}  // namespace amata::base
