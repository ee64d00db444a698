// A program run to completion on the loop, with a deadline: `run` actions, hook scripts,
// check plugins and fence agents are all one of these. Nothing blocks: the output is read
// as it comes through a non-blocking pipe, the exit through the pidfd, and at the deadline
// the whole process group is killed. A slow or failing program is reported, never waited
// for.
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>

#include "base/check_timeout.h"
#include "base/clock.h"
#include "base/event_loop.h"
#include "base/exit_status.h"
#include "base/result.h"
#include "base/spawn.h"

namespace amata::base {

class Job {
 public:
  struct Outcome {
    ExitStatus status;
    bool timed_out = false;
    std::string output;  // captured stdout (SpawnSpec::capture_stdout), cut at max_output
    double duration_ms = 0;
    std::string start_failure;  // why the program could not be exec'd (Spawned::start_failure)

    /// Exited 0 before its deadline.
    bool ok() const { return !timed_out && status.success(); }
    /// "exited 0", "exited 3", "timed out after 30000 ms (killed by SIGKILL)",
    /// "/x: execve: No such file or directory".
    std::string describe() const;
  };
  /// Called once, from the loop, when the program has ended and been reaped. The owner may
  /// destroy the Job from inside it.
  using Done = std::function<void(Outcome outcome)>;

  /// Starts `spec`; at `timeout` (check_timeout.h) its process group is SIGKILLed. At most
  /// `max_output` bytes of captured output are kept; the rest is read and dropped so the program
  /// never blocks on a full pipe.
  static Result<std::unique_ptr<Job>> start(EventLoop& loop, const SpawnSpec& spec,
                                            Clock::duration timeout, Done done,
                                            std::size_t max_output = std::size_t{64} * 1024);
  /// A job still running is killed with its group and reaped; `done` is not called.
  ~Job();
  Job(const Job&) = delete;
  Job& operator=(const Job&) = delete;

  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0; }
  /// Kills the process group now; the outcome follows through `done` as timed out.
  void kill_now();

 private:
  Job(EventLoop& loop, Done done, std::size_t max_output)
      : loop_(loop), done_(std::move(done)), max_output_(max_output), timeout_(loop) {}
  void on_output();
  void on_exit();
  void release_fds();

  EventLoop& loop_;
  Done done_;
  std::size_t max_output_;
  pid_t pid_ = 0;
  UniqueFd pidfd_, out_fd_;
  CheckTimeout timeout_;  // not counting a busy loop against the program (check_timeout.h)
  Clock::time_point started_;
  Outcome outcome_;
};

}  // namespace amata::base
