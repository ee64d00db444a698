// Where an event goes: a rule's edge becomes an event record (the event store, the console's
// followers, the cluster bus, /metrics), its hooks run, and on a raise its recovery body
// becomes an action chain for the action driver. Every action's end comes back here too.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "engine/console/cluster_view.h"
#include "engine/console/console_server.h"
#include "engine/console/console_view.h"
#include "engine/daemon/cluster_glue.h"
#include "engine/daemon/daemon.h"
#include "engine/daemon/remote_node.h"

namespace amata::daemon {
namespace {

std::string join(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : ", ") + w;
  return out;
}

}  // namespace

void Daemon::on_edge(const ir::EventInstance& event, const std::string& rule, bool raise) {
  raise_event(event, rule, raise, 0);
}

void Daemon::raise_event(const ir::EventInstance& instance, const std::string& rule, bool raise,
                         int depth) {
  const discovery::RuleEngine& rules = *runtime_->rules;
  const auto& tables = rules.policy().tables();
  if (instance.event < 0 || static_cast<std::size_t>(instance.event) >= tables.events.size()) {
    return;
  }
  const auto& info = tables.events[static_cast<std::size_t>(instance.event)];
  store::EventRecord record;
  record.time = base::unix_now();
  record.rule = rule;
  record.event = info.name;
  for (int a : instance.args) record.objects.push_back(object_name(a));
  record.values = rules.metrics().values_json(instance.args);
  record.edge = raise ? "raise" : "clear";
  // In maintenance the event is still stored and streamed, marked, so the history is whole.
  const store::MaintenanceRecord* paused = paused_by(instance.args);
  if (paused) {
    auto values = nlohmann::json::parse(record.values, nullptr, false);
    if (!values.is_object()) values = nlohmann::json::object();
    values["maintenance"] = true;
    record.values = values.dump();
  }
  const std::string what = info.name + "(" + join(record.objects) + ")";
  record_event(record);
  if (!raise) {
    spdlog::info("{} cleared{}", what, rule.empty() ? "" : " (" + rule + ")");
    // Alertmanager is told the alerts it had about this event are resolved.
    if (channels_) {
      notify::Notification cleared;
      cleared.event = info.name;
      cleared.objects = record.objects;
      cleared.edge = "clear";
      cleared.time = record.time;
      cleared.event_id = record.id;
      cleared.policy = tables.name;
      cleared.node = node_name_;
      channels_->cleared(cleared);
    }
    return;
  }
  spdlog::warn("{} raised{}: {}{}", what, rule.empty() ? "" : " by " + rule, record.values,
               paused ? "; in " + describe_window(*paused) + ": no hooks, no recovery" : "");

  actions::EventEnvironment env;
  env.event = info.name;
  env.rule = rule;
  env.objects = record.objects;
  env.edge = "raise";
  env.time = record.time;
  env.event_id = record.id;
  env.values = record.values;
  env.policy = tables.name;
  if (!paused) run_hooks(env);
  recover(instance, env, depth);
}

void Daemon::recover(const ir::EventInstance& instance, const actions::EventEnvironment& env,
                     int depth) {
  const discovery::RuleEngine& rules = *runtime_->rules;
  const auto& tables = rules.policy().tables();
  const auto& info = tables.events[static_cast<std::size_t>(instance.event)];
  if (info.recovery < 0) return;
  const std::string what = info.name + "(" + join(env.objects) + ")";
  for (int a : instance.args) {
    auto st = supervisor_->status(a);
    if (st ? st->monitored : rules.monitored(a)) continue;
    // Recorded like any action's outcome: stored, followed, counted, on the bus.
    const std::string name = object_name(a);
    record_action({0, base::unix_now(), env.event_id, "recover", name, "skipped",
                   name + " is unmonitored, no recovery for " + what, 0},
                  "");
    return;
  }
  auto actions = rules.recover(instance);
  if (actions.empty()) return;
  // Paused when the event's objects are in maintenance, or an object the body acts on is.
  const store::MaintenanceRecord* paused = paused_by(instance.args);
  for (const auto& action : actions) {
    if (paused) break;
    switch (action.kind) {
      case ir::ActionKind::kRestart:
      case ir::ActionKind::kStart:
      case ir::ActionKind::kStop:
      case ir::ActionKind::kReload:
      case ir::ActionKind::kSignal:
        if (action.object >= 0) paused = paused_by({action.object});
        break;
      default:
        break;
    }
  }
  if (paused) {
    suppress_recovery(actions, env.event_id, *paused, what);
    return;
  }
  actions_->run(
      actions::ActionChain{rules.shared_policy(), env.event_id, env, std::move(actions), depth});
}

