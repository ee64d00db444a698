#include "engine/discovery/rule_engine.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "compiler/lower/policy_loader.h"

namespace amata::discovery {
namespace {

using namespace std::chrono_literals;

constexpr const char* kPolicy = R"(policy t
channel pager { hook }
node self { every 1s }
service web { start "/bin/true" }
service db { start "/bin/true" }
discover down(s: service) when not s.alive raise ServiceDown(s)
discover busy when self.load1 > 8 raise NodeBusy(self)
event NodeBusy(n: node) notify_only
recover ServiceDown(s) {
  restart s backoff 100ms .. 10s
  notify "pager" "down"
}
)";

struct Edge {
  std::string event, rule;
  std::vector<int> args;
  bool raise;
};

class RuleEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    loop_ = base::EventLoop::create().value();
    auto loaded = lower::load_policy_text("t.amata", kPolicy, lower::Backend::kInterp);
    ASSERT_TRUE(loaded.policy) << loaded.diagnostics;
    engine_ = std::make_unique<RuleEngine>(
        *loop_, loaded.policy,
        [this](const ir::EventInstance& e, const std::string& rule, bool raise) {
          const auto& tables = engine_->policy().tables();
          edges_.push_back(
              {tables.events[static_cast<std::size_t>(e.event)].name, rule, e.args, raise});
        },
        nullptr);
    const auto& t = engine_->policy().tables();
    web_ = t.find_object("web");
    db_ = t.find_object("db");
    self_ = t.find_object("self");
  }

  /// Every object up and sampled once (as the probes and the supervisor would).
  void all_well() {
    MetricStore& m = engine_->metrics();
    m.set_number(web_, "alive", 1);
    m.set_number(db_, "alive", 1);
    m.set_number(self_, "load1", 0.5);
    for (int o : {web_, db_, self_}) m.sampled(o);
  }

  void turn() { ASSERT_TRUE(loop_->run_once(10ms)); }

  std::unique_ptr<base::EventLoop> loop_;
  std::unique_ptr<RuleEngine> engine_;
  std::vector<Edge> edges_;
  int web_ = -1, db_ = -1, self_ = -1;
};

TEST_F(RuleEngineTest, APassRunsOnTheNextLoopTurnOncePerTurn) {
  all_well();  // four writes, three samples: one pass
  EXPECT_TRUE(edges_.empty());
  turn();
  EXPECT_TRUE(edges_.empty());  // all well: nothing rose
  engine_->metrics().set_number(web_, "alive", 0);
  engine_->metrics().changed(web_);
  EXPECT_TRUE(edges_.empty());  // not inside the writer's own call
  turn();
  ASSERT_EQ(edges_.size(), 1u);
  EXPECT_EQ(edges_[0].event, "ServiceDown");
  EXPECT_EQ(edges_[0].rule, "down[web]");
  EXPECT_EQ(edges_[0].args, std::vector<int>{web_});
  EXPECT_TRUE(edges_[0].raise);
  const int rule = 0;  // down[web]
  EXPECT_TRUE(engine_->rule(rule).firing);
  EXPECT_EQ(engine_->rule(rule).rises, 1u);
  EXPECT_GT(engine_->rule(rule).last_edge_unix, 0);
}

TEST_F(RuleEngineTest, AClearRecordsHowLongTheEventWasRaised) {
  all_well();
  engine_->metrics().set_number(db_, "alive", 0);
  turn();
  ASSERT_EQ(edges_.size(), 1u);
  engine_->metrics().set_number(db_, "alive", 1);
  engine_->metrics().changed(db_);
  turn();
  ASSERT_EQ(edges_.size(), 2u);
  EXPECT_FALSE(edges_[1].raise);
  auto durations = engine_->take_recovery_durations();
  ASSERT_EQ(durations.size(), 1u);
  EXPECT_GE(durations[0], 0);
  EXPECT_TRUE(engine_->take_recovery_durations().empty());  // taken once
}

TEST_F(RuleEngineTest, RunPendingShowsTheRulesTheStateBeforeTheNextChange) {
  // The service comes up and dies in one loop turn: without run_pending the pass would see
  // only the death, never the start, and the rule would never fall and rise again.
  all_well();
  engine_->metrics().set_number(web_, "alive", 0);
  turn();
  ASSERT_EQ(edges_.size(), 1u);  // down
  engine_->metrics().set_number(web_, "alive", 1);
  engine_->metrics().changed(web_);
  engine_->run_pending();  // what the daemon does before it writes a death
  engine_->metrics().set_number(web_, "alive", 0);
  engine_->metrics().changed(web_);
  turn();
  ASSERT_EQ(edges_.size(), 3u);
  EXPECT_FALSE(edges_[1].raise);
  EXPECT_TRUE(edges_[2].raise);
  EXPECT_EQ(engine_->rule(0).rises, 2u);
}

TEST_F(RuleEngineTest, RecoverGivesTheBodysActionsAndMonitoringIsPerObject) {
  ir::EventInstance down{engine_->policy().tables().find_event("ServiceDown"), {db_}};
  auto actions = engine_->recover(down);
  ASSERT_EQ(actions.size(), 2u);
  EXPECT_EQ(actions[0].kind, ir::ActionKind::kRestart);
  EXPECT_EQ(actions[0].object, db_);
  EXPECT_DOUBLE_EQ(actions[0].backoff_initial, 0.1);
  EXPECT_EQ(actions[1].kind, ir::ActionKind::kNotify);
  EXPECT_EQ(actions[1].channel, "pager");
  EXPECT_TRUE(engine_->monitored(self_));
  engine_->set_monitored(self_, false);
  EXPECT_FALSE(engine_->monitored(self_));
  EXPECT_FALSE(engine_->monitored(99));
}

TEST_F(RuleEngineTest, ExplainReadsTheSameStateAndStopEndsThePasses) {
  all_well();
  turn();
  auto all = engine_->explain_all();
  ASSERT_TRUE(all);
  EXPECT_EQ(all->size(), engine_->policy().tables().rules.size());
  auto one = engine_->explain(0);
  ASSERT_TRUE(one);
  EXPECT_FALSE(one->temporal.holds);  // web is alive
  engine_->stop();
  engine_->metrics().set_number(web_, "alive", 0);
  engine_->metrics().changed(web_);
  turn();
  EXPECT_TRUE(edges_.empty());
}

}  // namespace
}  // namespace amata::discovery
