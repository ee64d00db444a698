#include "engine/daemon/maintenance_windows.h"

#include <fmt/format.h>
#include <time.h>

#include <algorithm>

#include "base/clock.h"

namespace amata::daemon {
namespace {

std::string utc_time(double unix_seconds) {
  const auto seconds = static_cast<time_t>(unix_seconds);
  tm parts{};
  gmtime_r(&seconds, &parts);
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}Z", parts.tm_year + 1900, parts.tm_mon + 1,
                     parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec);
}

}  // namespace

bool MaintenanceWindows::set(store::MaintenanceRecord window) {
  const std::string key = window.object;
  const bool replaced = windows_.count(key) > 0;
  windows_[key] = std::move(window);
  return replaced;
}

std::optional<store::MaintenanceRecord> MaintenanceWindows::end(const std::string& object) {
  auto it = windows_.find(object);
  if (it == windows_.end()) return std::nullopt;
  store::MaintenanceRecord window = std::move(it->second);
  windows_.erase(it);
  return window;
}

const store::MaintenanceRecord* MaintenanceWindows::covering(const std::string& object,
                                                             double now) const {
  const store::MaintenanceRecord* best = node(now);
  if (auto it = windows_.find(object); !object.empty() && it != windows_.end()) {
    if (it->second.until > now && (!best || it->second.until > best->until)) best = &it->second;
  }
  return best;
}

const store::MaintenanceRecord* MaintenanceWindows::node(double now) const {
  auto it = windows_.find(kNodeWindow);
  if (it == windows_.end() || it->second.until <= now) return nullptr;
  return &it->second;
}

std::vector<store::MaintenanceRecord> MaintenanceWindows::take_expired(double now) {
  std::vector<store::MaintenanceRecord> expired;
  for (auto it = windows_.begin(); it != windows_.end();) {
    if (it->second.until <= now) {
      expired.push_back(std::move(it->second));
      it = windows_.erase(it);
    } else {
      ++it;
    }
  }
  return expired;
}

std::optional<double> MaintenanceWindows::next_expiry() const {
  std::optional<double> next;
  for (const auto& [object, window] : windows_) {
    if (!next || window.until < *next) next = window.until;
  }
  return next;
}

nlohmann::json window_json(const store::MaintenanceRecord& window) {
  return {{"object", window.object.empty() ? nlohmann::json() : nlohmann::json(window.object)},
          {"uid", window.uid},
          {"set_unix_ms", base::to_unix_ms(window.set_time)},
          {"until_unix_ms", base::to_unix_ms(window.until)},
          {"reason", window.reason}};
}

std::string window_target(const store::MaintenanceRecord& window) {
  return window.object.empty() ? "the node" : window.object;
}

std::string describe_window(const store::MaintenanceRecord& window) {
  return fmt::format("maintenance of {} (uid {}, until {}): {}", window_target(window), window.uid,
                     utc_time(window.until), window.reason);
}

}  // namespace amata::daemon
