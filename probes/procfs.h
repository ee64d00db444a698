// Parsers for the procfs files the probes read, and a kept-open file that is re-read with
// pread into a preallocated buffer, so steady-state probing neither opens nor allocates.
//
// Every parser takes the file's text and returns nullopt (or leaves fields at their
// "missing" value) on malformed input: the kernel's formats differ between versions (no
// steal column before 2.6.11, no MemAvailable before 3.14, 4-field partition lines in
// /proc/diskstats on 2.6) and the probes must cope with all of them.
#pragma once

#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/proc_stat.h"
#include "base/result.h"

namespace amata::probes {

// --- /proc/stat ---------------------------------------------------------------------------

/// The aggregate "cpu" line of /proc/stat, in clock ticks. Columns a kernel lacks are 0.
struct CpuTimes {
  std::uint64_t user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0,
                steal = 0;
  int columns = 0;  // how many columns the line had (4 on 2.4, 7 on 2.6.0, 8+ with steal)
  /// Every tick counted once; guest time is already inside user/nice, so it is left out.
  std::uint64_t total() const {
    return user + nice + system + idle + iowait + irq + softirq + steal;
  }
};
std::optional<CpuTimes> parse_proc_stat_cpu(std::string_view text);

/// Percentages of the interval between two samples.
struct CpuPercent {
  double busy = 0, user = 0, system = 0, iowait = 0, steal = 0;
};
/// nullopt when no tick passed (or the counters went backwards).
std::optional<CpuPercent> cpu_percent(const CpuTimes& before, const CpuTimes& after);

// --- /proc/meminfo, /proc/loadavg, /proc/uptime, /proc/sys/fs/file-nr -----------------------

/// /proc/meminfo in bytes. `available` is MemAvailable, or estimated as MemFree + Buffers +
/// Cached on kernels before 3.14 (available_estimated is then true).
struct MemInfo {
  std::uint64_t total = 0, free = 0, available = 0, buffers = 0, cached = 0, swap_total = 0,
                swap_free = 0;
  bool available_estimated = false;
};
std::optional<MemInfo> parse_meminfo(std::string_view text);

struct LoadAvg {
  double load1 = 0, load5 = 0, load15 = 0;
  std::uint64_t running = 0, tasks = 0;  // "running/tasks" (threads, not processes)
};
std::optional<LoadAvg> parse_loadavg(std::string_view text);

/// Seconds since boot, the first field of /proc/uptime.
std::optional<double> parse_uptime(std::string_view text);

/// Allocated file handles, the first field of /proc/sys/fs/file-nr.
std::optional<std::uint64_t> parse_file_nr(std::string_view text);

// --- /proc/PID/... ------------------------------------------------------------------------

// /proc/PID/stat: base/proc_stat.h (amatad's own bookkeeping reads it too).

/// /proc/PID/io: bytes the process caused to be fetched from / sent to storage.
struct PidIo {
  std::uint64_t read_bytes = 0, write_bytes = 0;
};
std::optional<PidIo> parse_pid_io(std::string_view text);

/// Children listed in /proc/PID/task/TID/children (space-separated pids).
std::size_t count_pids(std::string_view text);

/// /proc/PID/cmdline (NUL-separated) as one line with single spaces, for `match` regexes.
/// Writes into `out` (cleared first) to reuse its storage.
void cmdline_to_string(std::string_view raw, std::string& out);

/// A pid file: the first decimal number, surrounding whitespace allowed.
std::optional<pid_t> parse_pidfile(std::string_view text);

// --- /proc/diskstats, /proc/self/mountinfo --------------------------------------------------

/// One line of /proc/diskstats. Sectors are 512 bytes whatever the device's block size.
struct DiskStats {
  unsigned major = 0, minor = 0;
  std::string_view name;  // points into the parsed text
  std::uint64_t sectors_read = 0, sectors_written = 0;
  std::uint64_t io_ticks_ms = 0;  // time with I/O in flight; absent (0) in 4-field lines
  bool has_io_ticks = false;
};
/// Finds the device `major:minor` (or, when major is 0 and minor is 0, the device `name`).
std::optional<DiskStats> find_diskstats(std::string_view text, unsigned major, unsigned minor,
                                        std::string_view name = {});
/// Parses one line.
std::optional<DiskStats> parse_diskstats_line(std::string_view line);

/// One line of /proc/self/mountinfo with octal escapes (\040 for space) decoded.
struct MountInfo {
  unsigned major = 0, minor = 0;
  std::string root;         // field 4: the mount's root within its filesystem
  std::string mount_point;  // field 5
  std::string options;      // per-mount options ("rw,relatime")
  std::string fstype;       // after the " - " separator
  std::string source;       // "/dev/vda1", "overlay", ...
};
std::optional<MountInfo> parse_mountinfo_line(std::string_view line);
/// The mount that `path` (absolute, normalised) lives on: the last mount, in mountinfo order,
/// whose mount point is `path` or a parent of it (later mounts hide earlier ones).
std::optional<MountInfo> find_mount(std::string_view mountinfo, std::string_view path);

/// The fixed head of a getdents64 record (glibc 2.36 exposes no struct for it).
struct linux_dirent64_view {
  std::uint64_t ino;
  std::int64_t off;
  unsigned short reclen;
  unsigned char type;
  char name[1];
};

// --- Files kept open ---------------------------------------------------------------------

/// A file opened once and re-read from offset 0 with pread into a buffer that only grows,
/// so a steady-state read is one syscall and no allocation.
class ProcFile {
 public:
  /// How the kernel hands the file's text over, which says when a read has reached its end.
  enum class Text {
    /// Record by record (/proc/diskstats, task/TID/children): a seq_file may stop a read
    /// short where a record no longer fits its page, so only a read of 0 bytes is the end.
    kRecords,
    /// Whole by each read: the text is one record made in one go (/proc/PID/stat and
    /// /proc/PID/io, seq_file single_open), so a read shorter than the buffer is all of it
    /// and the read that would find the end is saved.
    kWhole,
  };

