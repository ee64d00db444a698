#include "engine/discovery/metric_store.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace amata::discovery {
namespace {

ir::PolicyTables tables() {
  ir::PolicyTables t;
  t.name = "t";
  catalog::ObjectSpec web, db;
  web.name = "web";
  web.kind = catalog::Kind::kService;
  db.name = "db";
  db.kind = catalog::Kind::kService;
  t.objects = {web, db};
  auto boolean = catalog::Type::boolean();
  t.slots = {
      {0, "alive", boolean, false, 0},
      {0, "health.failed", boolean, false, 1},
      {1, "alive", boolean, false, 2},
      {0, "state", catalog::Type::string(), true, 0},
  };
  t.number_slot_count = 3;
  t.string_slot_count = 1;
  return t;
}

TEST(MetricStore, WritesSlotsAndKeepsEveryAttributeForTheConsole) {
  auto t = tables();
  MetricStore store(t, nullptr, nullptr);
  auto s = store.samples();
  ASSERT_EQ(s.numbers.size(), 3u);
  EXPECT_TRUE(std::isnan(s.numbers[0]));  // unknown until a probe says
  store.set_number(0, "alive", 1);
  store.set_number(1, "alive", 0);
  store.set_number(0, "rss", 1e6);  // no rule reads it: console only
  store.set_string(0, "state", "S");
  s = store.samples();
  EXPECT_EQ(s.numbers[0], 1);
  EXPECT_EQ(s.numbers[2], 0);
  EXPECT_EQ(s.strings[0], "S");
  EXPECT_EQ(store.numbers_of(0).at("rss"), 1e6);
  EXPECT_EQ(store.strings_of(0).at("state"), "S");
  EXPECT_EQ(store.values_json({0}),
            R"({"web.alive":1.0,"web.health.failed":null,"web.state":"S"})");
  EXPECT_EQ(store.values_json({1}), R"({"db.alive":0.0})");
  store.set_number(7, "alive", 1);  // an object the policy does not have: ignored
}

// Found by hook_env_fuzzer: a string sample that is not UTF-8 (a check plugin printing
// Latin-1) made values_json() throw nlohmann's type_error 316, and the daemon's discovery
// pass lost the event it was raising (no record, no hooks, no recovery).
TEST(MetricStore, ValuesOfAnyBytesAreJson) {
  auto t = tables();
  MetricStore store(t, nullptr, nullptr);
  store.set_string(0, "state", "caf\xe9 \xc3");
  store.set_number(0, "alive", std::numeric_limits<double>::infinity());
  EXPECT_EQ(store.values_json({0}),
            "{\"web.alive\":null,\"web.health.failed\":null,\"web.state\":\"caf\xef\xbf\xbd "
            "\xef\xbf\xbd\"}");
}

TEST(MetricStore, ReportsChangesAndCountsChecksOnceEveryObjectWasSampled) {
  auto t = tables();
  std::vector<std::pair<int, bool>> changes;
  MetricStore store(
      t, [&](int o, bool event) { changes.emplace_back(o, event); }, nullptr);
  store.changed(0);
  store.sampled(1);
  EXPECT_EQ(changes, (std::vector<std::pair<int, bool>>{{0, true}, {1, false}}));
  EXPECT_TRUE(store.samples().check_times.empty());  // web has no sample yet
  store.sampled(0);
  // Two clocks an object: its probe rounds, then its health check results (none yet, and
  // web's health clock never ticking does not hold the probe clocks back).
  const auto times = store.samples().check_times;
  ASSERT_EQ(times.size(), 4u);
  EXPECT_FALSE(std::isnan(times[ir::probe_clock(0)]));
  EXPECT_TRUE(std::isnan(times[ir::health_clock(2, 0)]));
  store.health_checked(0);
  EXPECT_FALSE(std::isnan(store.samples().check_times[ir::health_clock(2, 0)]));
  EXPECT_TRUE(std::isnan(store.samples().check_times[ir::health_clock(2, 1)]));
}

}  // namespace
}  // namespace amata::discovery
