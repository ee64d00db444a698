// amatactl restart|start|stop --wait against the real amatad and real services: the command
// returns once the action has ended, with the exit status of its outcome — 0 when the new
// process runs, 5 when the service cannot come up.
#include <gtest/gtest.h>
#include <signal.h>

#include <nlohmann/json.hpp>
#include <string>

#include "tests/integration/amatad_harness.h"

namespace amata::itest {
namespace {

TEST(ControlWait, RestartWaitReturnsOnceTheNewProcessRunsAndStopWaitOnceItIsGone) {
  Amatad a;
  a.write_policy("policy waits\n" + sleeper_service("web") + kRestartWhenDown);
  a.start({"--backend", "interp"});
  const pid_t first = a.wait_new_pid("web", 0);
  ASSERT_GT(first, 0) << a.log();
  ASSERT_TRUE(a.wait_for_log("console on"));

  std::string out;
  ASSERT_EQ(a.ctl({"restart", "--wait", "web"}, out), 0) << out << a.log();
  // Returned after the restart ended: the old process is gone and the new one runs now, not
  // later (its pidfile is written before it execs sleep, long before the wait's second).
  EXPECT_FALSE(process_alive(first));
  const pid_t second = a.service_pid("web");
  ASSERT_NE(second, first) << out;
  EXPECT_TRUE(process_alive(second));
  EXPECT_NE(out.find("restart web: ok (pid " + std::to_string(second) + ")"), std::string::npos)
      << out;

  ASSERT_EQ(a.ctl({"stop", "--wait", "web"}, out), 0) << out << a.log();
  EXPECT_FALSE(process_alive(second)) << "stop --wait returns once the service is gone";

  ASSERT_EQ(a.ctl({"--json", "start", "--wait", "web"}, out), 0) << out << a.log();
  const auto result = nlohmann::json::parse(out, nullptr, false);
  ASSERT_TRUE(result.is_object()) << out;
  EXPECT_EQ(result["outcome"], "ok");
  EXPECT_GE(result["duration_ms"].get<double>(), 1000) << "a start counts once it ran 1 s";
  const pid_t third = a.service_pid("web");
  EXPECT_NE(third, second);
  EXPECT_TRUE(process_alive(third));
  EXPECT_EQ(result["detail"], "pid " + std::to_string(third));

  EXPECT_EQ(a.ctl({"restart", "--wait", "nosuch"}, out), 1) << out;
  EXPECT_EQ(a.stop(SIGTERM), 0);
}

TEST(ControlWait, AServiceThatExitsAtOnceFailsTheWaitWithExit5) {
  Amatad a;
  // Exits 3 at every start; with a down rule amatad restarts it, backing off, until it gives
  // up: whatever happens meanwhile, the operator's waited restart must not report success.
  a.write_policy(
      "policy crash\n"
      "service crasher { start \"/bin/sh\" \"-c\" \"exit 3\" }\n"
      "discover down(s: service) when not s.alive raise ServiceDown(s)\n"
      "recover ServiceDown(s) { restart s backoff 100ms .. 400ms limit 3 within 1min }\n");
  a.start({"--backend", "interp"});
  ASSERT_TRUE(a.wait_for_log("console on"));
  ASSERT_TRUE(a.wait_for_log("gave up", 20)) << a.log();

  std::string out;
  EXPECT_EQ(a.ctl({"restart", "--wait", "crasher"}, out), 5) << out << a.log();
  EXPECT_NE(out.find("restart crasher: failed"), std::string::npos) << out;
  EXPECT_NE(out.find("exited 3"), std::string::npos) << out;

  ASSERT_EQ(a.ctl({"--json", "start", "--wait", "crasher"}, out), 5) << out << a.log();
  const auto result = nlohmann::json::parse(out, nullptr, false);
  ASSERT_TRUE(result.is_object()) << out;
  EXPECT_EQ(result["outcome"], "failed");
  EXPECT_EQ(result["verb"], "start");
  EXPECT_EQ(a.stop(SIGTERM), 0);
}

}  // namespace
}  // namespace amata::itest
