#include "base/spawner.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "base/pidfd.h"
#include "base/proc_stat.h"

namespace amata::base {
namespace {

class SpawnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto loop = EventLoop::create();
    ASSERT_TRUE(loop);
    loop_ = std::move(*loop);
    char tmpl[] = "/tmp/amata-spawner-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    spawner_ = std::make_unique<Spawner>(*loop_);
  }
  void TearDown() override {
    spawner_.reset();
    for (Spawned& child : children_) kill_and_reap(child.pid, child.pidfd.get());
    std::system(("rm -rf " + dir_).c_str());
  }

  SpawnSpec sh(const std::string& script) {
    SpawnSpec spec;
    spec.argv = {"/bin/sh", "-c", script};
    spec.env = {"PATH=/usr/bin:/bin"};
    spec.log_path = dir_ + "/log";
    return spec;
  }

  /// A spec whose log is a FIFO nobody reads yet: its spawn waits in open() until
  /// open_fifo(), as one on a stalled disk would.
  SpawnSpec blocked_on_fifo() {
    const std::string fifo = dir_ + "/fifo";
    EXPECT_EQ(mkfifo(fifo.c_str(), 0600), 0);
    SpawnSpec spec = sh("exec sleep 30");
    spec.log_path = fifo;
    return spec;
  }
  void open_fifo() {
    fifo_reader_ = UniqueFd(open((dir_ + "/fifo").c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    ASSERT_TRUE(fifo_reader_);
  }

  /// A request whose result is kept (and its child killed at the end).
  void spawn(SpawnSpec spec, std::vector<std::string>* order = nullptr,
             const std::string& tag = "") {
    spawner_->spawn(std::move(spec), [this, order, tag](Result<Spawned> r) {
      if (order) order->push_back(tag + (r ? "" : " failed: " + r.error().message));
      if (r) children_.push_back(std::move(*r));
      ++delivered_;
    });
  }

  template <typename Pred>
  bool run_until(Pred pred, double limit = 10) {
    const auto deadline = Clock::now() + from_seconds(limit);
    while (!pred() && Clock::now() < deadline) {
      EXPECT_TRUE(loop_->run_once(std::chrono::milliseconds(20)));
    }
    return pred();
  }

  static char state_of(pid_t pid) {
    std::string text;
    auto stat = read_pid_stat(pid, text);
    return stat ? stat->state : '?';
  }

  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<Spawner> spawner_;
  std::string dir_;
  std::vector<Spawned> children_;
  UniqueFd fifo_reader_;
  int delivered_ = 0;
};

// Each result comes back on the loop, never from inside spawn(), in the order asked.
TEST_F(SpawnerTest, ResultsComeBackOnTheLoopInTheOrderAsked) {
  std::vector<std::string> order;
  for (const char* tag : {"a", "b", "c", "d"}) spawn(sh("exec sleep 30"), &order, tag);
  SpawnSpec nobody = sh("exit 0");
  nobody.user = "amata-no-such-user";
  spawn(nobody, &order, "e");
  EXPECT_TRUE(order.empty());
  ASSERT_TRUE(run_until([&] { return delivered_ == 5; }));
  EXPECT_EQ(order, (std::vector<std::string>{"a", "b", "c", "d",
                                             "e failed: unknown user 'amata-no-such-user'"}));
  ASSERT_EQ(children_.size(), 4U);
  for (const Spawned& child : children_) {
    EXPECT_GT(child.pid, 0);
    EXPECT_TRUE(child.pidfd);
    EXPECT_GT(child.start_ticks, 0U);
  }
}

// The point of the spawner: a spawn that cannot finish (its log's open waits, as on a stalled
// disk) holds up its own thread, not the loop.
TEST_F(SpawnerTest, TheLoopTurnsWhileASpawnWaits) {
  spawn(blocked_on_fifo());
  int ticks = 0;
  std::function<void()> tick = [&] {
    if (++ticks < 5) loop_->add_timer_after(std::chrono::milliseconds(20), tick);
  };
  loop_->add_timer_after(std::chrono::milliseconds(20), tick);
  ASSERT_TRUE(run_until([&] { return ticks == 5; }));
  EXPECT_EQ(delivered_, 0);
  EXPECT_EQ(spawner_->queued(), 0U);  // taken: the thread waits in its open
  open_fifo();
  ASSERT_TRUE(run_until([&] { return delivered_ == 1; }));
  ASSERT_EQ(children_.size(), 1U);
}

// The barrier: a child spawned for the caller to move is held stopped while anything is left
// to spawn, and continued, behind amatad's priority, once nothing is.
TEST_F(SpawnerTest, AHeldChildIsContinuedOnceNothingIsLeftToSpawn) {
  SpawnSpec first = sh("exec sleep 30");
  first.caller_moves_to_background = true;
  spawn(first);
  spawn(blocked_on_fifo());
  ASSERT_TRUE(run_until([&] { return delivered_ == 1; }));
  const pid_t held = children_[0].pid;
  EXPECT_TRUE(run_until([&] { return state_of(held) == 'T'; }, 5)) << state_of(held);
  open_fifo();
  ASSERT_TRUE(run_until([&] { return delivered_ == 2; }));
  EXPECT_TRUE(run_until([&] { return state_of(held) == 'S'; }, 5)) << state_of(held);
}

// finish() is for a daemon about to hand its children over: when it returns, every request
// is spawned and its result delivered, without a turn of the loop.
TEST_F(SpawnerTest, FinishDeliversEveryResultAtOnce) {
  std::vector<std::string> order;
  for (const char* tag : {"a", "b", "c"}) {
    SpawnSpec spec = sh("exec sleep 30");
    spec.caller_moves_to_background = true;
    spawn(spec, &order, tag);
  }
  spawner_->finish();
  EXPECT_EQ(order, (std::vector<std::string>{"a", "b", "c"}));
  for (const Spawned& child : children_) EXPECT_NE(state_of(child.pid), 'T');
  // The deliveries posted meanwhile find nothing left.
  EXPECT_TRUE(loop_->run_once(std::chrono::milliseconds(20)));
  EXPECT_EQ(delivered_, 3);
}

// Destroyed with requests queued: the one in flight is finished and continued, the others
// are never spawned (nobody would watch them), and nothing is delivered into a supervisor
// that is gone.
TEST_F(SpawnerTest, DestroyedWithRequestsQueuedSpawnsNoMore) {
  SpawnSpec first = blocked_on_fifo();
  first.argv = {"/bin/sh", "-c", "echo $$ > " + dir_ + "/first.pid; exec sleep 30"};
  first.caller_moves_to_background = true;
  spawn(first);
  ASSERT_TRUE(run_until([&] { return spawner_->queued() == 0; }));  // in flight
  for (int i = 0; i < 2; ++i) spawn(sh("echo $$ >> " + dir_ + "/pids; exec sleep 30"));
  // The destructor waits for the spawn in flight, which waits for a reader of its log.
  std::thread reader([this] {
    usleep(200'000);
    open_fifo();
  });
  spawner_.reset();
  reader.join();
  EXPECT_TRUE(loop_->run_once(std::chrono::milliseconds(20)));
  EXPECT_EQ(delivered_, 0);
  pid_t first_pid = 0;
  ASSERT_TRUE(run_until([&] {
    std::FILE* f = std::fopen((dir_ + "/first.pid").c_str(), "r");
    if (!f) return false;
    const bool read = std::fscanf(f, "%d", &first_pid) == 1;
    std::fclose(f);
    return read;
  }));  // it was continued: it ran
  auto pidfd = open_pidfd(first_pid);
  ASSERT_TRUE(pidfd);
  kill_and_reap(first_pid, pidfd->get());
  usleep(200'000);
  EXPECT_FALSE(access((dir_ + "/pids").c_str(), F_OK) == 0) << "a queued request was spawned";
}

}  // namespace
}  // namespace amata::base
