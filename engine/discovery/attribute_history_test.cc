#include "engine/discovery/attribute_history.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>

namespace amata::discovery {
namespace {

constexpr std::int64_t kStep = AttributeHistory::kStepMs;
constexpr std::int64_t kNow = std::int64_t{1764081000} * 1000;  // a whole step

TEST(AttributeHistory, OnePointPerStepTheLastValueWins) {
  AttributeHistory::Series s;
  EXPECT_TRUE(s.empty());
  EXPECT_TRUE(s.points().empty());
  s.record(kNow + 1000, 1);
  s.record(kNow + 9000, 2);  // same step: replaces
  s.record(kNow + kStep, 3);
  auto p = s.points();
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].t_ms, kNow);
  EXPECT_EQ(p[0].value, 2);
  EXPECT_EQ(p[1].t_ms, kNow + kStep);
  EXPECT_EQ(p[1].value, 3);
}

TEST(AttributeHistory, KeepsTheLastHourOnly) {
  AttributeHistory::Series s;
  // Two hours of steps: the ring holds the newest 360.
  for (int i = 0; i < 720; ++i) s.record(kNow + i * kStep, i);
  auto p = s.points();
  ASSERT_EQ(p.size(), AttributeHistory::kPoints);
  EXPECT_EQ(p.front().value, 360);
  EXPECT_EQ(p.back().value, 719);
  EXPECT_EQ(p.back().t_ms - p.front().t_ms, 359 * kStep);
  // A gap: the steps not recorded are absent, not stale values from an hour before.
  s.record(kNow + 800 * kStep, -1);
  p = s.points();
  ASSERT_EQ(p.size(), 360u - 81u + 1u);
  EXPECT_EQ(p.front().value, 441);
  EXPECT_EQ(p.back().value, -1);
}

TEST(AttributeHistory, SinceFiltersByTheStepStart) {
  AttributeHistory::Series s;
  for (int i = 0; i < 10; ++i) s.record(kNow + i * kStep, i);
  EXPECT_EQ(s.points(kNow + 5 * kStep).size(), 5u);
  EXPECT_EQ(s.points(kNow + 5 * kStep + 1).size(), 4u);
  EXPECT_TRUE(s.points(kNow + 100 * kStep).empty());
}

TEST(AttributeHistory, NanIsKeptAsNotMeasured) {
  AttributeHistory::Series s;
  s.record(kNow, std::nan(""));
  auto p = s.points();
  ASSERT_EQ(p.size(), 1u);
  EXPECT_TRUE(std::isnan(p[0].value));
}

TEST(AttributeHistory, ClockSteppedBackStartsAgain) {
  AttributeHistory::Series s;
  s.record(kNow, 1);
  s.record(kNow - 10 * kStep, 2);  // within the hour: an older step, filled in
  EXPECT_EQ(s.points().size(), 2u);
  s.record(kNow - 1000 * kStep, 3);  // far back: the ring starts again from it
  auto p = s.points();
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].value, 3);
  s.record(kNow - 999 * kStep, 4);  // and goes on from there
  EXPECT_EQ(s.points().size(), 2u);
}

TEST(AttributeHistory, ByObjectAndAttributeAndBoundedInMemory) {
  AttributeHistory h;
  EXPECT_EQ(h.find("web"), nullptr);
  h.record("web", "cpu", 3.5, kNow);
  h.record("web", "rss", 1e6, kNow);
  h.record("db", "cpu", 1, kNow);
  ASSERT_NE(h.find("web"), nullptr);
  EXPECT_EQ(h.find("web")->size(), 2u);
  EXPECT_EQ(h.find("web")->at("cpu").points()[0].value, 3.5);
  EXPECT_EQ(h.attribute_count(), 3u);
  h.retain({"db"});
  EXPECT_EQ(h.find("web"), nullptr);
  EXPECT_EQ(h.attribute_count(), 1u);
  // The bound docs/web.md and docs/console.md state: 8 bytes of value and 4 of step per
  // point, and the newest step, per attribute (the map node and the name come on top).
  EXPECT_LE(sizeof(AttributeHistory::Series), 4336u);
}

}  // namespace
}  // namespace amata::discovery
