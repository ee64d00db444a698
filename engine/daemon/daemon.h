// amatad: the discovery -> recovery core of engine/ wired to this node's probes, supervisor,
// event store, console and cluster. The Daemon owns the parts and answers one question per
// file:
//
//   boot.cc      what happens on start: the state directory, the store, adoption, start order
//   daemon.cc    how it runs and stops: the loop, signals, shutdown, systemd's status line
//   reload.cc    what happens on reload: a new policy beside the old, swapped only when clean
//   events.cc    where an event goes: store, console, cluster bus, hooks, then recovery
//   services.cc  what amatad knows of its own services: the supervisor's facts as samples
//   commands.cc  the console's commands (the read-only answers come from console_view)
//   maintenance.cc  what a maintenance window pauses, and what happens when it ends
//   metrics.cc   what /metrics publishes
//
// The path of a sample: probes/ -> discovery::MetricStore -> discovery::RuleEngine (a pass on
// the next loop turn) -> Daemon::on_edge (events.cc) -> RuleEngine::recover ->
// actions::ActionDriver -> supervisor / jobs -> an action record (events.cc). Nothing blocks.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/event_loop.h"
#include "base/watchdog_device.h"
#include "compiler/ir/compiled_policy.h"
#include "compiler/lower/policy_loader.h"
#include "engine/actions/action_driver.h"
#include "engine/actions/job_runner.h"
#include "engine/actions/unit_control.h"
#include "engine/console/console_backend.h"
#include "engine/daemon/last_good.h"
#include "engine/daemon/log_rotator.h"
#include "engine/daemon/maintenance_windows.h"
#include "engine/daemon/systemd_notify.h"
#include "engine/discovery/attribute_history.h"
#include "engine/discovery/rule_engine.h"
#include "engine/metrics/metrics_snapshot.h"
#include "engine/notify/notifier.h"
#include "engine/store/event_store.h"
#include "engine/supervisor/supervisor.h"
#include "probes/oom_reports.h"
#include "probes/probe.h"

namespace amata::console {
class ConsoleServer;
}
namespace amata::metrics {
class MetricsServer;
}
namespace amata::cluster {
struct BusMessage;
}

namespace amata::daemon {

class ClusterGlue;
class RemoteNode;

/// Everything amatad is told on its command line.
struct DaemonOptions {
  std::string policy_path;
  std::string state_dir = "/var/lib/amata";
  std::string socket_path = "/run/amata/amatad.sock";  // empty: no console socket
  std::string hooks_dir = "/etc/amata/hooks";
  /// Members of this group may use every console command (besides root); empty: none.
  std::string console_group;
  /// Everyone else may use the read-only commands (status, rules, events, explain, version).
  bool console_read_only = false;
  std::string metrics_listen;  // HOST:PORT for /metrics (empty: off)
  /// Serve the read-only web view (docs/web.md) beside /metrics; it reads the console socket.
  bool web = false;
  /// Operators who may log in to the web view and restart, start and stop (--web-token;
  /// empty: the view is read-only).
  std::string web_token_file;
  lower::Backend backend = lower::Backend::kInterp;
  double hook_timeout = 30;  // seconds before a hook is killed
  double run_timeout = 60;   // seconds before a `run` action is killed
  /// On SIGTERM/SIGINT leave the services running for the next amatad to adopt, instead of
  /// stopping them (the default: a normal shutdown stops what amatad started).
  bool leave_running = false;
  store::Retention retention;
  /// Output logs (STATE/logs/*.log, a service's own `log`) larger than this are rotated,
  /// `log_keep` generations kept; 0: never.
  std::uint64_t log_max_bytes = std::uint64_t{10} << 20;
  int log_keep = 3;
  probes::ProbeOptions probe_options;
};

class Daemon final : public console::ConsoleBackend, private actions::ActionHost {
 public:
  /// Prepares everything short of running: state dir, store, loop, signals, probes; adopts
  /// the services a previous amatad left running and starts the others in dependency order.
  static Result<std::unique_ptr<Daemon>> create(DaemonOptions options, lower::LoadedPolicy policy,
                                                SystemdNotifier notifier);
  ~Daemon() override;
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  /// Runs the loop until SIGTERM/SIGINT/SIGUSR2 (or shutdown()) has been handled; the exit
  /// code. SIGUSR2 hands over: exit leaving the services running, as leave_running does; so
  /// does the SIGTERM of a `systemctl restart amatad`.
  int run();
  /// Begins a clean stop: services stopped (unless leave_running), then the loop ends.
  void shutdown();
  /// Called once a reload has ended: the loaded policy (null when it was rejected) and its
  /// diagnostics.
  using ReloadDone = std::function<void(const lower::LoadedPolicy& loaded)>;
  /// Compiles `file` (default: the current policy's file) on a worker thread, off the loop,
  /// and swaps it in on the loop; on any error the running policy stays. False (and `done`
  /// is not called) while another reload is still compiling.
  bool reload_policy(const std::optional<std::string>& file, ReloadDone done);

