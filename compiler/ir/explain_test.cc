#include "compiler/ir/explain.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <memory>

#include "compiler/interp/interpreter.h"

namespace amata::ir {
namespace {

// One node "web" with a number slot cpu, and three rules over `cpu > 90`:
// r0 `for 30s`, r1 `for 3 checks`, r2 `2 times within 60s`.
std::shared_ptr<const CompiledPolicy> make_policy() {
  auto p = std::make_shared<Program>();
  catalog::ObjectSpec web;
  web.name = "web";
  p->tables.objects.push_back(web);
  SlotInfo cpu;
  cpu.object = 0;
  cpu.attribute = "cpu";
  cpu.index = 0;
  p->tables.slots.push_back(cpu);
  p->tables.number_slot_count = 1;
  p->tables.events.push_back(EventInfo{"hot", {}, -1});
  Expr slot;
  slot.op = Op::kSlot;
  slot.slot = 0;
  Expr limit;
  limit.op = Op::kConst;
  limit.value = 90;
  Expr gt;
  gt.op = Op::kGt;
  gt.a = p->add(slot);
  gt.b = p->add(limit);
  const int cond = p->add(gt);
  const Temporal kinds[] = {Temporal::kForDuration, Temporal::kForChecks, Temporal::kTimesWithin};
  const double seconds[] = {30, 0, 60};
  const int counts[] = {0, 3, 2};
  for (int i = 0; i < 3; ++i) {
    Rule r;
    r.cond = cond;
    r.temporal = kinds[i];
    r.seconds = seconds[i];
    r.count = counts[i];
    p->rules.push_back(r);
    RuleInfo info;
    info.name = "hot" + std::to_string(i);
    info.source_rule = info.name;
    info.event = 0;
    p->tables.rules.push_back(info);
  }
  finalize(*p);
  auto policy = interp::interpret(p);
  EXPECT_TRUE(policy.ok()) << policy.error().message;
  return *policy;
}

struct PolicyRun {
  std::shared_ptr<const CompiledPolicy> policy = make_policy();
  PolicyState state = policy->make_state();
  double cpu = 0;
  std::vector<Edge> edges;

