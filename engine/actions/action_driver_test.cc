#include "engine/actions/action_driver.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "compiler/lower/policy_loader.h"

namespace amata::actions {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr const char* kPolicy = R"(policy t
node self { every 1s }
unit cron {}
service web { start "/bin/sleep" "30" }
discover down(s: service) when not s.alive raise ServiceDown(s)
recover ServiceDown(s) { restart s }
)";

/// The host as a test sees it: every call recorded.
class RecordingHost : public ActionHost {
 public:
  std::shared_ptr<const ir::CompiledPolicy> current_policy() const override { return current; }
  bool shutting_down() const override { return stopping; }
  void set_monitored(int object, bool on) override {
    calls.push_back("monitored " + std::to_string(object) + " " + (on ? "on" : "off"));
  }
  void raise(const ir::EventInstance& event, const std::string& why, int depth) override {
    calls.push_back("raise " + std::to_string(event.event) + " depth " + std::to_string(depth) +
                    " (" + why + ")");
  }
  bool clustered() const override { return false; }
  Status failover(const std::string&, const std::optional<std::string>&) override {
    return Error{"no cluster"};
  }
  void notify(const std::string& channel, const std::string& message, const EventEnvironment& event,
              std::function<void(bool, const std::string&)> done) override {
    calls.push_back("notify " + channel + ": " + message + " for " + event.event);
    if (hold_notifications) {
      held.push_back(std::move(done));
    } else {
      done(true, channel + ": " + message);
    }
  }
  bool hold_notifications = false;
  std::vector<std::function<void(bool, const std::string&)>> held;
  void finished(store::ActionRecord record) override { records.push_back(std::move(record)); }
  void restarted(int object) override { calls.push_back("restarted " + std::to_string(object)); }
  void unit_job(const std::string& unit, ir::ActionKind verb,
                std::function<void(bool, const std::string&)> done) override {
    calls.push_back("systemd " + std::string(ir::action_kind_name(verb)) + " " + unit);
    done(unit_jobs_succeed, unit_jobs_succeed ? "done" : "failed");
  }
  bool unit_jobs_succeed = true;

  std::shared_ptr<const ir::CompiledPolicy> current;
  bool stopping = false;
  std::vector<std::string> calls;
  std::vector<store::ActionRecord> records;
};

class ActionDriverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    loop_ = base::EventLoop::create().value();
    char tmpl[] = "/tmp/amata-actions-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto loaded = lower::load_policy_text("t.amata", kPolicy, lower::Backend::kInterp);
    ASSERT_TRUE(loaded.policy) << loaded.diagnostics;
    policy_ = loaded.policy;
    host_.current = policy_;
    web_ = policy_->tables().find_object("web");
    self_ = policy_->tables().find_object("self");
    supervisor_ = std::make_unique<supervisor::Supervisor>(*loop_, supervisor::SupervisorEvents{});
    supervisor_->configure({supervisor::ServiceConfig::from_spec(
        web_, policy_->tables().objects[static_cast<std::size_t>(web_)], dir_)});
    jobs_ = std::make_unique<JobRunner>(*loop_);
    driver_ = std::make_unique<ActionDriver>(*loop_, *supervisor_, *jobs_, host_,
                                             ActionDriver::Options{5, dir_ + "/run.log"});
  }
  void TearDown() override {
    bool stopped = false;
    supervisor_->stop_all([&](bool, const std::string&) { stopped = true; });
    run_until([&] { return stopped; });
    driver_.reset();
    jobs_.reset();
    supervisor_.reset();
    fs::remove_all(dir_);
  }

  ir::ActionRequest action(ir::ActionKind kind, int object = -1) {
    ir::ActionRequest a;
    a.kind = kind;
    a.object = object;
    return a;
  }
  ActionChain chain(std::vector<ir::ActionRequest> actions, int depth = 0) {
    EventEnvironment env;
    env.event = "ServiceDown";
    env.objects = {"web"};
    return ActionChain{policy_, 7, env, std::move(actions), depth};
  }
  template <typename Pred>
  bool run_until(Pred pred) {
    auto deadline = base::Clock::now() + 10s;
    while (!pred() && base::Clock::now() < deadline) (void)loop_->run_once(50ms);
    return pred();
  }
  std::string outcomes() const {
    std::string out;
    for (const auto& r : host_.records) {
      out += (out.empty() ? "" : "; ") + r.kind + " " + r.object + " " + r.outcome;
    }
    return out;
  }

  std::unique_ptr<base::EventLoop> loop_;
  std::string dir_;
  std::shared_ptr<const ir::CompiledPolicy> policy_;
  RecordingHost host_;
  std::unique_ptr<supervisor::Supervisor> supervisor_;
  std::unique_ptr<JobRunner> jobs_;
  std::unique_ptr<ActionDriver> driver_;
  int web_ = -1, self_ = -1;
};

