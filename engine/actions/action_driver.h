// The recovery layer's action driver: carries out the actions of one recovery body, one after
// another, each a small state machine on the loop (a restart waits for the stop, the backoff
// and the spawn; `run` waits for its job; `wait` for a timer). Nothing blocks. Every action
// ends in a record — ok, failed, skipped or timeout, with a detail and its duration — that
// the host stores and publishes.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/event_loop.h"
#include "base/result.h"
#include "compiler/ir/compiled_policy.h"
#include "engine/actions/job_runner.h"
#include "engine/store/event_store.h"
#include "engine/supervisor/supervisor.h"

namespace amata::actions {

/// One recovery body at work.
struct ActionChain {
  std::shared_ptr<const ir::CompiledPolicy> policy;  // the actions' object ids refer to it
  std::int64_t event_id = 0;                         // the event it recovers
  EventEnvironment env;  // that event, for `run`, `notify` and the hooks
  std::vector<ir::ActionRequest> actions;
  int depth = 0;  // how deep in `raise` escalations this chain is
};

/// What actions reach besides the supervisor and the job runner: amatad implements it.
class ActionHost {
 public:
  virtual ~ActionHost() = default;
  /// The policy running now (a chain started before a reload refers to an older one).
  virtual std::shared_ptr<const ir::CompiledPolicy> current_policy() const = 0;
  virtual bool shutting_down() const = 0;
  /// `monitor` / `unmonitor` of an object the supervisor does not run.
  virtual void set_monitored(int object, bool monitored) = 0;
  /// `raise` in a recovery body: raises `event` (and runs its recovery) at `depth`.
  virtual void raise(const ir::EventInstance& event, const std::string& why, int depth) = 0;
  /// Whether this amatad is a cluster member (`failover` is skipped otherwise).
  virtual bool clustered() const = 0;
  /// `failover`: hands `service` to the cluster layer (to `peer` when named).
  virtual Status failover(const std::string& service, const std::optional<std::string>& peer) = 0;
  /// `notify`: delivers `message` about `event` through `channel` ("console", or a channel
  /// the policy declares) and calls `done` once the delivery ended (at once for the console;
  /// after a hook's exit, a webhook's answer or the retries spent). The recovery does not
  /// wait for it: `done` only writes the action's record.
  virtual void notify(const std::string& channel, const std::string& message,
                      const EventEnvironment& event,
                      std::function<void(bool ok, const std::string& detail)> done) = 0;
  /// `start`, `stop`, `restart` or `reload` of systemd unit `unit`: asks systemd's manager
  /// and calls `done` once systemd's job has ended (ok: the job's result was "done").
  virtual void unit_job(const std::string& unit, ir::ActionKind verb,
                        std::function<void(bool ok, const std::string& detail)> done) = 0;
  /// An action ended: store it, publish it, log it.
  virtual void finished(store::ActionRecord record) = 0;
  /// A `restart` of `object` succeeded (the event store counts restarts).
  virtual void restarted(int object) = 0;
};

class ActionDriver {
 public:
  /// `raise` inside recovery bodies is escalation, not a loop: deeper chains fail.
  static constexpr int kMaxRaiseDepth = 8;

  struct Options {
    double run_timeout = 60;  // seconds before a `run` job is killed
    std::string run_log;      // stdout+stderr of `run` jobs
  };

  ActionDriver(base::EventLoop& loop, supervisor::Supervisor& supervisor, JobRunner& jobs,
               ActionHost& host, Options options);
  ~ActionDriver();
  ActionDriver(const ActionDriver&) = delete;
  ActionDriver& operator=(const ActionDriver&) = delete;

  /// Starts the chain's first action; the rest follow as each one ends.
  void run(ActionChain chain);

 private:
  void step(const std::shared_ptr<ActionChain>& chain, std::size_t next);
  /// `object` of the chain's policy as an object of the running policy (-1: gone).
  int current_object(const ActionChain& chain, int object) const;

  base::EventLoop& loop_;
  supervisor::Supervisor& supervisor_;
  JobRunner& jobs_;
  ActionHost& host_;
  Options options_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // guards pending callbacks
};

}  // namespace amata::actions
