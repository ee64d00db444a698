#include "engine/daemon/maintenance_windows.h"

#include <gtest/gtest.h>

namespace amata::daemon {
namespace {

store::MaintenanceRecord window(const std::string& object, double until,
                                const std::string& reason = "upgrade") {
  return store::MaintenanceRecord{object, 1000, 100.0, until, reason};
}

TEST(MaintenanceWindows, AnObjectIsCoveredByItsOwnWindowOrTheNodesWhicheverLastsLonger) {
  MaintenanceWindows windows;
  EXPECT_EQ(windows.covering("web", 150), nullptr);
  EXPECT_FALSE(windows.set(window("web", 200)));
  EXPECT_EQ(windows.covering("db", 150), nullptr);
  ASSERT_NE(windows.covering("web", 150), nullptr);
  EXPECT_EQ(windows.covering("web", 150)->until, 200);
  EXPECT_EQ(windows.covering("web", 200), nullptr) << "it ends at its until";

  EXPECT_FALSE(windows.set(window(kNodeWindow, 300, "rack move")));
  ASSERT_NE(windows.covering("db", 150), nullptr);
  EXPECT_EQ(windows.covering("db", 150)->reason, "rack move");
  EXPECT_EQ(windows.covering("web", 150)->until, 300) << "the node's lasts longer";
  EXPECT_NE(windows.node(150), nullptr);

  EXPECT_TRUE(windows.set(window("web", 400, "longer")));  // replaces web's own
  EXPECT_EQ(windows.covering("web", 150)->reason, "longer");
  EXPECT_EQ(windows.all().size(), 2u);
  EXPECT_EQ(windows.all().begin()->first, kNodeWindow) << "the node's window first";
}

TEST(MaintenanceWindows, ExpiryTakesWhatHasEndedAndEndRemovesEarly) {
  MaintenanceWindows windows;
  windows.set(window("web", 200));
  windows.set(window("db", 300));
  windows.set(window(kNodeWindow, 250));
  EXPECT_EQ(windows.next_expiry(), 200);
  EXPECT_TRUE(windows.take_expired(199).empty());
  auto expired = windows.take_expired(250);
  ASSERT_EQ(expired.size(), 2u);
  EXPECT_EQ(windows.next_expiry(), 300);
  EXPECT_EQ(windows.node(240), nullptr);
  auto ended = windows.end("db");
  ASSERT_TRUE(ended);
  EXPECT_EQ(ended->until, 300);
  EXPECT_FALSE(windows.end("db"));
  EXPECT_FALSE(windows.next_expiry());
}

TEST(MaintenanceWindows, JsonAndWordsNameTheNodeAsSuch) {
  auto node = window_json(window(kNodeWindow, 1764081600.0, "rack move"));
  EXPECT_TRUE(node["object"].is_null());
  EXPECT_EQ(node["until_unix_ms"], 1764081600000);
  EXPECT_EQ(node["set_unix_ms"], 100000);
  EXPECT_EQ(node["uid"], 1000);
  EXPECT_EQ(window_json(window("web", 1))["object"], "web");
  EXPECT_EQ(describe_window(window(kNodeWindow, 1764081600.0, "rack move")),
            "maintenance of the node (uid 1000, until 2025-11-25 14:40:00Z): rack move");
}

}  // namespace
}  // namespace amata::daemon
