// Starting a program as a child of amatad: the one place that forks and execs.
//
// A child is exec'd directly (never through a shell) with an explicit environment, in its
// own session and process group (so a stop or a timeout reaches everything it started),
// with every signal disposition and the signal mask reset (amatad blocks the signals its
// loop reads through signalfd, and a blocked mask survives exec). Its pidfd comes back with
// it: the caller watches that on the loop and reaps through it (base/pidfd.h).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"

namespace amata::base {

/// What to run and how.
struct SpawnSpec {
  std::vector<std::string> argv;  // argv[0] without '/' is looked up in the PATH of `env`
  std::vector<std::string> env;   // "NAME=value", the whole environment of the child
  std::string workdir = "/";      // chdir before exec
  std::string user, group;        // run as (empty: keep amatad's); needs privileges to change
  /// stdout and stderr are appended here (empty: /dev/null). With capture_stdout, only
  /// stderr goes here.
  std::string log_path;
  /// stdout goes to a pipe whose non-blocking read end comes back as Spawned::stdout_fd.
  bool capture_stdout = false;
  /// Written to the child's stdin through a pipe, which is then closed (empty: /dev/null).
  /// At most kMaxStdinText bytes: it must fit the pipe, so that writing it never blocks.
  std::string stdin_text;
  /// The child keeps amatad's priority, not the background one (base/priority.h), until the
  /// caller moves it (base::move_to_background). base::Spawner holds such a child stopped
  /// until it has nothing left to spawn and moves it then: the rest of its exec runs ahead of
  /// the services already started, and whatever reads its /proc entry in between does not
  /// wait for a child queued behind them.
  bool caller_moves_to_background = false;
};

inline constexpr std::size_t kMaxStdinText = std::size_t{16} * 1024;

/// A started child: ours until reaped through `pidfd`.
struct Spawned {
  pid_t pid = 0;
  UniqueFd pidfd;
  UniqueFd stdout_fd;  // only with capture_stdout
  /// Empty when the program runs; else why the child could not exec it ("/usr/bin/x:
  /// execve: No such file or directory"). That child exits 127 and must still be reaped.
  std::string start_failure;
  /// Its start time as /proc/PID/stat's field 22 gives it (clock ticks since boot; 0 when
  /// unknown), which names this process among all that ever had its pid. Read by the child
  /// itself before its exec: reading /proc/PID/stat meanwhile waits for the exec to finish.
  std::uint64_t start_ticks = 0;
};

/// Starts `spec`. What can be checked before the fork (an empty argv, an unknown user or
/// group, an unwritable log) is an error here. A failure between fork and exec (a missing
/// program, a workdir that does not exist) makes the child exit 127 with a line on its
/// stderr, and is told in Spawned::start_failure.
Result<Spawned> spawn(const SpawnSpec& spec);

/// The environment of amatad itself as "NAME=value" strings (a base for children).
std::vector<std::string> current_environment();

/// `base` with every entry of `overrides` replacing or adding a variable.
std::vector<std::string> merge_environment(
    std::vector<std::string> base,
    const std::vector<std::pair<std::string, std::string>>& overrides);

}  // namespace amata::base