  base::EventLoop& loop() { return *loop_; }
  supervisor::Supervisor& supervisor() { return *supervisor_; }
  store::EventStore& store() { return *store_; }
  const ir::CompiledPolicy& policy() const { return runtime_->rules->policy(); }

  // console::ConsoleBackend (commands.cc)
  console::Outcome status() override;
  console::Outcome rules() override;
  console::Outcome events(const console::EventFilter& filter) override;
  console::Outcome explain(std::string_view rule) override;
  console::Outcome control(console::ControlVerb verb, std::string_view object,
                           const console::Caller& caller) override;
  void control_and_wait(console::ControlVerb verb, std::string_view object,
                        const console::Caller& caller, console::Reply reply) override;
  void reload(const std::optional<std::string>& file, const console::Caller& caller,
              console::Reply reply) override;
  console::Outcome version() override;
  console::Outcome request_failover(std::string_view service, const std::optional<std::string>& to,
                                    const console::Caller& caller) override;
  // console::ConsoleBackend (history.cc)
  console::Outcome history(const console::HistoryRequest& request) override;
  // console::ConsoleBackend (maintenance.cc)
  console::Outcome maintenance() override;
  console::Outcome start_maintenance(const console::MaintenanceRequest& request,
                                     const console::Caller& caller) override;
  console::Outcome end_maintenance(const std::optional<std::string>& object,
                                   const console::Caller& caller) override;

 private:
  /// One compiled policy at work: its rules (with the samples they read) and its probes.
  struct Runtime {
    std::string file;
    std::unique_ptr<discovery::RuleEngine> rules;
    std::unique_ptr<probes::ProbeSet> probes;  // write into rules->metrics(): destroyed first
    ~Runtime() { probes.reset(); }
  };

  Daemon(DaemonOptions options, SystemdNotifier notifier);

  // boot.cc
  Status init(lower::LoadedPolicy policy);
  Result<std::unique_ptr<Runtime>> make_runtime(const lower::LoadedPolicy& loaded);
  /// Keeps `loaded` as the last policy that loaded (last_good.h), off the loop.
  void keep_policy(const lower::LoadedPolicy& loaded);
  /// The policy's services to the supervisor, and their logs to the rotator.
  void configure_services(const ir::PolicyTables& tables);
  /// Adopts the services a previous amatad left running (by record, then by mark).
  void adopt_or_forget();
  /// The mark of this amatad's services: its state directory (left_running.h).
  std::string owner() const;
  void start_console();

  // daemon.cc
  void on_signal(const signalfd_siginfo& info);
  /// True when systemd is stopping amatad for a restart (a "restart" job on its unit), so the
  /// services are handed over, not stopped. Asks the system bus; false when it cannot tell.
  bool restart_requested() const;
  /// The status line systemd shows ("9/10 services running"), written once per turn of the
  /// loop however many services started or died in it: a storm of restarts asks for it
  /// twice per restart, and each answer walks every service.
  void update_status();
  void write_status();
  std::string object_name(int object) const;

  // commands.cc
  struct ControlWait;
  struct SettleWatch;
  /// Stores who asked for `verb` on `object` (a Control event, with `details`' fields);
  /// returns its id.
  std::int64_t record_control(const std::string& verb, const std::string& object,
                              const console::Caller& caller,
                              const nlohmann::json& details = nlohmann::json::object());
  /// control(): checks, starts the action, answers "accepted"; with `wait`, its reply gets
  /// the outcome once the action has ended.
  console::Outcome begin_control(console::ControlVerb verb, std::string_view object,
                                 const console::Caller& caller,
                                 const std::shared_ptr<ControlWait>& wait);
  /// Answers a waited command with its outcome (once; later calls do nothing).
  void finish_wait(ControlWait& wait, bool ok, const std::string& detail);
  /// A waited start or restart spawned `object`: ok once its process has run
  /// kControlSettleMs, failed if it ends before (settle_exited).
  void watch_settle(int object, const std::shared_ptr<ControlWait>& wait);
  /// A service process ended: the waited starts that watched it failed.
  void settle_exited(pid_t pid, const base::ExitStatus& status);

