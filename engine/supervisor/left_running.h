// Finding the services a previous amatad left running, without its records.
//
// Every service amatad starts carries two variables in its environment: AMATA_SUPERVISOR
// (which amatad: its state directory) and AMATA_SERVICE (the service's name), and leads its
// own session. So after a kill -9 of amatad — even one that died between starting a child and
// recording it, or that could not write its event store at all — the next amatad finds its
// services in /proc by that mark and adopts them instead of starting second copies.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace amata::supervisor {

inline constexpr std::string_view kSupervisorVariable = "AMATA_SUPERVISOR";
inline constexpr std::string_view kServiceVariable = "AMATA_SERVICE";

/// One service process found running.
struct LeftRunning {
  std::string service;
  pid_t pid = 0;
  std::uint64_t start_ticks = 0;  // with the pid, names the process for ever
};

/// The session leaders under `proc_root` whose environment says `owner` started them as a
/// service, without the ones whose parent carries the same mark (a service's own child that
/// made itself a session leader). Processes that cannot be read are passed over.
std::vector<LeftRunning> find_left_running(const std::string& owner,
                                           const std::string& proc_root = "/proc");

/// Ends a copy nobody should run (a second copy of a service): SIGKILL to its process group,
/// after checking through a pidfd that `pid` is still the process that started at
/// `start_ticks`.
Status end_copy(const LeftRunning& copy);

/// The value of `name` in an environment block ("A=1\0B=2\0"), or "" when absent.
std::string_view environment_value(std::string_view block, std::string_view name);

}  // namespace amata::supervisor