void Daemon::record_event(store::EventRecord& record) {
  if (record.edge == "raise") events_total_[record.event]++;
  if (auto id = store_->add_event(record)) {
    record.id = *id;
  } else {
    spdlog::error("event store: {}", id.error().message);
  }
  nlohmann::json published = console::event_record_json(record);
  if (console_) console_->publish_event(published);
  if (cluster_) {
    if (Status s = cluster_->publish(published); !s) {
      spdlog::debug("cluster publish: {}", s.error().message);
    }
  }
  if (remote_node_) remote_node_->publish(std::move(published));
}

void Daemon::publish_action(store::ActionRecord& record) {
  if (auto id = store_->add_action(record)) {
    record.id = *id;
  } else {
    spdlog::error("event store: {}", id.error().message);
  }
  nlohmann::json published = console::action_record_json(record);
  if (console_) console_->publish_event(published);
  if (cluster_) {
    if (Status s = cluster_->publish(published); !s) {
      spdlog::debug("cluster publish: {}", s.error().message);
    }
  }
  if (remote_node_) remote_node_->publish(std::move(published));
}

void Daemon::record_action(store::ActionRecord record, std::string_view log_prefix) {
  count_action(record.kind, record.outcome);
  publish_action(record);
  auto line = fmt::format("{}{} {}: {}{} ({:.1f} ms)", log_prefix, record.kind, record.object,
                          record.outcome, record.detail.empty() ? "" : ", " + record.detail,
                          record.duration_ms);
  if (record.outcome == "ok") {
    spdlog::info("{}", line);
  } else {
    spdlog::warn("{}", line);
  }
}

void Daemon::record_cluster_entry(const cluster::BusMessage& m) {
  const double now = base::unix_now();
  nlohmann::json record = console::cluster_record_json(m, now);
  if (auto id = store_->add_cluster_entry(console::cluster_log_row(m, now, record))) {
    record["id"] = *id;
  } else {
    spdlog::error("event store: {}", id.error().message);
  }
  if (spdlog::should_log(spdlog::level::debug)) {  // a dump per bus message, only when asked
    spdlog::debug("cluster history #{}: {}", m.index, record.dump());
  }
  if (console_) console_->publish_event(record);
}

void Daemon::run_hooks(const actions::EventEnvironment& env) {
  if (shutting_down_) return;
  std::string event = env.event;
  hooks_->run(env, [event](const std::string& hook, const actions::JobOutcome& outcome) {
    if (outcome.ok()) {
      spdlog::debug("hook {} for {}: {} in {:.0f} ms", hook, event, outcome.describe(),
                    outcome.duration_ms);
    } else if (!outcome.start_failure.empty()) {
      spdlog::error("hook {} for {}: {}", hook, event, outcome.describe());
    } else {
      spdlog::warn("hook {} for {} failed: {}", hook, event, outcome.describe());
    }
  });
}

void Daemon::on_store_degraded(bool degraded) {
  if (degraded != store_->degraded()) return;  // it changed again meanwhile
  const nlohmann::json values = {{"error", store_->last_error()},
                                 {"pending", store_->pending()},
                                 {"dropped", store_->dropped()}};
  store::EventRecord record{0,
                            base::unix_now(),
                            "",
                            store::kStoreDegradedEvent,
                            {},
                            values.dump(),
                            degraded ? "raise" : "clear"};
  if (degraded) {
    spdlog::error(
        "event store: cannot write ({}); events and actions wait in memory (at most {}) "
        "until it can, and recovery goes on",
        store_->last_error(), options_.retention.max_pending);
  } else {
    spdlog::info("event store writes again ({} record(s) lost while it could not)",
                 store_->dropped());
  }
  record_event(record);
  actions::EventEnvironment env;
  env.event = store::kStoreDegradedEvent;
  env.edge = record.edge;
  env.time = record.time;
  env.event_id = record.id;
  env.values = record.values;
  env.message = store_->last_error();
  env.policy = policy().tables().name;
  run_hooks(env);
}

// --- actions::ActionHost -------------------------------------------------------------------

std::shared_ptr<const ir::CompiledPolicy> Daemon::current_policy() const {
  return runtime_->rules->shared_policy();
}

void Daemon::set_monitored(int object, bool monitored) {
  runtime_->rules->set_monitored(object, monitored);
}

