#include "base/event_loop.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace amata::base {
namespace {

using namespace std::chrono_literals;

std::unique_ptr<EventLoop> make_loop() {
  auto loop = EventLoop::create();
  EXPECT_TRUE(loop.ok());
  return std::move(loop).value();
}

struct Pipe {
  int r = -1, w = -1;
  Pipe() {
    int fds[2];
    EXPECT_EQ(pipe2(fds, O_CLOEXEC | O_NONBLOCK), 0);
    r = fds[0];
    w = fds[1];
  }
  ~Pipe() {
    close(r);
    close(w);
  }
};

TEST(EventLoop, TimersFireInDeadlineOrder) {
  auto loop = make_loop();
  std::vector<int> fired;
  auto now = Clock::now();
  loop->add_timer(now + 30ms, [&] { fired.push_back(3); });
  loop->add_timer(now + 10ms, [&] { fired.push_back(1); });
  loop->add_timer(now + 20ms, [&] { fired.push_back(2); });
  while (fired.size() < 3) ASSERT_TRUE(loop->run_once(5s).ok());
  EXPECT_EQ(fired, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(loop->pending_timers(), 0u);
}

TEST(EventLoop, CancelledTimerNeverFires) {
  auto loop = make_loop();
  bool cancelled_fired = false, other_fired = false;
  auto id = loop->add_timer_after(5ms, [&] { cancelled_fired = true; });
  loop->add_timer_after(20ms, [&] { other_fired = true; });
  loop->cancel_timer(id);
  loop->cancel_timer(id);  // twice is harmless
  while (!other_fired) ASSERT_TRUE(loop->run_once(5s).ok());
  EXPECT_FALSE(cancelled_fired);
}

TEST(EventLoop, FdCallbackSeesReadableData) {
  auto loop = make_loop();
  Pipe p;
  std::string got;
  ASSERT_TRUE(loop->watch(p.r, EPOLLIN,
                          [&](std::uint32_t ev) {
                            EXPECT_TRUE(ev & EPOLLIN);
                            char buf[16];
                            ssize_t n = read(p.r, buf, sizeof buf);
                            if (n > 0) got.append(buf, static_cast<size_t>(n));
                          })
                  .ok());
  EXPECT_FALSE(loop->watch(p.r, EPOLLIN, [](std::uint32_t) {}).ok()) << "double watch";
  ASSERT_EQ(write(p.w, "hi", 2), 2);
  ASSERT_TRUE(loop->run_once(5s).ok());
  EXPECT_EQ(got, "hi");
}

// The console's fds go first: an fd watched kFirst is handled at the start of the next turn,
// before fds that became ready long before it, however many of those are queued (a storm of
// deaths ahead of an operator's `amatactl status`).
TEST(EventLoop, AFirstFdIsHandledBeforeTheFdsQueuedAheadOfIt) {
  auto loop = make_loop();
  std::vector<std::unique_ptr<Pipe>> queued;
  std::vector<std::string> order;
  for (int i = 0; i < 40; ++i) {
    queued.push_back(std::make_unique<Pipe>());
    Pipe& p = *queued.back();
    ASSERT_TRUE(loop->watch(p.r, EPOLLIN,
                            [&, i](std::uint32_t) {
                              char c;
                              while (read(p.r, &c, 1) > 0) {
                              }
                              order.push_back("death " + std::to_string(i));
                            })
                    .ok());
    ASSERT_EQ(write(p.w, "x", 1), 1);
  }
  Pipe console;
  ASSERT_TRUE(loop->watch(
                      console.r, EPOLLIN,
                      [&](std::uint32_t) {
                        char c;
                        while (read(console.r, &c, 1) > 0) {
                        }
                        order.push_back("console");
                      },
                      EventLoop::Priority::kFirst)
                  .ok());
  ASSERT_TRUE(loop->run_once(5s).ok());  // one turn: some of the 40, never all of them
  const std::size_t first_turn = order.size();
  EXPECT_GT(first_turn, 0U);
  EXPECT_LT(first_turn, 40U);
  ASSERT_EQ(write(console.w, "s", 1), 1);  // the request arrives behind the rest
  ASSERT_TRUE(loop->run_once(5s).ok());
  ASSERT_GT(order.size(), first_turn);
  EXPECT_EQ(order[first_turn], "console");
  while (order.size() < 41) ASSERT_TRUE(loop->run_once(5s).ok());
  // A kFirst watch is modified and dropped like any other.
  ASSERT_TRUE(loop->modify(console.r, EPOLLIN | EPOLLRDHUP).ok());
  loop->unwatch(console.r);
  ASSERT_EQ(write(console.w, "s", 1), 1);
  ASSERT_TRUE(loop->run_once(50ms).ok());
  EXPECT_EQ(order.size(), 41U);
}

TEST(EventLoop, CallbackMayUnwatchAnotherReadyFd) {
  auto loop = make_loop();
  Pipe a, b;
  int calls = 0;
  auto cb = [&](std::uint32_t) {
    ++calls;
    loop->unwatch(a.r);
    loop->unwatch(b.r);
  };
  ASSERT_TRUE(loop->watch(a.r, EPOLLIN, cb).ok());
  ASSERT_TRUE(loop->watch(b.r, EPOLLIN, cb).ok());
  ASSERT_EQ(write(a.w, "x", 1), 1);
  ASSERT_EQ(write(b.w, "x", 1), 1);
  ASSERT_TRUE(loop->run_once(5s).ok());
  EXPECT_EQ(calls, 1) << "the second fd's event was stale and must be dropped";
}

TEST(EventLoop, ThrowingCallbackIsContained) {
  auto loop = make_loop();
  std::string reported;
  loop->set_error_handler([&](std::string_view what) { reported = what; });
  bool later = false;
  loop->add_timer_after(1ms, [] { throw std::runtime_error("boom"); });
  loop->add_timer_after(2ms, [&] { later = true; });
  while (!later) ASSERT_TRUE(loop->run_once(5s).ok());
  EXPECT_NE(reported.find("boom"), std::string::npos);
}

TEST(EventLoop, SignalsArriveThroughTheLoop) {
  auto loop = make_loop();
  int got = 0;
  ASSERT_TRUE(loop->watch_signals({SIGUSR1},
                                  [&](const signalfd_siginfo& si) {
                                    got = static_cast<int>(si.ssi_signo);
                                    loop->stop();
                                  })
                  .ok());
  ASSERT_EQ(kill(getpid(), SIGUSR1), 0);
  loop->add_timer_after(5s, [&] { loop->stop(); });  // never hang the suite
  ASSERT_TRUE(loop->run().ok());
  EXPECT_EQ(got, SIGUSR1);
}

TEST(EventLoop, RunOnceReturnsAfterMaxWaitWithNothingReady) {
  auto loop = make_loop();
  auto start = Clock::now();
  ASSERT_TRUE(loop->run_once(20ms).ok());
  EXPECT_GE(Clock::now() - start, 15ms);
}

TEST(EventLoopTest, AFarDeadlineNeverWrapsIntoThePast) {
  auto loop = make_loop();
  int fired = 0;
  loop->add_timer_after(Clock::duration::max(), [&] { ++fired; });
  loop->add_timer_after(from_seconds(1e300), [&] { ++fired; });
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(loop->run_once(5ms));
  EXPECT_EQ(fired, 0);
  EXPECT_EQ(loop->pending_timers(), 2u);
}

TEST(EventLoop, PostedCallbacksRunOnTheLoopThreadInOrder) {
  auto loop = make_loop();
  const auto loop_thread = std::this_thread::get_id();
  std::vector<int> ran;
  std::atomic<bool> off_thread{false};
  std::thread poster([&] {
    for (int i = 0; i < 1000; ++i) {
      loop->post([&, i] {
        if (std::this_thread::get_id() != loop_thread) off_thread = true;
        ran.push_back(i);
      });
    }
  });
  const auto limit = Clock::now() + 5s;
  while (ran.size() < 1000 && Clock::now() < limit) ASSERT_TRUE(loop->run_once(50ms));
  poster.join();
  ASSERT_EQ(ran.size(), 1000u);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(ran[static_cast<std::size_t>(i)], i);
  EXPECT_FALSE(off_thread);
}

}  // namespace
}  // namespace amata::base
