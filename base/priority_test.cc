#include "base/priority.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <thread>

#include "base/pidfd.h"
#include "base/spawn.h"

namespace amata::base {
namespace {

int nice_of(pid_t tid) {
  errno = 0;
  const int nice = getpriority(PRIO_PROCESS, static_cast<id_t>(tid));
  EXPECT_EQ(errno, 0);
  return nice;
}

// Lowering a nice value needs no privilege, so the tests run a few levels below their own.
class PriorityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    own_ = nice_of(0);
    if (own_ > 16) GTEST_SKIP() << "already at nice " << own_;
    set_background_nice(own_ + 3);
  }
  void TearDown() override { set_background_nice(std::nullopt); }

  static Spawned sleeper(bool caller_moves) {
    SpawnSpec spec;
    spec.argv = {"/bin/sleep", "30"};
    spec.env = {"PATH=/usr/bin:/bin"};
    spec.caller_moves_to_background = caller_moves;
    auto child = spawn(spec);
    EXPECT_TRUE(child.ok()) << child.error().message;
    return child.ok() ? std::move(*child) : Spawned{};
  }
  static void end(Spawned& child) {
    kill(child.pid, SIGKILL);
    pollfd p{child.pidfd.get(), POLLIN, 0};
    poll(&p, 1, 10'000);
    (void)try_reap(child.pidfd.get());
  }

  int own_ = 0;
};

TEST_F(PriorityTest, ABackgroundThreadRunsBehindTheOneThatStartedIt) {
  int in_thread = 0;
  std::thread([&] {
    move_this_thread_to_background();
    in_thread = nice_of(gettid());
  }).join();
  EXPECT_EQ(in_thread, own_ + 3);
  EXPECT_EQ(nice_of(gettid()), own_);  // the caller's own thread is untouched
}

TEST_F(PriorityTest, AChildRunsInTheBackgroundOnceSpawned) {
  Spawned child = sleeper(false);
  ASSERT_GT(child.pid, 0);
  EXPECT_EQ(nice_of(child.pid), own_ + 3);
  end(child);
}

// The supervisor's way (its spawn barrier): the child keeps our priority until moved.
TEST_F(PriorityTest, AChildLeftToTheCallerKeepsOurPriorityUntilMoved) {
  Spawned child = sleeper(true);
  ASSERT_GT(child.pid, 0);
  EXPECT_EQ(nice_of(child.pid), own_);
  EXPECT_TRUE(move_to_background(child.pid));
  EXPECT_EQ(nice_of(child.pid), own_ + 3);
  end(child);
}

TEST_F(PriorityTest, WithoutABackgroundNiceNothingMoves) {
  set_background_nice(std::nullopt);
  Spawned child = sleeper(false);
  ASSERT_GT(child.pid, 0);
  EXPECT_EQ(nice_of(child.pid), own_);
  EXPECT_TRUE(move_to_background(child.pid));
  EXPECT_EQ(nice_of(child.pid), own_);
  end(child);
}

}  // namespace
}  // namespace amata::base
