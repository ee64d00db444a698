#include "engine/console/console_view.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "compiler/lower/policy_loader.h"

namespace amata::console {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr const char* kPolicy = R"(policy view
node self { every 1s }
service web { start "/bin/sleep" "30" }
discover down(s: service) when not s.alive raise ServiceDown(s)
discover hot when self.load1 > 8 for 30s raise Hot(self)
event Hot(n: node) notify_only
recover ServiceDown(s) { restart s }
)";

class ConsoleViewTest : public ::testing::Test {
 protected:
  void SetUp() override {
    loop_ = base::EventLoop::create().value();
    char tmpl[] = "/tmp/amata-view-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto loaded = lower::load_policy_text("view.amata", kPolicy, lower::Backend::kInterp);
    ASSERT_TRUE(loaded.policy) << loaded.diagnostics;
    rules_ = std::make_unique<discovery::RuleEngine>(*loop_, loaded.policy, nullptr, nullptr);
    const auto& t = loaded.policy->tables();
    web_ = t.find_object("web");
    self_ = t.find_object("self");
    supervisor_ = std::make_unique<supervisor::Supervisor>(*loop_, supervisor::SupervisorEvents{});
    supervisor_->configure({supervisor::ServiceConfig::from_spec(
        web_, t.objects[static_cast<std::size_t>(web_)], dir_)});
    store_ = store::EventStore::open(dir_ + "/events.db", store::Retention{}).value();
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }
  /// The samples as probes and the supervisor would write them, then one pass.
  void sample(double alive, double load1) {
    auto& m = rules_->metrics();
    m.set_number(web_, "alive", alive);
    m.set_number(self_, "load1", load1);
    m.sampled(web_);
    m.sampled(self_);
    ASSERT_TRUE(loop_->run_once(10ms));
  }

  std::unique_ptr<base::EventLoop> loop_;
  std::string dir_;
  std::unique_ptr<discovery::RuleEngine> rules_;
  std::unique_ptr<supervisor::Supervisor> supervisor_;
  std::unique_ptr<store::EventStore> store_;
  int web_ = -1, self_ = -1;
};

TEST_F(ConsoleViewTest, StatusShowsEveryObjectWithItsStateAndAttributes) {
  sample(0, 0.5);
  rules_->set_monitored(self_, false);
  nlohmann::json status = status_json(*rules_, *supervisor_);
  EXPECT_EQ(status["policy"], "view");
  ASSERT_EQ(status["objects"].size(), 2u);
  const auto& self = status["objects"][static_cast<std::size_t>(self_)];
  EXPECT_EQ(self["name"], "self");
  EXPECT_EQ(self["kind"], "node");
  EXPECT_EQ(self["state"], "unmonitored");
  EXPECT_EQ(self["attributes"]["load1"], 0.5);
  const auto& web = status["objects"][static_cast<std::size_t>(web_)];
  EXPECT_EQ(web["kind"], "service");
  EXPECT_EQ(web["state"], "stopped");
  EXPECT_EQ(web["restarts"], 0);
  EXPECT_FALSE(web.contains("pid"));
  EXPECT_EQ(web["attributes"]["alive"], 0.0);
}

TEST_F(ConsoleViewTest, RulesAreArmedPendingOrFiringAndExplainSaysWhy) {
  sample(0, 9);  // web down: firing; load high, but `for 30s` not yet met: pending
  Outcome rules = rules_view(*rules_);
  ASSERT_TRUE(rules.ok());
  const auto& list = rules.result()["rules"];
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0]["name"], "down[web]");
  EXPECT_EQ(list[0]["state"], "firing");
  EXPECT_EQ(list[0]["object"], "web");
  EXPECT_EQ(list[0]["last_edge"]["edge"], "rise");
  EXPECT_EQ(list[1]["name"], "hot");
  EXPECT_EQ(list[1]["state"], "pending");
  EXPECT_GT(list[1]["pending_left_ms"].get<int>(), 25000);
  EXPECT_EQ(list[1]["last_edge"], nullptr);
  // /metrics reads the same states.
  EXPECT_EQ(rule_states(*rules_), (std::vector<std::string_view>{"firing", "pending"}));

  Outcome hot = explain_view(*rules_, "hot");
  ASSERT_TRUE(hot.ok());
  EXPECT_EQ(hot.result()["state"], "pending");
  EXPECT_EQ(hot.result()["condition"]["text"], "self.load1 > 8");
  EXPECT_EQ(hot.result()["condition"]["value"], true);
  EXPECT_EQ(hot.result()["temporal"]["kind"], "for-duration");
  EXPECT_NE(hot.result()["reason"].get<std::string>().find("pending"), std::string::npos);
  Outcome down = explain_view(*rules_, "down");  // the rule as written finds its expansion
  ASSERT_TRUE(down.ok());
  EXPECT_EQ(down.result()["rule"], "down[web]");
  Outcome none = explain_view(*rules_, "nope");
  EXPECT_FALSE(none.ok());
  EXPECT_EQ(none.code(), "unknown_rule");
}