  Samples samples() const { return Samples{{&cpu, 1}, {}, {}}; }
  void step(double now, double value) {
    cpu = value;
    policy->discover(now, samples(), state, edges);
  }
  RuleExplanation explain(int rule, double now) const {
    auto e = explain_rule(*policy, rule, now, samples(), state);
    EXPECT_TRUE(e.ok()) << e.error().message;
    return *e;
  }
};

TEST(ExplainTest, ForDurationPendingThenFiring) {
  PolicyRun run;
  run.step(100, 95);
  run.step(112.5, 96);
  RuleExplanation e = run.explain(0, 112.5);
  ASSERT_EQ(e.nodes.size(), 3u);
  EXPECT_EQ(e.nodes[0].op, ">");
  EXPECT_EQ(e.nodes[0].value, 1);
  EXPECT_EQ(e.nodes[0].children, (std::vector<int>{1, 2}));
  EXPECT_EQ(e.nodes[1].text, "web.cpu");
  EXPECT_EQ(e.nodes[1].value, 96);
  EXPECT_EQ(e.nodes[2].value, 90);
  EXPECT_EQ(e.temporal.kind, Temporal::kForDuration);
  EXPECT_TRUE(e.temporal.holds);
  EXPECT_TRUE(e.temporal.pending);
  EXPECT_FALSE(e.temporal.active);
  EXPECT_EQ(e.temporal.since, 100);
  EXPECT_DOUBLE_EQ(e.temporal.held_s, 12.5);
  EXPECT_DOUBLE_EQ(e.temporal.left_s, 17.5);

  run.step(131, 97);
  e = run.explain(0, 131);
  EXPECT_TRUE(e.temporal.active);
  EXPECT_FALSE(e.temporal.pending);
  EXPECT_EQ(e.temporal.left_s, 0);

  run.step(140, 10);
  e = run.explain(0, 140);
  EXPECT_FALSE(e.temporal.holds);
  EXPECT_FALSE(e.temporal.active);
  EXPECT_TRUE(std::isnan(e.temporal.since));
}

TEST(ExplainTest, ForChecksCountsChecks) {
  PolicyRun run;
  run.step(1, 95);
  run.step(2, 95);
  RuleExplanation e = run.explain(1, 2);
  EXPECT_EQ(e.temporal.kind, Temporal::kForChecks);
  EXPECT_EQ(e.temporal.checks, 2);
  EXPECT_EQ(e.temporal.count, 3);
  EXPECT_TRUE(e.temporal.pending);
  run.step(3, 95);
  e = run.explain(1, 3);
  EXPECT_EQ(e.temporal.checks, 3);
  EXPECT_TRUE(e.temporal.active);
  EXPECT_FALSE(e.temporal.pending);
}

TEST(ExplainTest, TimesWithinCountsRises) {
  PolicyRun run;
  run.step(1, 95);
  run.step(2, 10);
  run.step(3, 95);
  RuleExplanation e = run.explain(2, 3);
  EXPECT_EQ(e.temporal.rises_in_window, 2);
  EXPECT_TRUE(e.temporal.active);
  e = run.explain(2, 62);
  EXPECT_EQ(e.temporal.rises_in_window, 1);
}

TEST(ExplainTest, MissingValueIsNaNAndNotHolding) {
  PolicyRun run;
  run.step(1, std::numeric_limits<double>::quiet_NaN());
  RuleExplanation e = run.explain(0, 1);
  EXPECT_TRUE(std::isnan(e.nodes[0].value));
  EXPECT_TRUE(std::isnan(e.nodes[1].value));
  EXPECT_FALSE(e.temporal.holds);
  EXPECT_FALSE(e.temporal.pending);
}

TEST(ExplainTest, RejectsBadRuleId) {
  PolicyRun run;
  EXPECT_FALSE(explain_rule(*run.policy, 7, 0, run.samples(), run.state).ok());
}

TEST(ExplainTest, ExplainRulesMatchesExplainRule) {
  PolicyRun run;
  run.step(100, 95);
  auto all = explain_rules(*run.policy, 110, run.samples(), run.state);
  ASSERT_TRUE(all.ok()) << all.error().message;
  ASSERT_EQ(all->size(), 3u);
  EXPECT_DOUBLE_EQ((*all)[0].temporal.left_s, run.explain(0, 110).temporal.left_s);
  EXPECT_EQ((*all)[1].temporal.checks, 1);
}

// temporal_states() is what /metrics reads: it must agree with the full explanation at every
// step of a run that passes through pending, firing and clear for all three qualifiers.
TEST(ExplainTest, TemporalStatesMatchExplainRules) {
  PolicyRun run;
  const double values[] = {95, 95, 95, 10, 95, 95, 10, 10, 95};
  double now = 0;
  int pending_seen = 0;
  for (double value : values) {
    now += 15;
    run.step(now, value);
    for (double at : {now, now + 7}) {
      auto full = explain_rules(*run.policy, at, run.samples(), run.state);
      auto brief = temporal_states(*run.policy, at, run.samples(), run.state);
      ASSERT_TRUE(full.ok() && brief.ok());
      ASSERT_EQ(brief->size(), full->size());
      for (std::size_t r = 0; r < full->size(); ++r) {
        const TemporalExplanation& a = (*full)[r].temporal;
        const TemporalExplanation& b = (*brief)[r];
        SCOPED_TRACE("rule " + std::to_string(r) + " at " + std::to_string(at));
        EXPECT_EQ(a.holds, b.holds);
        EXPECT_EQ(a.active, b.active);
        EXPECT_EQ(a.pending, b.pending);
        EXPECT_EQ(a.checks, b.checks);
        EXPECT_EQ(a.rises_in_window, b.rises_in_window);
        EXPECT_DOUBLE_EQ(a.left_s, b.left_s);
        pending_seen += b.pending ? 1 : 0;
      }
    }
  }
  EXPECT_GT(pending_seen, 0);
}

TEST(ExplainTest, TemporalStatesRejectsStateOfAnotherLayout) {
  PolicyRun run;
  PolicyState wrong;
  EXPECT_FALSE(temporal_states(*run.policy, 0, run.samples(), wrong).ok());
}

}  // namespace
}  // namespace amata::ir