void Daemon::raise(const ir::EventInstance& event, const std::string& why, int depth) {
  raise_event(event, why, true, depth);
}

Status Daemon::failover(const std::string& service, const std::optional<std::string>& peer) {
  return cluster_->failover(service, peer);
}

void Daemon::notify(const std::string& channel, const std::string& message,
                    const actions::EventEnvironment& event,
                    std::function<void(bool ok, const std::string& detail)> done) {
  spdlog::warn("notify {}: {}", channel.empty() ? "console" : channel, message);
  const auto& declared = policy().tables().channels;
  auto spec = std::find_if(declared.begin(), declared.end(),
                           [&](const catalog::ChannelSpec& c) { return c.name == channel; });
  if (channel.empty() || channel == "console" || spec == declared.end()) {
    // The console's channel is the log line above and the action's record. A channel the
    // running policy lost in a reload is gone too: said so, not silently ok.
    const bool console = channel.empty() || channel == "console";
    return done(console, console ? "console: " + message
                                 : "channel " + channel + " is not in the running policy");
  }
  actions::EventEnvironment env = event;
  env.message = message;
  if (spec->type == catalog::ChannelSpec::Type::kHook) return notify_hook(channel, env, done);
  notify::Notifier* notifier = channels();
  if (!notifier) return done(false, "notification channels cannot start (see the log)");
  notify::Notification n = notification(channel, env);
  notifier->send(*spec, n, [done](const notify::Delivery& d) { done(d.ok, d.detail); });
}

void Daemon::notify_hook(const std::string& channel, const actions::EventEnvironment& event,
                         const std::function<void(bool ok, const std::string& detail)>& done) {
  const std::string script = hooks_->dir() + "/" + channel;
  const auto hooks = hooks_->hooks_for(channel);
  if (std::find(hooks.begin(), hooks.end(), script) == hooks.end()) {
    return done(false, "hook " + script + " is missing or not executable");
  }
  actions::EventEnvironment env = event;
  env.event = channel;  // the channel's hook: DIR/pager (and DIR/any, as for every event)
  hooks_->run(env, [script, done](const std::string& hook, const actions::JobOutcome& outcome) {
    if (hook != script) {
      if (!outcome.ok()) spdlog::warn("hook {}: {}", hook, outcome.describe());
      return;
    }
    done(outcome.ok(), "hook " + hook + ": " + outcome.describe());
  });
}

notify::Notifier* Daemon::channels() {
  if (!channels_) {
    auto started = notify::Notifier::start(
        *loop_, [](const std::string& line) { spdlog::warn("notify: {}", line); });
    if (!started) {
      spdlog::error("notification channels: {}", started.error().message);
      return nullptr;
    }
    channels_ = std::move(*started);
  }
  return channels_.get();
}

notify::Notification Daemon::notification(const std::string& channel,
                                          const actions::EventEnvironment& event) const {
  notify::Notification n;
  n.channel = channel;
  n.event = event.event;
  n.edge = event.edge;
  n.objects = event.objects;
  n.message = event.message;
  n.time = event.time;
  n.event_id = event.event_id;
  n.values = event.values;
  n.policy = event.policy;
  n.node = node_name_;
  return n;
}

void Daemon::finished(store::ActionRecord record) {
  record_action(std::move(record), "");
}

void Daemon::unit_job(const std::string& unit, ir::ActionKind verb,
                      std::function<void(bool ok, const std::string& detail)> done) {
  using Verb = actions::UnitControl::Verb;
  if (!unit_control_) {
    // The first unit action opens amatad's connection to systemd; policies without units
    // never talk to the bus.
    auto made = actions::UnitControl::create(
        *loop_, [](std::string_view message) { spdlog::warn("systemd: {}", message); });
    if (!made) return done(false, "systemd: " + made.error().message);
    unit_control_ = std::move(*made);
  }
  const Verb v = verb == ir::ActionKind::kStart    ? Verb::kStart
                 : verb == ir::ActionKind::kStop   ? Verb::kStop
                 : verb == ir::ActionKind::kReload ? Verb::kReload
                                                   : Verb::kRestart;
  unit_control_->request(unit, v, [done = std::move(done), unit](const auto& outcome) {
    done(outcome.ok, "systemd job for " + unit + ": " + outcome.result);
  });
}

void Daemon::restarted(int object) {
  (void)store_->add_restart(object_name(object), base::unix_now());
}

}  // namespace amata::daemon