  ProcFile() = default;
  ~ProcFile();
  ProcFile(ProcFile&& other) noexcept;
  ProcFile& operator=(ProcFile&& other) noexcept;
  ProcFile(const ProcFile&) = delete;
  ProcFile& operator=(const ProcFile&) = delete;

  /// Opens `path` (relative to `dir_fd` when it is not AT_FDCWD).
  static Result<ProcFile> open(const std::string& path, int dir_fd = -100 /* AT_FDCWD */,
                               std::size_t initial_capacity = 4096, Text text = Text::kRecords);
  /// Reads the whole file again; the view stays valid until the next read().
  Result<std::string_view> read();
  bool is_open() const { return fd_ >= 0; }
  /// Whether `path` names the file this one has open (same device and inode). False once the
  /// file was removed, or replaced by a new one of the same name.
  bool refers_to(const std::string& path) const;
  void close();

 private:
  int fd_ = -1;
  Text text_ = Text::kRecords;
  std::string path_;
  std::vector<char> buffer_;
};

/// Counts the entries of an open directory fd whose names are all digits (pids), or all
/// entries except . and .. when `digits_only` is false; rewinds first. No allocation.
Result<std::size_t> count_dir_entries(int dir_fd, bool digits_only);

/// How the open fds of a process are counted from its /proc/PID/fd.
enum class FdCounting {
  kDirSize,  // fstat's st_size is the count (Linux 6.2+): one system call
  kListing,  // the entries are listed: lseek and at least two getdents64
};
/// kDirSize when the procfs open as `proc_fd` (a proc root) reports the count, else kListing:
/// a kernel before 6.2 gives a size of 0, and a fixture tree is no procfs (its directories
/// have sizes of their own). Two system calls: ask once, at setup.
FdCounting fd_counting(int proc_fd);
/// The open fds of the process whose /proc/PID/fd is open as `fd_dir_fd`. No allocation.
Result<std::size_t> count_open_fds(int fd_dir_fd, FdCounting how);

/// Calls `fn(pid)` for every numeric entry of the open directory `dir_fd`; rewinds first.
/// No allocation: the entries are read with getdents64 into a stack buffer.
template <typename Fn>
Status for_each_pid(int dir_fd, Fn&& fn) {
  if (lseek(dir_fd, 0, SEEK_SET) < 0) return errno_error("lseek(dir)", errno);
  alignas(8) char buf[8192];
  for (;;) {
    long n = syscall(SYS_getdents64, dir_fd, buf, sizeof buf);
    if (n < 0) return errno_error("getdents64", errno);
    if (n == 0) return {};
    for (long off = 0; off < n;) {
      auto* d = reinterpret_cast<linux_dirent64_view*>(buf + off);
      off += d->reclen;
      long pid = 0;
      const char* c = d->name;
      if (*c == '\0') continue;
      for (; *c >= '0' && *c <= '9'; ++c) pid = pid * 10 + (*c - '0');
      if (*c == '\0' && pid > 0) fn(static_cast<pid_t>(pid));
    }
  }
}

/// Reads a small file in one go (pid files, sysfs attributes); allocates, so not for the
/// steady-state path of a hot probe.
Result<std::string> read_small_file(const std::string& path, std::size_t max = 65536);

}  // namespace amata::probes