TEST_F(ActionDriverTest, RecoveryGoesOnWhileANotificationIsDelivered) {
  host_.hold_notifications = true;
  ir::ActionRequest notify = action(ir::ActionKind::kNotify, web_);
  notify.channel = "pager";
  notify.message = "web died";
  driver_->run(chain({notify, action(ir::ActionKind::kStart, web_)}));
  // The start ran and ended while the notification was still out.
  ASSERT_TRUE(run_until([&] { return host_.records.size() == 1; }));
  EXPECT_EQ(outcomes(), "start web ok");
  ASSERT_EQ(host_.held.size(), 1U);
  // Its record comes when the delivery ends: a failed delivery is a failed action.
  host_.held[0](false, "webhook http://127.0.0.1:9/: Connection refused (4 attempts)");
  ASSERT_EQ(host_.records.size(), 2U);
  EXPECT_EQ(outcomes(), "start web ok; notify web failed");
  EXPECT_EQ(host_.records[1].detail,
            "webhook http://127.0.0.1:9/: Connection refused (4 attempts)");
  EXPECT_EQ(host_.records[1].event_id, 7);
}

TEST_F(ActionDriverTest, ActionsRunInOrderEachEndingInARecord) {
  ir::ActionRequest notify = action(ir::ActionKind::kNotify, web_);
  notify.channel = "pager";
  notify.message = "web is back";
  driver_->run(chain({action(ir::ActionKind::kStart, web_), notify}));
  ASSERT_TRUE(run_until([&] { return host_.records.size() == 2; }));
  EXPECT_EQ(outcomes(), "start web ok; notify web ok");
  EXPECT_EQ(host_.records[0].event_id, 7);
  EXPECT_NE(host_.records[0].detail.find("pid "), std::string::npos);
  EXPECT_EQ(host_.records[1].detail, "pager: web is back");
  EXPECT_EQ(host_.calls, std::vector<std::string>{"notify pager: web is back for ServiceDown"});
  ASSERT_TRUE(supervisor_->status(web_));
  EXPECT_EQ(supervisor_->status(web_)->state, supervisor::ServiceState::kRunning);
}

TEST_F(ActionDriverTest, AUnitIsActedOnThroughSystemdOnly) {
  const int cron = policy_->tables().find_object("cron");
  ASSERT_GE(cron, 0);
  driver_->run(chain({action(ir::ActionKind::kRestart, cron), action(ir::ActionKind::kReload, cron),
                      action(ir::ActionKind::kStop, cron), action(ir::ActionKind::kReload, web_)}));
  ASSERT_TRUE(run_until([&] { return host_.records.size() == 4; }));
  EXPECT_EQ(outcomes(), "restart cron ok; reload cron ok; stop cron ok; reload web failed");
  EXPECT_EQ(host_.calls,
            (std::vector<std::string>{"systemd restart cron.service", "systemd reload cron.service",
                                      "systemd stop cron.service"}));
  host_.unit_jobs_succeed = false;
  driver_->run(chain({action(ir::ActionKind::kStart, cron)}));
  ASSERT_TRUE(run_until([&] { return host_.records.size() == 5; }));
  EXPECT_EQ(host_.records.back().outcome, "failed");
  EXPECT_EQ(host_.records.back().detail, "failed");
}

TEST_F(ActionDriverTest, ARestartIsCountedAndWhatIsNoServiceFails) {
  driver_->run(
      chain({action(ir::ActionKind::kRestart, web_), action(ir::ActionKind::kRestart, self_),
             action(ir::ActionKind::kUnmonitor, self_)}));
  ASSERT_TRUE(run_until([&] { return host_.records.size() == 3; }));
  EXPECT_EQ(outcomes(), "restart web ok; restart self failed; unmonitor self ok");
  EXPECT_EQ(host_.records[1].detail, "self is not a service amatad runs");
  EXPECT_EQ(host_.calls, (std::vector<std::string>{"restarted " + std::to_string(web_),
                                                   "monitored " + std::to_string(self_) + " off"}));
}

