#include "engine/web/object_page.h"

#include <gtest/gtest.h>

#include <limits>

#include "engine/web/pages.h"

namespace amata::web {
namespace {

using Json = nlohmann::json;

constexpr std::int64_t kNow = 1764900000000;  // 2025-12-05 02:00:00 UTC
constexpr std::int64_t kFrom = kNow - kChartWindowMs;

bool has(const std::string& html, std::string_view part) {
  return html.find(part) != std::string::npos;
}

std::size_t count(const std::string& html, std::string_view part) {
  std::size_t n = 0;
  for (auto at = html.find(part); at != std::string::npos; at = html.find(part, at + 1)) ++n;
  return n;
}

Json web() {
  return Json::parse(R"({"name": "web", "kind": "service", "state": "running", "monitored": true,
    "restarts": 2, "pid": 4242, "since_unix_ms": 1764899880000,
    "attributes": {"cpu": 3.25, "rss": 12582912}})");
}

TEST(ObjectPage, ShowsTheStatusRowAChartPerAttributeAndTheRestarts) {
  Json history = {{"object", "web"},
                  {"step_ms", 10000},
                  {"series",
                   {{"rss", {{kNow - 20000, 1048576}, {kNow - 10000, 12582912}}},
                    {"cpu", {{kNow - 20000, 1.5}, {kNow - 10000, 3.25}}}}}};
  Json recent = {{"events",
                  {{{"type", "action"},
                    {"object", "web"},
                    {"at_unix_ms", kNow - 90000},
                    {"data", {{"kind", "restart"}}}},
                   {{"type", "action"},
                    {"object", "web"},
                    {"at_unix_ms", kNow - 80000},
                    {"data", {{"kind", "restart"}}}}}}};
  Page page = object_page(web(), history, recent, kNow, "demo");
  const std::string& html = page.body;
  EXPECT_EQ(page.title, "web");
  EXPECT_EQ(page.policy, "demo");
  EXPECT_GT(page.refresh_seconds, 0);
  EXPECT_TRUE(has(html, R"(<span class="badge green">running</span>)"));
  EXPECT_TRUE(has(html, "<td class=\"num\">4242</td>"));
  EXPECT_TRUE(has(html, "<td class=\"num\">2m00s</td>"));
  EXPECT_TRUE(has(html, R"(<a href="/events?object=web">)"));
  // Two line charts, key attributes first (cpu before rss), labels in the catalog's units.
  EXPECT_EQ(count(html, R"(<path class="line")"), 2u);
  EXPECT_LT(html.find("<h2>cpu"), html.find("<h2>rss"));
  EXPECT_TRUE(has(html, ">3.2%</text>"));  // the highest cpu
  EXPECT_TRUE(has(html, ">1.5%</text>"));  // the lowest
  EXPECT_TRUE(has(html, ">12MiB</text>"));
  EXPECT_TRUE(has(html, ">01:00 UTC</text>"));  // the restarts' hour, in UTC
  EXPECT_TRUE(has(html, ">02:00 UTC</text>"));
  // 20 s of history: the attribute charts span the shortest span, 5 minutes, and say why.
  EXPECT_EQ(count(html, ">01:55 UTC</text>"), 2u);
  EXPECT_TRUE(has(html, "kept these values since 01:59 UTC"));
  // The restarts: 2 in the hour, in one minute's bar.
  EXPECT_TRUE(has(html, "restarts: 2 in the last hour"));
  EXPECT_EQ(count(html, R"(<rect class="bar")"), 1u);
  // Nothing the CSP would refuse.
  EXPECT_FALSE(has(html, "style="));
  EXPECT_FALSE(has(html, "<script"));
}

TEST(ObjectPage, EscapesNamesAndLabels) {
  Json object = {{"name", "<b>x</b>\"'"}, {"kind", "host"}, {"state", "<i>"}};
  Json history = {{"series", {{"<script>", {{kNow - 10000, 1}, {kNow, 2}}}}}};
  Page page = object_page(object, history, Json(), kNow, "p");
  const std::string& html = page.body;
  EXPECT_FALSE(has(html, "<b>x</b>"));
  EXPECT_FALSE(has(html, "<script>"));
  EXPECT_FALSE(has(html, "<i>"));
  EXPECT_TRUE(has(html, "&lt;b&gt;x&lt;/b&gt;&quot;&#39;"));
  EXPECT_TRUE(has(html, "&lt;script&gt;"));
  EXPECT_TRUE(has(html, R"(href="/events?object=%3Cb%3Ex%3C%2Fb%3E%22%27")"));
  EXPECT_TRUE(has(object_page_link("a b/<c>"), R"(<a href="/objects/a%20b%2F%3Cc%3E">)"));
  EXPECT_TRUE(has(object_page_link("a b/<c>"), ">a b/&lt;c&gt;</a>"));
}

TEST(ObjectPage, NoHistoryYetSaysSo) {
  Page page = object_page(web(), Json{{"series", Json::object()}}, Json(), kNow, "p");
  EXPECT_TRUE(has(page.body, "No numeric attribute measured yet"));
  EXPECT_FALSE(has(page.body, "<svg"));
  EXPECT_FALSE(has(page.body, "restarts:"));  // no events given: no restart chart
  page = object_page(web(), Json(), Json(), kNow, "p");
  EXPECT_TRUE(has(page.body, "gave no history"));
}

TEST(LineChart, EmptySeriesIsAFrameThatSaysSo) {
  for (const Json& points : {Json::array(), Json(), Json::parse("[[1, 2, 3], 7, null]"),
                             Json::parse(R"([[1764899990000, null]])")}) {
    std::string svg = line_chart("cpu", points, kFrom, kNow);
    EXPECT_TRUE(has(svg, "<svg class=\"chart\"")) << points.dump();
    EXPECT_TRUE(has(svg, "no values in this hour")) << points.dump();
    EXPECT_FALSE(has(svg, "<path")) << points.dump();
  }
}

TEST(LineChart, OnePointIsADotOnAFlatLine) {
  std::string svg = line_chart("cpu", Json::parse(R"([[1764899990000, 5]])"), kFrom, kNow);
  EXPECT_TRUE(has(svg, R"(<path class="line" d="M)"));
  EXPECT_EQ(count(svg, "<circle class=\"dot\""), 1u);
  EXPECT_TRUE(has(svg, R"(cy="69.0")"));   // the middle of the plot: high == low
  EXPECT_EQ(count(svg, ">5</text>"), 2u);  // highest and lowest
}

TEST(LineChart, NullAndNanBreakTheLine) {
  Json points = Json::array({Json::array({kNow - 40000, 1}), Json::array({kNow - 30000, 2}),
                             Json::array({kNow - 20000, nullptr}), Json::array({kNow - 10000, 4}),
                             Json::array({kNow, 5})});
  std::string svg = line_chart("cpu", points, kFrom, kNow);
  EXPECT_EQ(count(svg, " M") + count(svg, "\"M"), 2u);  // two runs
  EXPECT_EQ(count(svg, "<circle"), 0u);
  // NaN cannot be JSON, but a double may still carry one: a gap too, never "nan" in a path.
  points = Json::array({Json::array({kNow - 10000, std::numeric_limits<double>::quiet_NaN()}),
                        Json::array({kNow, 5})});
  svg = line_chart("cpu", points, kFrom, kNow);
  EXPECT_FALSE(has(svg, "nan"));
  EXPECT_EQ(count(svg, "<circle"), 1u);
  // Points outside the span are left out.
  svg = line_chart("cpu", Json::parse("[[1, 100]]"), kFrom, kNow);
  EXPECT_TRUE(has(svg, "no values in this hour"));
}

TEST(BarChart, BarsForTheSlicesThatHaveRestarts) {
  std::string svg = bar_chart("restarts", {0, 3, 0, 1}, kFrom, kNow);
  EXPECT_EQ(count(svg, "<rect class=\"bar\""), 2u);
  EXPECT_TRUE(has(svg, "<title>3</title>"));
  EXPECT_TRUE(has(bar_chart("restarts", {0, 0}, kFrom, kNow), "no restarts in this hour"));
  EXPECT_TRUE(has(bar_chart("restarts", {}, kFrom, kNow), "<svg"));
  // The overview's sparkline counts the same way.
  Json events = {{"events",
                  {{{"type", "action"},
                    {"object", "web"},
                    {"at_unix_ms", kNow - 1},
                    {"data", {{"kind", "restart"}}}}}}};
  auto counts = restart_counts(events, "web", kNow, kChartWindowMs, kRestartBars);
  ASSERT_EQ(counts.size(), static_cast<std::size_t>(kRestartBars));
  EXPECT_EQ(counts.back(), 1);
}

}  // namespace
}  // namespace amata::web
