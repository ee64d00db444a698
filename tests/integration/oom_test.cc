// A service the kernel's OOM killer ends is told apart from one killed by hand: oom_killed
// rises, the OomKilled event is raised and amatad logs the verdict. The service runs in a
// memory cgroup of the test's own, so the OOM kill is real but stays inside it.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <string>

#include "probes/test_memory_cgroup.h"
#include "tests/integration/amatad_harness.h"

namespace amata::itest {
namespace {

bool raised(const Amatad& a, const std::string& event, const std::string& object) {
  for (const auto& e : a.events()) {
    if (e.event == event && e.edge == "raise" && !e.objects.empty() && e.objects[0] == object) {
      return true;
    }
  }
  return false;
}

TEST(OomKill, AServiceTheOomKillerEndsIsToldFromOneKilledByHand) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root for cgroups and the kernel log";
  probes::TestMemoryCgroup cgroup(32 << 20);
  if (cgroup.path().empty()) GTEST_SKIP() << cgroup.why();
  Amatad a;
  // hog joins the limited cgroup, then asks for 1 GiB; bystander is killed by the test.
  a.write_policy(
      "policy oom\n"
      "service hog {\n"
      "  start \"/bin/sh\" \"-c\" \"echo $$ > " +
      cgroup.path() +
      "/cgroup.procs && exec /usr/bin/python3 -c 'x = bytearray(1 << 30)'\"\n"
      "}\n" +
      sleeper_service("bystander") +
      "discover oomed(s: service) when s.oom_killed raise OomKilled(s)\n"
      "discover died(s: service) when not s.alive and not s.oom_killed "
      "raise Died(s)\n"
      "event OomKilled(s: service) notify_only\n"
      "event Died(s: service) notify_only\n");
  a.start({"--backend", "interp"});
  if (!a.wait_for_log("OOM killer", 20)) {
    if (a.log().find("cannot be told from other SIGKILLs") != std::string::npos) {
      GTEST_SKIP() << "the kernel log is not readable here";
    }
    FAIL() << "no OOM verdict in amatad's log\n" << a.log();
  }
  EXPECT_TRUE(Amatad::wait_for([&] { return raised(a, "OomKilled", "hog"); }, 10)) << a.log();
  EXPECT_FALSE(raised(a, "Died", "hog"));

  const pid_t bystander = a.wait_new_pid("bystander", 0);
  ASSERT_GT(bystander, 0) << a.log();
  ASSERT_EQ(kill(bystander, SIGKILL), 0);
  EXPECT_TRUE(Amatad::wait_for([&] { return raised(a, "Died", "bystander"); }, 10)) << a.log();
  EXPECT_FALSE(raised(a, "OomKilled", "bystander"));
  EXPECT_EQ(a.stop(), 0) << a.log();
}

}  // namespace
}  // namespace amata::itest
