// The kill -> restart meter of the benchmarks (bench/recovery/recovery_bench and
// bench/compare's compare_meter). It SIGKILLs services and watches each one come back as a new
// process, from outside its supervisor:
//
//   kill      when this meter called kill(2);
//   dead      the old process's death: the proc connector's exit event, stamped by the kernel;
//             where that is late or refused, the moment its pidfd turned readable (optional);
//   running   the pidfile naming a new pid, noticed through inotify on its directory: when this
//             meter woke for that event (the file may hold the service's own stamps too);
//   fork/exec the supervisor forking the new process and that process's first exec, stamped by
//             the kernel (optional: needs the supervisor's pid).
//
// Times are CLOCK_MONOTONIC nanoseconds, the clock of the proc connector's stamps.
#pragma once

#include <sys/inotify.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace amata::meter {

/// CLOCK_MONOTONIC, in nanoseconds.
std::int64_t now_ns();

/// A pidfile: the pid on its first line, then optionally two CLOCK_MONOTONIC stamps of the
/// service's own and its start's cost (compare_tcp_service writes them).
struct PidFile {
  pid_t pid = 0;
  std::int64_t started_ns = 0;    // the process entered main(); 0 when not written
  std::int64_t listening_ns = 0;  // its listen() returned; 0 when not written
  // From its fork to main(): on a CPU, and runnable but waiting for one; -1 when not written.
  std::int64_t start_cpu_ns = -1;
  std::int64_t start_run_delay_ns = -1;
};

/// nullopt while the file is missing or names no pid.
std::optional<PidFile> read_pidfile(const std::string& path);

/// One service's kill and restart as the meter saw them; each time is -1 until seen.
struct Restart {
  std::string pidfile;
  pid_t old_pid = 0;
  std::int64_t kill_ns = -1;
  std::int64_t dead_ns = -1;
  bool dead_exact = false;  // dead_ns is the kernel's exit stamp, not a pidfd's wake-up
  std::int64_t running_ns = -1;
  PidFile running;  // the pidfile as read at running_ns: the new pid, the service's stamps
};

class RestartMeter {
 public:
  struct Options {
    /// The inotify events on a pidfile's directory that make the meter read the pidfile.
    std::uint32_t pidfile_events = IN_CLOSE_WRITE;
    /// SO_RCVBUF of the proc connector (0: the kernel's default); a busy machine forks a lot,
    /// and an overflow drops the exits waited for.
    int receive_buffer = 0;
    /// Also time each death by the old process's pidfd (kept when the connector's stamp
    /// comes too).
    bool pidfds = false;
    /// Reread every pidfile this often (0: never): a file written in place may be read half
    /// written at its first event.
    std::int64_t sweep_ns = 0;
    /// Record the kernel's stamps of this process's children: forked, first exec (0: none).
    pid_t supervisor = 0;
  };

  explicit RestartMeter(Options options);
  ~RestartMeter();
  RestartMeter(const RestartMeter&) = delete;
  RestartMeter& operator=(const RestartMeter&) = delete;

  /// False when inotify could not be set up (errno says why); the connector is optional.
  bool ok() const { return inotify_ >= 0; }
  /// The proc connector is listening (it needs CAP_NET_ADMIN): dead is then the kernel's.
  bool connected() const { return connector_ >= 0; }

  /// Adds a service to kill: `pidfile` names `old_pid`. False (errno set) when the pidfile's
  /// directory cannot be watched.
  bool add(const std::string& pidfile, pid_t old_pid);
  /// Forgets the services, keeping the watches: the next round adds them again.
  void clear();
  /// SIGKILLs service `i` and stamps the time; false (errno set) when kill(2) fails.
  bool kill(std::size_t i);

  /// Waits up to `timeout_ns` for events, then records what every pending one shows.
  void wait(std::int64_t timeout_ns);
  /// Reads the connector until it has been quiet for `quiet_ns`: its stamps may arrive after
  /// the pidfiles were seen.
  void settle(std::int64_t quiet_ns);

  std::size_t size() const { return targets_.size(); }
  const Restart& restart(std::size_t i) const { return targets_[i].restart; }
  bool all_running() const;
  /// The kernel's stamps of the supervisor forking `child`, and of `child`'s first exec; -1
  /// when not seen.
  std::int64_t fork_ns(pid_t child) const;
  std::int64_t exec_ns(pid_t child) const;

 private:
  struct Target {
    Restart restart;
    int pidfd = -1;  // of the old process, while its death is not yet known
  };
  void read_connector();
  void read_inotify(std::int64_t now);
  void check_pidfile(Target& t, std::int64_t now);

  Options options_;
  int connector_ = -1;
  int inotify_ = -1;
  std::map<std::string, int> watched_dirs_;  // directory -> watch descriptor
  std::map<int, std::string> dir_of_watch_;
  std::vector<Target> targets_;
  std::map<std::string, std::vector<std::size_t>> by_pidfile_;  // "DIR/NAME" -> targets
  std::map<pid_t, std::size_t> by_old_pid_;
  std::map<pid_t, std::int64_t> forks_, execs_;
  std::int64_t last_sweep_ns_ = -1;
};

}  // namespace amata::meter
