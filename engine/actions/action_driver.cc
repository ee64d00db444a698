#include "engine/actions/action_driver.h"

#include <fmt/format.h>

#include "base/clock.h"

namespace amata::actions {
namespace {

std::string object_name(const ir::CompiledPolicy& policy, int object) {
  const auto& objects = policy.tables().objects;
  if (object < 0 || static_cast<std::size_t>(object) >= objects.size()) return "";
  return objects[static_cast<std::size_t>(object)].name;
}

}  // namespace

ActionDriver::ActionDriver(base::EventLoop& loop, supervisor::Supervisor& supervisor,
                           JobRunner& jobs, ActionHost& host, Options options)
    : loop_(loop),
      supervisor_(supervisor),
      jobs_(jobs),
      host_(host),
      options_(std::move(options)) {}

ActionDriver::~ActionDriver() {
  *alive_ = false;
}

void ActionDriver::run(ActionChain chain) {
  step(std::make_shared<ActionChain>(std::move(chain)), 0);
}

int ActionDriver::current_object(const ActionChain& chain, int object) const {
  auto current = host_.current_policy();
  if (!current || current == chain.policy) return object;
  // A reload came between the event and this action: the same object by name, if it stayed.
  return current->tables().find_object(object_name(*chain.policy, object));
}

void ActionDriver::step(const std::shared_ptr<ActionChain>& chain, std::size_t next) {
  if (next >= chain->actions.size()) return;
  const ir::ActionRequest& action = chain->actions[next];
  const auto started = base::Clock::now();
  const double requested = base::unix_now();
  std::weak_ptr<bool> alive = alive_;
  // The action's record, written once when it ended.
  auto record = [this, alive, chain, next, started, requested](const std::string& outcome,
                                                               const std::string& detail) {
    if (alive.expired()) return;
    const ir::ActionRequest& done = chain->actions[next];
    host_.finished(store::ActionRecord{
        0, requested, chain->event_id, std::string(ir::action_kind_name(done.kind)),
        object_name(*chain->policy, done.object), outcome, detail, base::elapsed_ms(started)});
  };
  // Every path ends here exactly once (but `notify`'s): the record, then the next action.
  auto finish = [this, alive, chain, next, record](const std::string& outcome,
                                                   const std::string& detail) {
    if (alive.expired()) return;
    record(outcome, detail);
    step(chain, next + 1);
  };
  auto done = [finish](bool ok, const std::string& detail) {
    finish(ok ? "ok" : "failed", detail);
  };
  if (host_.shutting_down()) return finish("skipped", "amatad is shutting down");
  const std::string target = object_name(*chain->policy, action.object);
  const int object = current_object(*chain, action.object);
  const bool is_service = supervisor_.has(object);
  auto not_a_service = [&] { finish("failed", target + " is not a service amatad runs"); };
  const bool unit_verb =
      action.kind == ir::ActionKind::kStart || action.kind == ir::ActionKind::kStop ||
      action.kind == ir::ActionKind::kRestart || action.kind == ir::ActionKind::kReload;
  if (unit_verb && object >= 0) {
    const auto& spec = host_.current_policy()->tables().objects[static_cast<std::size_t>(object)];
    // systemd runs a unit: amatad asks its manager and never forks or kills its processes.
    if (spec.kind == catalog::Kind::kUnit) return host_.unit_job(spec.unit, action.kind, done);
  }
  switch (action.kind) {
    case ir::ActionKind::kStart:
      if (!is_service) return not_a_service();
      return supervisor_.start(object, done);
    case ir::ActionKind::kRestart: {
      if (!is_service) return not_a_service();
      supervisor::RestartPolicy policy{action.backoff_initial, action.backoff_max, action.limit,
                                       action.limit_window};
      return supervisor_.restart(object, policy,
                                 [this, alive, object, done](bool ok, const std::string& d) {
                                   if (!alive.expired() && ok) host_.restarted(object);
                                   done(ok, d);
                                 });
    }
    case ir::ActionKind::kReload:
      return finish("failed", target + " is not a systemd unit");
    case ir::ActionKind::kStop:
      if (!is_service) return not_a_service();
      supervisor_.unmonitor(object);  // stopped on purpose: its death is not a fault
      return supervisor_.stop(object, done);
    case ir::ActionKind::kSignal: {
      if (!is_service) return not_a_service();
      Status s = supervisor_.signal(object, action.signal);
      return finish(s ? "ok" : "failed",
                    s ? fmt::format("signal {}", action.signal) : s.error().message);
    }
    case ir::ActionKind::kMonitor:
    case ir::ActionKind::kUnmonitor: {
      const bool on = action.kind == ir::ActionKind::kMonitor;
      if (is_service) {
        on ? supervisor_.monitor(object) : supervisor_.unmonitor(object);
      } else if (object >= 0) {
        host_.set_monitored(object, on);
      }
      return finish("ok", on ? "monitored" : "unmonitored");
    }
    case ir::ActionKind::kRun: {
      JobSpec job;
      job.argv = action.argv;
      EventEnvironment env = chain->env;
      env.args = action.argv.size() > 1
                     ? std::vector<std::string>(action.argv.begin() + 1, action.argv.end())
                     : std::vector<std::string>{};
      job.env = env.variables();
      job.timeout = options_.run_timeout;
      job.log_path = options_.run_log;
      auto pid = jobs_.run(job, [finish](const JobOutcome& o) {
        finish(o.ok() ? "ok" : (o.timed_out ? "timeout" : "failed"), o.describe());
      });
      if (!pid) return finish("failed", pid.error().message);
      return;
    }
    case ir::ActionKind::kNotify: {
      // Recovery never waits for a notification: the chain goes on now, and the record is
      // written when the delivery has ended, ok or failed with the reason.
      host_.notify(
          action.channel, action.message, chain->env,
          [record](bool ok, const std::string& detail) { record(ok ? "ok" : "failed", detail); });
      return step(chain, next + 1);
    }
    case ir::ActionKind::kWait:
      loop_.add_timer_after(base::from_seconds(action.seconds), [finish, s = action.seconds] {
        finish("ok", fmt::format("waited {}s", s));
      });
      return;
    case ir::ActionKind::kRaise:
      if (chain->depth >= kMaxRaiseDepth) {
        return finish("failed", "raise nested deeper than " + std::to_string(kMaxRaiseDepth));
      }
      if (chain->policy != host_.current_policy()) return finish("skipped", "policy reloaded");
      host_.raise(action.raised, "raise in recovery of " + chain->env.event, chain->depth + 1);
      return finish("ok", "raised");
    case ir::ActionKind::kFailover: {
      if (!host_.clustered()) return finish("skipped", "no cluster layer in this amatad");
      const std::string service = object_name(*chain->policy, action.failover_service);
      std::optional<std::string> to;
      if (action.object >= 0) {
        to = chain->policy->tables().objects[static_cast<std::size_t>(action.object)].peer_name;
      }
      Status s = host_.failover(service, to);
      return s ? finish("ok", "failover of " + service + " requested")
               : finish("failed", s.error().message);
    }
  }
  finish("failed", "unknown action");
}

}  // namespace amata::actions
