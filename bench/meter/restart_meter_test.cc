// The meter against a supervisor played by the test itself: it starts a service that writes
// its pidfile, the meter kills it, the test starts a new one.
#include "bench/meter/restart_meter.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace amata::meter {
namespace {

namespace fs = std::filesystem;

std::string make_temp_dir() {
  char tmpl[] = "/tmp/amata-meter-XXXXXX";
  return mkdtemp(tmpl) ? tmpl : "";
}

class RestartMeterTest : public ::testing::Test {
 protected:
  ~RestartMeterTest() override {
    for (pid_t pid : children_) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  /// Starts a service as recovery_bench's are: a shell that writes its pid, then execs sleep.
  pid_t start_service() {
    pid_t pid = fork();
    if (pid == 0) {
      std::string script = "echo $$ > " + pidfile_ + "; exec sleep 100";
      execl("/bin/sh", "sh", "-c", script.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    children_.push_back(pid);
    return pid;
  }

  /// Waits until the pidfile names `pid`.
  bool wait_for_pidfile(pid_t pid) {
    for (int i = 0; i < 500; ++i) {
      auto f = read_pidfile(pidfile_);
      if (f && f->pid == pid) return true;
      usleep(10000);
    }
    return false;
  }

  /// Reaps the killed service and starts the next, as a supervisor does.
  pid_t restart(pid_t old) {
    waitpid(old, nullptr, 0);
    std::erase(children_, old);
    return start_service();
  }

  bool wait_all_running(RestartMeter& meter) {
    std::int64_t deadline = now_ns() + 5000000000LL;
    while (!meter.all_running() && now_ns() < deadline) meter.wait(10000000);
    return meter.all_running();
  }

  const std::string dir_ = make_temp_dir();
  const std::string pidfile_ = dir_ + "/svc.pid";
  std::vector<pid_t> children_;
};

TEST_F(RestartMeterTest, ReadsThePidAndTheServicesOwnStamps) {
  ASSERT_FALSE(dir_.empty());
  EXPECT_FALSE(read_pidfile(pidfile_));  // missing
  std::ofstream(pidfile_) << "";
  EXPECT_FALSE(read_pidfile(pidfile_));  // written, but not yet
  std::ofstream(pidfile_) << "1234\n";
  auto bare = read_pidfile(pidfile_);
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->pid, 1234);
  EXPECT_EQ(bare->started_ns, 0);
  EXPECT_EQ(bare->listening_ns, 0);
  std::ofstream(pidfile_) << "1234\n5000000000 5000300000\n";
  auto stamped = read_pidfile(pidfile_);
  ASSERT_TRUE(stamped);
  EXPECT_EQ(stamped->started_ns, 5000000000);
  EXPECT_EQ(stamped->listening_ns, 5000300000);
  EXPECT_EQ(stamped->start_cpu_ns, -1);
  std::ofstream(pidfile_) << "1234\n5000000000 5000300000\n700000 2500000\n";
  auto costed = read_pidfile(pidfile_);
  ASSERT_TRUE(costed);
  EXPECT_EQ(costed->start_cpu_ns, 700000);
  EXPECT_EQ(costed->start_run_delay_ns, 2500000);
}

TEST_F(RestartMeterTest, TimesKillDeathAndTheNewProcess) {
  pid_t old = start_service();
  ASSERT_TRUE(wait_for_pidfile(old));
  RestartMeter meter({.pidfile_events = IN_CLOSE_WRITE, .pidfds = true, .supervisor = getpid()});
  ASSERT_TRUE(meter.ok());
  ASSERT_TRUE(meter.add(pidfile_, old));
  EXPECT_FALSE(meter.all_running());
  ASSERT_TRUE(meter.kill(0));
  pid_t fresh = restart(old);
  ASSERT_TRUE(wait_all_running(meter));
  meter.settle(20000000);

  const Restart& r = meter.restart(0);
  EXPECT_EQ(r.old_pid, old);
  EXPECT_EQ(r.running.pid, fresh);
  EXPECT_GT(r.kill_ns, 0);
  ASSERT_GE(r.dead_ns, 0);  // the pidfd, at least
  EXPECT_LE(r.dead_ns, r.running_ns);
  EXPECT_LE(r.kill_ns, r.running_ns);
  if (!meter.connected()) GTEST_SKIP() << "no proc connector (needs CAP_NET_ADMIN)";
  EXPECT_TRUE(r.dead_exact);
  EXPECT_GE(r.dead_ns, r.kill_ns);
  EXPECT_GE(meter.fork_ns(fresh), r.dead_ns);  // we forked it after reaping the old one
  EXPECT_GE(meter.exec_ns(fresh), meter.fork_ns(fresh));
  EXPECT_EQ(meter.fork_ns(old), -1);  // forked before the meter listened
}

TEST_F(RestartMeterTest, RoundsReuseTheMeter) {
  pid_t pid = start_service();
  ASSERT_TRUE(wait_for_pidfile(pid));
  RestartMeter meter({});
  for (int round = 0; round < 3; ++round) {
    meter.clear();
    ASSERT_TRUE(meter.add(pidfile_, pid));
    ASSERT_TRUE(meter.kill(0));
    pid_t next = restart(pid);
    ASSERT_TRUE(wait_all_running(meter)) << "round " << round;
    EXPECT_EQ(meter.restart(0).running.pid, next);
    pid = next;
  }
  EXPECT_EQ(meter.size(), 1u);
}

// The services here write their pidfile in place (IN_CLOSE_WRITE); a meter that watches for
// renames only never hears of it, and sees the new process at its next sweep, or never.
TEST_F(RestartMeterTest, TheSweepFindsAPidfileNoWatchedEventAnnounced) {
  pid_t pid = start_service();
  ASSERT_TRUE(wait_for_pidfile(pid));
  {
    RestartMeter deaf({.pidfile_events = IN_MOVED_TO});
    ASSERT_TRUE(deaf.add(pidfile_, pid));
    ASSERT_TRUE(deaf.kill(0));
    pid = restart(pid);
    ASSERT_TRUE(wait_for_pidfile(pid));
    for (int i = 0; i < 10; ++i) deaf.wait(10000000);
    EXPECT_FALSE(deaf.all_running());
  }
  RestartMeter sweeping({.pidfile_events = IN_MOVED_TO, .sweep_ns = 20000000});
  ASSERT_TRUE(sweeping.add(pidfile_, pid));
  ASSERT_TRUE(sweeping.kill(0));
  pid_t fresh = restart(pid);
  ASSERT_TRUE(wait_all_running(sweeping));
  const Restart& r = sweeping.restart(0);
  EXPECT_EQ(r.running.pid, fresh);
  EXPECT_GT(r.running_ns - r.kill_ns, 20000000);  // the first sweep, 20 ms after the kill
}

}  // namespace
}  // namespace amata::meter