  // reload.cc
  struct Reload;
  /// The worker has compiled the policy: runtime, swap, record (on the loop).
  void finish_reload();
  /// Stores and counts one reload: ok when error is empty, else rejected with that error.
  void record_reload(const std::string& file, const std::string& error);
  void swap_in(lower::LoadedPolicy& loaded);
  /// After a compile: gives back the resident pages of the compiler's code (LLVM, in
  /// amatad's executable when linked statically, else libLLVM), unused until the next reload.
  static void release_compiler_pages();
  /// At exit: a reload still compiling is waited for and dropped.
  void drop_reload();
  /// Joins the cluster the policy declares (its clustered services held back).
  Status attach_cluster(const catalog::ClusterSpec& spec);
  /// After a reload: the cluster layer follows the new policy's cluster declaration — new
  /// settings for the same group, another group, joined or left.
  void reload_cluster();

  // events.cc
  /// A rule rose or fell (the rule engine's edge handler).
  void on_edge(const ir::EventInstance& event, const std::string& rule, bool raise);
  /// Stores and announces an event, runs its hooks and (on a raise) its recovery.
  void raise_event(const ir::EventInstance& event, const std::string& rule, bool raise, int depth);
  /// The recovery body of a raised event, unless an object it names (or the node) is
  /// unmonitored or in maintenance; then it is recorded as skipped.
  void recover(const ir::EventInstance& event, const actions::EventEnvironment& env, int depth);
  void record_event(store::EventRecord& record);
  /// Stores an action, streams it to console followers and publishes it on the bus.
  void publish_action(store::ActionRecord& record);
  /// An action amatad took ended: counted for /metrics, published, logged ("restart web: ok,
  /// pid 42 (3.1 ms)" at info when it went well, else as a warning).
  void record_action(store::ActionRecord record, std::string_view log_prefix);
  /// Stores an entry of the cluster history and streams it to console followers.
  void record_cluster_entry(const cluster::BusMessage& entry);
  void run_hooks(const actions::EventEnvironment& env);
  /// The event store stopped (or resumed) writing: say so, raise (or clear) StoreDegraded.
  /// (The store's writer tries again every second meanwhile.)
  void on_store_degraded(bool degraded);

  // maintenance.cc
  /// At start: the windows the store kept; those that ended while amatad was down end now.
  void load_maintenance();
  /// The window that pauses recovery and hooks for any of `objects` now (none given: the
  /// node's), or null.
  const store::MaintenanceRecord* paused_by(const std::vector<int>& objects) const;
  /// Records one skipped action for each action of a recovery that `window` suppressed.
  void suppress_recovery(const std::vector<ir::ActionRequest>& actions, std::int64_t event_id,
                         const store::MaintenanceRecord& window, const std::string& what);
  /// Stores and streams a window's start (`open`) or end (how it ended): a Maintenance
  /// event. Its id.
  std::int64_t record_window(const store::MaintenanceRecord& window, bool open,
                             const std::string& how);
  /// A window is over: forgotten by the store, recorded, and (`recover_now`) the recovery of
  /// every rule still firing on what it covered runs.
  void close_window(const store::MaintenanceRecord& window, const std::string& how,
                    bool recover_now);
  void recover_still_firing(const store::MaintenanceRecord& ended, std::int64_t event_id);
  /// One timer, at the earliest end of a window.
  void arm_maintenance_timer();

  // services.cc: the supervisor's events
  /// Service `object` runs as `pid`: its samples (alive, pid, restarts) and its probe follow.
  void write_running(int object, pid_t pid);
  void on_service_started(int object, const std::string& name, pid_t pid, std::uint64_t ticks);
  void on_service_exited(int object, const std::string& name, pid_t pid,
                         const base::ExitStatus& status, bool expected);
  void on_service_gave_up(int object, const std::string& name, const std::string& reason);
  /// oom_killed and oom_kills of a service that ended with `status`.
  void write_oom_verdict(int object, const std::string& name, pid_t pid,
                         const base::ExitStatus& status);

