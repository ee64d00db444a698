// amatad's engine: the discovery -> recovery loop on one EventLoop.
//
//   probes -> MetricStore -> discover() -> edges -> events (EventStore, hooks, console)
//          -> recover() -> action requests -> Supervisor / JobRunner -> outcomes (EventStore)
//
// Discovery runs after every completed probe sample and at once (next loop turn) when an
// event-driven attribute changes, e.g. a supervised child died. Actions are small state
// machines on the loop; nothing here blocks. A reload (SIGHUP or the console) compiles the
// new policy beside the running one and swaps only when it compiled cleanly.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/event_loop.h"
#include "compiler/ir/compiled_policy.h"
#include "engine/actions/job_runner.h"
#include "engine/console/console_backend.h"
#include "engine/daemon/metric_store.h"
#include "engine/daemon/policy_loader.h"
#include "engine/daemon/systemd_notify.h"
#include "engine/metrics/metrics_snapshot.h"
#include "engine/store/event_store.h"
#include "engine/supervisor/supervisor.h"
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

/// Everything amatad is told on its command line.
struct DaemonOptions {
  std::string policy_path;
  std::string state_dir = "/var/lib/amata";
  std::string socket_path = "/run/amata/amatad.sock";  // empty: no console socket
  std::string hooks_dir = "/etc/amata/hooks";
  std::string metrics_listen;  // HOST:PORT for /metrics (empty: off)
  lower::Backend backend = lower::Backend::kInterp;
  double hook_timeout = 30;  // seconds before a hook is killed
  double run_timeout = 60;   // seconds before a `run` action is killed
  /// On SIGTERM/SIGINT leave the services running for the next amatad to adopt, instead of
  /// stopping them (the default: a normal shutdown stops what amatad started).
  bool leave_running = false;
  store::Retention retention;
  probes::ProbeOptions probe_options;
};

class Daemon : public console::ConsoleBackend {
 public:
  /// Prepares everything short of running: state dir, store, loop, signals, probes; adopts
  /// the services a previous amatad left running and starts the others in dependency order.
  static Result<std::unique_ptr<Daemon>> create(DaemonOptions options, LoadedPolicy policy,
                                                SystemdNotifier notifier);
  ~Daemon() override;
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  /// Runs the loop until SIGTERM/SIGINT (or shutdown()) has been handled; the exit code.
  int run();
  /// Begins a clean stop: services stopped (unless leave_running), then the loop ends.
  void shutdown();
  /// Compiles `file` (default: the current policy's file) and swaps it in; on any error the
  /// running policy stays and the diagnostics are returned.
  LoadedPolicy reload_policy(const std::optional<std::string>& file = std::nullopt);

  base::EventLoop& loop() { return *loop_; }
  supervisor::Supervisor& supervisor() { return *supervisor_; }
  store::EventStore& store() { return *store_; }
  const ir::CompiledPolicy& policy() const { return *runtime_->policy; }

  // console::ConsoleBackend
  console::Outcome status() override;
  console::Outcome rules() override;
  console::Outcome events(const console::EventFilter& filter) override;
  console::Outcome explain(std::string_view rule) override;
  console::Outcome control(console::ControlVerb verb, std::string_view object) override;
  console::Outcome reload(const std::optional<std::string>& file) override;
  console::Outcome version() override;

 private:
  /// One compiled policy with everything that depends on its layout.
  struct Runtime {
    std::shared_ptr<const ir::CompiledPolicy> policy;
    std::string file;
    ir::PolicyState state;
    std::unique_ptr<MetricStore> metrics;
    std::unique_ptr<probes::ProbeSet> probes;
    std::vector<bool> monitored;         // per object (services: the supervisor decides)
    std::vector<double> last_edge_unix;  // per rule, 0: never
    std::vector<bool> last_edge_raise;
    std::vector<std::uint64_t> rises;  // per rule, for /metrics
    std::vector<double> raised_at;     // per rule: monotonic time of the open raise, or 0
  };
  struct ActionChain;

  Daemon(DaemonOptions options, SystemdNotifier notifier);
  Status init(LoadedPolicy policy);
  Result<std::unique_ptr<Runtime>> make_runtime(const LoadedPolicy& loaded);
  std::vector<supervisor::ServiceConfig> service_configs(const ir::PolicyTables& tables) const;
  void adopt_or_forget();
  /// Joins the cluster the policy declares (its clustered services held back).
  Status attach_cluster(const catalog::ClusterSpec& spec);
  /// After a reload: the cluster layer follows the new policy's cluster declaration — new
  /// settings for the same group, another group, joined or left.
  void reload_cluster();
  /// Stores an entry of the cluster history and streams it to console followers.
  void record_cluster_entry(const cluster::BusMessage& entry);
  /// Stores an action, streams it to console followers and publishes it on the bus.
  void publish_action(store::ActionRecord& record);
  void on_signal(const signalfd_siginfo& info);

  void schedule_discover();
  void schedule_checkpoint();
  void discover_now();
  void handle_edge(const ir::Edge& edge, double now);
  /// Stores and announces an event, runs its hooks and (on a raise) its recovery.
  void raise_event(const ir::EventInstance& instance, const std::string& rule, bool raise,
                   int depth);
  void record_event(store::EventRecord& record, const std::string& message);
  void run_chain(const std::shared_ptr<ActionChain>& chain);
  void finish_action(const std::shared_ptr<ActionChain>& chain, const ir::ActionRequest& action,
                     base::Clock::time_point started, double requested_unix,
                     const std::string& outcome, const std::string& detail);
  void run_hooks(const actions::EventEnvironment& env);

  // supervisor events
  void on_service_started(const std::string& name, pid_t pid, std::uint64_t ticks,
                          const std::vector<std::string>& argv);
  void on_service_exited(const std::string& name, pid_t pid, const base::ExitStatus& status,
                         bool expected);
  void on_service_gave_up(const std::string& name, const std::string& reason);

  void update_status();
  void start_console();
  void start_metrics();
  void publish_metrics();
  void count_action(const std::string& kind, const std::string& outcome);
  std::string object_name(const ir::CompiledPolicy& policy, int object) const;

  DaemonOptions options_;
  SystemdNotifier notifier_;
  std::unique_ptr<base::EventLoop> loop_;
  std::unique_ptr<store::EventStore> store_;
  std::unique_ptr<actions::JobRunner> jobs_;
  std::unique_ptr<actions::HookRunner> hooks_;
  std::unique_ptr<supervisor::Supervisor> supervisor_;
  std::unique_ptr<ClusterGlue> cluster_;  // only when the policy declares a cluster
  std::unique_ptr<Runtime> runtime_;
  std::unique_ptr<console::ConsoleServer> console_;
  std::unique_ptr<metrics::MetricsServer> metrics_server_;
  // /metrics counters since amatad started.
  std::map<std::string, std::uint64_t> events_total_;
  std::map<std::pair<std::string, std::string>, std::uint64_t> actions_total_;
  std::uint64_t reloads_total_ = 0, reload_failures_total_ = 0;
  std::vector<double> recovery_durations_;  // raise -> clear, seconds, not yet published
  metrics::DurationHistogram recovery_histogram_ = metrics::DurationHistogram::recovery_default();
  std::vector<ir::Edge> edges_;
  bool discover_pending_ = false;
  double last_now_ = 0;
  bool shutting_down_ = false;
  int exit_code_ = 0;
  double started_unix_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace amata::daemon
