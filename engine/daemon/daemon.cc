#include "engine/daemon/daemon.h"

#include <fmt/format.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "base/proc_stat.h"
#include "compiler/ir/explain.h"
#include "engine/console/console_server.h"
#include "engine/daemon/cluster_glue.h"
#include "engine/daemon/cluster_view.h"
#include "engine/metrics/metrics_server.h"

namespace amata::daemon {
namespace {

namespace fs = std::filesystem;

constexpr int kMaxRaiseDepth = 8;  // `raise` inside recovery bodies: escalation, not loops
// Action rows share the console's event id space with events: offset so the two never collide.
constexpr std::int64_t kActionIdOffset = std::int64_t{1} << 40;

/// Collects the requests of one recovery body.
class CollectingSink : public ir::ActionSink {
 public:
  void request(const ir::ActionRequest& action) override { actions.push_back(action); }
  std::vector<ir::ActionRequest> actions;
};

std::string join(const std::vector<std::string>& words, const char* sep = " ") {
  std::string out;
  for (const auto& w : words) {
    if (!out.empty()) out += sep;
    out += w;
  }
  return out;
}

std::int64_t to_unix_ms(double unix_seconds) {
  return static_cast<std::int64_t>(std::llround(unix_seconds * 1000.0));
}

nlohmann::json number_or_null(double v) {
  return std::isnan(v) ? nlohmann::json() : nlohmann::json(v);
}

nlohmann::json event_record_json(const store::EventRecord& e) {
  nlohmann::json j = {{"id", e.id},
                      {"at_unix_ms", to_unix_ms(e.time)},
                      {"type", e.edge == "clear" ? "cleared" : "raised"},
                      {"event", e.event}};
  if (!e.objects.empty()) j["object"] = e.objects.front();
  if (!e.rule.empty()) j["rule"] = e.rule;
  auto values = nlohmann::json::parse(e.values, nullptr, false);
  if (!values.is_discarded()) j["data"] = values;
  j["message"] = e.event + "(" + join(e.objects, ", ") + ") " +
                 (e.edge == "clear" ? "cleared" : "raised") +
                 (e.rule.empty() ? "" : " by " + e.rule);
  return j;
}

nlohmann::json action_record_json(const store::ActionRecord& a) {
  nlohmann::json j = {{"id", kActionIdOffset + a.id},
                      {"at_unix_ms", to_unix_ms(a.time)},
                      {"type", a.kind == "notify" ? "notify" : "action"},
                      {"message", a.kind + (a.object.empty() ? "" : " " + a.object) + ": " +
                                      a.outcome + (a.detail.empty() ? "" : " (" + a.detail + ")") +
                                      " in " + std::to_string(std::llround(a.duration_ms)) + " ms"},
                      {"data",
                       {{"kind", a.kind},
                        {"outcome", a.outcome},
                        {"detail", a.detail},
                        {"duration_ms", a.duration_ms},
                        {"event_id", a.event_id}}}};
  if (!a.object.empty()) j["object"] = a.object;
  return j;
}

/// "restart web: ok, pid 42 (3.1 ms)": at info when it went well, else as a warning.
void log_action(const store::ActionRecord& a, std::string_view prefix) {
  auto line = fmt::format("{}{} {}: {}{} ({:.1f} ms)", prefix, a.kind, a.object, a.outcome,
                          a.detail.empty() ? "" : ", " + a.detail, a.duration_ms);
  if (a.outcome == "ok") {
    spdlog::info("{}", line);
  } else {
    spdlog::warn("{}", line);
  }
}

// The console's state of a rule: firing once its event is raised, pending while the
// condition holds but its `for`/`times within` qualifier has not been met, else armed.
std::string_view rule_state(bool firing, const ir::TemporalExplanation& t) {
  if (firing) return "firing";
  return t.pending ? "pending" : "armed";
}

// Comparisons and logic give truth values; shown as booleans rather than 0/1.
bool is_truth_op(std::string_view op) {
  static constexpr std::string_view kTruth[] = {
      "<", "<=", ">", "==", "!=", ">=", "and", "or", "not", "str==", "str!=", "match", "changed"};
  return std::find(std::begin(kTruth), std::end(kTruth), op) != std::end(kTruth);
}

// What the qualifier is waiting for, in words: "for 30s: true since 12.3 s, 17.7 s left".
std::string temporal_note(const ir::TemporalExplanation& t) {
  switch (t.kind) {
    case ir::Temporal::kNone:
      return {};
    case ir::Temporal::kForDuration:
      if (!t.holds) return fmt::format("for {:g}s: condition false", t.seconds);
      if (std::isnan(t.since))
        return fmt::format("for {:g}s: condition just turned true", t.seconds);
      return fmt::format("for {:g}s: true since {:.1f} s, {:.1f} s left", t.seconds, t.held_s,
                         t.left_s);
    case ir::Temporal::kForChecks:
      return fmt::format("for {} checks: {} counted, {} left", t.count, t.checks,
                         std::max(0, t.count - t.checks));
    case ir::Temporal::kTimesWithin:
      return fmt::format("{} times within {:g}s: {} rises in the window", t.count, t.seconds,
                         t.rises_in_window);
  }
  return {};
}

nlohmann::json explain_node_json(const ir::RuleExplanation& e, int pos, int depth) {
  const ir::ExprExplanation& n = e.nodes[static_cast<std::size_t>(pos)];
  nlohmann::json j = {{"text", n.text}, {"op", n.op}};
  if (std::isnan(n.value)) {
    j["value"] = nullptr;  // missing: not measured yet
  } else if (is_truth_op(n.op)) {
    j["value"] = n.value != 0;
  } else {
    j["value"] = n.value;
  }
  nlohmann::json children = nlohmann::json::array();
  if (depth < 64) {
    for (int c : n.children) children.push_back(explain_node_json(e, c, depth + 1));
  }
  j["children"] = std::move(children);
  return j;
}

nlohmann::json temporal_json(const ir::TemporalExplanation& t) {
  nlohmann::json j = {{"kind", ir::temporal_name(t.kind)},
                      {"holds", t.holds},
                      {"active", t.active},
                      {"pending", t.pending}};
  switch (t.kind) {
    case ir::Temporal::kNone:
      break;
    case ir::Temporal::kForDuration:
      j["seconds"] = t.seconds;
      j["held_s"] = t.held_s;
      j["left_s"] = t.left_s;
      break;
    case ir::Temporal::kForChecks:
      j["count"] = t.count;
      j["checks"] = t.checks;
      break;
    case ir::Temporal::kTimesWithin:
      j["count"] = t.count;
      j["seconds"] = t.seconds;
      j["rises_in_window"] = t.rises_in_window;
      break;
  }
  return j;
}

}  // namespace

/// The actions of one recovery body, carried out one after another.
struct Daemon::ActionChain {
  std::shared_ptr<const ir::CompiledPolicy> policy;  // object ids refer to this policy
  std::int64_t event_id = 0;
  actions::EventEnvironment env;
  std::vector<ir::ActionRequest> actions;
  std::size_t next = 0;
  int depth = 0;
};

Daemon::Daemon(DaemonOptions options, SystemdNotifier notifier)
    : options_(std::move(options)), notifier_(std::move(notifier)) {}

Daemon::~Daemon() {
  *alive_ = false;
  notifier_.stop_watchdog();  // declared before the loop, so it would outlive it
  cluster_.reset();           // leaves the cluster group while the supervisor exists
  console_.reset();
  metrics_server_.reset();
  runtime_.reset();  // probes first: they reference the loop
  supervisor_.reset();
  hooks_.reset();
  jobs_.reset();
}

Result<std::unique_ptr<Daemon>> Daemon::create(DaemonOptions options, LoadedPolicy policy,
                                               SystemdNotifier notifier) {
  if (!policy.policy) return Error{"no compiled policy"};
  std::unique_ptr<Daemon> daemon(new Daemon(std::move(options), std::move(notifier)));
  if (Status s = daemon->init(std::move(policy)); !s) return s.error();
  return daemon;
}

Status Daemon::init(LoadedPolicy loaded) {
  started_unix_ = base::unix_now();
  std::error_code ec;
  fs::create_directories(options_.state_dir + "/logs", ec);
  if (ec) return Error{"create state dir " + options_.state_dir + ": " + ec.message()};
  // A peer closing a pipe or socket must be an error return, not the death of the daemon.
  // (Children get every disposition reset to default before exec.)
  signal(SIGPIPE, SIG_IGN);

  auto store = store::EventStore::open(options_.state_dir + "/events.db", options_.retention);
  if (!store) return store.error();
  store_ = std::move(*store);
  // Checkpoints (with their fsync) happen on an idle timer, never inside a recovery.
  if (Status s = store_->use_manual_checkpoints(); !s) return s;

  auto loop = base::EventLoop::create();
  if (!loop) return loop.error();
  loop_ = std::move(*loop);
  loop_->set_error_handler([](std::string_view what) { spdlog::error("internal: {}", what); });
  if (Status s = loop_->watch_signals({SIGTERM, SIGINT, SIGHUP},
                                      [this](const signalfd_siginfo& i) { on_signal(i); });
      !s) {
    return s;
  }

  jobs_ = std::make_unique<actions::JobRunner>(*loop_);
  hooks_ = std::make_unique<actions::HookRunner>(*jobs_, options_.hooks_dir, options_.hook_timeout,
                                                 options_.state_dir + "/logs/hooks.log");
  supervisor::SupervisorEvents events;
  events.started = [this](const std::string& n, pid_t p, std::uint64_t t,
                          const std::vector<std::string>& argv) {
    on_service_started(n, p, t, argv);
  };
  events.exited = [this](const std::string& n, pid_t p, const base::ExitStatus& s, bool expected) {
    on_service_exited(n, p, s, expected);
  };
  events.gave_up = [this](const std::string& n, const std::string& r) { on_service_gave_up(n, r); };
  supervisor_ = std::make_unique<supervisor::Supervisor>(*loop_, events);

  auto runtime = make_runtime(loaded);
  if (!runtime) return runtime.error();
  runtime_ = std::move(*runtime);
  spdlog::info("policy {} from {}: {} objects, {} rules, {} back end",
               runtime_->policy->tables().name, loaded.file,
               runtime_->policy->tables().objects.size(), runtime_->policy->tables().rules.size(),
               runtime_->policy->backend_name());

  supervisor_->configure(service_configs(runtime_->policy->tables()));
  adopt_or_forget();
  if (const auto& cluster = runtime_->policy->tables().cluster) {
    if (Status s = attach_cluster(*cluster); !s) return s;
  }
  supervisor_->start_all();
  runtime_->probes->start();
  start_console();
  schedule_checkpoint();
  start_metrics();
  return {};
}

Status Daemon::attach_cluster(const catalog::ClusterSpec& spec) {
  // The cluster, not the boot, places the clustered services (create() holds them back).
  ClusterGlue::Callbacks cb;
  cb.on_peers = [this](const std::vector<cluster::PeerView>& peers) {
    if (runtime_) ClusterGlue::write_peers(peers, runtime_->policy->tables(), *runtime_->metrics);
  };
  cb.on_bus = [this](const cluster::BusMessage& m) { record_cluster_entry(m); };
  cb.on_action = [this](const store::ActionRecord& a) {
    store::ActionRecord record = a;
    count_action(record.kind, record.outcome);
    publish_action(record);
    log_action(record, "cluster ");
  };
  cb.on_log = [](bool warning, std::string_view message) {
    // The cluster layer's lines say "cluster: …" themselves.
    warning ? spdlog::warn("{}", message) : spdlog::info("{}", message);
  };
  auto glue =
      ClusterGlue::create(*loop_, spec, runtime_->policy->tables().objects, *supervisor_, cb);
  if (!glue) return Error{"cluster " + spec.name + ": " + glue.error().message};
  cluster_ = std::move(*glue);
  return {};
}

void Daemon::reload_cluster() {
  const auto& tables = runtime_->policy->tables();
  const auto& spec = tables.cluster;
  if (cluster_ && (!spec || spec->group != cluster_->group())) {
    spdlog::info("cluster: leaving CPG group {}{}", cluster_->group(),
                 spec ? " for " + spec->group : " (the policy no longer declares a cluster)");
    cluster_->release();  // its services are ordinary ones now, or the new group places them
    cluster_.reset();
  }
  if (!spec) return;
  // Either way the clustered services that do not run here are held back again.
  Status s = cluster_ ? cluster_->reconfigure(*spec, tables.objects) : attach_cluster(*spec);
  if (!s) {
    // Never let start_all() run the clustered services on every node instead.
    for (const auto& o : tables.objects)
      if (o.clustered && supervisor_->has(o.name) && !supervisor_->status(o.name)->pid)
        supervisor_->unmonitor(o.name);
    spdlog::error("cluster {}: reload: {}; its clustered services stay stopped here", spec->name,
                  s.error().message);
  }
}

void Daemon::record_cluster_entry(const cluster::BusMessage& m) {
  const double now = base::unix_now();
  nlohmann::json record = cluster_record_json(m, now);
  if (auto id = store_->add_cluster_entry(cluster_log_row(m, now, record))) {
    record["id"] = *id;
  } else {
    spdlog::error("event store: {}", id.error().message);
  }
  if (spdlog::should_log(spdlog::level::debug)) {  // a dump per bus message, only when asked
    spdlog::debug("cluster history #{}: {}", m.index, record.dump());
  }
  if (console_) console_->publish_event(record);
}

void Daemon::publish_action(store::ActionRecord& record) {
  if (auto id = store_->add_action(record)) {
    record.id = *id;
  } else {
    spdlog::error("event store: {}", id.error().message);
  }
  nlohmann::json published = action_record_json(record);
  if (console_) console_->publish_event(published);
  if (cluster_) {
    if (Status s = cluster_->publish(std::move(published)); !s) {
      spdlog::debug("cluster publish: {}", s.error().message);
    }
  }
}

Result<std::unique_ptr<Daemon::Runtime>> Daemon::make_runtime(const LoadedPolicy& loaded) {
  auto rt = std::make_unique<Runtime>();
  rt->policy = loaded.policy;
  rt->file = loaded.file;
  rt->state = rt->policy->make_state();
  const auto& tables = rt->policy->tables();
  rt->monitored.assign(tables.objects.size(), true);
  rt->last_edge_unix.assign(tables.rules.size(), 0);
  rt->last_edge_raise.assign(tables.rules.size(), false);
  rt->rises.assign(tables.rules.size(), 0);
  rt->raised_at.assign(tables.rules.size(), 0);
  std::weak_ptr<bool> alive = alive_;
  rt->metrics = std::make_unique<MetricStore>(
      tables,
      [this, alive](int, bool) {
        if (!alive.expired()) schedule_discover();
      },
      [this, policy = rt->policy](int object, std::string_view message) {
        spdlog::warn("{}: {}", object_name(*policy, object), message);
      });
  auto probes = probes::ProbeSet::create(*loop_, *rt->metrics, options_.probe_options);
  if (!probes) return Error{"probes: " + probes.error().message};
  rt->probes = std::move(*probes);
  for (std::size_t i = 0; i < tables.objects.size(); ++i) {
    if (Status s = rt->probes->add(static_cast<int>(i), tables.objects[i]); !s) {
      return Error{"object " + tables.objects[i].name + ": " + s.error().message};
    }
  }
  return rt;
}

std::vector<supervisor::ServiceConfig> Daemon::service_configs(
    const ir::PolicyTables& tables) const {
  std::vector<supervisor::ServiceConfig> services;
  for (const auto& spec : tables.objects) {
    if (spec.kind != catalog::Kind::kService || spec.start.empty()) continue;
    services.push_back(supervisor::ServiceConfig::from_spec(spec, options_.state_dir + "/logs"));
  }
  return services;
}

void Daemon::adopt_or_forget() {
  auto records = store_->processes();
  if (!records) {
    spdlog::error("event store: {}", records.error().message);
    return;
  }
  for (const auto& p : *records) {
    if (supervisor_->has(p.service) && supervisor_->adopt(p.service, p.pid, p.start_ticks)) {
      spdlog::info("adopted {} (pid {}), left running by a previous amatad", p.service, p.pid);
      continue;
    }
    if (!supervisor_->has(p.service) && base::process_start_time(p.pid) &&
        *base::process_start_time(p.pid) == p.start_ticks) {
      spdlog::warn("{} (pid {}) is still running but no longer in the policy: left alone",
                   p.service, p.pid);
    }
    (void)store_->forget_process(p.service);
  }
}

int Daemon::run() {
  (void)notifier_.ready();
  update_status();
  notifier_.start_watchdog(*loop_);
  spdlog::info("amatad ready: state {}, hooks {}", options_.state_dir, options_.hooks_dir);
  if (Status s = loop_->run(); !s) {
    spdlog::critical("event loop failed: {}", s.error().message);
    return 1;
  }
  return exit_code_;
}

void Daemon::on_signal(const signalfd_siginfo& info) {
  int sig = static_cast<int>(info.ssi_signo);
  if (sig == SIGHUP) {
    if (shutting_down_) return;
    spdlog::info("SIGHUP: reloading {}", runtime_->file);
    (void)reload_policy(std::nullopt);
    return;
  }
  if (shutting_down_) {
    spdlog::warn("second {}: leaving services running and exiting now", sigabbrev_np(sig));
    supervisor_->release_all();
    loop_->stop();
    return;
  }
  spdlog::info("SIG{}: shutting down", sigabbrev_np(sig));
  shutdown();
}

void Daemon::shutdown() {
  if (shutting_down_) return;
  shutting_down_ = true;
  (void)notifier_.stopping();
  runtime_->probes.reset();  // no more samples, no more rules
  if (options_.leave_running) {
    spdlog::info("leaving services running for the next amatad to adopt");
    supervisor_->release_all();
    loop_->stop();
    return;
  }
  std::weak_ptr<bool> alive = alive_;
  supervisor_->stop_all([this, alive](bool, const std::string&) {
    if (alive.expired()) return;
    spdlog::info("all services stopped");
    loop_->stop();
  });
}

LoadedPolicy Daemon::reload_policy(const std::optional<std::string>& file) {
  (void)notifier_.reloading();
  std::string path = file.value_or(runtime_->file);
  LoadedPolicy loaded = load_policy(path, options_.backend);
  store::EventRecord record{0, base::unix_now(), "", "Reload", {}, "{}", "raise"};
  if (!loaded.policy) {
    spdlog::error("reload of {} rejected, the running policy stays:\n{}", path, loaded.diagnostics);
    record.values = nlohmann::json({{"file", path}, {"ok", false}}).dump();
    record_event(record, "reload rejected");
    (void)notifier_.ready();
    update_status();
    return loaded;
  }
  auto runtime = make_runtime(loaded);
  if (!runtime) {
    spdlog::error("reload of {} failed, the running policy stays: {}", path,
                  runtime.error().message);
    loaded.policy.reset();
    loaded.errors++;
    loaded.diagnostics += runtime.error().message + "\n";
    (void)notifier_.ready();
    return loaded;
  }
  if (!loaded.diagnostics.empty()) spdlog::warn("{}", loaded.diagnostics);
  runtime_ = std::move(*runtime);  // the old probes go now; actions in flight keep their policy
  runtime_->file = path;
  const auto& tables = runtime_->policy->tables();
  supervisor_->configure(service_configs(tables));
  // Services kept across the reload are still running: their new probes learn their pids.
  for (const auto& st : supervisor_->statuses()) {
    int object = tables.find_object(st.name);
    if (object < 0 || st.state != supervisor::ServiceState::kRunning) continue;
    runtime_->metrics->set_supervised_alive(object, true);
    (void)runtime_->probes->child_started(object, st.pid);
    runtime_->metrics->set_number(object, "restarts", st.restarts);
  }
  reload_cluster();  // before start_all(): the cluster, not the reload, places its services
  supervisor_->start_all();
  runtime_->probes->start();
  spdlog::info("reloaded policy {} from {}: {} objects, {} rules", tables.name, path,
               tables.objects.size(), tables.rules.size());
  record.values = nlohmann::json({{"file", path}, {"ok", true}}).dump();
  record_event(record, "reloaded");
  (void)notifier_.ready();
  update_status();
  return loaded;
}

void Daemon::schedule_checkpoint() {
  std::weak_ptr<bool> alive = alive_;
  loop_->add_timer_after(std::chrono::seconds(10), [this, alive] {
    if (alive.expired()) return;
    if (Status s = store_->checkpoint(); !s) spdlog::warn("event store: {}", s.error().message);
    schedule_checkpoint();
  });
}

void Daemon::schedule_discover() {
  if (discover_pending_ || shutting_down_) return;
  discover_pending_ = true;
  // Next loop turn, not now: the probe or supervisor that reported the change finishes its
  // own work first, and several changes in one turn cost one pass.
  std::weak_ptr<bool> alive = alive_;
  loop_->add_timer_after(base::Clock::duration::zero(), [this, alive] {
    if (!alive.expired()) discover_now();
  });
}

void Daemon::discover_now() {
  discover_pending_ = false;
  if (shutting_down_ || !runtime_ || !runtime_->probes) return;
  double now = std::max(base::monotonic_now(), last_now_);
  last_now_ = now;
  edges_.clear();
  runtime_->policy->discover(now, runtime_->metrics->samples(), runtime_->state, edges_);
  auto edges = edges_;  // handling an edge may start actions that re-enter the engine
  for (const auto& edge : edges) handle_edge(edge, now);
}

void Daemon::handle_edge(const ir::Edge& edge, double) {
  const auto& tables = runtime_->policy->tables();
  if (edge.rule < 0 || static_cast<std::size_t>(edge.rule) >= tables.rules.size()) return;
  auto r = static_cast<std::size_t>(edge.rule);
  runtime_->last_edge_unix[r] = base::unix_now();
  runtime_->last_edge_raise[r] = edge.raise;
  if (edge.raise) {
    runtime_->rises[r]++;
    runtime_->raised_at[r] = base::monotonic_now();
  } else if (runtime_->raised_at[r] > 0) {
    recovery_durations_.push_back(base::monotonic_now() - runtime_->raised_at[r]);
    runtime_->raised_at[r] = 0;
  }
  raise_event(runtime_->policy->event_of(edge.rule), tables.rules[r].name, edge.raise, 0);
}

std::string Daemon::object_name(const ir::CompiledPolicy& policy, int object) const {
  const auto& objects = policy.tables().objects;
  if (object < 0 || static_cast<std::size_t>(object) >= objects.size()) return "";
  return objects[static_cast<std::size_t>(object)].name;
}

void Daemon::record_event(store::EventRecord& record, const std::string& message) {
  if (record.edge == "raise") events_total_[record.event]++;
  if (record.event == "Reload") {
    reloads_total_++;
    if (record.values.find("\"ok\":false") != std::string::npos) reload_failures_total_++;
  }
  auto id = store_->add_event(record);
  if (id) {
    record.id = *id;
  } else {
    spdlog::error("event store: {}", id.error().message);
  }
  nlohmann::json published = event_record_json(record);
  if (record.event == "Reload" || record.event == "GaveUp") {
    published["type"] = record.event == "Reload" ? "reload" : "raised";
    published["message"] = message;
  }
  if (console_) console_->publish_event(published);
  if (cluster_) {
    if (Status s = cluster_->publish(published); !s) {
      spdlog::debug("cluster publish: {}", s.error().message);
    }
  }
}

void Daemon::raise_event(const ir::EventInstance& instance, const std::string& rule, bool raise,
                         int depth) {
  auto policy = runtime_->policy;
  const auto& tables = policy->tables();
  if (instance.event < 0 || static_cast<std::size_t>(instance.event) >= tables.events.size()) {
    return;
  }
  const auto& info = tables.events[static_cast<std::size_t>(instance.event)];
  store::EventRecord record;
  record.time = base::unix_now();
  record.rule = rule;
  record.event = info.name;
  for (int a : instance.args) record.objects.push_back(object_name(*policy, a));
  record.values = runtime_->metrics->values_json(instance.args);
  record.edge = raise ? "raise" : "clear";
  std::string what = info.name + "(" + join(record.objects, ", ") + ")";
  record_event(record, "");
  if (!raise) {
    spdlog::info("{} cleared{}", what, rule.empty() ? "" : " (" + rule + ")");
    return;
  }
  spdlog::warn("{} raised{}: {}", what, rule.empty() ? "" : " by " + rule, record.values);

  actions::EventEnvironment env;
  env.event = info.name;
  env.rule = rule;
  env.objects = record.objects;
  env.edge = "raise";
  env.time = record.time;
  env.event_id = record.id;
  env.values = record.values;
  env.policy = tables.name;
  run_hooks(env);

  if (info.recovery < 0) return;
  for (int a : instance.args) {
    const std::string name = object_name(*policy, a);
    auto st = supervisor_->status(name);
    bool monitored = st ? st->monitored : runtime_->monitored[static_cast<std::size_t>(a)];
    if (!monitored) {
      spdlog::info("{}: {} is unmonitored, no recovery", what, name);
      store::ActionRecord skipped{0,         base::unix_now(),         record.id, "recover", name,
                                  "skipped", name + " is unmonitored", 0};
      (void)store_->add_action(skipped);
      return;
    }
  }
  CollectingSink sink;
  policy->recover(instance, base::monotonic_now(), runtime_->metrics->samples(), runtime_->state,
                  sink);
  if (sink.actions.empty()) return;
  auto chain = std::make_shared<ActionChain>();
  chain->policy = policy;
  chain->event_id = record.id;
  chain->env = env;
  chain->actions = std::move(sink.actions);
  chain->depth = depth;
  run_chain(chain);
}

void Daemon::run_hooks(const actions::EventEnvironment& env) {
  if (shutting_down_) return;
  std::string event = env.event;
  hooks_->run(env, [event](const std::string& hook, const actions::JobOutcome& outcome) {
    if (outcome.ok()) {
      spdlog::debug("hook {} for {}: {} in {:.0f} ms", hook, event, outcome.describe(),
                    outcome.duration_ms);
    } else {
      spdlog::warn("hook {} for {} failed: {}", hook, event, outcome.describe());
    }
  });
}

void Daemon::finish_action(const std::shared_ptr<ActionChain>& chain,
                           const ir::ActionRequest& action, base::Clock::time_point started,
                           double requested_unix, const std::string& outcome,
                           const std::string& detail) {
  double ms = std::chrono::duration<double, std::milli>(base::Clock::now() - started).count();
  store::ActionRecord record{0,
                             requested_unix,
                             chain->event_id,
                             std::string(ir::action_kind_name(action.kind)),
                             object_name(*chain->policy, action.object),
                             outcome,
                             detail,
                             ms};
  count_action(record.kind, outcome);
  publish_action(record);
  log_action(record, "");
  chain->next++;
  run_chain(chain);
}

void Daemon::run_chain(const std::shared_ptr<ActionChain>& chain) {
  if (chain->next >= chain->actions.size()) return;
  const ir::ActionRequest action = chain->actions[chain->next];
  auto started = base::Clock::now();
  double requested = base::unix_now();
  std::weak_ptr<bool> alive = alive_;
  auto finish = [this, alive, chain, action, started, requested](const std::string& outcome,
                                                                 const std::string& detail) {
    if (alive.expired()) return;
    finish_action(chain, action, started, requested, outcome, detail);
  };
  auto done = [finish](bool ok, const std::string& detail) {
    finish(ok ? "ok" : "failed", detail);
  };
  const std::string target = object_name(*chain->policy, action.object);
  const bool is_service = supervisor_->has(target);
  if (shutting_down_) return finish("skipped", "amatad is shutting down");
  switch (action.kind) {
    case ir::ActionKind::kRestart:
    case ir::ActionKind::kStart: {
      if (!is_service) return finish("failed", target + " is not a service amatad runs");
      if (action.kind == ir::ActionKind::kStart) return supervisor_->start(target, done);
      supervisor::RestartPolicy policy{action.backoff_initial, action.backoff_max, action.limit,
                                       action.limit_window};
      return supervisor_->restart(target, policy,
                                  [this, alive, target, done](bool ok, const std::string& d) {
                                    if (!alive.expired() && ok)
                                      (void)store_->add_restart(target, base::unix_now());
                                    done(ok, d);
                                  });
    }
    case ir::ActionKind::kStop:
      if (!is_service) return finish("failed", target + " is not a service amatad runs");
      supervisor_->unmonitor(target);  // stopped on purpose: its death is not a fault
      return supervisor_->stop(target, done);
    case ir::ActionKind::kSignal: {
      if (!is_service) return finish("failed", target + " is not a service amatad runs");
      Status s = supervisor_->signal(target, action.signal);
      return finish(s ? "ok" : "failed",
                    s ? fmt::format("signal {}", action.signal) : s.error().message);
    }
    case ir::ActionKind::kMonitor:
    case ir::ActionKind::kUnmonitor: {
      bool on = action.kind == ir::ActionKind::kMonitor;
      if (is_service) {
        on ? supervisor_->monitor(target) : supervisor_->unmonitor(target);
      } else if (chain->policy == runtime_->policy && action.object >= 0 &&
                 static_cast<std::size_t>(action.object) < runtime_->monitored.size()) {
        runtime_->monitored[static_cast<std::size_t>(action.object)] = on;
      }
      return finish("ok", on ? "monitored" : "unmonitored");
    }
    case ir::ActionKind::kRun: {
      actions::JobSpec job;
      job.argv = action.argv;
      actions::EventEnvironment env = chain->env;
      env.args = action.argv.size() > 1
                     ? std::vector<std::string>(action.argv.begin() + 1, action.argv.end())
                     : std::vector<std::string>{};
      job.env = env.variables();
      job.timeout = options_.run_timeout;
      job.log_path = options_.state_dir + "/logs/run.log";
      auto pid = jobs_->run(job, [finish](const actions::JobOutcome& o) {
        finish(o.ok() ? "ok" : (o.timed_out ? "timeout" : "failed"), o.describe());
      });
      if (!pid) return finish("failed", pid.error().message);
      return;
    }
    case ir::ActionKind::kNotify: {
      std::string channel = action.channel.empty() ? "console" : action.channel;
      spdlog::warn("notify {}: {}", channel, action.message);
      actions::EventEnvironment env = chain->env;
      env.message = action.message;
      if (!action.channel.empty()) {
        env.event = action.channel;  // the channel's hook: DIR/pager
        run_hooks(env);
      }
      return finish("ok", channel + ": " + action.message);
    }
    case ir::ActionKind::kWait: {
      loop_->add_timer_after(
          std::chrono::duration_cast<base::Clock::duration>(
              std::chrono::duration<double>(action.seconds)),
          [finish, s = action.seconds] { finish("ok", fmt::format("waited {}s", s)); });
      return;
    }
    case ir::ActionKind::kRaise: {
      if (chain->depth >= kMaxRaiseDepth) {
        return finish("failed", "raise nested deeper than " + std::to_string(kMaxRaiseDepth));
      }
      if (chain->policy != runtime_->policy) return finish("skipped", "policy reloaded");
      raise_event(action.raised, "raise in recovery of " + chain->env.event, true,
                  chain->depth + 1);
      return finish("ok", "raised");
    }
    case ir::ActionKind::kFailover: {
      if (!cluster_) return finish("skipped", "no cluster layer in this amatad");
      const std::string service = object_name(*chain->policy, action.failover_service);
      std::optional<std::string> to;
      if (action.object >= 0) {
        to = chain->policy->tables().objects[static_cast<std::size_t>(action.object)].peer_name;
      }
      Status s = cluster_->failover(service, to);
      return s ? finish("ok", "failover of " + service + " requested")
               : finish("failed", s.error().message);
    }
  }
  finish("failed", "unknown action");
}

void Daemon::on_service_started(const std::string& name, pid_t pid, std::uint64_t ticks,
                                const std::vector<std::string>& argv) {
  if (Status s = store_->record_process({name, pid, ticks, argv, base::unix_now()}); !s) {
    spdlog::error("event store: {}", s.error().message);
  }
  auto st = supervisor_->status(name);
  spdlog::info("{} running (pid {}{})", name, pid, st && st->adopted ? ", adopted" : "");
  if (runtime_ && runtime_->probes) {
    int object = runtime_->policy->tables().find_object(name);
    if (object >= 0) {
      const auto& spec = runtime_->policy->tables().objects[static_cast<std::size_t>(object)];
      runtime_->metrics->set_grace(object, base::monotonic_now() + spec.grace);
      runtime_->metrics->set_supervised_alive(object, true);
      if (st) runtime_->metrics->set_number(object, "restarts", st->restarts);
      if (Status s = runtime_->probes->child_started(object, pid); !s) {
        spdlog::warn("{}: probe: {}", name, s.error().message);
      }
      // The rules must see it up (and its down event fall) even if it dies at once.
      schedule_discover();
    }
  }
  update_status();
}

void Daemon::on_service_exited(const std::string& name, pid_t pid, const base::ExitStatus& status,
                               bool expected) {
  // A pass still pending has not yet seen the state before this death (a process that
  // exits at once after its start): run it first, or the rule would never see the service
  // up, never fall, and never rise again for this death.
  if (discover_pending_) discover_now();
  (void)store_->forget_process(name);
  if (expected) {
    spdlog::info("{} (pid {}) stopped: {}", name, pid, status.describe());
  } else {
    spdlog::warn("{} (pid {}) died: {}", name, pid, status.describe());
  }
  if (runtime_ && runtime_->probes) {
    int object = runtime_->policy->tables().find_object(name);
    if (object >= 0) {
      runtime_->metrics->set_supervised_alive(object, false);
      runtime_->probes->child_exited(object, status);
    }
  }
  update_status();
}

void Daemon::on_service_gave_up(const std::string& name, const std::string& reason) {
  spdlog::error("{}: {}; left stopped and unmonitored until `amatactl monitor {}`", name, reason,
                name);
  store::EventRecord record{0,        base::unix_now(), "",
                            "GaveUp", {name},           nlohmann::json({{"reason", reason}}).dump(),
                            "raise"};
  record_event(record, name + ": " + reason);
  if (cluster_) cluster_->gave_up(name);  // another node takes the service over
  actions::EventEnvironment env;
  env.event = "GaveUp";
  env.objects = {name};
  env.edge = "raise";
  env.time = record.time;
  env.event_id = record.id;
  env.values = record.values;
  env.message = reason;
  env.policy = runtime_ ? runtime_->policy->tables().name : "";
  run_hooks(env);
  update_status();
}

void Daemon::update_status() {
  int running = 0, total = 0;
  std::vector<std::string> down;
  for (const auto& st : supervisor_->statuses()) {
    ++total;
    if (st.state == supervisor::ServiceState::kRunning) {
      ++running;
    } else if (st.state == supervisor::ServiceState::kGaveUp) {
      down.push_back(st.name + " gave up");
    }
  }
  std::string text = fmt::format("{}/{} services running", running, total);
  if (!down.empty()) text += "; " + join(down, ", ");
  (void)notifier_.status(text);
}

void Daemon::start_console() {
  if (options_.socket_path.empty()) return;
  std::error_code ec;
  fs::create_directories(fs::path(options_.socket_path).parent_path(), ec);
  console::ConsoleConfig config;
  config.socket_path = options_.socket_path;
  auto server = console::ConsoleServer::start(*loop_, *this, config);
  if (!server) {
    // The daemon's job is recovery; without its console it still does that job.
    spdlog::error("console socket {}: {}", options_.socket_path, server.error().message);
    return;
  }
  console_ = std::move(*server);
  spdlog::info("console on {}", options_.socket_path);
}

void Daemon::count_action(const std::string& kind, const std::string& outcome) {
  actions_total_[{kind, outcome}]++;
}

void Daemon::start_metrics() {
  if (options_.metrics_listen.empty()) return;
  auto server = metrics::MetricsServer::start(options_.metrics_listen);
  if (!server) {
    spdlog::error("/metrics on {}: {}", options_.metrics_listen, server.error().message);
    return;
  }
  metrics_server_ = std::move(*server);
  spdlog::info("metrics on {}:{}", metrics_server_->host(), metrics_server_->port());
  publish_metrics();
}

void Daemon::publish_metrics() {
  if (!metrics_server_) return;
  metrics::MetricsSnapshot snap;
  snap.version = "0.1.0";
  const auto& tables = runtime_->policy->tables();
  snap.policy = tables.name;
  snap.started_unix_seconds = started_unix_;
  snap.reloads_total = reloads_total_;
  snap.reload_failures_total = reload_failures_total_;
  for (std::size_t i = 0; i < tables.objects.size(); ++i) {
    metrics::ObjectMetrics o;
    o.name = tables.objects[i].name;
    o.kind = std::string(catalog::kind_name(tables.objects[i].kind));
    if (auto st = supervisor_->status(o.name)) {
      o.state = std::string(supervisor::service_state_name(st->state));
      o.monitored = st->monitored;
      o.restarts = static_cast<std::uint64_t>(st->restarts);
    } else {
      o.monitored = runtime_->monitored[i];
      o.state = o.monitored ? "monitored" : "unmonitored";
    }
    if (runtime_->metrics) {
      for (const auto& [attr, v] : runtime_->metrics->numbers_of(static_cast<int>(i))) {
        if (!std::isnan(v)) o.attributes.emplace_back(attr, v);
      }
    }
    snap.objects.push_back(std::move(o));
  }
  for (std::size_t r = 0; r < tables.rules.size(); ++r) {
    snap.rules.push_back({tables.rules[r].name, runtime_->last_edge_raise[r] ? "firing" : "armed",
                          runtime_->rises[r]});
  }
  for (const auto& [name, n] : events_total_) snap.events_total.emplace_back(name, n);
  for (const auto& [key, n] : actions_total_)
    snap.actions_total.push_back({key.first, key.second, n});
  for (double d : recovery_durations_) recovery_histogram_.observe(d);
  recovery_durations_.clear();
  snap.recovery_seconds = recovery_histogram_;
  snap.console_clients = console_ ? console_->client_count() : 0;
  metrics_server_->publish(std::move(snap));
  // Scrapers see data at most a second old; rendering happens on the server's thread.
  std::weak_ptr<bool> alive = alive_;
  loop_->add_timer_after(std::chrono::seconds(1), [this, alive] {
    if (!alive.expired()) publish_metrics();
  });
}

// --- console::ConsoleBackend ----------------------------------------------------------------

console::Outcome Daemon::status() {
  const auto& tables = runtime_->policy->tables();
  nlohmann::json objects = nlohmann::json::array();
  for (std::size_t i = 0; i < tables.objects.size(); ++i) {
    const auto& spec = tables.objects[i];
    nlohmann::json o = {{"name", spec.name}, {"kind", std::string(catalog::kind_name(spec.kind))}};
    nlohmann::json attrs = nlohmann::json::object();
    if (runtime_->metrics) {
      for (const auto& [attr, v] : runtime_->metrics->numbers_of(static_cast<int>(i))) {
        attrs[attr] = number_or_null(v);
      }
      for (const auto& [attr, v] : runtime_->metrics->strings_of(static_cast<int>(i))) {
        attrs[attr] = v;
      }
    }
    if (auto st = supervisor_->status(spec.name)) {
      o["state"] = st->monitored || st->state == supervisor::ServiceState::kGaveUp
                       ? std::string(supervisor::service_state_name(st->state))
                       : "unmonitored";
      o["monitored"] = st->monitored;
      o["restarts"] = st->restarts;
      if (st->pid > 0) o["pid"] = st->pid;
      if (st->state == supervisor::ServiceState::kRunning) {
        o["since_unix_ms"] = to_unix_ms(base::unix_now() - st->uptime);
      }
    } else {
      bool monitored = runtime_->monitored[i];
      o["state"] = monitored ? "monitored" : "unmonitored";
      o["monitored"] = monitored;
    }
    o["attributes"] = attrs;
    objects.push_back(o);
  }
  nlohmann::json result = {{"policy", tables.name}, {"objects", objects}};
  if (cluster_ && tables.cluster) {
    ClusterStatusInput in{tables.cluster->name,
                          cluster_->group(),
                          cluster_->status(),
                          cluster_->peers(),
                          [this](cluster::NodeId id) { return cluster_->node_name(id); },
                          base::unix_now(),
                          base::Clock::now()};
    result["cluster"] = cluster_status_json(in);
  }
  return console::Outcome::success(result);
}

console::Outcome Daemon::rules() {
  const auto& tables = runtime_->policy->tables();
  const double now = std::max(base::monotonic_now(), last_now_);
  auto explained =
      ir::explain_rules(*runtime_->policy, now, runtime_->metrics->samples(), runtime_->state);
  if (!explained) return console::Outcome::failure("internal", explained.error().message);
  nlohmann::json rules = nlohmann::json::array();
  for (std::size_t r = 0; r < tables.rules.size(); ++r) {
    const auto& rule = tables.rules[r];
    const ir::TemporalExplanation& t = (*explained)[r].temporal;
    const bool firing = runtime_->last_edge_raise[r];
    nlohmann::json j = {
        {"name", rule.name}, {"rule", rule.source_rule}, {"state", rule_state(firing, t)}};
    if (!firing && t.pending) {
      if (t.kind == ir::Temporal::kForDuration) {
        j["pending_left_ms"] = std::llround(t.left_s * 1000);
      } else if (t.kind == ir::Temporal::kForChecks) {
        j["pending_checks_left"] = std::max(0, t.count - t.checks);
      }
    }
    if (!rule.args.empty()) j["object"] = object_name(*runtime_->policy, rule.args.front());
    if (runtime_->last_edge_unix[r] > 0) {
      j["last_edge"] = {{"edge", runtime_->last_edge_raise[r] ? "rise" : "fall"},
                        {"at_unix_ms", to_unix_ms(runtime_->last_edge_unix[r])}};
    } else {
      j["last_edge"] = nullptr;
    }
    rules.push_back(j);
  }
  return console::Outcome::success({{"rules", rules}});
}

console::Outcome Daemon::events(const console::EventFilter& filter) {
  int limit = static_cast<int>(std::min<std::size_t>(filter.limit, 100000));
  if (filter.cluster) {
    // The cluster history: already in delivery order, which is the order on every node.
    auto rows = store_->recent_cluster_entries(limit);
    if (!rows) return console::Outcome::failure("internal", rows.error().message);
    nlohmann::json out = nlohmann::json::array();
    for (const auto& row : *rows) {
      nlohmann::json r = cluster_record_of(row);
      if (filter.matches(r)) out.push_back(std::move(r));
    }
    return console::Outcome::success({{"events", out}});
  }
  auto events = store_->recent_events(limit);
  if (!events) return console::Outcome::failure("internal", events.error().message);
  std::vector<nlohmann::json> records;
  for (const auto& e : *events) records.push_back(event_record_json(e));
  auto actions = store_->recent_actions(limit);
  if (!actions) return console::Outcome::failure("internal", actions.error().message);
  for (const auto& a : *actions) records.push_back(action_record_json(a));
  std::stable_sort(records.begin(), records.end(), [](const auto& a, const auto& b) {
    return a["at_unix_ms"].template get<std::int64_t>() <
           b["at_unix_ms"].template get<std::int64_t>();
  });
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : records) {
    if (filter.matches(r)) out.push_back(r);
  }
  if (out.size() > filter.limit) {
    out.erase(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(out.size() - filter.limit));
  }
  return console::Outcome::success({{"events", out}});
}

