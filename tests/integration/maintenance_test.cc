// Maintenance windows against the real amatad, real services and the real event store: what a
// window pauses (recovery, hooks), what it keeps (the events, marked), what happens at its end
// (what is still down is recovered), and that it outlives a restart of amatad.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "tests/integration/amatad_harness.h"

namespace amata::itest {
namespace {

using Json = nlohmann::json;

const char* kDownRule =
    "channel pager { hook }\n"
    "discover down(s: service) when not s.alive raise ServiceDown(s)\n"
    "recover ServiceDown(s) {\n  restart s\n  notify \"pager\" \"a service is down\"\n}\n";

/// True when an action `kind` on `object` was recorded as suppressed by the window of
/// `window` ("web", "the node").
bool suppressed(const std::vector<store::ActionRecord>& actions, const std::string& kind,
                const std::string& object, const std::string& window) {
  for (const auto& a : actions) {
    if (a.kind == kind && a.object == object && a.outcome == "skipped" &&
        a.detail.find("suppressed by maintenance of " + window + " ") != std::string::npos) {
      return true;
    }
  }
  return false;
}

int count_events(const std::vector<store::EventRecord>& events, const std::string& event,
                 const std::string& edge) {
  int n = 0;
  for (const auto& e : events) n += e.event == event && e.edge == edge;
  return n;
}

Json ctl_json(Amatad& a, const std::vector<std::string>& args) {
  std::string out;
  std::vector<std::string> all = {"--json"};
  all.insert(all.end(), args.begin(), args.end());
  EXPECT_EQ(a.ctl(all, out), 0) << out;
  return Json::parse(out, nullptr, false);
}

class Maintenance : public ::testing::Test {
 protected:
  void SetUp() override {
    // The pager hook and the ServiceDown hook leave a mark when they run.
    a_.write_hook("ServiceDown", "echo down >> " + a_.dir() + "/hooks.ran");
    a_.write_hook("pager", "echo \"$AMATA_MESSAGE\" >> " + a_.dir() + "/hooks.ran");
    a_.write_policy("policy maint\n" + sleeper_service("web") + sleeper_service("db") + kDownRule);
    a_.start({"--backend", "interp"});
    web_ = a_.wait_new_pid("web", 0);
    ASSERT_GT(web_, 0) << a_.log();
    ASSERT_GT(a_.wait_new_pid("db", 0), 0) << a_.log();
    ASSERT_TRUE(a_.wait_for_log("console on"));
  }

  /// Kills web and waits until its ServiceDown, marked as in maintenance, is stored and its
  /// recovery recorded as suppressed by the window of `window`.
  void kill_web_in_maintenance(const std::string& window = "web") {
    ASSERT_EQ(kill(web_, SIGKILL), 0);
    ASSERT_TRUE(Amatad::wait_for([&] {
      return suppressed(a_.actions(), "restart", "web", window);
    })) << a_.log();
    EXPECT_TRUE(suppressed(a_.actions(), "notify", "web", window));
    bool marked = false;
    for (const auto& e : a_.events()) {
      marked |= e.event == "ServiceDown" && e.edge == "raise" &&
                e.values.find("\"maintenance\":true") != std::string::npos;
    }
    EXPECT_TRUE(marked) << "the event is stored, marked as in maintenance";
    // Nothing restarts it and no hook runs (a second is ample for either: both take
    // milliseconds when they are not paused).
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    EXPECT_FALSE(process_alive(web_));
    EXPECT_EQ(a_.service_pid("web"), web_);
    EXPECT_EQ(read_file(a_.dir() + "/hooks.ran"), "");
  }

