// Which processes the kernel's OOM killer ended, from its own report in the kernel log
// (/dev/kmsg): "Out of memory: Killed process 4242 (python3) total-vm:..." (mm/oom_kill.c;
// "Memory cgroup out of memory: ..." when a cgroup's limit was hit). A SIGKILL alone does not
// say who sent it; the report does, and it is in the log before the victim can be reaped.
#pragma once

#include <sys/types.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace amata::probes {

/// One OOM kill the kernel reported: the victim, and where in the log the report stands.
struct OomKill {
  pid_t pid = 0;
  std::uint64_t seq = 0;  // the record's sequence number in the kernel log
};

/// The sequence number of one /dev/kmsg record ("PRIO,SEQ,USEC,FLAGS;MESSAGE").
std::optional<std::uint64_t> parse_kmsg_sequence(std::string_view record);
/// The kill in one /dev/kmsg record when it is the kernel's OOM report (kernel facility only:
/// root can write lines of its own into the log, and they are not the kernel's word).
std::optional<OomKill> parse_oom_kill_record(std::string_view record);

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

  /// A point in the kernel log: what is logged from now on comes after it. Taken when a
  /// service starts, so that a kill reported before (of another process that had the same
  /// pid long ago) is never taken for its own.
  std::uint64_t mark();
  /// Whether the OOM killer reported killing `pid` after `since` (a mark()). Reads the records
  /// logged since the last read without blocking; called when a process died by SIGKILL, so
  /// the log is read only then (and at marks).
  bool killed(pid_t pid, std::uint64_t since);

 private:
  void drain();
  void close();

  int fd_ = -1;
  std::uint64_t next_seq_ = 0;  // after the last record read
  // The last OOM victims seen; a kill storm larger than this between a death and its reaping
  // is beyond what a machine survives anyway.
  std::array<OomKill, 64> victims_{};
  std::size_t next_ = 0;
};

}  // namespace amata::probes
