// The services amatad owns: each one a small state machine advanced by pidfd events, loop
// timers and the spawner's results (base/spawner.h) — never a blocking wait, not even for a
// child's exec. Start order follows dependencies; a restart stops the
// service and everything that depends on it, waits out its backoff, then starts them again
// in order. Restart limits (`N within D`) end in a give-up that is reported, never silent.
#pragma once

#include <sys/types.h>

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/event_loop.h"
#include "base/result.h"
#include "base/spawner.h"
#include "catalog/object_spec.h"
#include "engine/supervisor/child_process.h"

namespace amata::supervisor {

/// How one service is run; built from its ObjectSpec.
struct ServiceConfig {
  /// The service's object: its index in the running policy's object table, the identity
  /// every part of amatad uses for it (probes, rules, actions). Reset by every configure().
  int object = -1;
  std::string name;  // stable across reloads: a reload keeps the process of a kept name
  std::vector<std::string> argv;
  std::vector<std::pair<std::string, std::string>> env;  // added to amatad's environment
  std::string user, group, workdir;
  std::string log_path;  // stdout+stderr of the service
  int stop_signal = 15;
  double kill_after = 5.0;  // seconds from the stop signal to SIGKILL of the group
  std::vector<std::string> depends;
  double grace = 5.0;  // seconds after a start during which health failures do not count

  /// The config of the `service` object `object`; its log defaults to LOG_DIR/NAME.log.
  static ServiceConfig from_spec(int object, const catalog::ObjectSpec& spec,
                                 const std::string& log_dir);
  friend bool operator==(const ServiceConfig&, const ServiceConfig&) = default;
};

/// Backoff and limits of one restart request (from `restart s backoff A .. B` and limits).
struct RestartPolicy {
  double backoff_min = 0;  // seconds; 0: restart at once every time
  double backoff_max = 0;
  int limit = 0;      // at most this many restarts ...
  double window = 0;  // ... within this many seconds (0: ever); 0 limit: unlimited
};

enum class ServiceState : std::uint8_t {
  kStopped,   // not running (never started, stopped, or died)
  kStarting,  // asked of the spawner: its process is not exec'd yet, its pid not known
  kRunning,   // its process is alive
  kStopping,  // stop signal sent, waiting for the group to end
  kBackoff,   // waiting for the backoff delay before a restart
  kGaveUp,    // restart limit reached; unmonitored until `monitor`
};
std::string_view service_state_name(ServiceState s);

/// A snapshot of one service, for the metric store, the console and tests.
struct ServiceStatus {
  int object = -1;
  std::string name;
  ServiceState state = ServiceState::kStopped;
  pid_t pid = 0;
  bool monitored = true;
  bool adopted = false;
  bool in_grace = false;
  bool restarting = false;  // a restart is in flight: stopped to be started again
  int restarts = 0;
  double uptime = 0;  // seconds since the current process started (0 when not running)
  std::optional<base::ExitStatus> last_exit;

  /// Running, starting, or waiting out a backoff before it restarts: a copy the cluster
  /// counts as held here.
  bool held_running() const {
    return state == ServiceState::kRunning || state == ServiceState::kStarting ||
           state == ServiceState::kBackoff;
  }
};

/// What the supervisor tells the rest of amatad. A service is named by its object (-1 for
/// one a reload removed, still stopping) and by its name, for messages and the process table
/// of the event store. Any member may be empty.
struct SupervisorEvents {
  /// A start of the service was asked of the spawner: its process follows (`started`), or
  /// its failure. Health checks give a service its grace from here.
  std::function<void(int object, const std::string& name)> starting;
  /// A process of the service is running (started, restarted or adopted).
  std::function<void(int object, const std::string& name, pid_t pid, std::uint64_t start_ticks)>
      started;
  /// It ended; `expected` when amatad stopped it. `pid` is 0 when it never started.
  std::function<void(int object, const std::string& name, pid_t pid, const base::ExitStatus& status,
                     bool expected)>
      exited;
  /// A restart limit was reached: the service is left stopped and unmonitored.
  std::function<void(int object, const std::string& name, const std::string& reason)> gave_up;
};

class Supervisor {
 public:
  /// Completion of a requested action: ok, and a detail for the action log.
  using Done = std::function<void(bool ok, const std::string& detail)>;

