#include "base/check_timeout.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <thread>

namespace amata::base {
namespace {

using namespace std::chrono_literals;

class CheckTimeoutTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto loop = EventLoop::create();
    ASSERT_TRUE(loop);
    loop_ = std::move(*loop);
    int fds[2];
    ASSERT_EQ(pipe2(fds, O_CLOEXEC | O_NONBLOCK), 0);
    read_end_ = fds[0];
    write_end_ = fds[1];
  }
  void TearDown() override {
    loop_->unwatch(read_end_);
    close(read_end_);
    close(write_end_);
  }
  /// Runs the loop until `done` or 5 s pass.
  template <typename Pred>
  void run_until(Pred done) {
    const auto limit = Clock::now() + 5s;
    while (!done() && Clock::now() < limit) ASSERT_TRUE(loop_->run_once(50ms));
  }

  std::unique_ptr<EventLoop> loop_;
  int read_end_ = -1, write_end_ = -1;
};

TEST_F(CheckTimeoutTest, ExpiresOnTimeWhenTheLoopIsIdle) {
  CheckTimeout timeout(*loop_);
  bool expired = false;
  const auto start = Clock::now();
  timeout.arm(50ms, [&] { expired = true; });
  run_until([&] { return expired; });
  EXPECT_TRUE(expired);
  EXPECT_GE(Clock::now() - start, 50ms);
  EXPECT_FALSE(timeout.armed());
}

TEST_F(CheckTimeoutTest, AnAnswerThatArrivedWhileTheLoopWasBusyWinsOverTheTimeout) {
  // The check waits for the pipe (the service's answer) for 50 ms. The loop is busy for
  // 300 ms, and the answer arrives 10 ms into that: in time. Both the answer and the timer
  // are ready when the loop looks again; the answer must win.
  CheckTimeout timeout(*loop_);
  std::string outcome;
  ASSERT_TRUE(loop_->watch(read_end_, EPOLLIN, [&](std::uint32_t) {
    if (outcome.empty()) outcome = "answered";
    timeout.cancel();
  }));
  timeout.arm(50ms, [&] {
    if (outcome.empty()) outcome = "timed out";
  });
  // The busy work is an fd's callback (a storm of deaths, each a pidfd).
  int busy[2];
  ASSERT_EQ(pipe2(busy, O_CLOEXEC | O_NONBLOCK), 0);
  ASSERT_TRUE(loop_->watch(busy[0], EPOLLIN, [&](std::uint32_t) {
    char c;
    (void)read(busy[0], &c, 1);
    std::this_thread::sleep_for(10ms);
    ASSERT_EQ(write(write_end_, "x", 1), 1);
    std::this_thread::sleep_for(290ms);  // the restarts, a stalled disk
  }));
  ASSERT_EQ(write(busy[1], "x", 1), 1);
  // Another timer due at once puts the timerfd in the same turn as the busy fd: after the
  // busy callback the loop runs every timer due by then, the check's own included.
  loop_->add_timer_after(0s, [] {});
  run_until([&] { return !outcome.empty(); });
  EXPECT_EQ(outcome, "answered");
  EXPECT_GE(timeout.given_back(), 200ms);
  loop_->unwatch(busy[0]);
  close(busy[0]);
  close(busy[1]);
}

TEST_F(CheckTimeoutTest, ACheckWithNoAnswerStillExpiresAfterABusyLoop) {
  CheckTimeout timeout(*loop_);
  bool expired = false;
  timeout.arm(50ms, [&] { expired = true; });
  loop_->add_timer_after(0s, [] { std::this_thread::sleep_for(200ms); });
  run_until([&] { return expired; });
  EXPECT_TRUE(expired);
}

TEST_F(CheckTimeoutTest, CancelledNeverExpiresAndRearmingReplaces) {
  CheckTimeout timeout(*loop_);
  int first = 0, second = 0;
  timeout.arm(20ms, [&] { ++first; });
  timeout.arm(30ms, [&] { ++second; });
  run_until([&] { return second > 0; });
  timeout.arm(20ms, [&] { ++second; });
  timeout.cancel();
  const auto until = Clock::now() + 100ms;
  while (Clock::now() < until) ASSERT_TRUE(loop_->run_once(20ms));
  EXPECT_EQ(first, 0);
  EXPECT_EQ(second, 1);
}

}  // namespace
}  // namespace amata::base
