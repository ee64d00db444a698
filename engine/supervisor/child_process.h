// Starting programs as children of amatad and learning, through the event loop, when they end.
//
// A child is fork+exec'd directly (never through a shell) with an explicit environment, in
// its own session and process group, stdout/stderr appended to a log file. Its pidfd is
// watched on the EventLoop; when it becomes readable the child is reaped with
// waitid(P_PIDFD), so no child of amatad is ever left a zombie.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "compiler/support/result.h"
#include "engine/loop/event_loop.h"

namespace amata::engine {

/// What to run and how.
struct SpawnSpec {
  std::vector<std::string> argv;  // argv[0] without '/' is looked up in PATH
  std::vector<std::string> env;   // "NAME=value", the whole environment of the child
  std::string workdir = "/";      // chdir before exec
  std::string user, group;        // run as (empty: keep amatad's); needs privileges to change
  std::string log_path;           // stdout+stderr appended here (empty: /dev/null)
};

/// How a child ended, as waitid reported it.
struct ExitStatus {
  bool known = true;  // false for adopted processes (not our children: no status to read)
  int exit_code = 0;  // valid when !signaled
  int signal = 0;     // the signal that killed it, when signaled
  bool signaled = false;
  /// "exited 0", "killed by SIGKILL", "ended (status unknown)".
  std::string describe() const;
};

/// Reads the start time of `pid` (field 22 of /proc/PID/stat, clock ticks since boot); with
/// the pid it names one process for ever, which is what adoption compares.
Result<unsigned long long> process_start_time(pid_t pid);

/// The environment of amatad itself as "NAME=value" strings (a base for children).
std::vector<std::string> current_environment();

/// Builds the "NAME=value" list: `base` with every entry of `overrides` replacing or adding.
std::vector<std::string> merge_environment(
    std::vector<std::string> base,
    const std::vector<std::pair<std::string, std::string>>& overrides);

/// The children amatad started or adopted, each watched through its pidfd on one loop.
class ChildSet {
 public:
  using ExitCallback = std::function<void(pid_t pid, const ExitStatus& status)>;

  explicit ChildSet(EventLoop& loop) : loop_(loop) {}
  ~ChildSet();
  ChildSet(const ChildSet&) = delete;
  ChildSet& operator=(const ChildSet&) = delete;

  /// Starts `spec` and calls `on_exit` once, from the loop, when it has ended and been reaped.
  /// Failing to exec (missing program, bad user) shows as exit code 127 and a line in the log.
  Result<pid_t> spawn(const SpawnSpec& spec, ExitCallback on_exit);
  /// Watches a process that is not our child (left running by a previous amatad).
  Status adopt(pid_t pid, ExitCallback on_exit);

  /// Sends `sig` to the child's whole process group (a child leads its own group).
  Status signal_group(pid_t pid, int sig);
  /// Sends `sig` to the process only (through its pidfd, so never to a recycled pid).
  Status signal_process(pid_t pid, int sig);

  bool contains(pid_t pid) const { return children_.count(pid) != 0; }
  std::size_t size() const { return children_.size(); }
  /// Stops watching every child without signalling it (they keep running; used at exit
  /// when services are left for the next amatad to adopt).
  void release_all();
  /// SIGKILLs every child's group and reaps it, blocking until each has ended (a matter of
  /// microseconds after SIGKILL). For shutdown only: transient jobs must not outlive amatad.
  void kill_all();

 private:
  struct Child {
    int pidfd = -1;
    bool ours = true;  // our child (reaped with waitid) or adopted
    ExitCallback on_exit;
  };
  Status watch_child(pid_t pid, int pidfd, bool ours, ExitCallback on_exit);
  void on_pidfd_ready(pid_t pid);

  EventLoop& loop_;
  std::unordered_map<pid_t, Child> children_;
};

}  // namespace amata::engine