  // actions::ActionHost (events.cc)
  std::shared_ptr<const ir::CompiledPolicy> current_policy() const override;
  bool shutting_down() const override { return shutting_down_; }
  void set_monitored(int object, bool monitored) override;
  void raise(const ir::EventInstance& event, const std::string& why, int depth) override;
  bool clustered() const override { return cluster_ != nullptr; }
  Status failover(const std::string& service, const std::optional<std::string>& peer) override;
  void notify(const std::string& channel, const std::string& message,
              const actions::EventEnvironment& event,
              std::function<void(bool ok, const std::string& detail)> done) override;
  /// A hook channel's delivery: its script DIR/CHANNEL, ok when it exits 0.
  void notify_hook(const std::string& channel, const actions::EventEnvironment& event,
                   const std::function<void(bool ok, const std::string& detail)>& done);
  /// The worker that delivers webhooks, alerts and mail; started by the first of them.
  notify::Notifier* channels();
  /// What a channel is told about `event` (the message aside).
  notify::Notification notification(const std::string& channel,
                                    const actions::EventEnvironment& event) const;
  void finished(store::ActionRecord record) override;
  void restarted(int object) override;
  void unit_job(const std::string& unit, ir::ActionKind verb,
                std::function<void(bool ok, const std::string& detail)> done) override;

  // history.cc
  /// Puts every object's latest numeric attributes into the hour of history, then again at
  /// the next 10 s step (one timer; it walks the latest values, never the samples).
  void record_history();

  // watchdog.cc
  /// Opens the policy's watchdog (at start only) and feeds it every quarter of its timeout.
  Status open_watchdog(const catalog::ClusterSpec& spec);
  void feed_watchdog();
  /// A reload must keep the watchdog settings amatad started with.
  Status check_watchdog_unchanged(const ir::PolicyTables& tables) const;

  // metrics.cc
  void start_metrics();
  void publish_metrics();
  void count_action(const std::string& kind, const std::string& outcome);

  DaemonOptions options_;
  SystemdNotifier notifier_;
  std::unique_ptr<base::EventLoop> loop_;
  std::unique_ptr<store::EventStore> store_;
  std::unique_ptr<actions::JobRunner> jobs_;
  std::unique_ptr<actions::HookRunner> hooks_;
  std::unique_ptr<notify::Notifier> channels_;  // started by the first webhook, alert or mail
  std::unique_ptr<supervisor::Supervisor> supervisor_;
  std::unique_ptr<actions::ActionDriver> actions_;
  std::unique_ptr<actions::UnitControl> unit_control_;  // opened by the first unit action
  std::unique_ptr<ClusterGlue> cluster_;     // when the policy declares a cluster this node joins
  std::unique_ptr<RemoteNode> remote_node_;  // when it declares one this node attaches to
  std::unique_ptr<Runtime> runtime_;
  std::shared_ptr<Reload> reload_;  // the reload compiling now, if any
  bool reload_again_ = false;       // a SIGHUP came while it compiled
  std::unique_ptr<LogRotator> log_rotator_;
  std::unique_ptr<PolicyKeeper> policy_keeper_;
  std::unique_ptr<console::ConsoleServer> console_;
  std::unique_ptr<metrics::MetricsServer> metrics_server_;
  // The kernel's OOM reports, to tell an OOM kill of a service from any other SIGKILL; empty
  // when the kernel log cannot be read (then oom_killed stays 0).
  std::optional<probes::OomReports> oom_reports_;
  std::map<std::string, std::uint64_t> oom_kills_;    // per service, since amatad started
  std::map<std::string, std::uint64_t> oom_started_;  // per service: the log's mark at its start
  // /metrics counters since amatad started.
  std::map<std::string, std::uint64_t> events_total_;
  std::map<std::pair<std::string, std::string>, std::uint64_t> actions_total_;
  std::uint64_t reloads_total_ = 0, reload_failures_total_ = 0;
  metrics::DurationHistogram recovery_histogram_ = metrics::DurationHistogram::recovery_default();
  std::vector<std::shared_ptr<SettleWatch>> settling_;  // waited starts not yet settled
  discovery::AttributeHistory history_;                 // the last hour of every numeric attribute
  MaintenanceWindows maintenance_;
  base::EventLoop::TimerId maintenance_timer_ = 0;
  bool shutting_down_ = false;
  int exit_code_ = 0;
  double started_unix_ = 0;
  std::string node_name_;  // the host name: what notifications say this node is
  // watchdog.cc: the cluster's self-fencing device, opened at start when the policy asks.
  std::optional<base::WatchdogDevice> watchdog_;
  std::optional<std::pair<std::string, int>> watchdog_settings_;  // path, timeout: fixed at start
  std::string watchdog_held_;  // why it is not fed now, as last logged ("": it is fed)
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  bool status_pending_ = false;
};

}  // namespace amata::daemon