TEST_F(ConsoleViewTest, EventsMergeEventsAndActionsOldestFirstAndFilter) {
  store::EventRecord raised{
      0, 100.0, "down[web]", "ServiceDown", {"web"}, R"({"web.alive":0})", "raise"};
  ASSERT_TRUE(store_->add_event(raised));
  store::ActionRecord restart{0, 100.5, 1, "restart", "web", "ok", "pid 42", 3.2};
  ASSERT_TRUE(store_->add_action(restart));
  store::EventRecord other{0, 101.0, "hot", "Hot", {"self"}, "{}", "raise"};
  ASSERT_TRUE(store_->add_event(other));
  Outcome all = events_view(*store_, EventFilter{});
  ASSERT_TRUE(all.ok());
  const auto& events = all.result()["events"];
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0]["message"], "ServiceDown(web) raised by down[web]");
  EXPECT_EQ(events[0]["data"]["web.alive"], 0);
  EXPECT_EQ(events[1]["type"], "action");
  EXPECT_EQ(events[1]["id"], kActionIdOffset + 1);
  EXPECT_EQ(events[1]["message"], "restart web: ok (pid 42) in 3 ms");
  EXPECT_EQ(events[2]["event"], "Hot");
  EventFilter web_only;
  web_only.object = "web";
  web_only.limit = 1;
  Outcome filtered = events_view(*store_, web_only);
  ASSERT_EQ(filtered.result()["events"].size(), 1u);
  EXPECT_EQ(filtered.result()["events"][0]["type"], "action");  // the newest about web
}

TEST(EventRecordJson, MaintenanceReadsAsWhatItIsAndMarksWhatItSaw) {
  const std::string window =
      R"({"object":"web","uid":0,"set_unix_ms":1764081000000,"until_unix_ms":1764081600000,)"
      R"("reason":"kernel upgrade"})";
  store::EventRecord began{1, 1764081000.0, "", store::kMaintenanceEvent, {"web"}, window, "raise"};
  nlohmann::json record = event_record_json(began);
  EXPECT_EQ(record["type"], "maintenance");
  EXPECT_EQ(record["object"], "web");
  EXPECT_EQ(record["message"],
            "maintenance of web until 2025-11-25 14:40:00Z by uid 0: kernel upgrade");
  EXPECT_EQ(record["data"]["reason"], "kernel upgrade");

  store::EventRecord ended{2,      1764081100.0,
                           "",     store::kMaintenanceEvent,
                           {},     R"({"object":null,"ended":"ended by uid 1000"})",
                           "clear"};
  record = event_record_json(ended);
  EXPECT_EQ(record["type"], "maintenance");
  EXPECT_FALSE(record.contains("object")) << "the node's window names no object";
  EXPECT_EQ(record["message"], "maintenance of the node ended: ended by uid 1000");

  store::EventRecord seen{3,           1764081050.0,
                          "down[web]", "ServiceDown",
                          {"web"},     R"({"web.alive":0,"maintenance":true})",
                          "raise"};
  EXPECT_EQ(event_record_json(seen)["message"],
            "ServiceDown(web) raised by down[web] (in maintenance)");
  seen.values = R"({"web.alive":0,"maintenance":"odd"})";  // never an exception
  EXPECT_EQ(event_record_json(seen)["message"], "ServiceDown(web) raised by down[web]");
}

}  // namespace
}  // namespace amata::console
