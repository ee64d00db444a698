#include "compiler/ir/metric_history.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "compiler/ir/ir.h"
#include "compiler/ir/runtime.h"

namespace amata::ir {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

TEST(MetricHistoryTest, KeepsTheWindowAndAtLeastTwoPoints) {
  MetricHistory h({10.0, 0.0}, {true, true});
  for (int t = 0; t <= 30; t += 5) {
    const double v[] = {static_cast<double>(t), static_cast<double>(t)};
    h.record(t, v);
  }
  // Slot 0 keeps [20, 30] (t - 10 <= point), slot 1 only the two newest.
  ASSERT_EQ(h.series(0).size(), 3u);
  EXPECT_EQ(h.series(0)[0].t, 20);
  ASSERT_EQ(h.series(1).size(), 2u);
  EXPECT_EQ(h.series(1)[0].t, 25);
}

TEST(MetricHistoryTest, SameTimeReplacesMissingIsSkippedTimeNeverGoesBack) {
  MetricHistory h({100.0}, {true});
  const double a[] = {1}, b[] = {2}, missing[] = {kNaN}, old[] = {9};
  h.record(5, a);
  h.record(5, b);  // time not advancing: the later value wins
  h.record(6, missing);
  h.record(4, old);  // going back: ignored
  ASSERT_EQ(h.series(0).size(), 1u);
  EXPECT_EQ(h.series(0).back().v, 2);
}

TEST(MetricHistoryTest, RingGrowsPastItsCapacityInOrder) {
  MetricHistory h({1000.0}, {true});
  for (int t = 0; t < 100; ++t) {
    const double v[] = {static_cast<double>(t * 2)};
    h.record(t, v);
  }
  ASSERT_EQ(h.series(0).size(), 100u);
  for (std::size_t i = 0; i < 100; ++i) EXPECT_EQ(h.series(0)[i].v, static_cast<double>(i * 2));
}

TEST(MetricHistoryTest, UnrecordedSlotsStayEmpty) {
  MetricHistory h({0.0, 5.0}, {false, false});
  const double v[] = {1, 2};
  h.record(1, v);
  EXPECT_TRUE(h.series(0).empty());
  EXPECT_EQ(h.series(1).size(), 1u);
}

TEST(RuntimeTest, WindowFunctionsOnFewPoints) {
  MetricHistory h({60.0}, {true});
  RuntimeFrame f;
  f.history = &h;
  auto w = [&](Op op, double window, double horizon = 0) {
    return amata_rt_window(&f, static_cast<int>(op), 0, window, horizon, 10);
  };
  EXPECT_TRUE(std::isnan(w(Op::kAvg, 60)));
  EXPECT_EQ(w(Op::kChanged, 0), 0);
  const double one[] = {4};
  h.record(10, one);
  EXPECT_EQ(w(Op::kAvg, 60), 4);
  EXPECT_TRUE(std::isnan(w(Op::kDelta, 60)));  // one point: no change measurable
  EXPECT_TRUE(std::isnan(w(Op::kRate, 0)));
  EXPECT_TRUE(std::isnan(w(Op::kPredict, 60, 60)));
  // Out-of-range slots never read memory they do not own.
  EXPECT_TRUE(std::isnan(amata_rt_window(&f, static_cast<int>(Op::kAvg), 7, 60, 0, 10)));
}

}  // namespace
}  // namespace amata::ir
