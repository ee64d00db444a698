#include "engine/discovery/rule_engine.h"

#include <algorithm>

#include "base/clock.h"

namespace amata::discovery {
namespace {

/// Collects the requests of one recovery body.
class CollectingSink : public ir::ActionSink {
 public:
  void request(const ir::ActionRequest& action) override { actions.push_back(action); }
  std::vector<ir::ActionRequest> actions;
};

}  // namespace

RuleEngine::RuleEngine(base::EventLoop& loop, std::shared_ptr<const ir::CompiledPolicy> policy,
                       EdgeHandler on_edge, NoticeHandler on_notice)
    : loop_(loop), policy_(std::move(policy)), on_edge_(std::move(on_edge)) {
  const auto& tables = policy_->tables();
  metrics_ = std::make_unique<MetricStore>(
      tables, [this](int, bool) { schedule(); }, std::move(on_notice));
  state_ = policy_->make_state();
  rules_.assign(tables.rules.size(), RuleStatus{});
  raised_at_.assign(tables.rules.size(), 0);
  monitored_.assign(tables.objects.size(), true);
}

RuleEngine::~RuleEngine() {
  if (pass_timer_ != 0) loop_.cancel_timer(pass_timer_);
}

void RuleEngine::schedule() {
  if (pending_ || stopped_) return;
  pending_ = true;
  // Next loop turn, not now: the probe or supervisor that reported the change finishes its
  // own work first, and several changes in one turn cost one pass.
  pass_timer_ = loop_.add_timer_after(base::Clock::duration::zero(), [this] {
    pass_timer_ = 0;
    pass();
  });
}

void RuleEngine::run_pending() {
  if (!pending_) return;
  if (pass_timer_ != 0) loop_.cancel_timer(pass_timer_);
  pass_timer_ = 0;
  pass();
}

double RuleEngine::now() const {
  return std::max(base::monotonic_now(), last_now_);
}

void RuleEngine::pass() {
  pending_ = false;
  if (stopped_) return;
  const double t = now();
  last_now_ = t;
  edges_.clear();
  policy_->discover(t, metrics_->samples(), state_, edges_);
  // Handling an edge may start actions that re-enter the engine (and schedule a pass).
  const std::vector<ir::Edge> edges = edges_;
  for (const auto& edge : edges) on_edge(edge);
}

void RuleEngine::on_edge(const ir::Edge& edge) {
  const auto& tables = policy_->tables();
  if (edge.rule < 0 || static_cast<std::size_t>(edge.rule) >= tables.rules.size()) return;
  const auto r = static_cast<std::size_t>(edge.rule);
  rules_[r].last_edge_unix = base::unix_now();
  rules_[r].firing = edge.raise;
  if (edge.raise) {
    rules_[r].rises++;
    raised_at_[r] = base::monotonic_now();
  } else if (raised_at_[r] > 0) {
    recovery_durations_.push_back(base::monotonic_now() - raised_at_[r]);
    raised_at_[r] = 0;
  }
  if (on_edge_) on_edge_(policy_->event_of(edge.rule), tables.rules[r].name, edge.raise);
}

std::vector<ir::ActionRequest> RuleEngine::recover(const ir::EventInstance& event) const {
  CollectingSink sink;
  policy_->recover(event, base::monotonic_now(), metrics_->samples(), state_, sink);
  return std::move(sink.actions);
}

bool RuleEngine::monitored(int object) const {
  return object >= 0 && static_cast<std::size_t>(object) < monitored_.size() &&
         monitored_[static_cast<std::size_t>(object)];
}

void RuleEngine::set_monitored(int object, bool monitored) {
  if (object >= 0 && static_cast<std::size_t>(object) < monitored_.size()) {
    monitored_[static_cast<std::size_t>(object)] = monitored;
  }
}

Result<std::vector<ir::RuleExplanation>> RuleEngine::explain_all() const {
  return ir::explain_rules(*policy_, now(), metrics_->samples(), state_);
}

Result<ir::RuleExplanation> RuleEngine::explain(int rule) const {
  return ir::explain_rule(*policy_, rule, now(), metrics_->samples(), state_);
}

Result<std::vector<ir::TemporalExplanation>> RuleEngine::temporal_all() const {
  return ir::temporal_states(*policy_, now(), metrics_->samples(), state_);
}

}  // namespace amata::discovery
