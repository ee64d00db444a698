// What amatad knows of its own services, from its supervisor: a start (or adoption), a death
// with its exit status, a restart limit reached. The supervisor reaps its children, so it is
// the one writer of a service's alive, pid, exit_code, exit_signal and restarts; its probe
// measures the rest of the pid it is told to follow.
#include <spdlog/spdlog.h>

#include <csignal>
#include <nlohmann/json.hpp>

#include "engine/daemon/cluster_glue.h"
#include "engine/daemon/daemon.h"
#include "engine/daemon/remote_node.h"

namespace amata::daemon {

void Daemon::write_running(int object, pid_t pid) {
  discovery::MetricStore& metrics = runtime_->rules->metrics();
  metrics.set_number(object, "alive", 1);
  metrics.set_number(object, "pid", pid);
  // A new run: the OOM verdict was about the last one (an event on it clears). Without the
  // kernel log no death is known to be an OOM kill: 0, so `not s.oom_killed` still holds.
  metrics.set_number(object, "oom_killed", 0);
  const std::string name = object_name(object);
  metrics.set_number(object, "oom_kills", static_cast<double>(oom_kills_[name]));
  if (oom_reports_) oom_started_[name] = oom_reports_->mark();
  if (auto st = supervisor_->status(object)) metrics.set_number(object, "restarts", st->restarts);
  if (runtime_->probes) {
    if (Status s = runtime_->probes->follow(object, pid); !s) {
      spdlog::warn("{}: probe: {}", object_name(object), s.error().message);
    }
  }
  // The rules must see it up (and its down event fall) even if it dies at once.
  metrics.changed(object);
}

void Daemon::on_service_started(int object, const std::string& name, pid_t pid,
                                std::uint64_t ticks) {
  const auto& spec = policy().tables().objects[static_cast<std::size_t>(object)];
  if (Status s = store_->record_process({name, pid, ticks, spec.start, base::unix_now()}); !s) {
    spdlog::error("event store: {}", s.error().message);
  }
  auto st = supervisor_->status(object);
  spdlog::info("{} running (pid {}{})", name, pid, st && st->adopted ? ", adopted" : "");
  write_running(object, pid);
  update_status();
}

void Daemon::on_service_exited(int object, const std::string& name, pid_t pid,
                               const base::ExitStatus& status, bool expected) {
  // A pass still pending has not yet seen the state before this death (a process that
  // exits at once after its start): run it first, or the rule would never see the service
  // up, never fall, and never rise again for this death.
  runtime_->rules->run_pending();
  (void)store_->forget_process(name);
  if (pid > 0) settle_exited(pid, status);
  if (expected) {
    spdlog::info("{} (pid {}) stopped: {}", name, pid, status.describe());
  } else {
    spdlog::warn("{} (pid {}) died: {}", name, pid, status.describe());
  }
  if (object >= 0) {
    discovery::MetricStore& metrics = runtime_->rules->metrics();
    metrics.set_number(object, "alive", 0);
    metrics.set_number(object, "pid", 0);
    // -1 when it did not exit by itself: killed by a signal, or not ours to know (adopted).
    metrics.set_number(object, "exit_code", status.known ? status.exit_code : -1);
    metrics.set_number(object, "exit_signal", status.signaled ? status.signal : 0);
    write_oom_verdict(object, name, pid, status);
    if (runtime_->probes) (void)runtime_->probes->follow(object, 0);
    // Stopped by amatad to be started again at once (a restart and its dependants): the
    // rules see the new process, not this gap, unless something else has them look first.
    // The new process comes with the spawner's answer, a few turns of the loop later; a
    // rule that restarts the service when down would otherwise fire for amatad's own
    // restart (it would join it, but with an event and an action of its own).
    auto st = supervisor_->status(object);
    if (!(expected && st && st->restarting)) metrics.changed(object);
  }
  update_status();
}

void Daemon::write_oom_verdict(int object, const std::string& name, pid_t pid,
                               const base::ExitStatus& status) {
  discovery::MetricStore& metrics = runtime_->rules->metrics();
  // The OOM killer kills with SIGKILL; only then is the kernel log worth reading. Only a report
  // logged since this run started counts: the pid may have been another process's before.
  const bool oom = status.signaled && status.signal == SIGKILL && oom_reports_ &&
                   oom_reports_->killed(pid, oom_started_[name]);
  std::uint64_t& kills = oom_kills_[name];
  if (oom) {
    ++kills;
    spdlog::warn("{} (pid {}) was killed by the kernel's OOM killer", name, pid);
  }
  metrics.set_number(object, "oom_killed", oom ? 1 : 0);
  metrics.set_number(object, "oom_kills", static_cast<double>(kills));
}

void Daemon::on_service_gave_up(int object, const std::string& name, const std::string& reason) {
  spdlog::error("{}: {}; left stopped and unmonitored until `amatactl monitor {}`", name, reason,
                name);
  store::EventRecord record{0,      base::unix_now(),
                            "",     store::kGaveUpEvent,
                            {name}, nlohmann::json({{"reason", reason}}).dump(),
                            "raise"};
  record_event(record);
  if (cluster_) cluster_->gave_up(name);
  if (remote_node_) remote_node_->gave_up(name);  // another node takes the service over
  actions::EventEnvironment env;
  env.event = store::kGaveUpEvent;
  env.objects = {name};
  env.edge = "raise";
  env.time = record.time;
  env.event_id = record.id;
  env.values = record.values;
  env.message = reason;
  env.policy = policy().tables().name;
  if (object >= 0 && paused_by({object})) {
    spdlog::info("{} is in maintenance: no GaveUp hooks", name);
  } else {
    run_hooks(env);
  }
  update_status();
}

}  // namespace amata::daemon
