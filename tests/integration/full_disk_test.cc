// amatad on a state directory whose filesystem fills up: recovery goes on, what could not be
// written waits in memory and is written when space returns, StoreDegraded is raised and
// cleared, and a kill -9 of amatad meanwhile still ends with exactly one copy of the service.
// The filesystem is a small tmpfs in a mount namespace of the test's own.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "tests/integration/amatad_harness.h"

namespace amata::itest {
namespace {

namespace fs = std::filesystem;

int count_events(const std::vector<store::EventRecord>& events, const std::string& name,
                 const std::string& edge) {
  int n = 0;
  for (const auto& e : events) n += e.event == name && e.edge == edge;
  return n;
}

TEST(FullDisk, RecoveryGoesOnAndNothingIsLostWhenSpaceReturns) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root for a mount namespace";
  ASSERT_EQ(unshare(CLONE_NEWNS), 0);
  ASSERT_EQ(mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr), 0);
  Amatad a;
  ASSERT_EQ(mount("tmpfs", a.state_dir().c_str(), "tmpfs", 0, "size=4m,mode=0700"), 0);
  const std::vector<std::string> argv = {"/bin/sleep", "86400.5" + std::to_string(getpid())};
  a.write_policy("policy full\nservice web {\n  start \"" + argv[0] + "\" \"" + argv[1] +
                 "\"\n  stop TERM then KILL after 1s\n}\n"
                 "discover down(s: service) when not s.alive raise ServiceDown(s)\n"
                 "recover ServiceDown(s) { restart s }\n");
  a.start({"--backend", "interp"});
  std::vector<pid_t> copies;
  auto one_copy = [&] {
    copies = processes_running(argv);
    return copies.size() == 1;
  };
  ASSERT_TRUE(Amatad::wait_for(one_copy)) << a.log();
  ASSERT_TRUE(a.wait_for_log("amatad ready"));

  // Fill the filesystem to the last block.
  const std::string filler = a.state_dir() + "/filler";
  {
    int fd = ::open(filler.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    ASSERT_GE(fd, 0);
    std::string block(4096, 'x');
    while (write(fd, block.data(), block.size()) > 0) {
    }
    close(fd);
  }
  // Faults keep coming: each is recovered at once, whatever the disk.
  for (int i = 0; i < 3; ++i) {
    pid_t old = copies.front();
    ASSERT_EQ(kill(old, SIGKILL), 0);
    ASSERT_TRUE(Amatad::wait_for([&] { return one_copy() && copies.front() != old; })) << a.log();
  }
  ASSERT_TRUE(a.wait_for_log("event store: cannot write")) << a.log();

  // amatad dies while the disk is full: the next one adopts, never doubles.
  a.kill9();
  a.start({"--backend", "interp"});
  ASSERT_TRUE(a.wait_for_log("adopted web")) << a.log();
  EXPECT_TRUE(one_copy());
  pid_t old = copies.front();
  ASSERT_EQ(kill(old, SIGKILL), 0);
  ASSERT_TRUE(Amatad::wait_for([&] { return one_copy() && copies.front() != old; })) << a.log();

  // Space returns: what waited is written.
  fs::remove(filler);
  ASSERT_TRUE(a.wait_for_log("event store writes again", 15)) << a.log();
  ASSERT_TRUE(Amatad::wait_for([&] {
    auto events = a.events();
    return count_events(events, "StoreDegraded", "clear") >= 1 &&
           count_events(events, "ServiceDown", "clear") >= 1;
  })) << a.log();
  auto events = a.events();
  EXPECT_GE(count_events(events, "StoreDegraded", "raise"), 1);
  EXPECT_GE(count_events(events, "ServiceDown", "raise"), 1);
  int restarts = 0;
  for (const auto& action : a.actions())
    restarts += action.kind == "restart" && action.outcome == "ok";
  EXPECT_GE(restarts, 1);
  EXPECT_EQ(a.stop(SIGTERM), 0);
  EXPECT_TRUE(processes_running(argv).empty());
  umount2(a.state_dir().c_str(), MNT_DETACH);
}

TEST(DamagedStore, AmatadMovesItAsideAndStaysUp) {
  Amatad a;
  std::ofstream(a.state_dir() + "/events.db") << "garbage, not SQLite\n";
  a.write_policy("policy damaged\nnode self { every 1s }\n");
  a.start({"--backend", "interp"});
  ASSERT_TRUE(a.wait_for_log("amatad ready")) << a.log();
  EXPECT_TRUE(a.wait_for_log("was damaged: moved aside to"));
  bool aside = false;
  for (const auto& entry : fs::directory_iterator(a.state_dir())) {
    aside |= entry.path().filename().string().rfind("events.db.corrupt-", 0) == 0;
  }
  EXPECT_TRUE(aside);
  EXPECT_EQ(a.stop(SIGTERM), 0);
}

TEST(ReadOnlyState, AmatadSaysSoAndExits1) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root for a mount namespace";
  // A child of its own for the namespace: this test process stays as it was.
  Amatad a;
  a.write_policy("policy ro\nnode self { every 1s }\n");
  std::string out, err;
  pid_t child = fork();
  if (child == 0) {
    if (unshare(CLONE_NEWNS) != 0 ||
        mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
        mount(a.state_dir().c_str(), a.state_dir().c_str(), nullptr, MS_BIND, nullptr) != 0 ||
        mount(nullptr, a.state_dir().c_str(), nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY, nullptr) !=
            0) {
      _exit(100);
    }
    _exit(a.run_to_exit({a.policy_path(), "--state-dir", a.state_dir(), "--socket", "", "--backend",
                         "interp"},
                        out, err) == 1 &&
                  err.find("Read-only file system") != std::string::npos
              ? 0
              : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "amatad did not exit 1 with a clear message";
}

}  // namespace
}  // namespace amata::itest
