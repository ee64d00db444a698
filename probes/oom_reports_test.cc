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
  auto global = parse_oom_kill_record(
      "3,1187,10531560773,-;Out of memory: Killed process 4242 (python3) "
      "total-vm:1059620kB, anon-rss:1042596kB, file-rss:0kB, shmem-rss:0kB, UID:0 "
      "pgtables:2100kB oom_score_adj:0");
  ASSERT_TRUE(global);
  EXPECT_EQ(global->pid, 4242);
  EXPECT_EQ(global->seq, 1187u);
  EXPECT_EQ(parse_oom_kill_record("3,90,55,-;Memory cgroup out of memory: Killed process 77 "
                                  "(stress) total-vm:40000kB\n SUBSYSTEM=memory")
                ->pid,
            77);
  // vm.oom_kill_allocating_task=1
  EXPECT_EQ(parse_oom_kill_record(
                "3,91,56,-;Out of memory (oom_kill_allocating_task): Killed process 78 (x)")
                ->pid,
            78);
  // Linux 4.x: the kill is a line of its own.
  EXPECT_EQ(parse_oom_kill_record("3,12,99,-;Killed process 1234 (java) total-vm:100kB")->pid,
            1234);
  EXPECT_EQ(parse_kmsg_sequence("6,2285,10531561123,-;systemd-shutdown[1]: Exiting."), 2285u);
}

TEST(OomRecord, OtherLinesAreNotKills) {
  EXPECT_FALSE(parse_oom_kill_record("6,1,2,-;oom_reaper: reaped process 4242 (python3)"));
  EXPECT_FALSE(parse_oom_kill_record("6,1,2,-;myapp: Killed process 4242 (x) by hand"));
  EXPECT_FALSE(parse_oom_kill_record("Out of memory: Killed process 4242 (no header)"));
  EXPECT_FALSE(parse_oom_kill_record("3,1,2,-;Out of memory: Killed process -3 (x)"));
  EXPECT_FALSE(parse_oom_kill_record("3,1,2,-;Out of memory: Killed process 99999999999 (x)"));
  EXPECT_FALSE(parse_oom_kill_record("3,1,2,-;Out of memory: Killed process "));
  // Written into the log by a program (facility user, 14 = user.info): not the kernel's word.
  EXPECT_FALSE(parse_oom_kill_record("14,5,6,-;Out of memory: Killed process 4242 (x)"));
  EXPECT_FALSE(parse_kmsg_sequence("3,x,2,-;text"));
}

// A real OOM kill: a child in a cgroup of its own with a 32 MiB limit touches memory until
// the kernel kills it; the report must name it, and a process killed by hand must not be.
TEST(OomReports, SeesARealOomKillAndOnlyIt) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root for cgroups and the kernel log";
  auto reports = OomReports::open();
  if (!reports) GTEST_SKIP() << reports.error().message;
  const std::uint64_t started = reports->mark();
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
  EXPECT_TRUE(reports->killed(hog, started));
  EXPECT_FALSE(reports->killed(bystander, started));
  // A process that started after the report (a pid used again) was not that victim.
  EXPECT_FALSE(reports->killed(hog, reports->mark()));
}

}  // namespace
}  // namespace amata::probes
