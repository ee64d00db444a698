// The maintenance windows in force on this node: for each object (or for the whole node), who
// paused its recovery and hooks, when, until when and why. Pure bookkeeping, no loop and no
// store: the daemon (maintenance.cc) keeps the store and the expiry timer in step with it.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "engine/store/event_store.h"

namespace amata::daemon {

/// The name the whole node's window is kept under (no object has an empty name).
inline constexpr const char* kNodeWindow = "";

class MaintenanceWindows {
 public:
  /// Opens `window` (for window.object, "" the node), replacing one already open for it;
  /// true when it replaced one.
  bool set(store::MaintenanceRecord window);
  /// Removes the window of `object` ("" the node) and returns it, if there is one.
  std::optional<store::MaintenanceRecord> end(const std::string& object);
  /// The window that pauses `object` at `now`: its own or the node's, whichever lasts
  /// longer; null when neither is in force.
  const store::MaintenanceRecord* covering(const std::string& object, double now) const;
  /// The node's window, if one is in force at `now`.
  const store::MaintenanceRecord* node(double now) const;
  /// Removes and returns the windows that have ended by `now` (until <= now).
  std::vector<store::MaintenanceRecord> take_expired(double now);
  /// The earliest end of a window, for the expiry timer.
  std::optional<double> next_expiry() const;
  /// Every window, the node's first, then by object name.
  const std::map<std::string, store::MaintenanceRecord>& all() const { return windows_; }

 private:
  std::map<std::string, store::MaintenanceRecord> windows_;  // by object; "" the node
};

/// The console's <window>: {"object": "web" | null, "uid", "set_unix_ms", "until_unix_ms",
/// "reason"} (console_backend.h).
nlohmann::json window_json(const store::MaintenanceRecord& window);
/// "web" or "the node", as records and log lines name a window's target.
std::string window_target(const store::MaintenanceRecord& window);
/// "maintenance of web (uid 0, until 2026-12-05 01:00:00Z): kernel upgrade": why something
/// was suppressed, in action records and the log.
std::string describe_window(const store::MaintenanceRecord& window);

}  // namespace amata::daemon
