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

}  // namespace
}  // namespace amata::base
