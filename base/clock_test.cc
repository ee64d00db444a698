#include "base/clock.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace amata::base {
namespace {

using namespace std::chrono_literals;

TEST(Clock, SecondsBecomeLoopDurations) {
  EXPECT_EQ(from_seconds(1.5), std::chrono::duration_cast<Clock::duration>(1500ms));
  EXPECT_EQ(from_seconds(0.0001), std::chrono::duration_cast<Clock::duration>(100us));
}

TEST(Clock, NegativeAndNanAreZero) {
  EXPECT_EQ(from_seconds(-3), Clock::duration::zero());
  EXPECT_EQ(from_seconds(std::nan("")), Clock::duration::zero());
}

TEST(Clock, HugeValuesSaturateInsteadOfWrapping) {
  const auto cap = from_seconds(kMaxDelaySeconds);
  EXPECT_GT(cap, Clock::duration::zero());
  EXPECT_EQ(from_seconds(1e30), cap);
  EXPECT_EQ(from_seconds(std::numeric_limits<double>::infinity()), cap);
  // A deadline that far ahead is still ahead: no overflow to the past.
  EXPECT_GT(Clock::now() + from_seconds(1e30), Clock::now());
}

TEST(Clock, WallAndMonotonicClocks) {
  EXPECT_GT(unix_now(), 1.6e9);  // after 2020
  EXPECT_GT(monotonic_now(), 0);
  EXPECT_EQ(to_unix_ms(1.2345), 1235);
  auto t = Clock::now();
  EXPECT_GE(elapsed_ms(t), 0);
}

TEST(Clock, TicksAreWholeMultiplesOfThePeriodAfterTheInstant) {
  const auto at = [](auto d) {
    return Clock::time_point(std::chrono::duration_cast<Clock::duration>(d));
  };
  EXPECT_EQ(next_tick(at(1234ms), 500ms), at(1500ms));
  EXPECT_EQ(next_tick(at(1500ms), 500ms), at(2000ms)) << "strictly after";
  EXPECT_EQ(next_tick(at(1234ms), Clock::duration::zero()), at(1234ms));
  // Two callers asking at different instants of one period share the tick.
  EXPECT_EQ(next_tick(at(10001ms), 1s), next_tick(at(10999ms), 1s));
}

TEST(Clock, TicksInSecondsMatchTheLoopsTicks) {
  EXPECT_DOUBLE_EQ(next_tick(12.3, 0.5), 12.5);
  EXPECT_DOUBLE_EQ(next_tick(12.3, 0.0), 12.3);
  const double now = monotonic_now();
  const auto loop_tick = next_tick(Clock::time_point(std::chrono::duration_cast<Clock::duration>(
                                       std::chrono::duration<double>(now))),
                                   Clock::duration(1s));
  EXPECT_DOUBLE_EQ(next_tick(now, 1.0),
                   std::chrono::duration<double>(loop_tick.time_since_epoch()).count());
  // A period far beyond any deadline stays ahead, without overflow.
  EXPECT_GT(next_tick(now, kMaxDelaySeconds), now);
}

}  // namespace
}  // namespace amata::base
