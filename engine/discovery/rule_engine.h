// The discovery core: one compiled policy at work. It owns what the rules read (the metric
// store, which probes and the supervisor write), the rules' own state, and the passes that
// turn samples into events:
//
//   probes / supervisor --set_number--> MetricStore --changed/sampled--> schedule()
//     --next loop turn--> pass(): discover(now) -> edges -> on_edge(event, rule, raise)
//
// A pass runs on the next loop turn after a sample or an event-driven change, never inside
// the writer's own callback, and several changes in one turn cost one pass. On a raise the
// owner asks recover() for the recovery body's actions and hands them to the action driver.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/event_loop.h"
#include "base/result.h"
#include "compiler/ir/compiled_policy.h"
#include "compiler/ir/explain.h"
#include "engine/discovery/metric_store.h"

namespace amata::discovery {

/// What the console and /metrics read of one rule.
struct RuleStatus {
  bool firing = false;        // its event is raised and not yet cleared
  double last_edge_unix = 0;  // wall-clock time of its last edge, 0: never
  std::uint64_t rises = 0;    // since the policy was loaded
};

class RuleEngine {
 public:
  /// A rule rose (`raise`) or fell: its event instance and the rule's name.
  using EdgeHandler =
      std::function<void(const ir::EventInstance& event, const std::string& rule, bool raise)>;
  /// A line the operator should see, about one object (a probe that falls back to polling).
  using NoticeHandler = std::function<void(int object, std::string_view message)>;

  RuleEngine(base::EventLoop& loop, std::shared_ptr<const ir::CompiledPolicy> policy,
             EdgeHandler on_edge, NoticeHandler on_notice);
  ~RuleEngine();
  RuleEngine(const RuleEngine&) = delete;
  RuleEngine& operator=(const RuleEngine&) = delete;

  /// Where the samples go: probes write here, and so does the supervisor for its services.
  MetricStore& metrics() { return *metrics_; }
  const MetricStore& metrics() const { return *metrics_; }
  const ir::CompiledPolicy& policy() const { return *policy_; }
  const std::shared_ptr<const ir::CompiledPolicy>& shared_policy() const { return policy_; }

  /// A pass on the next loop turn (one for however many requests come before it).
  void schedule();
  /// Runs the pass that is pending, if any, now: before a change that must not hide the
  /// state it follows (a service that dies at once after its start must still be seen up).
  void run_pending();
  /// No more passes (shutdown).
  void stop() { stopped_ = true; }

  /// The recovery body of `event` against the current samples: the actions it asks for.
  std::vector<ir::ActionRequest> recover(const ir::EventInstance& event) const;

  /// Whether recovery may act on `object`. Services: the supervisor decides; this is the
  /// flag of the other objects (`monitor` / `unmonitor` on a node, a filesystem...).
  bool monitored(int object) const;
  void set_monitored(int object, bool monitored);

  const RuleStatus& rule(int rule) const { return rules_[static_cast<std::size_t>(rule)]; }
  /// Every rule's condition and temporal state now (the console's rules and explain).
  Result<std::vector<ir::RuleExplanation>> explain_all() const;
  Result<ir::RuleExplanation> explain(int rule) const;
  /// Every rule's temporal state now, without its condition tree: cheap enough for /metrics.
  Result<std::vector<ir::TemporalExplanation>> temporal_all() const;
  /// Raise-to-clear durations (seconds) since the last call, for /metrics.
  std::vector<double> take_recovery_durations() { return std::exchange(recovery_durations_, {}); }

 private:
  void pass();
  void on_edge(const ir::Edge& edge);
  /// discover()'s clock: monotonic and never behind the last pass.
  double now() const;

  base::EventLoop& loop_;
  std::shared_ptr<const ir::CompiledPolicy> policy_;
  EdgeHandler on_edge_;
  std::unique_ptr<MetricStore> metrics_;
  ir::PolicyState state_;
  std::vector<RuleStatus> rules_;
  std::vector<double> raised_at_;  // per rule: monotonic time of the open raise, or 0
  std::vector<bool> monitored_;    // per object
  std::vector<ir::Edge> edges_;    // reused by every pass
  std::vector<double> recovery_durations_;
  double last_now_ = 0;
  bool pending_ = false;
  bool stopped_ = false;
  base::EventLoop::TimerId pass_timer_ = 0;
};

}  // namespace amata::discovery
