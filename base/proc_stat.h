// /proc/PID/stat: the one parser of a process's status line, for the probes (cpu, threads,
// rss) and for amatad's own bookkeeping (start time and process group, which together with
// the pid name one process for ever).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace amata::base {

/// The fields of /proc/PID/stat amata uses. `comm` may contain spaces and parentheses: it
/// runs from the first '(' to the LAST ')'.
struct PidStat {
  pid_t pid = 0;
  std::string_view comm;  // points into the parsed text
  char state = '?';
  pid_t ppid = 0;
  pid_t pgrp = 0;
  pid_t session = 0;
  std::uint64_t utime = 0, stime = 0;  // clock ticks
  std::uint64_t threads = 0;
  std::uint64_t starttime = 0;  // clock ticks after boot
  std::uint64_t rss_pages = 0;
};

/// Parses the text of /proc/PID/stat; nullopt when it is malformed or cut short.
std::optional<PidStat> parse_pid_stat(std::string_view text);

/// Reads and parses /proc/PID/stat into `text` (which the result's `comm` points into).
/// An error when there is no such process or it is a zombie (it has ended).
Result<PidStat> read_pid_stat(pid_t pid, std::string& text);

/// The start time of `pid` (clock ticks since boot): with the pid it names one process.
Result<std::uint64_t> process_start_time(pid_t pid);

}  // namespace amata::base
