#include "probes/oom_reports.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "probes/test_memory_cgroup.h"

namespace amata::probes {
namespace {

TEST(OomRecord, TheKernelsReportsAcrossVersions) {
  // Linux 5.0+ (mm/oom_kill.c __oom_kill_process), global and cgroup OOM.
  EXPECT_EQ(parse_oom_kill_record(
                "3,1187,10531560773,-;Out of memory: Killed process 4242 (python3) "
                "total-vm:1059620kB, anon-rss:1042596kB, file-rss:0kB, shmem-rss:0kB, UID:0 "
                "pgtables:2100kB oom_score_adj:0"),
            4242);
  EXPECT_EQ(parse_oom_kill_record("3,90,55,-;Memory cgroup out of memory: Killed process 77 "
                                  "(stress) total-vm:40000kB\n SUBSYSTEM=memory"),
            77);
  // Linux 4.x: the kill is a line of its own.
  EXPECT_EQ(parse_oom_kill_record("3,12,99,-;Killed process 1234 (java) total-vm:100kB"), 1234);
}

TEST(OomRecord, OtherLinesAreNotKills) {
  EXPECT_FALSE(parse_oom_kill_record("6,1,2,-;oom_reaper: reaped process 4242 (python3)"));
  EXPECT_FALSE(parse_oom_kill_record("6,1,2,-;myapp: Killed process 4242 (x) by hand"));
  EXPECT_FALSE(parse_oom_kill_record("Out of memory: Killed process 4242 (no header)"));
  EXPECT_FALSE(parse_oom_kill_record("3,1,2,-;Out of memory: Killed process -3 (x)"));
  EXPECT_FALSE(parse_oom_kill_record("3,1,2,-;Out of memory: Killed process 99999999999 (x)"));
  EXPECT_FALSE(parse_oom_kill_record("3,1,2,-;Out of memory: Killed process "));
}

// A real OOM kill: a child in a cgroup of its own with a 32 MiB limit touches memory until
// the kernel kills it; the report must name it, and a process killed by hand must not be.
TEST(OomReports, SeesARealOomKillAndOnlyIt) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root for cgroups and the kernel log";
  auto reports = OomReports::open();
  if (!reports) GTEST_SKIP() << reports.error().message;
  TestMemoryCgroup cgroup(32 << 20);
  if (cgroup.path().empty()) GTEST_SKIP() << cgroup.why();
  const std::string& dir = cgroup.path();

  const pid_t hog = fork();
  ASSERT_GE(hog, 0);
  if (hog == 0) {
    alarm(30);
    if (!TestMemoryCgroup::write(dir + "/cgroup.procs", std::to_string(getpid()))) _exit(3);
    for (;;) {
      auto* block = static_cast<char*>(malloc(1 << 20));
      if (block == nullptr) _exit(4);
      memset(block, 1, 1 << 20);  // touched, so it is resident
    }
  }
  int status = 0;
  ASSERT_EQ(waitpid(hog, &status, 0), hog);
  const pid_t bystander = fork();
  if (bystander == 0) pause();
  kill(bystander, SIGKILL);
  waitpid(bystander, nullptr, 0);

  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "status " << status;
  EXPECT_TRUE(reports->killed(hog));
  EXPECT_FALSE(reports->killed(bystander));
}

}  // namespace
}  // namespace amata::probes
