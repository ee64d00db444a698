// Starting a program as a child of amatad: the one place that forks and execs.
//
// A child is exec'd directly (never through a shell) with an explicit environment, in its
// own session and process group (so a stop or a timeout reaches everything it started),
// with every signal disposition and the signal mask reset (amatad blocks the signals its
// loop reads through signalfd, and a blocked mask survives exec). Its pidfd comes back with
// it: the caller watches that on the loop and reaps through it (base/pidfd.h).
#pragma once

#include <sys/types.h>

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
};

/// Starts `spec`. What can be checked before the fork (an empty argv, an unknown user or
/// group, an unwritable log) is an error here. A failure between fork and exec (a missing
/// program, a workdir that does not exist) makes the child exit 127 with a line on its
/// stderr, and is told in Spawned::start_failure.
Result<Spawned> spawn(const SpawnSpec& spec);

/// Every child spawn() starts from now on runs at this nice value, not at the caller's:
/// amatad runs ahead of its services (tools/amatad: --priority-boost), and the services,
/// hooks and checks it starts keep the nice value amatad itself was started with.
void set_children_nice(int nice);

/// The environment of amatad itself as "NAME=value" strings (a base for children).
std::vector<std::string> current_environment();

/// `base` with every entry of `overrides` replacing or adding a variable.
std::vector<std::string> merge_environment(
    std::vector<std::string> base,
    const std::vector<std::pair<std::string, std::string>>& overrides);

}  // namespace amata::base
