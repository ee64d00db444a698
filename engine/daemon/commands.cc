// The console's commands. The read-only answers are console_view's, built from the parts;
// status adds the cluster section. control and reload act, through the same paths recovery
// uses, and record who asked ("operator: ...").
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cmath>
#include <utility>

#include "base/version.h"
#include "engine/console/cluster_view.h"
#include "engine/console/console_view.h"
#include "engine/daemon/cluster_glue.h"
#include "engine/daemon/daemon.h"
#include "engine/daemon/remote_node.h"

namespace amata::daemon {

console::Outcome Daemon::status() {
  nlohmann::json result = console::status_json(*runtime_->rules, *supervisor_);
  const auto& tables = policy().tables();
  if (cluster_ && tables.cluster) {
    console::ClusterStatusInput in{tables.cluster->name,
                                   cluster_->group(),
                                   cluster_->status(),
                                   cluster_->ring_peers(),
                                   [this](cluster::NodeId id) { return cluster_->node_name(id); },
                                   base::unix_now(),
                                   base::Clock::now()};
    // A clustered service this node does not run is held back (unmonitored) by the cluster,
    // not by an operator: say what it is here.
    for (auto& object : result["objects"]) {
      const std::string name = object.value("name", "");
      if (object.value("state", "") == "unmonitored" && cluster_->places(name))
        object["state"] = console::clustered_service_state(in.status, name);
    }
    result["cluster"] = console::cluster_status_json(in);
    result["cluster"]["remote_nodes"] = cluster_->remote_nodes_json(in.now, in.now_unix);
  }
  if (remote_node_) {
    result["remote"] = remote_node_->status_json(base::Clock::now(), base::unix_now());
    // Held back until the ring places it here, as on a ring member.
    for (auto& object : result["objects"]) {
      if (object.value("state", "") == "unmonitored" &&
          remote_node_->places(object.value("name", "")))
        object["state"] = "standby";
    }
  }
  // Maintenance: on each object it covers (its own window, or the node's), and the node's.
  const double now = base::unix_now();
  for (auto& object : result["objects"]) {
    const auto* window = maintenance_.covering(object.value("name", ""), now);
    if (window) object["maintenance"] = window_json(*window);
  }
  if (const auto* node = maintenance_.node(now)) result["maintenance"] = window_json(*node);
  return console::Outcome::success(std::move(result));
}

console::Outcome Daemon::rules() {
  return console::rules_view(*runtime_->rules);
}

console::Outcome Daemon::events(const console::EventFilter& filter) {
  return console::events_view(*store_, filter);
}

console::Outcome Daemon::explain(std::string_view rule) {
  return console::explain_view(*runtime_->rules, rule);
}

/// A control command whose caller waits for its end (control_and_wait).
struct Daemon::ControlWait {
  console::Reply reply;
  std::string verb;
  std::string object;
  base::Clock::time_point started;
};

/// A waited start or restart whose new process must run kControlSettleMs to count as up.
struct Daemon::SettleWatch {
  std::shared_ptr<ControlWait> wait;
  int object = -1;
  pid_t pid = 0;
  base::Clock::time_point started;  // when the process started (by its uptime)
  base::EventLoop::TimerId timer = 0;
};

console::Outcome Daemon::control(console::ControlVerb verb, std::string_view object,
                                 const console::Caller& caller) {
  return begin_control(verb, object, caller, nullptr);
}

void Daemon::control_and_wait(console::ControlVerb verb, std::string_view object,
                              const console::Caller& caller, console::Reply reply) {
  auto wait = std::make_shared<ControlWait>(ControlWait{std::move(reply),
                                                        std::string(console::to_string(verb)),
                                                        std::string(object), base::Clock::now()});
  console::Outcome accepted = begin_control(verb, object, caller, wait);
  if (!accepted.ok()) wait->reply(accepted);  // refused: nothing runs, nothing to wait for
}

console::Outcome Daemon::begin_control(console::ControlVerb verb, std::string_view object_view,
                                       const console::Caller& caller,
                                       const std::shared_ptr<ControlWait>& wait) {
  std::string object(object_view);
  const int id = policy().tables().find_object(object);
  if (id < 0) return console::Outcome::failure("unknown_object", "no object named " + object);
  std::string verb_name(console::to_string(verb));
  const bool is_service = supervisor_->has(id);
  // A systemd unit is restarted, started and stopped by systemd, asked as a recovery asks.
  const catalog::ObjectSpec& spec = policy().tables().objects[static_cast<std::size_t>(id)];
  const bool is_unit = spec.kind == catalog::Kind::kUnit;
  if (!is_service && !is_unit && verb != console::ControlVerb::kMonitor &&
      verb != console::ControlVerb::kUnmonitor) {
    return console::Outcome::failure(
        "not_applicable", verb_name + " applies to services amatad runs and systemd units");
  }
  // A clustered service runs where the cluster places it: a copy started by hand elsewhere
  // would be a second one (`failover` moves it).
  if (is_service && supervisor_->cluster_held(id) &&
      (verb == console::ControlVerb::kRestart || verb == console::ControlVerb::kStart ||
       verb == console::ControlVerb::kMonitor)) {
    return console::Outcome::failure("placed_elsewhere",
                                     object +
                                         " is a clustered service the cluster places on another "
                                         "node (or on none): it is not started here by hand");
  }
  const std::int64_t asked_id = record_control(verb_name, object, caller);
  const auto started = base::Clock::now();
  const double requested = base::unix_now();
  const bool brings_up =
      verb == console::ControlVerb::kRestart || verb == console::ControlVerb::kStart;
  std::weak_ptr<bool> alive = alive_;
  auto record = [this, alive, verb_name, object, started, requested, wait, brings_up, id, is_unit,
                 asked_id](bool ok, const std::string& detail) {
    if (alive.expired()) return;
    store::ActionRecord a{0,
                          requested,
                          asked_id,
                          verb_name,
                          object,
                          ok ? "ok" : "failed",
                          "operator: " + detail,
                          base::elapsed_ms(started)};
    publish_action(a);
    spdlog::info("operator {} {}: {}", verb_name, object, detail);
    if (!wait) return;
    if (ok && brings_up && !is_unit) {  // systemd's job ends once the unit is up
      watch_settle(id, wait);
    } else {
      finish_wait(*wait, ok, detail);
    }
  };
  std::string message = verb_name + " scheduled";
  if (is_unit && verb != console::ControlVerb::kMonitor &&
      verb != console::ControlVerb::kUnmonitor) {
    const ir::ActionKind kind = verb == console::ControlVerb::kRestart ? ir::ActionKind::kRestart
                                : verb == console::ControlVerb::kStart ? ir::ActionKind::kStart
                                                                       : ir::ActionKind::kStop;
    unit_job(spec.unit, kind, record);
    update_status();
    return console::Outcome::success({{"object", object},
                                      {"verb", verb_name},
                                      {"accepted", true},
                                      {"message", verb_name + " asked of systemd"}});
  }
  switch (verb) {
    case console::ControlVerb::kRestart:
      supervisor_->monitor(id);
      supervisor_->restart(id, supervisor::RestartPolicy{}, record);
      break;
    case console::ControlVerb::kStart:
      supervisor_->start(id, record);
      break;
    case console::ControlVerb::kStop:
      supervisor_->unmonitor(id);
      supervisor_->stop(id, record);
      break;
    case console::ControlVerb::kMonitor:
    case console::ControlVerb::kUnmonitor: {
      const bool on = verb == console::ControlVerb::kMonitor;
      if (is_service) {
        on ? supervisor_->monitor(id) : supervisor_->unmonitor(id);
      } else {
        runtime_->rules->set_monitored(id, on);
      }
      message = on ? "monitored" : "unmonitored";
      record(true, message);
      break;
    }
  }
  update_status();
  return console::Outcome::success(
      {{"object", object}, {"verb", verb_name}, {"accepted", true}, {"message", message}});
}

std::int64_t Daemon::record_control(const std::string& verb, const std::string& object,
                                    const console::Caller& caller, const nlohmann::json& details) {
  // Who asked is part of the history: a Control event, which the action's record points to.
  nlohmann::json who = {{"verb", verb}, {"uid", caller.uid}, {"pid", caller.pid}};
  if (!caller.on_behalf_of.empty()) who["on_behalf_of"] = caller.on_behalf_of;
  if (details.is_object()) who.update(details);
  store::EventRecord asked{0,        base::unix_now(), "",     store::kControlEvent,
                           {object}, who.dump(),       "raise"};
  record_event(asked);
  return asked.id;
}

console::Outcome Daemon::request_failover(std::string_view service_view,
                                          const std::optional<std::string>& to,
                                          const console::Caller& caller) {
  const std::string service(service_view);
  if (policy().tables().find_object(service) < 0) {
    return console::Outcome::failure("unknown_object", "no object named " + service);
  }
  // A remote node's clustered services are placed by the ring's members, which it may not
  // command (docs/operations.md, "Remote nodes"): the request is made on a member.
  if (!cluster_ || !cluster_->places(service)) {
    return console::Outcome::failure(
        "not_clustered", service + (cluster_ ? " is not a clustered service"
                                             : " is not placed by this node: ask a ring member"));
  }
  if (Status sent = cluster_->failover(service, to); !sent) {
    return console::Outcome::failure("failover_refused", sent.error().message);
  }
  // Whether the ring honours it is logged by every member.
  record_control("failover", service, caller,
                 to ? nlohmann::json{{"to", *to}} : nlohmann::json::object());
  const std::string message =
      "failover of " + service + (to ? " to " + *to : "") + " asked of the cluster";
  spdlog::info("operator failover {}: {}", service, message);
  return console::Outcome::success({{"object", service},
                                    {"verb", "failover"},
                                    {"to", to ? nlohmann::json(*to) : nlohmann::json()},
                                    {"accepted", true},
                                    {"message", message}});
}

void Daemon::finish_wait(ControlWait& wait, bool ok, const std::string& detail) {
  if (!wait.reply) return;  // answered already
  auto reply = std::exchange(wait.reply, nullptr);
  reply(console::Outcome::success({{"object", wait.object},
                                   {"verb", wait.verb},
                                   {"accepted", true},
                                   {"message", wait.verb + (ok ? " ok" : " failed")},
                                   {"outcome", ok ? "ok" : "failed"},
                                   {"detail", detail},
                                   {"duration_ms", std::llround(base::elapsed_ms(wait.started))}}));
}

void Daemon::watch_settle(int object, const std::shared_ptr<ControlWait>& wait) {
  auto st = supervisor_->status(object);
  if (!st || st->state != supervisor::ServiceState::kRunning || st->pid <= 0) {
    finish_wait(*wait, false, "not running after the " + wait->verb);
    return;
  }
  const auto settle = std::chrono::milliseconds(console::kControlSettleMs);
  const auto up_for = base::from_seconds(st->uptime);
  if (up_for >= settle) {
    finish_wait(*wait, true, "pid " + std::to_string(st->pid));
    return;
  }
  auto watch = std::make_shared<SettleWatch>(
      SettleWatch{wait, object, st->pid, base::Clock::now() - up_for, 0});
  settling_.push_back(watch);
  std::weak_ptr<bool> alive = alive_;
  watch->timer = loop_->add_timer_after(settle - up_for, [this, alive, watch] {
    if (alive.expired()) return;
    watch->timer = 0;
    std::erase(settling_, watch);
    auto now = supervisor_->status(watch->object);
    const bool same =
        now && now->state == supervisor::ServiceState::kRunning && now->pid == watch->pid;
    finish_wait(*watch->wait, same,
                same ? "pid " + std::to_string(watch->pid)
                     : "pid " + std::to_string(watch->pid) + " is gone");
  });
}

void Daemon::settle_exited(pid_t pid, const base::ExitStatus& status) {
  for (auto it = settling_.begin(); it != settling_.end();) {
    const std::shared_ptr<SettleWatch> watch = *it;
    if (watch->pid != pid) {
      ++it;
      continue;
    }
    it = settling_.erase(it);
    if (watch->timer) loop_->cancel_timer(watch->timer);
    const double ran = std::chrono::duration<double>(base::Clock::now() - watch->started).count();
    finish_wait(
        *watch->wait, false,
        fmt::format("pid {} ended {:.2f} s after its start: {}", pid, ran, status.describe()));
  }
}

namespace {

/// The diagnostics of a load as console data: the array of diag::to_json's document.
nlohmann::json diagnostics_of(const lower::LoadedPolicy& loaded, bool errors) {
  nlohmann::json out = nlohmann::json::array();
  auto doc = nlohmann::json::parse(loaded.diagnostics_json, nullptr, false);
  if (doc.is_discarded() || !doc.contains("diagnostics")) return out;
  for (const auto& d : doc["diagnostics"]) {
    if ((d.value("severity", "") == "error") == errors) out.push_back(d);
  }
  return out;
}

console::Outcome reload_outcome(const lower::LoadedPolicy& loaded, bool show_source) {
  const std::string& rendered = show_source ? loaded.diagnostics : loaded.diagnostics_brief;
  if (!loaded.policy) {
    return console::Outcome::failure(
        "policy_rejected", "the policy has errors; the running policy stays",
        {{"diagnostics", diagnostics_of(loaded, true)}, {"rendered", rendered}});
  }
  const auto& tables = loaded.policy->tables();
  return console::Outcome::success({{"policy", tables.name},
                                    {"file", loaded.file},
                                    {"objects", tables.objects.size()},
                                    {"rules", tables.rules.size()},
                                    {"warnings", diagnostics_of(loaded, false)},
                                    {"rendered", rendered}});
}

}  // namespace

void Daemon::reload(const std::optional<std::string>& file, const console::Caller& caller,
                    console::Reply reply) {
  // Only root may point amatad at another file: a reload reads it as root, and its
  // diagnostics quote it. Others reload the running policy's file, and see no source lines.
  const bool root = caller.uid == 0;
  if (file && !root) {
    reply(console::Outcome::failure("permission_denied",
                                    "only root may reload a file other than the running "
                                    "policy's; run reload without a file"));
    return;
  }
  const bool started = reload_policy(file, [reply, root](const lower::LoadedPolicy& loaded) {
    reply(reload_outcome(loaded, root));
  });
  if (!started) reply(console::Outcome::failure("busy", "a reload is compiling; try again"));
}

console::Outcome Daemon::version() {
  return console::Outcome::success({{"amatad", std::string(base::version())},
                                    {"commit", std::string(base::commit())},
                                    {"policy", policy().tables().name},
                                    {"started_unix_ms", base::to_unix_ms(started_unix_)},
                                    {"backend", std::string(policy().backend_name())}});
}

}  // namespace amata::daemon