  /// `owner` marks every service started here (left_running.h): the next amatad finds them
  /// by it. Empty: no mark.
  Supervisor(base::EventLoop& loop, SupervisorEvents events, std::string owner = "");
  ~Supervisor();
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  /// Sets the services (first load or reload). Kept services keep their process; removed
  /// ones are stopped and forgotten; a changed config applies from the next start.
  void configure(const std::vector<ServiceConfig>& services);
  /// Watches a process a previous amatad started, if it is still the same process (pid and
  /// start time match). Returns false when it is not (then the service is simply stopped).
  bool adopt(int object, pid_t pid, std::uint64_t start_ticks);
  /// Starts every monitored, stopped service in dependency order (dependencies first).
  void start_all();
  /// Stops every running service, dependants first; `done` when all have ended.
  void stop_all(Done done);
  /// Stops watching every process and leaves them running, for the next amatad to adopt.
  /// Spawns still in flight are finished first, so every one is reported started.
  void release_all();

  /// Starts a service (and what it depends on) that is not running. An explicit start also
  /// clears a give-up: its restart count within the window and its backoff begin again.
  /// `done` once its process runs (or could not be started).
  void start(int object, Done done);
  void stop(int object, Done done);
  /// Restarts `service` and, after it, everything that depends on it. A restart requested
  /// while one is in flight joins it (one failure is never restarted twice).
  void restart(int object, const RestartPolicy& policy, Done done);
  Status signal(int object, int sig);
  /// Watches a service again; like start, it clears a give-up.
  void monitor(int object);
  void unmonitor(int object);
  /// A clustered service the cluster places on another node (or on none) is held: nothing
  /// starts it here — no rule's action, no operator's start, restart or monitor, no
  /// dependant's start — until the cluster lifts the hold to start it itself. Its stop and
  /// signals still work. The one guard against a second copy started outside placement.
  void set_cluster_hold(int object, bool held);
  bool cluster_held(int object) const;

  std::optional<ServiceStatus> status(int object) const;
  std::vector<ServiceStatus> statuses() const;
  /// True when `object` is a service the supervisor runs.
  bool has(int object) const { return find(object) != nullptr; }
  /// Every service in dependency order (dependencies first).
  std::vector<std::string> start_order() const;
  std::size_t running_children() const { return children_.size(); }

 private:
  struct Service {
    ServiceConfig config;
    ServiceState state = ServiceState::kStopped;
    pid_t pid = 0;
    bool monitored = true;
    bool adopted = false;
    bool removed = false;       // dropped by a reload: forget once stopped
    bool cluster_held = false;  // placed elsewhere by the cluster: never started here
    bool gave_up = false;       // restart limit reached: kGaveUp once its process has ended
    int restarts = 0;
    int consecutive = 0;  // restarts since the service last ran stably
    std::deque<base::Clock::time_point> restart_times;
    base::Clock::time_point started_at{}, exited_at{};
    std::optional<base::ExitStatus> last_exit;
    base::EventLoop::TimerId kill_timer = 0;
    std::vector<Done> stop_waiters;
    bool restarting = false;
    std::vector<Done> restart_waiters;
    bool stop_when_started = false;   // a stop asked while kStarting
    std::vector<Done> start_waiters;  // told when the spawn in flight has its outcome
  };
  struct RestartOp;

  Service* find(const std::string& name);
  const Service* find(const std::string& name) const;
  Service* find(int object);
  const Service* find(int object) const;
  std::optional<ServiceStatus> status_of(const Service& s) const;
  /// Asks the spawner for the service's process (kStarting until it answers). Fails at once
  /// only for a service the cluster holds. `failure_is_exit`: a failed spawn is reported as
  /// an exit 127, so the policy sees the service down (boot); otherwise only the waiters
  /// hear of it.
  Status spawn(Service& service, bool failure_is_exit);
  void on_spawned(const std::string& name, Result<base::Spawned> child, bool failure_is_exit);
  static void clear_give_up(Service& service);
  void on_exit(const std::string& name, pid_t pid, const base::ExitStatus& status);
  void stop_one(Service& service, Done done);
  /// `root` and every service depending on it, transitively, in start order.
  std::vector<std::string> with_dependants(const std::string& root) const;
  void finish_restart(const std::shared_ptr<RestartOp>& op);

  base::EventLoop& loop_;
  SupervisorEvents events_;
  ChildSet children_;
  std::map<std::string, Service> services_;  // by name: what a reload keeps
  std::vector<std::string> by_object_;       // object -> name, for the current policy
  std::vector<std::string> base_env_;
  std::string owner_;  // the mark of every service started here (left_running.h)
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // guards timer callbacks
  base::Spawner spawner_;  // last: its thread ends (and delivers nothing) before the rest goes
};

}  // namespace amata::supervisor
