// amatactl's logic, as a library: one command against amatad's console socket, rendered
// for a human or as JSON, with exit codes scripts can rely on. tools/amatactl only parses
// the command line into a CtlCommand.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "base/result.h"

namespace amata::console {

/// amatactl's exit codes (docs/console.md).
enum ExitCode : int {
  kExitOk = 0,                // the command succeeded
  kExitRefused = 1,           // amatad refused it or it failed (unknown object, rejected policy)
  kExitUsage = 2,             // bad command line
  kExitCannotConnect = 3,     // no daemon at the socket, or the connection broke
  kExitPermissionDenied = 4,  // the socket or the daemon refused this user
  kExitActionFailed = 5,      // --wait: the action ran and failed (the service did not come up)
  kExitWaitTimedOut = 6,      // --wait: --timeout passed first; the action may still end
};

/// One amatactl invocation, already parsed.
struct CtlCommand {
  std::string socket_path = "/run/amata/amatad.sock";
  bool json = false;    // print raw results, one JSON document (or one per line when following)
  bool colour = false;  // the caller decides: stdout is a terminal and NO_COLOR is unset
  std::string cmd;      // status, rules, events, explain, restart, ..., failover, reload, version
  std::string target;   // the RULE of explain, the OBJECT of a verb or failover, the FILE of reload
  std::optional<std::string> since;  // events --since: "10m", "2h", "1d", or ISO-8601 UTC
  std::optional<std::string> object;
  std::optional<std::string> event;
  std::optional<int> limit;          // events -n: only the newest N
  std::vector<std::string> objects;  // status OBJECT...: only these (none: all)
  bool follow = false;
  bool cluster = false;  // events --cluster: the cluster log rather than this node's history
  /// How long to wait for the connection and for each reply before giving up (exit 3).
  std::chrono::milliseconds timeout{30'000};
  /// restart/start/stop --wait: block until the action has ended and exit by its outcome.
  bool wait = false;
  /// --timeout with --wait: how long to wait for the action's end (exit 6 after).
  std::chrono::milliseconds wait_timeout{90'000};
  /// maintenance [OBJECT] (in `target`): --node for the whole node, --for and --reason to
  /// open a window, --end to end one; none of them: list the windows.
  bool node = false;
  bool end = false;
  std::optional<std::string> for_duration;  // "30m", "2h", "1d"
  std::optional<std::string> reason;
  /// failover SERVICE (in `target`) --to NODE: where to (none: the best other node).
  std::optional<std::string> to;
  /// For tests: stop a --follow stream after this many events (none: until EOF).
  std::optional<std::size_t> follow_limit;
};

/// Parses a duration: digits then a unit, "500ms", "90s", "10m" (or "10min"), "2h", "1d".
/// Milliseconds; an error names what was wrong without the option's name.
Result<std::int64_t> parse_duration_ms(const std::string& text);

/// Parses --since: a duration before `now_unix_ms` ("90s", "10m", "2h", "1d", "500ms"), or an
/// absolute UTC time "2026-11-25T15:04:05Z" / "2026-11-25 15:04:05" / "2026-11-25".
Result<std::int64_t> parse_since(const std::string& text, std::int64_t now_unix_ms);

/// Runs `command`, writing results to `out` and messages to `err`; returns the exit code.
int run_ctl(const CtlCommand& command, std::ostream& out, std::ostream& err);

}  // namespace amata::console
