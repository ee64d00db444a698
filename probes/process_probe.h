// The probe of a process or service: finds the process (pidfile, command-line regex, or the
// child the engine said it follows), measures it from /proc/PID through files kept open, and
// for a `process` reports its death as an event (pidfd on the loop, proc connector EXIT).
// Services also run their health checks here.
//
// A `service` is amatad's own child: amatad's supervisor, which reaps it, is the one writer
// of its alive, pid, exit_code, exit_signal and restarts. Its probe measures the rest (cpu,
// rss, threads, ..., health) of the pid it is told to follow, and never runs ahead of the
// reaping with a verdict of its own.
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/regex.h"
#include "probes/net_checks.h"
#include "probes/probe.h"
#include "probes/probe_context.h"
#include "probes/proc_connector.h"
#include "probes/procfs.h"

namespace amata::probes {

class HealthRunner;

class ProcessProbe : public Probe, public ProcEventListener {
 public:
  static Result<std::unique_ptr<ProcessProbe>> create(int object, const catalog::ObjectSpec& spec,
                                                      ProbeContext& ctx);
  ~ProcessProbe() override;

  void poll() override;
  bool busy() const override;

  /// Measures the service's child `pid` from now on, its health checks counting after the
  /// service's `grace`; 0: the child has ended (see ProbeSet::follow).
  void follow(pid_t pid);
  /// A new process is on its way: its grace begins now.
  void starting();
  /// The pid measured now, 0 when none.
  pid_t pid() const { return pid_; }

  void on_exec(pid_t pid) override;
  void on_exit(pid_t pid, int wait_status) override;
  void on_events_lost() override;
  void add_interest(ProcInterest& interest) const override;

 private:
  ProcessProbe(int object, const catalog::ObjectSpec& spec, ProbeContext& ctx);
  /// Looks for the process by pidfile, then by regex; adopts it when found.
  bool locate();
  std::optional<pid_t> pid_from_pidfile();
  std::optional<pid_t> pid_from_match();
  /// Whether /proc/PID/cmdline matches the regex (reads into cmdline_).
  bool cmdline_matches(pid_t pid);
  /// Opens /proc/PID and its files (and a pidfd unless the engine owns the child).
  bool adopt(pid_t pid, bool owned);
  /// Reads every file of the adopted process and writes the sink; false when it is gone.
  bool sample();
  /// The process is gone: close everything, write what is unknown now (and for a process
  /// alive=0 and the exit status if known).
  void lost(std::optional<base::ExitStatus> status);
  void release();
  /// What add_interest() answers may have changed: if it did, the proc connector asks again.
  void interest_changed();
  /// Seconds since boot, the clock of /proc/PID/stat's start time.
  std::optional<double> system_uptime();
  void write_exit(const base::ExitStatus& status);
  /// The pidfd of a foreign process became readable: it died.
  void on_pidfd_exit();
  void query_dead_pidfd_later();
  void forget_dead_pidfd();
  void start_health();
  void write_health();

  ProbeContext& ctx_;
  std::optional<base::Regex> regex_;  // RE2: linear in the command line, whatever the pattern
  int proc_fd_ = -1;                  // the proc root, for scanning pids and opening /proc/PID

  pid_t pid_ = 0;
  bool owned_ = false;  // the engine's child: it holds the pidfd and reaps
  ProcInterest told_;   // add_interest()'s answer when the connector last asked
  int pidfd_ = -1;
  int dir_fd_ = -1;
  int fd_dir_fd_ = -1;
  FdCounting fd_counting_ = FdCounting::kListing;  // kDirSize: one fstat a sample (Linux 6.2+)
  int task_fd_ = -1;  // /proc/PID/task, for the children of threads other than the leader
  std::uint64_t starttime_ = 0;
  ProcFile stat_, io_, children_, uptime_;
  bool use_boottime_ = false;
  std::string cmdline_;

  // The previous sample, for cpu % and I/O rates.
  bool have_prev_ = false;
  double prev_time_ = 0;
  std::uint64_t prev_ticks_ = 0;
  PidIo prev_io_;
  bool have_prev_io_ = false;

  pid_t last_dead_pid_ = 0;  // a late proc-connector EXIT for it still carries the status
  bool last_exit_known_ = false;
  int dead_pidfd_ = -1;  // of the last dead process, until its exit status is known
  int dead_queries_ = 0;
  bool pidfd_notice_given_ = false;
  base::EventLoop::TimerId dead_timer_ = 0;

  std::vector<std::unique_ptr<HealthRunner>> health_;
  bool health_started_ = false;
  bool supervised_ = false;  // a service: the supervisor writes alive, pid and the exit
  double grace_until_ = 0;   // CLOCK_MONOTONIC: health failures count from here
  double ticks_per_second_ = 100;
  double page_size_ = 4096;
};

}  // namespace amata::probes