TEST_F(ActionDriverTest, RunWaitsForItsJobWithTheEventInItsEnvironment) {
  ir::ActionRequest run = action(ir::ActionKind::kRun, web_);
  run.argv = {"/bin/sh", "-c", "echo \"$AMATA_EVENT $AMATA_ARGS\" > " + dir_ + "/env; exit 3",
              "arg"};
  ir::ActionRequest wait = action(ir::ActionKind::kWait);
  wait.seconds = 0.05;
  driver_->run(chain({run, wait}));
  ASSERT_TRUE(run_until([&] { return host_.records.size() == 2; }));
  EXPECT_EQ(outcomes(), "run web failed; wait  ok");
  EXPECT_EQ(host_.records[0].detail, "exited 3");
  EXPECT_GE(host_.records[1].duration_ms, 40);
  std::ifstream in(dir_ + "/env");
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(),
            "ServiceDown -c echo \"$AMATA_EVENT $AMATA_ARGS\" > " + dir_ + "/env; exit 3 arg\n");
}

TEST_F(ActionDriverTest, RaiseEscalatesOnlySoDeepAndOnlyInTheRunningPolicy) {
  ir::ActionRequest raise = action(ir::ActionKind::kRaise);
  raise.raised = ir::EventInstance{0, {web_}};
  driver_->run(chain({raise}, 1));
  driver_->run(chain({raise}, ActionDriver::kMaxRaiseDepth));
  ASSERT_TRUE(run_until([&] { return host_.records.size() == 2; }));
  EXPECT_EQ(outcomes(), "raise  ok; raise  failed");
  EXPECT_EQ(host_.calls,
            std::vector<std::string>{"raise 0 depth 2 (raise in recovery of ServiceDown)"});
  // After a reload the old policy's events are not raised any more.
  host_.current = lower::load_policy_text("t.amata", kPolicy, lower::Backend::kInterp).policy;
  driver_->run(chain({raise}));
  ASSERT_TRUE(run_until([&] { return host_.records.size() == 3; }));
  EXPECT_EQ(host_.records[2].outcome, "skipped");
  EXPECT_EQ(host_.records[2].detail, "policy reloaded");
}

TEST_F(ActionDriverTest, AChainFromBeforeAReloadActsOnTheSameObjectByName) {
  // The new policy declares web second: the old chain's object id must be translated.
  host_.current = lower::load_policy_text("t2.amata", R"(policy t
service web { start "/bin/sleep" "30" }
node self { every 1s }
)",
                                          lower::Backend::kInterp)
                      .policy;
  ASSERT_TRUE(host_.current);
  const int new_web = host_.current->tables().find_object("web");
  ASSERT_NE(new_web, web_);
  supervisor_->configure({supervisor::ServiceConfig::from_spec(
      new_web, host_.current->tables().objects[static_cast<std::size_t>(new_web)], dir_)});
  driver_->run(chain({action(ir::ActionKind::kStart, web_)}));
  ASSERT_TRUE(run_until([&] { return host_.records.size() == 1; }));
  EXPECT_EQ(outcomes(), "start web ok");
  EXPECT_EQ(supervisor_->status(new_web)->state, supervisor::ServiceState::kRunning);
}

TEST_F(ActionDriverTest, NothingRunsWhileShuttingDownAndFailoverNeedsACluster) {
  driver_->run(chain({action(ir::ActionKind::kFailover, -1)}));
  host_.stopping = true;
  driver_->run(chain({action(ir::ActionKind::kStart, web_)}));
  ASSERT_TRUE(run_until([&] { return host_.records.size() == 2; }));
  EXPECT_EQ(host_.records[0].outcome, "skipped");
  EXPECT_EQ(host_.records[0].detail, "no cluster layer in this amatad");
  EXPECT_EQ(host_.records[1].outcome, "skipped");
  EXPECT_EQ(host_.records[1].detail, "amatad is shutting down");
  EXPECT_EQ(supervisor_->status(web_)->state, supervisor::ServiceState::kStopped);
}

}  // namespace
}  // namespace amata::actions
