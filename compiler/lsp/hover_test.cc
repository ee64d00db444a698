#include "compiler/lsp/hover.h"

#include <gtest/gtest.h>

#include "compiler/lsp/test_policy.h"

namespace amata::lsp {
namespace {

using testing::at;
using testing::kPolicy;

std::string hover_text(const Analysis& a, std::uint32_t offset) {
  const Json h = hover(a, 0, offset);
  if (h.is_null()) return "";
  return h["contents"]["value"].get<std::string>();
}

TEST(Hover, AttributeShowsTypeUnitAndMeaning) {
  const std::string text = kPolicy;
  auto a = testing::analyse(text);
  const std::string cpu = hover_text(*a, at(text, "self.cpu", 6));
  EXPECT_NE(cpu.find("(node) cpu: percent"), std::string::npos) << cpu;
  EXPECT_NE(cpu.find("Unit: `%`"), std::string::npos) << cpu;
  const std::string restarts = hover_text(*a, at(text, "s.restarts", 3));
  EXPECT_NE(restarts.find("(service) restarts"), std::string::npos) << restarts;
  const Json h = hover(*a, 0, at(text, "self.cpu", 6));
  EXPECT_EQ(h["range"]["start"]["character"], at(text, "self.cpu", 5) - at(text, "discover hot"));
}

TEST(Hover, ObjectShowsKindAndSettings) {
  const std::string text = kPolicy;
  auto a = testing::analyse(text);
  const std::string web = hover_text(*a, at(text, "depends web", 9));
  EXPECT_NE(web.find("service web"), std::string::npos) << web;
  EXPECT_NE(web.find("health tcp \"127.0.0.1:8080\" every 1s timeout 300ms"), std::string::npos)
      << web;
}

TEST(Hover, EventShowsParametersAndRaisers) {
  const std::string text = kPolicy;
  auto a = testing::analyse(text);
  const std::string down = hover_text(*a, at(text, "recover ServiceDown", 9));
  EXPECT_NE(down.find("event ServiceDown(s: service)"), std::string::npos) << down;
  EXPECT_NE(down.find("Not declared"), std::string::npos) << down;
  EXPECT_NE(down.find("Raised by `down`"), std::string::npos) << down;
  const std::string overload = hover_text(*a, at(text, "event Overload", 7));
  EXPECT_NE(overload.find("event Overload(n: node) notify_only"), std::string::npos) << overload;
}

TEST(Hover, ConstantShowsDefinitionAndFoldedValue) {
  const std::string text =
      "let window = 5min\nnode self {}\n"
      "discover d when avg(self.cpu, window) > 50% raise E(self)\n"
      "recover E(n) { notify \"console\" }\n";
  auto a = testing::analyse(text);
  ASSERT_FALSE(a->diagnostics().has_errors());
  const std::string w = hover_text(*a, at(text, "window)", 1));
  EXPECT_NE(w.find("let window = 5min"), std::string::npos) << w;
  EXPECT_NE(w.find("Value: `300 s` (duration)"), std::string::npos) << w;
  const std::string avg = hover_text(*a, at(text, "avg", 1));
  EXPECT_NE(avg.find("avg(x, D)"), std::string::npos) << avg;
}

TEST(Hover, KindsSettingsAndNothing) {
  const std::string text = kPolicy;
  auto a = testing::analyse(text);
  EXPECT_NE(hover_text(*a, at(text, "node self")).find("attributes"), std::string::npos);
  EXPECT_NE(hover_text(*a, at(text, "depends")).find("depends SERVICE..."), std::string::npos);
  EXPECT_EQ(hover_text(*a, at(text, "\"pager\"", 2)), "");
  EXPECT_TRUE(hover(*a, 0, 100000).is_null());
}

}  // namespace
}  // namespace amata::lsp
