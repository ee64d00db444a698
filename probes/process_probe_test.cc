// Real processes: children of this test, found by pidfile, by regex through the proc
// connector, or handed over as the engine's child; killed, and seen dying.
#include "probes/process_probe.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <string>
#include <thread>

#include "probes/test_loop.h"
#include "probes/test_sink.h"

namespace amata::probes {
namespace {

using namespace std::chrono_literals;

/// Starts `sleep ARG` as a child; the test kills and reaps it (by pid) before returning.
pid_t spawn_sleep(const char* arg) {
  pid_t pid = fork();
  if (pid == 0) {
    execl("/bin/sleep", "sleep", arg, static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
}

/// Kills and reaps a child this test started.
void kill_and_reap(pid_t pid) {
  if (pid <= 0) return;
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
}

class ProcessProbeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    loop_ = base::EventLoop::create().value();
    snprintf(dir_, sizeof dir_, "/tmp/amata-pp-%d", getpid());
    mkdir(dir_, 0700);
    pidfile_ = std::string(dir_) + "/svc.pid";
  }
  void TearDown() override {
    set_.reset();
    for (pid_t pid : children_) kill_and_reap(pid);
    unlink(pidfile_.c_str());
    rmdir(dir_);
  }

  void make_set(bool proc_connector) {
    ProbeOptions options;
    options.use_proc_connector = proc_connector;
    set_ = ProbeSet::create(*loop_, sink_, options).value();
  }

  void write_pidfile(pid_t pid) { std::ofstream(pidfile_) << pid << "\n"; }

  template <typename Pred>
  bool run_until(Pred done) {
    return run_loop_until(*loop_, done);
  }

  std::unique_ptr<base::EventLoop> loop_;
  TestSink sink_;
  std::unique_ptr<ProbeSet> set_;
  std::vector<pid_t> children_;
  char dir_[64]{};
  std::string pidfile_;
};

TEST_F(ProcessProbeTest, KilledProcessSeenThroughPidfd) {
  make_set(/*proc_connector=*/false);
  pid_t child = spawn_sleep("100");
  children_.push_back(child);
  // Wait until the child has exec'd, so its start time is settled.
  ASSERT_TRUE(run_until([&] {
    auto t = read_small_file("/proc/" + std::to_string(child) + "/cmdline");
    return t.ok() && t->rfind("sleep", 0) == 0;
  }));
  write_pidfile(child);
  catalog::ObjectSpec spec;
  spec.name = "p";
  spec.kind = catalog::Kind::kProcess;
  spec.pidfile = pidfile_;
  ASSERT_TRUE(set_->add(0, spec));
  set_->poll_all();
  ASSERT_EQ(sink_.number(0, "alive"), 1);
  EXPECT_EQ(sink_.number(0, "pid"), child);
  // Known, but maybe 0: the kernel's per-CPU RSS counters lag for a process that just exec'd.
  EXPECT_GE(sink_.number(0, "rss"), 0);
  EXPECT_EQ(sink_.number(0, "threads"), 1);
  EXPECT_EQ(sink_.number(0, "children"), 0);
  EXPECT_GE(sink_.number(0, "fds"), 3);
  int changes = sink_.changes(0);
  kill(child, SIGKILL);
  // No poll: the pidfd on the loop reports the death.
  ASSERT_TRUE(run_until([&] { return sink_.changes(0) > changes; }));
  EXPECT_EQ(sink_.number(0, "alive"), 0);
  EXPECT_EQ(sink_.number(0, "pid"), 0);
  // Without the proc connector the status comes from the pidfd once the parent (this test)
  // has reaped the process — on kernels with PIDFD_GET_INFO exit info (6.15+).
  EXPECT_FALSE(sink_.has(0, "exit_signal"));
  waitpid(child, nullptr, 0);
  children_.clear();
  utsname u{};
  uname(&u);
  int major = 0, minor = 0;
  std::sscanf(u.release, "%d.%d", &major, &minor);
  if (major < 6 || (major == 6 && minor < 15))
    GTEST_SKIP() << "no pidfd exit info on " << u.release;
  ASSERT_TRUE(run_until([&] { return sink_.has(0, "exit_signal"); }));
  EXPECT_EQ(sink_.number(0, "exit_signal"), SIGKILL);
  EXPECT_EQ(sink_.number(0, "exit_code"), -1);
}

TEST_F(ProcessProbeTest, ProcConnectorAdoptsOnExecAndReportsExitStatus) {
  make_set(/*proc_connector=*/true);
  if (!sink_.notices().empty()) GTEST_SKIP() << sink_.notices()[0].second;
  catalog::ObjectSpec spec;
  spec.name = "p";
  spec.kind = catalog::Kind::kProcess;
  spec.match = "^sleep 3141\\.5$";
  ASSERT_TRUE(set_->add(0, spec));
  ASSERT_TRUE(sink_.notices().empty()) << sink_.notices()[0].second;
  set_->poll_all();
  ASSERT_EQ(sink_.number(0, "alive"), 0);
  pid_t child = spawn_sleep("3141.5");
  children_.push_back(child);
  // No poll: the EXEC event makes the probe look at the new process at once.
  ASSERT_TRUE(run_until([&] { return sink_.number(0, "alive") == 1; }));
  EXPECT_EQ(sink_.number(0, "pid"), child);
  kill(child, SIGTERM);
  ASSERT_TRUE(run_until([&] { return sink_.number(0, "exit_signal") == SIGTERM; }));
  EXPECT_EQ(sink_.number(0, "alive"), 0);
  EXPECT_EQ(sink_.number(0, "exit_code"), -1);
}

TEST_F(ProcessProbeTest, ProcConnectorReportsExitCode) {
  make_set(/*proc_connector=*/true);
  catalog::ObjectSpec spec;
  spec.name = "p";
  spec.kind = catalog::Kind::kProcess;
  spec.match = "^/bin/sh -c sleep 0\\.5; exit 7$";
  ASSERT_TRUE(set_->add(0, spec));
  if (!sink_.notices().empty()) GTEST_SKIP() << sink_.notices()[0].second;
  pid_t child = fork();
  if (child == 0) {
    execl("/bin/sh", "/bin/sh", "-c", "sleep 0.5; exit 7", static_cast<char*>(nullptr));
    _exit(127);
  }
  children_.push_back(child);
  ASSERT_TRUE(run_until([&] { return sink_.number(0, "pid") == child; }));
  ASSERT_TRUE(run_until([&] { return sink_.has(0, "exit_code"); }));
  EXPECT_EQ(sink_.number(0, "exit_code"), 7);
  EXPECT_EQ(sink_.number(0, "exit_signal"), 0);
  EXPECT_EQ(sink_.number(0, "alive"), 0);
}

TEST_F(ProcessProbeTest, StalePidfileIsNotTrusted) {
  make_set(false);
  pid_t child = spawn_sleep("100");
  children_.push_back(child);
  ASSERT_TRUE(run_until([&] {
    auto t = read_small_file("/proc/" + std::to_string(child) + "/cmdline");
    return t.ok() && t->rfind("sleep", 0) == 0;
  }));
  write_pidfile(child);
  // The file claims to be an hour old: the process it names started after it was written,
  // so that pid was reused by another program.
  timespec times[2];
  clock_gettime(CLOCK_REALTIME, &times[0]);
  times[0].tv_sec -= 3600;
  times[1] = times[0];
  ASSERT_EQ(utimensat(AT_FDCWD, pidfile_.c_str(), times, 0), 0);
  catalog::ObjectSpec spec;
  spec.name = "p";
  spec.kind = catalog::Kind::kProcess;
  spec.pidfile = pidfile_;
  ASSERT_TRUE(set_->add(0, spec));
  set_->poll_all();
  EXPECT_EQ(sink_.number(0, "alive"), 0);
  // A fresh pidfile is believed.
  ASSERT_EQ(utimensat(AT_FDCWD, pidfile_.c_str(), nullptr, 0), 0);
  set_->poll_all();
  EXPECT_EQ(sink_.number(0, "alive"), 1);

  // A service whose program is not `sleep` does not accept the sleep's pid.
  catalog::ObjectSpec svc;
  svc.name = "svc";
  svc.kind = catalog::Kind::kService;
  svc.pidfile = pidfile_;
  svc.start = {"/usr/sbin/mydaemon", "--foreground"};
  ASSERT_TRUE(set_->add(1, svc));
  set_->poll_all();
  EXPECT_FALSE(sink_.has(1, "rss"));  // nothing measured
}

TEST_F(ProcessProbeTest, AServiceMeasuresTheChildTheEngineFollows) {
  make_set(false);
  catalog::ObjectSpec spec;
  spec.name = "svc";
  spec.kind = catalog::Kind::kService;
  spec.start = {"/bin/sleep", "100"};
  ASSERT_TRUE(set_->add(0, spec));
  set_->poll_all();
  // A service's alive and pid are the supervisor's to write, never its probe's.
  EXPECT_FALSE(sink_.has(0, "alive"));
  pid_t child = spawn_sleep("100");
  children_.push_back(child);
  ASSERT_TRUE(set_->follow(0, child));
  EXPECT_FALSE(sink_.has(0, "alive"));
  EXPECT_FALSE(sink_.string(0, "state").empty());
  ASSERT_TRUE(loop_->run_once(300ms));
  set_->poll_all();
  EXPECT_TRUE(sink_.has(0, "cpu"));  // second sample: a rate
  EXPECT_GE(sink_.number(0, "cpu"), 0);
  EXPECT_GE(sink_.number(0, "uptime"), 0);
  // Dead before the engine reaped it: the probe says its figures are unknown, and no more.
  kill(child, SIGKILL);
  siginfo_t info{};
  ASSERT_EQ(waitid(P_PID, static_cast<id_t>(child), &info, WEXITED | WNOWAIT), 0);
  set_->poll_all();
  EXPECT_FALSE(sink_.has(0, "rss"));
  EXPECT_FALSE(sink_.has(0, "alive"));
  EXPECT_FALSE(sink_.has(0, "exit_signal"));
  ASSERT_EQ(waitid(P_PID, static_cast<id_t>(child), &info, WEXITED), 0);
  children_.clear();
  ASSERT_TRUE(set_->follow(0, 0));
  EXPECT_FALSE(sink_.has(0, "alive"));
  // Not a service: refused.
  catalog::ObjectSpec node;
  node.name = "n";
  node.kind = catalog::Kind::kNode;
  ASSERT_TRUE(set_->add(1, node));
  EXPECT_FALSE(set_->follow(1, getpid()));
}

TEST_F(ProcessProbeTest, ChildrenOfEveryThreadAreCounted) {
  make_set(false);
  write_pidfile(getpid());  // this test process: a thread of it forks one child, main another
  catalog::ObjectSpec spec;
  spec.name = "me";
  spec.kind = catalog::Kind::kProcess;
  spec.pidfile = pidfile_;
  ASSERT_TRUE(set_->add(0, spec));
  set_->poll_all();
  ASSERT_EQ(sink_.number(0, "pid"), getpid());
  double before = sink_.number(0, "children");
  pid_t from_thread = 0;
  std::atomic<bool> forked{false}, done{false};
  std::thread worker([&] {
    from_thread = spawn_sleep("100");
    forked = true;
    while (!done) std::this_thread::sleep_for(10ms);  // a child stays with a living thread
  });
  while (!forked) std::this_thread::sleep_for(1ms);
  children_.push_back(from_thread);
  children_.push_back(spawn_sleep("100"));
  set_->poll_all();
  EXPECT_EQ(sink_.number(0, "children"), before + 2);
  EXPECT_GE(sink_.number(0, "threads"), 2);
  done = true;
  worker.join();
}

TEST_F(ProcessProbeTest, FdsCountTheOpenFiles) {
  // On a real /proc: from the fd directory's size on Linux 6.2+, by listing it before (the
  // fixture test in procfs_test.cc counts by listing). Either way the same number.
  make_set(false);
  write_pidfile(getpid());
  catalog::ObjectSpec spec;
  spec.name = "me";
  spec.kind = catalog::Kind::kProcess;
  spec.pidfile = pidfile_;
  ASSERT_TRUE(set_->add(0, spec));
  int fd_dir = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(fd_dir, 0);
  set_->poll_all();
  EXPECT_EQ(sink_.number(0, "fds"), static_cast<double>(*count_dir_entries(fd_dir, false)));
  const double before = sink_.number(0, "fds");
  int more[3];
  for (int& m : more) m = open("/dev/null", O_RDONLY | O_CLOEXEC);
  set_->poll_all();
  EXPECT_EQ(sink_.number(0, "fds"), before + 3);
  for (int m : more) close(m);
  set_->poll_all();
  EXPECT_EQ(sink_.number(0, "fds"), before);
  close(fd_dir);
}

TEST_F(ProcessProbeTest, PeriodicPollingFindsProcessAfterStart) {
  make_set(false);
  catalog::ObjectSpec spec;
  spec.name = "p";
  spec.kind = catalog::Kind::kProcess;
  spec.match = "^sleep 2718\\.5$";
  spec.every = 0.1;
  ASSERT_TRUE(set_->add(0, spec));
  set_->start();
  EXPECT_EQ(sink_.number(0, "alive"), 0);
  pid_t child = spawn_sleep("2718.5");
  children_.push_back(child);
  ASSERT_TRUE(run_until([&] { return sink_.number(0, "pid") == child; }));
  // The period keeps sampling it: a second sample gives cpu %.
  ASSERT_TRUE(run_until([&] { return sink_.has(0, "cpu"); }));
  EXPECT_GE(sink_.number(0, "cpu"), 0);
}

// `match` used std::regex (ECMAScript, backtracking): `(a+)+$` against a command line of 27
// a's and a '!' tries 2^26 ways to split the a's before failing, about 20 s of amatad's loop
// for each scan of /proc. With RE2 the scan is linear in every command line.
TEST_F(ProcessProbeTest, PathologicalMatchScansProcInLinearTime) {
  make_set(false);
  const std::string name = std::string(27, 'a') + "!";
  // cat with its argv[0] set to the name, reading a pipe this test holds open: it waits, and
  // its whole command line is the name.
  int in[2];
  ASSERT_EQ(pipe(in), 0);
  pid_t child = fork();
  if (child == 0) {
    dup2(in[0], STDIN_FILENO);
    close(in[1]);
    execl("/bin/cat", name.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(in[0]);
  children_.push_back(child);
  ASSERT_TRUE(run_until([&] {
    auto t = read_small_file("/proc/" + std::to_string(child) + "/cmdline");
    return t.ok() && t->rfind(name, 0) == 0;
  }));
  catalog::ObjectSpec spec;
  spec.kind = catalog::Kind::kProcess;
  spec.name = "evil";
  spec.match = "(a+)+$";
  ASSERT_TRUE(set_->add(0, spec));
  spec.name = "found";
  spec.match = "^a{27}!$";
  ASSERT_TRUE(set_->add(1, spec));
  const auto start = std::chrono::steady_clock::now();
  set_->poll_all();
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_LT(took, 1s) << std::chrono::duration<double>(took).count() << " s";
  EXPECT_EQ(sink_.number(1, "pid"), child);  // the scan did read the child's command line
  EXPECT_NE(sink_.number(0, "pid"), child);
  close(in[1]);
}

}  // namespace
}  // namespace amata::probes
