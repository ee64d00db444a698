// The services' processes: children amatad started (base/spawn.h) or adopted from a previous
// amatad, each watched through its pidfd on the loop. A child of ours is reaped with
// waitid(P_PIDFD) the moment its pidfd turns readable, so none is ever left a zombie.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <unordered_map>
#include <utility>

#include "base/event_loop.h"
#include "base/exit_status.h"
#include "base/result.h"
#include "base/spawn.h"
#include "base/unique_fd.h"

namespace amata::supervisor {

class ChildSet {
 public:
  using ExitCallback = std::function<void(pid_t pid, const base::ExitStatus& status)>;

  explicit ChildSet(base::EventLoop& loop) : loop_(loop) {}
  ~ChildSet();
  ChildSet(const ChildSet&) = delete;
  ChildSet& operator=(const ChildSet&) = delete;

  /// Watches a child just spawned (base/spawner.h) and calls `on_exit` once, from the loop,
  /// when it has ended and been reaped. Failing to exec (a missing program) shows as exit code
  /// 127 and a line in its log. On an error the child is killed and reaped.
  Status add(base::Spawned child, ExitCallback on_exit);
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
  /// microseconds after SIGKILL). For shutdown only.
  void kill_all();

 private:
  struct Child {
    base::UniqueFd pidfd;
    bool ours = true;  // our child (reaped with waitid) or adopted
    ExitCallback on_exit;
  };
  Status watch_child(pid_t pid, base::UniqueFd pidfd, bool ours, ExitCallback on_exit);
  void on_pidfd_ready(pid_t pid);

  base::EventLoop& loop_;
  std::unordered_map<pid_t, Child> children_;
};

}  // namespace amata::supervisor
