#include "compiler/ir/explain.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>

#include "compiler/interp/interpreter.h"

namespace amata::ir {
namespace {

// One node "web" with a number slot cpu, and four rules over `cpu > 90`:
// r0 `for 30s`, r1 `for 3 checks`, r2 `2 times within 60s`, r3 `clear after 20s`.
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
  const Temporal kinds[] = {Temporal::kForDuration, Temporal::kForChecks, Temporal::kTimesWithin,
                            Temporal::kNone};
  const double seconds[] = {30, 0, 60, 0};
  const int counts[] = {0, 3, 2, 0};
  const double clear_after[] = {0, 0, 0, 20};
  for (int i = 0; i < 4; ++i) {
    Rule r;
    r.cond = cond;
    r.temporal = kinds[i];
    r.seconds = seconds[i];
    r.count = counts[i];
    r.clear_after = clear_after[i];
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

TEST(ExplainTest, ClearAfterKeepsAFiringRuleUpAndSaysWhenItClears) {
  PolicyRun run;
  auto edges_of_r3 = [&] {
    return std::count_if(run.edges.begin(), run.edges.end(),
                         [](const Edge& e) { return e.rule == 3; });
  };
  run.step(1, 95);
  EXPECT_EQ(edges_of_r3(), 1);
  run.step(5, 10);
  RuleExplanation e = run.explain(3, 15);
  EXPECT_TRUE(e.temporal.active);
  EXPECT_FALSE(e.temporal.holds);
  EXPECT_EQ(e.temporal.clear_after, 20);
  EXPECT_DOUBLE_EQ(e.temporal.clearing_left_s, 10);
  // True again within the 20 s: the event stays up, no edge, the clock starts over.
  run.step(15, 95);
  EXPECT_TRUE(std::isnan(run.explain(3, 15).temporal.clearing_left_s));
  run.step(16, 10);
  run.step(35, 10);
  EXPECT_TRUE(run.explain(3, 35).temporal.active);
  EXPECT_EQ(edges_of_r3(), 1);
  run.step(36, 10);
  EXPECT_FALSE(run.explain(3, 36).temporal.active);
  EXPECT_EQ(edges_of_r3(), 2);
  EXPECT_FALSE(run.edges.back().raise);
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
  ASSERT_EQ(all->size(), 4u);
  EXPECT_DOUBLE_EQ((*all)[0].temporal.left_s, run.explain(0, 110).temporal.left_s);
  EXPECT_EQ((*all)[1].temporal.checks, 1);
}

// temporal_states() is what /metrics reads: it must agree with the full explanation at every
// step of a run that passes through pending, firing, clearing and clear for every qualifier.
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
        EXPECT_EQ(std::isnan(a.clearing_left_s), std::isnan(b.clearing_left_s));
        if (!std::isnan(a.clearing_left_s)) {
          EXPECT_DOUBLE_EQ(a.clearing_left_s, b.clearing_left_s);
        }
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
