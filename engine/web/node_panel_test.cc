#include "engine/web/node_panel.h"

#include <gtest/gtest.h>

namespace amata::web {
namespace {

using Json = nlohmann::json;

TEST(NodePanel, GaugesColouredByTheirBoundsAndOnlyWhatTheNodeReports) {
  const Json status = Json::parse(R"({"objects": [
    {"name": "self", "kind": "node", "attributes": {"cpu": 95.5, "mem": 81, "swap": 0,
      "load1": 0.78, "psi.io.some10": 2.5}},
    {"name": "web", "kind": "service", "attributes": {"cpu": 99}}]})");
  const std::string html = node_panel(status);
  EXPECT_NE(html.find(R"(data-node="self")"), std::string::npos);
  EXPECT_NE(
      html.find(
          R"(<span class="gauge red" title="cpu"><span class="label">CPU</span> <b>95.5%</b>)"),
      std::string::npos)
      << html;
  EXPECT_NE(html.find(R"(class="gauge amber" title="mem")"), std::string::npos);
  EXPECT_NE(html.find(R"(class="gauge green" title="swap")"), std::string::npos);
  EXPECT_NE(html.find("<b>0.78</b>"), std::string::npos);
  EXPECT_NE(html.find(R"(class="gauge green" title="psi.io.some10")"), std::string::npos);
  // No PSI for CPU and memory here: left out, not shown as 0.
  EXPECT_EQ(html.find("psi.cpu.some10"), std::string::npos);
  EXPECT_EQ(html.find("web"), std::string::npos) << "a service is not a node";
}

TEST(NodePanel, NamesAreEscapedAndNothingOddBreaksIt) {
  EXPECT_EQ(node_panel(Json()), "");
  EXPECT_EQ(node_panel(Json::parse(R"({"objects": 3})")), "");
  EXPECT_EQ(node_panel(Json::parse(R"({"objects": [{"kind": "node", "attributes": {}}]})")), "");
  const std::string html = node_panel(Json::parse(
      R"({"objects": [{"name": "<b>", "kind": "node", "attributes": {"cpu": "x", "mem": 1}}]})"));
  EXPECT_NE(html.find("node &lt;b&gt;"), std::string::npos);
  EXPECT_EQ(html.find("title=\"cpu\""), std::string::npos) << "a value that is not a number";
}

}  // namespace
}  // namespace amata::web