  Amatad a_;
  pid_t web_ = 0;
};

TEST_F(Maintenance, PausesRecoveryAndHooksAndAtItsEndRecoversWhatIsStillDown) {
  std::string out;
  ASSERT_EQ(a_.ctl({"maintenance", "web", "--for", "1h", "--reason", "kernel upgrade"}, out), 0)
      << out << a_.log();
  Json status = ctl_json(a_, {"status"});
  ASSERT_TRUE(status.is_object());
  Json web_window, db_window;
  for (const auto& o : status["objects"]) {
    if (o["name"] == "web") web_window = o.value("maintenance", Json());
    if (o["name"] == "db") db_window = o.value("maintenance", Json());
  }
  ASSERT_TRUE(web_window.is_object()) << status.dump();
  EXPECT_EQ(web_window["reason"], "kernel upgrade");
  EXPECT_EQ(web_window["uid"], getuid());
  EXPECT_GT(web_window["until_unix_ms"].get<std::int64_t>(),
            web_window["set_unix_ms"].get<std::int64_t>() + 3'500'000);
  EXPECT_TRUE(db_window.is_null()) << "db is not in maintenance";
  EXPECT_FALSE(status.contains("maintenance")) << "no window for the node";
  ASSERT_EQ(a_.ctl({"status"}, out), 0);
  EXPECT_NE(out.find("web in maintenance until"), std::string::npos) << out;

  kill_web_in_maintenance();

  // db is not covered: its recovery runs as always.
  const pid_t db = a_.service_pid("db");
  ASSERT_EQ(kill(db, SIGKILL), 0);
  EXPECT_GT(a_.wait_new_pid("db", db), 0) << a_.log();

  ASSERT_EQ(a_.ctl({"maintenance", "web", "--end"}, out), 0) << out;
  // The rule still fires at the end: web's recovery runs now.
  const pid_t again = a_.wait_new_pid("web", web_);
  EXPECT_GT(again, 0) << a_.log();
  EXPECT_EQ(count_events(a_.events(), "Maintenance", "raise"), 1);
  EXPECT_EQ(count_events(a_.events(), "Maintenance", "clear"), 1);
  ASSERT_EQ(a_.ctl({"events", "--object", "web"}, out), 0);
  EXPECT_NE(out.find("maintenance of web ended: ended by uid " + std::to_string(getuid())),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("(in maintenance)"), std::string::npos) << out;
  EXPECT_EQ(ctl_json(a_, {"maintenance"})["windows"].size(), 0u);
  EXPECT_EQ(a_.ctl({"maintenance", "web", "--end"}, out), 1) << "no window any more";
}

// A window set again for the same object replaces the one before, whose end the history
// records (each window's start has its end), and the replacement is the one that ends later.
TEST_F(Maintenance, AReplacedWindowsEndIsRecorded) {
  std::string out;
  ASSERT_EQ(a_.ctl({"maintenance", "web", "--for", "1h", "--reason", "first"}, out), 0) << out;
  ASSERT_EQ(a_.ctl({"maintenance", "web", "--for", "2h", "--reason", "second"}, out), 0) << out;
  ASSERT_TRUE(Amatad::wait_for([&] {
    return count_events(a_.events(), "Maintenance", "raise") == 2 &&
           count_events(a_.events(), "Maintenance", "clear") == 1;
  })) << a_.log();
  ASSERT_EQ(a_.ctl({"events", "--object", "web"}, out), 0);
  EXPECT_NE(out.find("replaced by uid " + std::to_string(getuid())), std::string::npos) << out;
  Json windows = ctl_json(a_, {"maintenance"})["windows"];
  ASSERT_EQ(windows.size(), 1u) << windows.dump();
  EXPECT_EQ(windows[0]["reason"], "second");
  ASSERT_EQ(a_.ctl({"maintenance", "web", "--end"}, out), 0) << out;
  EXPECT_TRUE(Amatad::wait_for([&] {
    return count_events(a_.events(), "Maintenance", "clear") == 2;
  })) << a_.log();
}

TEST_F(Maintenance, AWindowEndsByItselfAndWhatDiedMeanwhileIsRecovered) {
  std::string out;
  ASSERT_EQ(a_.ctl({"maintenance", "web", "--for", "5s", "--reason", "short"}, out), 0) << out;
  kill_web_in_maintenance();
  // Expired: recovered without anyone asking.
  EXPECT_GT(a_.wait_new_pid("web", web_, 15), 0) << a_.log();
  ASSERT_TRUE(Amatad::wait_for([&] {
    return count_events(a_.events(), "Maintenance", "clear") == 1;
  })) << a_.log();
  ASSERT_EQ(a_.ctl({"events", "--object", "web"}, out), 0);
  EXPECT_NE(out.find("maintenance of web ended: expired"), std::string::npos) << out;
}

TEST_F(Maintenance, ANodeWindowSurvivesARestartOfAmatad) {
  std::string out;
  ASSERT_EQ(a_.ctl({"maintenance", "--node", "--for", "2h", "--reason", "rack move"}, out), 0)
      << out;
  ASSERT_EQ(a_.stop(SIGTERM), 0);
  a_.start({"--backend", "interp"});
  web_ = a_.wait_new_pid("web", web_);
  ASSERT_GT(web_, 0) << a_.log();
  ASSERT_TRUE(a_.wait_for_log("console on"));

  Json windows = ctl_json(a_, {"maintenance"})["windows"];
  ASSERT_EQ(windows.size(), 1u) << windows.dump();
  EXPECT_TRUE(windows[0]["object"].is_null());
  EXPECT_EQ(windows[0]["reason"], "rack move");
  Json status = ctl_json(a_, {"status"});
  EXPECT_EQ(status["maintenance"]["reason"], "rack move") << status.dump();
  for (const auto& o : status["objects"]) {
    EXPECT_EQ(o["maintenance"]["reason"], "rack move") << "the node's window covers " << o["name"];
  }
  // Not only listed: in force.
  kill_web_in_maintenance("the node");
  ASSERT_EQ(a_.ctl({"maintenance", "--node", "--end"}, out), 0) << out;
  EXPECT_GT(a_.wait_new_pid("web", web_), 0) << a_.log();
}

TEST_F(Maintenance, NonsenseIsRefusedWithAClearErrorAndNoWindow) {
  std::string out;
  EXPECT_EQ(a_.ctl({"maintenance", "nosuch", "--for", "1h", "--reason", "x"}, out), 1);
  EXPECT_NE(out.find("no object named nosuch"), std::string::npos) << out;
  EXPECT_EQ(a_.ctl({"maintenance", "web", "--for", "0m", "--reason", "x"}, out), 2) << out;
  EXPECT_EQ(a_.ctl({"maintenance", "web", "--for", "30d", "--reason", "x"}, out), 2) << out;
  EXPECT_EQ(a_.ctl({"maintenance", "web", "--reason", "x"}, out), 2) << out;
  EXPECT_EQ(a_.ctl({"maintenance", "web", "--for", "1h"}, out), 2) << out;
  EXPECT_NE(out.find("--reason"), std::string::npos) << out;
  EXPECT_EQ(a_.ctl({"maintenance", "web", "--node", "--for", "1h", "--reason", "x"}, out), 2);
  EXPECT_EQ(a_.ctl({"maintenance", "--node", "--end"}, out), 1) << out;
  EXPECT_NE(out.find("the node is not in maintenance"), std::string::npos) << out;
  EXPECT_EQ(ctl_json(a_, {"maintenance"})["windows"].size(), 0u);
}

}  // namespace
}  // namespace amata::itest
