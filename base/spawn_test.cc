#include "base/spawn.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "base/pidfd.h"
#include "base/proc_stat.h"

namespace amata::base {
namespace {

class SpawnTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/amata-spawn-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }

  SpawnSpec sh(const std::string& script) {
    SpawnSpec spec;
    spec.argv = {"/bin/sh", "-c", script};
    spec.env = {"PATH=/usr/bin:/bin"};
    spec.log_path = dir_ + "/log";
    return spec;
  }

  /// Waits (at most 10 s) for the child to end and reaps it.
  static ExitStatus reap(Spawned& child) {
    pollfd p{child.pidfd.get(), POLLIN, 0};
    EXPECT_EQ(poll(&p, 1, 10'000), 1);
    auto status = try_reap(child.pidfd.get());
    EXPECT_TRUE(status.ok() && status->has_value());
    return status.ok() && status->has_value() ? **status : ExitStatus::unknown();
  }

  std::string log() const {
    std::ifstream in(dir_ + "/log");
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  std::string dir_;
};

// A program that cannot run: told at once, and the child, which must still be reaped, exits
// 127 with the reason in its log (the supervisor sees that as any other death).
TEST_F(SpawnTest, AMissingProgramIsToldAndExits127WithItsReasonLogged) {
  SpawnSpec spec = sh("");
  spec.argv = {dir_ + "/no-such-program"};
  auto child = spawn(spec);
  ASSERT_TRUE(child.ok()) << child.error().message;
  EXPECT_NE(child->start_failure.find("execve: No such file or directory"), std::string::npos)
      << child->start_failure;
  const ExitStatus status = reap(*child);
  EXPECT_TRUE(status.known);
  EXPECT_EQ(status.exit_code, 127);
  EXPECT_NE(log().find("cannot start " + dir_ + "/no-such-program: errno 2 in execve"),
            std::string::npos)
      << log();
}

// A failure before the exec is told whole, after the start time the child sends first.
TEST_F(SpawnTest, AWorkdirThatDoesNotExistIsTold) {
  SpawnSpec spec = sh("true");
  spec.workdir = dir_ + "/no-such-dir";
  auto child = spawn(spec);
  ASSERT_TRUE(child.ok()) << child.error().message;
  EXPECT_NE(child->start_failure.find("chdir: No such file or directory"), std::string::npos)
      << child->start_failure;
  EXPECT_NE(child->start_ticks, 0U);
  EXPECT_EQ(reap(*child).exit_code, 127);
}

// The child gets stdin, stdout and stderr and no other descriptor of ours, even one opened
// without O_CLOEXEC.
TEST_F(SpawnTest, TheChildHasItsStdioAndNothingElseOfOurs) {
  const int leaked = 50;
  ASSERT_EQ(dup2(STDIN_FILENO, leaked), leaked);  // dup2: no O_CLOEXEC, on purpose
  auto child = spawn(sh("ls /proc/self/fd; echo to-stderr >&2"));
  ASSERT_TRUE(child.ok()) << child.error().message;
  EXPECT_EQ(child->start_failure, "");
  EXPECT_EQ(reap(*child).exit_code, 0);
  // ls lists 0 1 2 and the directory it reads (3), not 50.
  std::istringstream fds(log());
  std::string fd, listed;
  while (fds >> fd) listed += fd + " ";
  EXPECT_EQ(listed, "0 1 2 3 to-stderr ");
  close(leaked);
}

// The start time comes back with the child, read by the child itself before its exec, and
// is the one /proc/PID/stat gives later: with the memory shared until exec, and with fork()
// (an id change, here to our own user).
TEST_F(SpawnTest, TheStartTimeIsTheOneProcTellsLater) {
  for (const bool change_ids : {false, true}) {
    SpawnSpec spec = sh("exec sleep 30");
    if (change_ids) spec.user = getpwuid(getuid())->pw_name;
    auto child = spawn(spec);
    ASSERT_TRUE(child.ok()) << child.error().message;
    auto later = process_start_time(child->pid);
    ASSERT_TRUE(later.ok()) << later.error().message;
    EXPECT_NE(child->start_ticks, 0U);
    EXPECT_EQ(child->start_ticks, *later) << "change_ids " << change_ids;
    kill(child->pid, SIGKILL);
    reap(*child);
  }
}

}  // namespace
}  // namespace amata::base