console::Outcome Daemon::explain(std::string_view name) {
  const auto& tables = runtime_->policy->tables();
  for (std::size_t r = 0; r < tables.rules.size(); ++r) {
    const auto& rule = tables.rules[r];
    if (rule.name != name && rule.source_rule != name) continue;
    const bool firing = runtime_->last_edge_raise[r];
    auto e = ir::explain_rule(*runtime_->policy, static_cast<int>(r),
                              std::max(base::monotonic_now(), last_now_),
                              runtime_->metrics->samples(), runtime_->state);
    if (!e) return console::Outcome::failure("internal", e.error().message);
    nlohmann::json condition = explain_node_json(*e, 0, 0);
    condition["text"] = rule.text;  // the root as written, not as lowered
    const std::string note = temporal_note(e->temporal);
    if (!note.empty()) condition["note"] = note;
    std::string reason;
    if (firing) {
      reason = "firing: the condition held (" + (note.empty() ? "now" : note) +
               "), the event was raised and not yet cleared";
    } else if (e->temporal.pending) {
      reason = "pending: the condition holds but its qualifier is not met yet (" + note + ")";
    } else if (e->temporal.holds) {
      reason = "armed: the condition holds now; the next evaluation decides";
    } else {
      reason = std::isnan(e->nodes.front().value)
                   ? "armed: the condition is unknown (a value it reads is missing)"
                   : "armed: the condition does not hold";
    }
    return console::Outcome::success({{"rule", rule.name},
                                      {"state", rule_state(firing, e->temporal)},
                                      {"firing", firing},
                                      {"reason", reason},
                                      {"condition", condition},
                                      {"temporal", temporal_json(e->temporal)}});
  }
  return console::Outcome::failure("unknown_rule", "no rule named " + std::string(name));
}

