#include "base/job.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>

#include "base/pidfd.h"
#include "base/proc_stat.h"

namespace amata::base {
namespace {

using namespace std::chrono_literals;

class JobTest : public ::testing::Test {
 protected:
  void SetUp() override {
    loop_ = EventLoop::create().value();
    char tmpl[] = "/tmp/amata-job-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }

  SpawnSpec sh(const std::string& script) {
    SpawnSpec spec;
    spec.argv = {"/bin/sh", "-c", script};
    spec.env = {"PATH=/usr/bin:/bin"};
    return spec;
  }

  /// Runs `spec` to its end on the loop (at most 10 s of loop time).
  std::optional<Job::Outcome> run(const SpawnSpec& spec, Clock::duration timeout = 5s) {
    std::optional<Job::Outcome> outcome;
    auto job = Job::start(*loop_, spec, timeout, [&](Job::Outcome o) { outcome = std::move(o); });
    EXPECT_TRUE(job) << job.error().message;
    if (!job) return outcome;
    auto deadline = Clock::now() + 10s;
    while (!outcome && Clock::now() < deadline) (void)loop_->run_once(100ms);
    return outcome;
  }

  std::unique_ptr<EventLoop> loop_;
  std::string dir_;
};

TEST_F(JobTest, ReportsTheExitCodeAndTheCapturedOutput) {
  SpawnSpec spec = sh("echo hello; echo to-stderr >&2; exit 3");
  spec.capture_stdout = true;
  auto outcome = run(spec);
  ASSERT_TRUE(outcome);
  EXPECT_EQ(outcome->status, ExitStatus::exited(3));
  EXPECT_FALSE(outcome->ok());
  EXPECT_EQ(outcome->output, "hello\n");  // stdout only: stderr goes to the log
  EXPECT_EQ(outcome->describe(), "exited 3");
}

TEST_F(JobTest, OutputBeyondTheLimitIsReadAndDropped) {
  // 1 MiB through a 64 KiB pipe: the program must not block on a full pipe.
  SpawnSpec spec = sh("head -c 1048576 /dev/zero; exit 0");
  spec.capture_stdout = true;
  std::optional<Job::Outcome> outcome;
  auto job = Job::start(
      *loop_, spec, 5s, [&](Job::Outcome o) { outcome = std::move(o); }, 1000);
  ASSERT_TRUE(job);
  while (!outcome) (void)loop_->run_once(100ms);
  EXPECT_TRUE(outcome->ok()) << outcome->describe();
  EXPECT_EQ(outcome->output.size(), 1000u);
}

TEST_F(JobTest, TheDeadlineKillsTheWholeGroup) {
  // The shell starts a grandchild that would outlive it; the group kill must reach it.
  std::string pidfile = dir_ + "/grandchild";
  auto outcome = run(sh("sleep 60 & echo $! > " + pidfile + "; wait"), 200ms);
  ASSERT_TRUE(outcome);
  EXPECT_TRUE(outcome->timed_out);
  EXPECT_EQ(outcome->status, ExitStatus::killed(SIGKILL));
  EXPECT_NE(outcome->describe().find("timed out after"), std::string::npos);
  std::ifstream in(pidfile);
  pid_t grandchild = 0;
  ASSERT_TRUE(in >> grandchild);
  // Killed, and (its parent gone) reaped by init soon after.
  for (int i = 0; i < 100 && process_start_time(grandchild); ++i) usleep(10'000);
  EXPECT_FALSE(process_start_time(grandchild));
}

TEST_F(JobTest, StdinTextReachesTheProgram) {
  SpawnSpec spec = sh("read a; read b; echo \"$b $a\"");
  spec.stdin_text = "first\nsecond\n";
  spec.capture_stdout = true;
  auto outcome = run(spec);
  ASSERT_TRUE(outcome);
  EXPECT_EQ(outcome->output, "second first\n");
}

TEST_F(JobTest, LogGetsStdoutAndStderrAndTheEnvironmentIsExplicit) {
  SpawnSpec spec = sh("echo \"x=$X\"; echo err >&2; pwd");
  spec.env.push_back("X=42");
  spec.log_path = dir_ + "/log";
  spec.workdir = dir_;
  auto outcome = run(spec);
  ASSERT_TRUE(outcome && outcome->ok());
  std::ifstream in(spec.log_path);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), "x=42\nerr\n" + dir_ + "\n");
}

TEST_F(JobTest, AMissingProgramExitsWith127AndAnUnknownUserIsAnError) {
  SpawnSpec missing;
  missing.argv = {"/nonexistent/program"};
  auto outcome = run(missing);
  ASSERT_TRUE(outcome);
  EXPECT_EQ(outcome->status, ExitStatus::exited(127));
  EXPECT_EQ(outcome->describe(), "/nonexistent/program: execve: No such file or directory");

  SpawnSpec nowhere = sh("true");
  nowhere.workdir = dir_ + "/missing";
  auto spawned = spawn(nowhere);
  ASSERT_TRUE(spawned);
  EXPECT_EQ(spawned->start_failure, "/bin/sh: chdir: No such file or directory");
  kill_and_reap(spawned->pid, spawned->pidfd.get());

  SpawnSpec user = sh("true");
  user.user = "no-such-user-amata";
  EXPECT_FALSE(spawn(user));
  SpawnSpec empty;
  EXPECT_FALSE(spawn(empty));
}

TEST_F(JobTest, TheOwnerMayDestroyTheJobInsideDone) {
  std::unique_ptr<Job> job;
  bool done = false;
  auto started = Job::start(*loop_, sh("exit 0"), 5s, [&](const Job::Outcome&) {
    job.reset();
    done = true;
  });
  ASSERT_TRUE(started);
  job = std::move(*started);
  while (!done) (void)loop_->run_once(100ms);
  EXPECT_EQ(job, nullptr);
}

TEST_F(JobTest, DestroyingARunningJobKillsAndReapsIt) {
  bool called = false;
  auto job = Job::start(*loop_, sh("sleep 60"), 60s, [&](const Job::Outcome&) { called = true; });
  ASSERT_TRUE(job);
  pid_t pid = (*job)->pid();
  ASSERT_TRUE(process_start_time(pid));
  job->reset();
  EXPECT_FALSE(process_start_time(pid));  // killed and reaped: no zombie left
  EXPECT_FALSE(called);
}

TEST(Environment, OverridesReplaceOrAdd) {
  auto env = merge_environment({"A=1", "B=2"}, {{"B", "3"}, {"C", "4"}});
  EXPECT_EQ(env, (std::vector<std::string>{"A=1", "B=3", "C=4"}));
  EXPECT_FALSE(current_environment().empty());
}

}  // namespace
}  // namespace amata::base
