// The recovery actions: what a recover rule may ask amatad to do. One enum for every stage
// that speaks of them: the syntax tree, the checked policy, the rule IR (ir::ActionKind) and
// the engine's action driver. `when` is a branch of a recovery body, not an action; each
// stage marks it on its own statement.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string_view>

namespace amata::catalog {

enum class ActionKind : std::uint8_t {
  kRestart,
  kStart,
  kStop,
  kSignal,  // signal OBJ SIG
  kRun,     // run ARG...
  kNotify,  // notify CHANNEL [MESSAGE]
  kMonitor,
  kUnmonitor,
  kWait,      // wait DURATION
  kRaise,     // raise EVENT(args)
  kFailover,  // failover OBJ [to PEER]
  kReload,    // reload UNIT: systemd reloads a unit's configuration
};

/// The keyword that starts the action: "restart", "unmonitor", ...
constexpr std::string_view action_kind_name(ActionKind kind) {
  constexpr std::string_view kNames[] = {"restart", "start",  "stop",     "signal",
                                         "run",     "notify", "monitor",  "unmonitor",
                                         "wait",    "raise",  "failover", "reload"};
  static_assert(std::size(kNames) == static_cast<std::size_t>(ActionKind::kReload) + 1);
  return kNames[static_cast<std::size_t>(kind)];
}

}  // namespace amata::catalog
