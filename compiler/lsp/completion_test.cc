#include "compiler/lsp/completion.h"

#include <gtest/gtest.h>

#include <set>

#include "compiler/lsp/test_policy.h"

namespace amata::lsp {
namespace {

/// The labels offered with the cursor at the first `|` of `text` (which is removed).
std::set<std::string> labels(std::string text) {
  const auto cursor = text.find('|');
  EXPECT_NE(cursor, std::string::npos);
  text.erase(cursor, 1);
  auto a = testing::analyse(text);
  std::set<std::string> out;
  const Json list = complete(*a, 0, static_cast<std::uint32_t>(cursor));
  for (const Json& item : list["items"]) {
    out.insert(item["label"].get<std::string>());
  }
  return out;
}

const std::string kObjects =
    "service web { start \"/bin/web\" }\nnode self {}\ninterface up0 { name \"eth0\" }\n"
    "peer alpha { node_id 1 }\nlet limit_pct = 80%\n"
    "event Down(s: service)\n";

TEST(Completion, KindsAndStatementsAtAStatementStart) {
  auto l = labels(kObjects + "|");
  EXPECT_TRUE(l.count("service") && l.count("filesystem") && l.count("discover") &&
              l.count("recover"));
  l = labels(kObjects + "disc|");
  EXPECT_TRUE(l.count("discover"));
}

TEST(Completion, SettingsValidForTheKind) {
  auto l = labels("service web {\n  start \"/bin/web\"\n  |\n}\n");
  EXPECT_TRUE(l.count("health") && l.count("depends") && l.count("every"));
  EXPECT_FALSE(l.count("address"));  // a host's
  l = labels("host gw {\n  ad|\n}\n");
  EXPECT_TRUE(l.count("address") && l.count("port"));
  EXPECT_FALSE(l.count("health"));
  l = labels("cluster c { |");
  EXPECT_TRUE(l.count("on_quorum_loss"));
  l = labels("channel pager { |");
  EXPECT_TRUE(l.count("webhook") && l.count("alertmanager") && l.count("retries"));
  EXPECT_FALSE(l.count("on_quorum_loss") || l.count("health"));
}

TEST(Completion, SettingValues) {
  auto l = labels(kObjects + "service db { start \"/bin/db\"; depends |");
  EXPECT_TRUE(l.count("web"));
  EXPECT_FALSE(l.count("self"));
  l = labels("service db {\n  stop |\n}\n");
  EXPECT_TRUE(l.count("TERM") && l.count("HUP"));
}

TEST(Completion, AttributesOfTheKind) {
  auto l = labels(kObjects + "discover d(s: service) when s.|");
  EXPECT_TRUE(l.count("alive") && l.count("restarts") && l.count("health.failed"));
  EXPECT_FALSE(l.count("carrier"));
  l = labels(kObjects + "discover d when up0.car|");
  EXPECT_TRUE(l.count("carrier"));
  l = labels(kObjects + "discover d(s: service) when s.health.|");
  EXPECT_TRUE(l.count("failed"));
  EXPECT_FALSE(l.count("alive"));
  // A recover parameter takes its kind from the event.
  l = labels(kObjects + "recover Down(x) { when x.|");
  EXPECT_TRUE(l.count("alive"));
}

TEST(Completion, UnitsOfTheDimensionTheComparisonWants) {
  auto l = labels(kObjects + "discover d when self.cpu > 90|");
  EXPECT_EQ(l, (std::set<std::string>{"%"}));
  l = labels(kObjects + "discover d when self.mem_used > 2G|");
  EXPECT_TRUE(l.count("GiB") && l.count("MB"));
  EXPECT_FALSE(l.count("ms"));
  l = labels(kObjects + "discover d when self.cpu > limit_pct for 30|");
  EXPECT_TRUE(l.count("s") && l.count("min"));
  EXPECT_FALSE(l.count("%"));
  l = labels(kObjects + "discover d when avg(self.cpu, 5|");
  EXPECT_TRUE(l.count("min") && !l.count("%"));
  l = labels(kObjects + "let x = 5|");
  EXPECT_TRUE(l.count("%") && l.count("ms") && l.count("GiB"));
}

TEST(Completion, EventsAfterRaiseAndRecover) {
  auto l = labels(kObjects + "discover d(s: service) when not s.alive raise |");
  EXPECT_TRUE(l.count("Down"));
  l = labels(kObjects + "recover |");
  EXPECT_TRUE(l.count("Down"));
}

TEST(Completion, ExpressionsActionsAndSignals) {
  auto l = labels(kObjects + "discover d(s: service) when |");
  EXPECT_TRUE(l.count("avg") && l.count("predict") && l.count("s") && l.count("web") &&
              l.count("limit_pct") && l.count("not"));
  l = labels(kObjects + "recover Down(s) {\n  |\n}\n");
  EXPECT_TRUE(l.count("restart") && l.count("notify") && l.count("when"));
  l = labels(kObjects + "recover Down(s) {\n  signal s |\n}\n");
  EXPECT_TRUE(l.count("HUP") && l.count("USR1"));
  l = labels(kObjects + "recover Down(s) {\n  restart |\n}\n");
  EXPECT_TRUE(l.count("s") && l.count("web"));
}

TEST(Completion, NothingInsideStringsAndComments) {
  EXPECT_TRUE(labels(kObjects + "service x { start \"/bin/|\" }").empty());
  EXPECT_TRUE(labels(kObjects + "# a comment |").empty());
}

}  // namespace
}  // namespace amata::lsp