console::Outcome Daemon::control(console::ControlVerb verb, std::string_view object_view) {
  std::string object(object_view);
  const auto& tables = runtime_->policy->tables();
  int id = tables.find_object(object);
  if (id < 0) return console::Outcome::failure("unknown_object", "no object named " + object);
  std::string verb_name(console::to_string(verb));
  bool is_service = supervisor_->has(object);
  if (!is_service && verb != console::ControlVerb::kMonitor &&
      verb != console::ControlVerb::kUnmonitor) {
    return console::Outcome::failure("not_applicable",
                                     verb_name + " applies to services amatad runs");
  }
  auto started = base::Clock::now();
  double requested = base::unix_now();
  std::weak_ptr<bool> alive = alive_;
  auto record = [this, alive, verb_name, object, started, requested](bool ok,
                                                                     const std::string& detail) {
    if (alive.expired()) return;
    double ms = std::chrono::duration<double, std::milli>(base::Clock::now() - started).count();
    store::ActionRecord a{
        0, requested, 0, verb_name, object, ok ? "ok" : "failed", "operator: " + detail, ms};
    publish_action(a);
    spdlog::info("operator {} {}: {}", verb_name, object, detail);
  };
  std::string message = verb_name + " scheduled";
  switch (verb) {
    case console::ControlVerb::kRestart:
      supervisor_->monitor(object);
      supervisor_->restart(object, supervisor::RestartPolicy{}, record);
      break;
    case console::ControlVerb::kStart:
      supervisor_->start(object, record);
      break;
    case console::ControlVerb::kStop:
      supervisor_->unmonitor(object);
      supervisor_->stop(object, record);
      break;
    case console::ControlVerb::kMonitor:
      if (is_service) {
        supervisor_->monitor(object);
      } else {
        runtime_->monitored[static_cast<std::size_t>(id)] = true;
      }
      record(true, "monitored");
      message = "monitored";
      break;
    case console::ControlVerb::kUnmonitor:
      if (is_service) {
        supervisor_->unmonitor(object);
      } else {
        runtime_->monitored[static_cast<std::size_t>(id)] = false;
      }
      record(true, "unmonitored");
      message = "unmonitored";
      break;
  }
  update_status();
  return console::Outcome::success(
      {{"object", object}, {"verb", verb_name}, {"accepted", true}, {"message", message}});
}

console::Outcome Daemon::reload(const std::optional<std::string>& file) {
  LoadedPolicy loaded = reload_policy(file);
  if (!loaded.policy) {
    return console::Outcome::failure(
        "policy_rejected", "the policy has errors; the running policy stays",
        {{"diagnostics", nlohmann::json::array({{{"severity", "error"},
                                                 {"file", loaded.file},
                                                 {"message", loaded.diagnostics},
                                                 {"rendered", loaded.diagnostics}}})}});
  }
  const auto& tables = loaded.policy->tables();
  return console::Outcome::success({{"policy", tables.name},
                                    {"file", loaded.file},
                                    {"objects", tables.objects.size()},
                                    {"rules", tables.rules.size()},
                                    {"warnings", nlohmann::json::array()}});
}

console::Outcome Daemon::version() {
  return console::Outcome::success({{"amatad", "0.1.0"},
                                    {"policy", runtime_->policy->tables().name},
                                    {"started_unix_ms", to_unix_ms(started_unix_)},
                                    {"backend", std::string(runtime_->policy->backend_name())}});
}

}  // namespace amata::daemon
