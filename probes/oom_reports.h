// Which processes the kernel's OOM killer ended, from its own report in the kernel log
// (/dev/kmsg): "Out of memory: Killed process 4242 (python3) total-vm:..." (mm/oom_kill.c;
// "Memory cgroup out of memory: ..." when a cgroup's limit was hit). A SIGKILL alone does not
// say who sent it; the report does, and it is in the log before the victim can be reaped.
#pragma once

#include <sys/types.h>

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace amata::probes {

/// The pid in one /dev/kmsg record ("PRIO,SEQ,USEC,FLAGS;MESSAGE") when it is an OOM kill.
std::optional<pid_t> parse_oom_kill_record(std::string_view record);

class OomReports {
 public:
  /// Opens `kmsg` ("/dev/kmsg") at its end: only kills from now on are seen. Fails without
  /// the right to read the kernel log (CAP_SYSLOG when dmesg_restrict is set).
  static Result<OomReports> open(const std::string& kmsg = "/dev/kmsg");
  OomReports() = default;
  ~OomReports();
  OomReports(OomReports&& other) noexcept;
  OomReports& operator=(OomReports&& other) noexcept;
  OomReports(const OomReports&) = delete;
  OomReports& operator=(const OomReports&) = delete;

  /// Whether the OOM killer reported killing `pid` since open(). Reads the records logged
  /// since the last call without blocking; called when a process died by SIGKILL, so the
  /// log is read only then.
  bool killed(pid_t pid);

 private:
  void drain();
  void close();

  int fd_ = -1;
  // The last OOM victims seen; a kill storm larger than this between two deaths of ours is
  // beyond what a machine survives anyway.
  std::array<pid_t, 64> victims_{};
  std::size_t next_ = 0;
};

}  // namespace amata::probes
