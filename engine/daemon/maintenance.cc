// What maintenance pauses and when it ends. While a window covers an object (or the whole
// node), the object's events are still detected, stored and streamed — marked "maintenance" —
// but the recovery of its rules and the hooks of its events do not run; each action that would
// have run is recorded as skipped, with who paused it and until when. When the window ends (by
// itself or by `amatactl maintenance --end`), every rule still firing on what it covered gets
// its recovery then: a service that died during the window is not left dead. Windows live in
// the event store, so they outlive a restart of amatad.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <optional>

#include "engine/daemon/daemon.h"

namespace amata::daemon {

void Daemon::load_maintenance() {
  auto stored = store_->maintenance_windows();
  if (!stored) {
    spdlog::error("event store: {}; no maintenance window is in force", stored.error().message);
    return;
  }
  for (auto& window : *stored) maintenance_.set(std::move(window));
  // Ended while amatad was not running: say so now. The rules start afresh, so whatever is
  // still wrong rises again and is recovered as usual.
  for (auto& window : maintenance_.take_expired(base::unix_now())) {
    close_window(window, "expired while amatad was not running", false);
  }
  for (const auto& [object, window] : maintenance_.all()) {
    spdlog::warn("{}: recovery and hooks paused", describe_window(window));
  }
  arm_maintenance_timer();
}

const store::MaintenanceRecord* Daemon::paused_by(const std::vector<int>& objects) const {
  const double now = base::unix_now();
  if (objects.empty()) return maintenance_.node(now);
  for (int object : objects) {
    if (const auto* window = maintenance_.covering(object_name(object), now)) return window;
  }
  return nullptr;
}

void Daemon::suppress_recovery(const std::vector<ir::ActionRequest>& actions, std::int64_t event_id,
                               const store::MaintenanceRecord& window, const std::string& what) {
  const std::string why = "suppressed by " + describe_window(window);
  for (const auto& action : actions) {
    record_action({0, base::unix_now(), event_id, std::string(ir::action_kind_name(action.kind)),
                   object_name(action.object), "skipped", why + " (for " + what + ")", 0},
                  "");
  }
}

std::int64_t Daemon::record_window(const store::MaintenanceRecord& window, bool open,
                                   const std::string& how) {
  nlohmann::json values = window_json(window);
  if (!open) values["ended"] = how;
  store::EventRecord record{0,
                            base::unix_now(),
                            "",
                            store::kMaintenanceEvent,
                            {},
                            values.dump(),
                            open ? "raise" : "clear"};
  if (!window.object.empty()) record.objects.push_back(window.object);
  record_event(record);
  return record.id;
}

void Daemon::close_window(const store::MaintenanceRecord& window, const std::string& how,
                          bool recover_now) {
  (void)store_->remove_maintenance(window.object);
  spdlog::info("maintenance of {} ended: {}", window_target(window), how);
  const std::int64_t id = record_window(window, false, how);
  if (recover_now) recover_still_firing(window, id);
}

void Daemon::recover_still_firing(const store::MaintenanceRecord& ended, std::int64_t event_id) {
  if (shutting_down_) return;
  const discovery::RuleEngine& rules = *runtime_->rules;
  const auto& tables = rules.policy().tables();
  const int only = ended.object.empty() ? -1 : tables.find_object(ended.object);
  if (!ended.object.empty() && only < 0) return;  // a reload removed it
  for (std::size_t r = 0; r < tables.rules.size(); ++r) {
    const auto& info = tables.rules[r];
    if (!rules.rule(static_cast<int>(r)).firing) continue;
    if (only >= 0 && std::find(info.args.begin(), info.args.end(), only) == info.args.end()) {
      continue;
    }
    if (info.event < 0 || static_cast<std::size_t>(info.event) >= tables.events.size()) continue;
    const auto& event = tables.events[static_cast<std::size_t>(info.event)];
    if (event.recovery < 0) continue;
    ir::EventInstance instance{info.event, info.args};
    actions::EventEnvironment env;
    env.event = event.name;
    env.rule = info.name;
    for (int a : info.args) env.objects.push_back(object_name(a));
    env.edge = "raise";
    env.time = base::unix_now();
    env.event_id = event_id;
    env.values = rules.metrics().values_json(info.args);
    env.policy = tables.name;
    spdlog::info("{} still firing as maintenance of {} ends: recovering now", info.name,
                 window_target(ended));
    recover(instance, env, 0);
  }
}

void Daemon::arm_maintenance_timer() {
  if (maintenance_timer_) loop_->cancel_timer(maintenance_timer_);
  maintenance_timer_ = 0;
  auto next = maintenance_.next_expiry();
  if (!next) return;
  std::weak_ptr<bool> alive = alive_;
  // The wall clock decides (a window is until a time of day); a step of the clock is caught
  // by the check on firing, which re-arms for what is left.
  const double delay = std::max(0.0, *next - base::unix_now());
  maintenance_timer_ = loop_->add_timer_after(base::from_seconds(delay), [this, alive] {
    if (alive.expired()) return;
    maintenance_timer_ = 0;
    for (auto& window : maintenance_.take_expired(base::unix_now())) {
      close_window(window, "expired", true);
    }
    arm_maintenance_timer();
  });
}

// --- console::ConsoleBackend ------------------------------------------------------------------

console::Outcome Daemon::maintenance() {
  nlohmann::json windows = nlohmann::json::array();
  const double now = base::unix_now();
  for (const auto& [object, window] : maintenance_.all()) {
    if (window.until > now) windows.push_back(window_json(window));
  }
  return console::Outcome::success({{"windows", windows}});
}

console::Outcome Daemon::start_maintenance(const console::MaintenanceRequest& request,
                                           const console::Caller& caller) {
  if (request.object && policy().tables().find_object(*request.object) < 0) {
    return console::Outcome::failure("unknown_object", "no object named " + *request.object);
  }
  const double now = base::unix_now();
  store::MaintenanceRecord window{request.object.value_or(kNodeWindow), caller.uid, now,
                                  now + static_cast<double>(request.duration_ms) / 1000.0,
                                  request.reason};
  std::optional<store::MaintenanceRecord> previous;
  if (auto it = maintenance_.all().find(window.object); it != maintenance_.all().end()) {
    previous = it->second;
  }
  const bool replaced = maintenance_.set(window);
  (void)store_->put_maintenance(window);
  spdlog::warn("{}: recovery and hooks paused{}", describe_window(window),
               replaced ? " (replaces the window before)" : "");
  // The history pairs every window's start with its end: the one replaced ends here (and
  // recovers nothing, the new window covers the same).
  if (previous) record_window(*previous, false, fmt::format("replaced by uid {}", caller.uid));
  record_window(window, true, "");
  arm_maintenance_timer();
  return console::Outcome::success({{"window", window_json(window)}, {"replaced", replaced}});
}

console::Outcome Daemon::end_maintenance(const std::optional<std::string>& object,
                                         const console::Caller& caller) {
  const std::string key = object.value_or(kNodeWindow);
  auto window = maintenance_.end(key);
  if (!window) {
    if (object && policy().tables().find_object(*object) < 0) {
      return console::Outcome::failure("unknown_object", "no object named " + *object);
    }
    return console::Outcome::failure(
        "not_in_maintenance",
        (object ? *object : std::string("the node")) + " is not in maintenance");
  }
  nlohmann::json ended = window_json(*window);
  close_window(*window, fmt::format("ended by uid {}", caller.uid), true);
  arm_maintenance_timer();
  return console::Outcome::success({{"window", ended}});
}

}  // namespace amata::daemon
